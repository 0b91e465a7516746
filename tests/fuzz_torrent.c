/* fuzz_torrent: libFuzzer target for .torrent files a slave is handed (bdecode, our file-name checks, libtorrent's
   own parse), through ts_torrent_add into a session that has no peers, so nothing is ever downloaded. */
#include "torrent/torrent.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define SAVE_DIR "/tmp/tessera-fuzz-torrent"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ts_torrent_session_t *ses;
    if (!ses) {
        ts_torrent_settings_t s = {.listen = "127.0.0.1:0"};
        if (!(ses = ts_torrent_session_new(&s)))
            abort();
    }
    int h = ts_torrent_add(ses, data, size, SAVE_DIR, 0);
    if (h >= 0) {
        ts_torrent_status_t st;
        ts_torrent_status(ses, h, &st);
        ts_torrent_remove(ses, h);
    }
    return 0;
}
