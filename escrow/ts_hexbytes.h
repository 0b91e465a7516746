/* ts_hexbytes: 0x-prefixed hex for byte strings and Ethereum JSON-RPC quantities. */
#ifndef TS_HEXBYTES_H
#define TS_HEXBYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "0x" + 16 hex digits + NUL: room for any uint64 quantity. */
#define TS_HEX_U64_MAX 19

/* Decode hex (optional 0x, even number of digits, "" or "0x" is empty) into a malloc'd buffer (*out is NULL when
 * empty). 0, or -1 with ts_error saying what is wrong. */
int ts_hex_decode(const char *hex, uint8_t **out, size_t *len);
/* Decode exactly n bytes (optional 0x, exactly 2n digits); -1 with ts_error otherwise. */
int ts_hex_decode_fixed(const char *hex, uint8_t *out, size_t n);
/* "0x" + lower-case hex, malloc'd; NULL with ts_error when out of memory. */
char *ts_hex_encode(const uint8_t *b, size_t n);

/* A JSON-RPC quantity ("0x0", "0x1a": 0x, then 1+ hex digits) as uint64; -1 when malformed or too large. */
int ts_hex_quantity_u64(const char *q, uint64_t *out);
/* A quantity as a 256-bit big-endian number; -1 when malformed or over 256 bits. */
int ts_hex_quantity_u256(const char *q, uint8_t out[32]);
/* v as a quantity (minimal digits, "0x0" for 0). Returns out. */
char *ts_hex_quantity_format(uint64_t v, char out[TS_HEX_U64_MAX]);

int ts_hexbytes_test(bool verbose);

#endif
