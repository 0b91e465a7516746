/* ts_identity: a node's long-term key (Ed25519, libsodium), its CURVE keys for ZeroMQ, result signatures,
   and the master's public certificate file. */
#ifndef TS_IDENTITY_H
#define TS_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_IDENTITY_PUBLIC_BYTES 32
#define TS_IDENTITY_SIGNATURE_BYTES 64
#define TS_IDENTITY_Z85_LEN 40     /* a 32-byte key in Z85, without the terminator */
#define TS_IDENTITY_ID_HEX 65      /* node id: public key as hex + NUL */

typedef struct ts_identity ts_identity_t;

/* Loads the key from path, or creates it (mode 0600) when the file does not exist.
   A file that exists but is not a key is an error naming it; the key is never printed. */
ts_identity_t *ts_identity_load_or_create(const char *path);
/* A key that lives only in memory (tests). */
ts_identity_t *ts_identity_new_ephemeral(void);
void ts_identity_destroy(ts_identity_t **self_p);

const uint8_t *ts_identity_public(const ts_identity_t *self);
/* The node id: hex of the Ed25519 public key. */
const char *ts_identity_id(const ts_identity_t *self);
/* CURVE keys for ZeroMQ (Z85, 41 bytes with NUL), derived from the Ed25519 key. */
void ts_identity_curve_public(const ts_identity_t *self, char z85[TS_IDENTITY_Z85_LEN + 1]);
void ts_identity_curve_secret(const ts_identity_t *self, char z85[TS_IDENTITY_Z85_LEN + 1]);

/* Result signature: Ed25519 over "tessera-result" NUL, task id (8 bytes big-endian), output hash text. */
void ts_identity_sign_result(const ts_identity_t *self, uint64_t task_id, const char *output_hash,
                             uint8_t sig[TS_IDENTITY_SIGNATURE_BYTES]);
bool ts_identity_verify_result(const uint8_t *public_key, size_t public_len, uint64_t task_id,
                               const char *output_hash, const uint8_t *sig, size_t sig_len);

/* The master's certificate: a text file naming its CURVE public key. */
int ts_identity_write_cert(const ts_identity_t *self, const char *path);
/* Reads a certificate written by ts_identity_write_cert; -1 with a message naming the file. */
int ts_identity_read_cert(const char *path, char z85[TS_IDENTITY_Z85_LEN + 1]);

int ts_identity_test(bool verbose);

#endif
