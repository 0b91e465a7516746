/* ts_ethkey: an Ethereum account's secp256k1 private key (from a hex file), its address, and signing; plus
 * address parsing and EIP-55 formatting. */
#ifndef TS_ETHKEY_H
#define TS_ETHKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_ETH_ADDRESS_BYTES 20
/* "0x" + 40 hex digits + NUL */
#define TS_ETH_ADDRESS_HEX 43
#define TS_ETHKEY_BYTES 32

typedef struct ts_ethkey ts_ethkey_t;

/* A file holding the key as 64 hex digits, optional 0x, surrounding whitespace. NULL with ts_error naming the
 * file and what is wrong with it (never the key). A zero key or one not below the curve order is refused. */
ts_ethkey_t *ts_ethkey_load(const char *path);
/* The same from a string (ts_error does not repeat it). */
ts_ethkey_t *ts_ethkey_from_hex(const char *hex);
/* Wipes the key. */
void ts_ethkey_destroy(ts_ethkey_t **self_p);

void ts_ethkey_address(const ts_ethkey_t *self, uint8_t out[TS_ETH_ADDRESS_BYTES]);
/* ECDSA over a 32-byte hash (RFC 6979 nonce, low s): r, s and the recovery id (0 or 1). 0, or -1 with ts_error. */
int ts_ethkey_sign(const ts_ethkey_t *self, const uint8_t hash[32], uint8_t r[32], uint8_t s[32], int *recid);

/* "0x" + 40 hex digits. All-lower and all-upper case are accepted as is; mixed case must carry a valid EIP-55
 * checksum. -1 with ts_error otherwise. */
int ts_eth_address_parse(const char *hex, uint8_t out[TS_ETH_ADDRESS_BYTES]);
/* EIP-55 mixed-case checksummed form. Returns out. */
char *ts_eth_address_format(const uint8_t a[TS_ETH_ADDRESS_BYTES], char out[TS_ETH_ADDRESS_HEX]);

int ts_ethkey_test(bool verbose);

#endif
