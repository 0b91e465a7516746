/* ts_identity: Ed25519 node keys, derived CURVE keys, result signatures, certificate files.
   DESIGN: one secret per node. The Ed25519 key signs results; its Curve25519 conversion is the node's
   ZeroMQ CURVE key, so a node has one identity on the wire and in signatures. The key file holds the
   64-byte secret as hex, mode 0600, written atomically. */
#include "lib/ts_identity.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define KEY_HEX_LEN (crypto_sign_SECRETKEYBYTES * 2)
#define CERT_KEY_FIELD "curve-public-key"
#define RESULT_DOMAIN "tessera-result"

struct ts_identity {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    char id[TS_IDENTITY_ID_HEX];
};

static ts_identity_t *finish_new(ts_identity_t *self)
{
    sodium_bin2hex(self->id, sizeof self->id, self->pk, sizeof self->pk);
    return self;
}

ts_identity_t *ts_identity_new_ephemeral(void)
{
    if (sodium_init() < 0) {
        ts_error_set("libsodium failed to initialise");
        return NULL;
    }
    ts_identity_t *self = sodium_malloc(sizeof *self);
    if (!self) {
        ts_error_set("out of memory");
        return NULL;
    }
    crypto_sign_keypair(self->pk, self->sk);
    return finish_new(self);
}

static int write_key(const ts_identity_t *self, const char *path)
{
    char tmp[4096], hex[KEY_HEX_LEN + 1];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return ts_error_set("%s: %s", tmp, strerror(errno));
    sodium_bin2hex(hex, sizeof hex, self->sk, sizeof self->sk);
    hex[KEY_HEX_LEN] = '\n';
    ssize_t n = write(fd, hex, KEY_HEX_LEN + 1);
    sodium_memzero(hex, sizeof hex);
    if (n != KEY_HEX_LEN + 1 || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return ts_error_set("%s: cannot write key: %s", tmp, strerror(errno));
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return ts_error_set("%s: %s", path, strerror(errno));
    return 0;
}

ts_identity_t *ts_identity_load_or_create(const char *path)
{
    ts_identity_t *self = ts_identity_new_ephemeral();
    if (!self)
        return NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT || write_key(self, path) < 0) {
            if (errno != ENOENT)
                ts_error_set("%s: %s", path, strerror(errno));
            ts_identity_destroy(&self);
            return NULL;
        }
        return self;
    }
    char hex[KEY_HEX_LEN + 2] = {0};
    size_t n = fread(hex, 1, sizeof hex - 1, f);
    fclose(f);
    size_t bin_len = 0;
    if (n < KEY_HEX_LEN ||
        sodium_hex2bin(self->sk, sizeof self->sk, hex, KEY_HEX_LEN, NULL, &bin_len, NULL) != 0 ||
        bin_len != sizeof self->sk) {
        sodium_memzero(hex, sizeof hex);
        ts_error_set("%s: not a tessera identity key (expected %d hex digits)", path, KEY_HEX_LEN);
        ts_identity_destroy(&self);
        return NULL;
    }
    sodium_memzero(hex, sizeof hex);
    crypto_sign_ed25519_sk_to_pk(self->pk, self->sk);
    return finish_new(self);
}

void ts_identity_destroy(ts_identity_t **self_p)
{
    if (*self_p) {
        sodium_free(*self_p); /* zeroes the memory */
        *self_p = NULL;
    }
}

const uint8_t *ts_identity_public(const ts_identity_t *self)
{
    return self->pk;
}

const char *ts_identity_id(const ts_identity_t *self)
{
    return self->id;
}

void ts_identity_curve_public(const ts_identity_t *self, char z85[TS_IDENTITY_Z85_LEN + 1])
{
    uint8_t cpk[crypto_scalarmult_curve25519_BYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(cpk, self->pk) != 0)
        memset(cpk, 0, sizeof cpk); /* not reached for a key made by crypto_sign_keypair */
    zmq_z85_encode(z85, cpk, sizeof cpk);
}

void ts_identity_curve_secret(const ts_identity_t *self, char z85[TS_IDENTITY_Z85_LEN + 1])
{
    uint8_t csk[crypto_scalarmult_curve25519_BYTES];
    crypto_sign_ed25519_sk_to_curve25519(csk, self->sk);
    zmq_z85_encode(z85, csk, sizeof csk);
    sodium_memzero(csk, sizeof csk);
}

static size_t result_message(uint64_t task_id, const char *output_hash, uint8_t *buf, size_t cap)
{
    size_t n = 0, dlen = sizeof RESULT_DOMAIN; /* includes the NUL */
    size_t hlen = strlen(output_hash);
    if (dlen + 8 + hlen > cap)
        return 0;
    memcpy(buf, RESULT_DOMAIN, dlen);
    n = dlen;
    for (int i = 7; i >= 0; i--)
        buf[n++] = (uint8_t)(task_id >> (i * 8));
    memcpy(buf + n, output_hash, hlen);
    return n + hlen;
}

#define RESULT_MSG_MAX 256

void ts_identity_sign_result(const ts_identity_t *self, uint64_t task_id, const char *output_hash,
                             uint8_t sig[TS_IDENTITY_SIGNATURE_BYTES])
{
    uint8_t msg[RESULT_MSG_MAX];
    size_t n = result_message(task_id, output_hash, msg, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, n, self->sk);
}

