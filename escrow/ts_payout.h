/* ts_payout: a node's proof that it controls the address it is paid at: an EIP-191 personal signature by the payout
   key over "tessera payout for node <node id>" (what any Ethereum wallet's "sign message" makes). */
#ifndef TS_PAYOUT_H
#define TS_PAYOUT_H

#include "escrow/ts_ethkey.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_PAYOUT_SIG_BYTES 65   /* r, s, v (27 or 28) */

/* Signs the claim for node_id (its id as hex). 0, or -1 with ts_error. */
int ts_payout_sign(const ts_ethkey_t *key, const char *node_id, uint8_t sig[TS_PAYOUT_SIG_BYTES]);
/* 0 when sig is address's signature of the claim for node_id; -1 with ts_error saying what is wrong. */
int ts_payout_verify(const char *node_id, const uint8_t *sig, size_t len, const uint8_t address[TS_ETH_ADDRESS_BYTES]);

int ts_payout_test(bool verbose);

#endif
