/* fuzz_chain: libFuzzer target for what a chain's JSON-RPC answers carry: hex byte strings and quantities, ABI
   return words and revert data (decoded by escrow/ts_hexbytes.c and escrow/ts_abi.c), and token amounts as text. */
#include "escrow/escrow.h"
#include "escrow/ts_abi.h"
#include "escrow/ts_hexbytes.h"
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_abi_revert_t r;
    if (ts_abi_revert_decode(data, size, &r) == 0) {
        char line[TS_ABI_REVERT_MESSAGE_MAX + 64];
        ts_abi_revert_describe(&r, line, sizeof line);
        ts_abi_revert_is(&r, "InsufficientFunds(bytes32,uint256,uint256)");
    }
    for (size_t i = 0; i < 4; i++) {
        uint64_t u;
        uint8_t a[TS_ABI_ADDRESS], w[TS_ABI_WORD];
        bool b;
        ts_abi_word_u64(data, size, i, &u);
        ts_abi_word_address(data, size, i, a);
        ts_abi_word_bool(data, size, i, &b);
        ts_abi_word_bytes32(data, size, i, w);
    }
    char text[TEXT_MAX];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    uint8_t *bytes = NULL, fixed[32], word[32];
    size_t len = 0;
    if (ts_hex_decode(text, &bytes, &len) == 0)
        free(bytes);
    ts_hex_decode_fixed(text, fixed, sizeof fixed);
    uint64_t q;
    ts_hex_quantity_u64(text, &q);
    ts_hex_quantity_u256(text, word);
    int64_t units;
    if (ts_amount_parse(text, &units) == 0) {
        char back[32];
        ts_amount_format(units, back, sizeof back);
    }
    return 0;
}