bool ts_identity_verify_result(const uint8_t *public_key, size_t public_len, uint64_t task_id,
                               const char *output_hash, const uint8_t *sig, size_t sig_len)
{
    if (public_len != crypto_sign_PUBLICKEYBYTES || sig_len != crypto_sign_BYTES || !output_hash)
        return false;
    uint8_t msg[RESULT_MSG_MAX];
    size_t n = result_message(task_id, output_hash, msg, sizeof msg);
    if (n == 0)
        return false;
    return crypto_sign_verify_detached(sig, msg, n, public_key) == 0;
}

int ts_identity_write_cert(const ts_identity_t *self, const char *path)
{
    char z85[TS_IDENTITY_Z85_LEN + 1], tmp[4096];
    ts_identity_curve_public(self, z85);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return ts_error_set("%s: %s", tmp, strerror(errno));
    fprintf(f, "# tessera master certificate: public, give it to slaves (--master-cert)\n%s = \"%s\"\n",
            CERT_KEY_FIELD, z85);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return ts_error_set("%s: %s", path, strerror(errno));
    return 0;
}

int ts_identity_read_cert(const char *path, char z85[TS_IDENTITY_Z85_LEN + 1])
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ts_error_set("%s: %s", path, strerror(errno));
    char line[512];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        char key[TS_IDENTITY_Z85_LEN + 8];
        if (strncmp(line, CERT_KEY_FIELD, strlen(CERT_KEY_FIELD)) == 0 &&
            sscanf(line + strlen(CERT_KEY_FIELD), " = \"%47[^\"]\"", key) == 1 &&
            strlen(key) == TS_IDENTITY_Z85_LEN) {
            uint8_t bin[crypto_scalarmult_curve25519_BYTES];
            if (zmq_z85_decode(bin, key)) {
                memcpy(z85, key, TS_IDENTITY_Z85_LEN + 1);
                found = 0;
            }
        }
    }
    fclose(f);
    if (found < 0)
        return ts_error_set("%s: not a tessera master certificate (no valid %s line)", path, CERT_KEY_FIELD);
    return 0;
}

int ts_identity_test(bool verbose)
{
    char dir[] = "/tmp/ts_identity_test.XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char keypath[256], certpath[256];
    snprintf(keypath, sizeof keypath, "%s/id.key", dir);
    snprintf(certpath, sizeof certpath, "%s/master.cert", dir);
    int rc = -1;
    ts_identity_t *a = ts_identity_load_or_create(keypath);
    ts_identity_t *b = ts_identity_load_or_create(keypath);
    ts_identity_t *c = ts_identity_new_ephemeral();
    struct stat st;
    if (!a || !b || !c || stat(keypath, &st) != 0 || (st.st_mode & 0777) != 0600)
        goto out;
    if (strcmp(ts_identity_id(a), ts_identity_id(b)) != 0 || strcmp(ts_identity_id(a), ts_identity_id(c)) == 0)
        goto out;
    /* CURVE keys derived from the Ed25519 key must form a working pair. */
    char pub[TS_IDENTITY_Z85_LEN + 1], sec[TS_IDENTITY_Z85_LEN + 1], cert[TS_IDENTITY_Z85_LEN + 1];
    ts_identity_curve_public(a, pub);
    ts_identity_curve_secret(a, sec);
    uint8_t pbin[32], sbin[32], derived[32];
    zmq_z85_decode(pbin, pub);
    zmq_z85_decode(sbin, sec);
    crypto_scalarmult_base(derived, sbin);
    if (memcmp(derived, pbin, 32) != 0)
        goto out;
    uint8_t sig[TS_IDENTITY_SIGNATURE_BYTES];
    ts_identity_sign_result(a, 42, "abcd", sig);
    if (!ts_identity_verify_result(ts_identity_public(b), 32, 42, "abcd", sig, sizeof sig) ||
        ts_identity_verify_result(ts_identity_public(a), 32, 43, "abcd", sig, sizeof sig) ||
        ts_identity_verify_result(ts_identity_public(a), 32, 42, "abce", sig, sizeof sig) ||
        ts_identity_verify_result(ts_identity_public(c), 32, 42, "abcd", sig, sizeof sig))
        goto out;
    if (ts_identity_write_cert(a, certpath) < 0 || ts_identity_read_cert(certpath, cert) < 0 ||
        strcmp(cert, pub) != 0)
        goto out;
    /* A key file that is not a key, and a certificate that is not one, are refused by name. */
    if (ts_identity_read_cert(keypath, cert) != -1 || !strstr(ts_error(), keypath))
        goto out;
    FILE *f = fopen(keypath, "w");
    fputs("hello\n", f);
    fclose(f);
    ts_identity_t *bad = ts_identity_load_or_create(keypath);
    if (bad || !strstr(ts_error(), "not a tessera identity key"))
        goto out;
    rc = 0;
out:
    ts_identity_destroy(&a);
    ts_identity_destroy(&b);
    ts_identity_destroy(&c);
    unlink(keypath);
    unlink(certpath);
    rmdir(dir);
    if (verbose || rc)
        fprintf(rc ? stderr : stdout, "ts_identity: %s\n", rc ? "FAILED" : "ok");
    return rc;
}
