/* fuzz_wire: libFuzzer target for the wire protocol decoder (every message a slave or master receives). */
#include "lib/ts_wire.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Tessera__Envelope *env = ts_wire_decode(data, size);
    ts_wire_free(&env);
    return 0;
}
