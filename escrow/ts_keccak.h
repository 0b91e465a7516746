/* ts_keccak: Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not FIPS-202 SHA3-256). */
#ifndef TS_KECCAK_H
#define TS_KECCAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_KECCAK256_BYTES 32

void ts_keccak256(const void *data, size_t len, uint8_t out[TS_KECCAK256_BYTES]);

int ts_keccak_test(bool verbose);

#endif
