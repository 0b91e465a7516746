/* ts_rlp: Recursive Length Prefix encoder (Ethereum yellow paper, appendix B) into a growable buffer. */
#ifndef TS_RLP_H
#define TS_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ts_rlp ts_rlp_t;

ts_rlp_t *ts_rlp_new(void);
void ts_rlp_destroy(ts_rlp_t **self_p);

/* Each append returns 0, or -1 with ts_error set. A failure is also remembered: ts_rlp_data then fails, so a
 * caller may append a whole structure and check once at the end. */
int ts_rlp_bytes(ts_rlp_t *self, const void *data, size_t len);
/* Unsigned integers, big-endian without leading zeros (0 is the empty string, 0x80). */
int ts_rlp_uint(ts_rlp_t *self, uint64_t v);
int ts_rlp_uint256(ts_rlp_t *self, const uint8_t be[32]);
/* A list: items appended between begin and end are its payload; lists nest. */
int ts_rlp_list_begin(ts_rlp_t *self);
int ts_rlp_list_end(ts_rlp_t *self);

/* The encoding so far (valid until the next append); NULL with ts_error after a failed append or while a list is
 * still open. */
const uint8_t *ts_rlp_data(const ts_rlp_t *self, size_t *len);

int ts_rlp_test(bool verbose);

#endif
