/* fuzz_sheet: libFuzzer target for a contact sheet's inputs (images from strangers: the master reads their headers
   at submit, slaves read their pixels): format detection, probe and thumbnail over arbitrary bytes in a file; a
   thumbnail that is made is then composed into a sheet. Whatever the bytes: an image or an error, never a crash. */
#include "splitter/ts_sheet.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CELL 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[] = "/tmp/tessera-fuzz-sheet.XXXXXX", thumb[] = "/tmp/tessera-fuzz-sheet-t.XXXXXX.png",
         sheet[] = "/tmp/tessera-fuzz-sheet-s.XXXXXX.png";
    int fd = mkstemp(in);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    int t = mkstemps(thumb, 4), s = mkstemps(sheet, 4);
    if (t < 0 || s < 0)
        abort();
    close(t);
    close(s);
    int w, h;
    ts_sheet_format(in);
    if (ts_sheet_probe(in, "fuzz.img", &w, &h) == 0 && ts_sheet_thumb(in, CELL, CELL, thumb) == 0) {
        const char *list[1] = {thumb};
        if (ts_sheet_compose(list, 1, 2, CELL, CELL, sheet) != 0)
            abort(); /* a thumbnail this code made must compose */
    }
    unlink(in);
    unlink(thumb);
    unlink(sheet);
    return 0;
}
