/* ts_ethkey: secp256k1 keys via libsecp256k1 (recovery module), addresses as keccak256(pubkey)[12..32]. */
#include "escrow/ts_ethkey.h"
#include "escrow/ts_keccak.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include <ctype.h>
#include <errno.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Uncompressed public key: 0x04, X, Y. The address hashes X || Y. */
#define PUBKEY_UNCOMPRESSED 65
#define PUBKEY_XY_OFFSET 1
#define ADDRESS_HASH_OFFSET (TS_KECCAK256_BYTES - TS_ETH_ADDRESS_BYTES)
#define SIG_COMPACT 64
#define KEY_HEX_DIGITS (2 * TS_ETHKEY_BYTES)
/* A key file is a line of hex; anything much longer is not one. */
#define KEY_FILE_MAX 4096
#define CONTEXT_SEED_BYTES 32
/* EIP-55: a letter is upper case when its nibble of keccak256(lower-case hex) is 8 or more. */
#define EIP55_UPPER_NIBBLE 8
#define ADDRESS_HEX_DIGITS (2 * TS_ETH_ADDRESS_BYTES)
#define FILE_MODE_GROUP_OTHER 077
#define FILE_MODE_PERMISSIONS 0777

struct ts_ethkey {
    uint8_t seckey[TS_ETHKEY_BYTES];
    uint8_t address[TS_ETH_ADDRESS_BYTES];
    secp256k1_context *ctx;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Parse the key text (no ts_error prefix naming where it came from). Never puts key material in ts_error. */
static int parse_key(const char *text, size_t len, uint8_t key[TS_ETHKEY_BYTES])
{
    while (len && isspace((unsigned char)*text))
        text++, len--;
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text += 2, len -= 2;
    if (len != KEY_HEX_DIGITS)
        return ts_error_set("expected a private key of %d hex digits (optionally 0x-prefixed), found %zu characters",
                            KEY_HEX_DIGITS, len);
    for (size_t i = 0; i < TS_ETHKEY_BYTES; i++) {
        int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            sodium_memzero(key, TS_ETHKEY_BYTES);
            return ts_error_set("private key has a non-hex character (digit %zu of %d)", 2 * i + (hi < 0 ? 1 : 2),
                                KEY_HEX_DIGITS);
        }
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Take ownership of the key bytes (wiping the caller's copy); NULL with ts_error. */
static ts_ethkey_t *from_bytes(uint8_t key[TS_ETHKEY_BYTES])
{
    ts_ethkey_t *self = NULL;
    uint8_t seed[CONTEXT_SEED_BYTES];
    if (sodium_init() < 0) {
        ts_error_set("libsodium failed to initialise");
        goto fail;
    }
    self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("out of memory");
        goto fail;
    }
    self->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    randombytes_buf(seed, sizeof seed);
    if (!self->ctx || !secp256k1_context_randomize(self->ctx, seed)) {
        ts_error_set("cannot set up a secp256k1 context");
        goto fail;
    }
    if (!secp256k1_ec_seckey_verify(self->ctx, key)) {
        ts_error_set("private key is zero or not below the secp256k1 group order");
        goto fail;
    }
    memcpy(self->seckey, key, TS_ETHKEY_BYTES);
    secp256k1_pubkey pub;
    uint8_t ser[PUBKEY_UNCOMPRESSED], h[TS_KECCAK256_BYTES];
    size_t ser_len = sizeof ser;
    if (!secp256k1_ec_pubkey_create(self->ctx, &pub, self->seckey) ||
        !secp256k1_ec_pubkey_serialize(self->ctx, ser, &ser_len, &pub, SECP256K1_EC_UNCOMPRESSED)) {
        ts_error_set("cannot derive the public key");
        goto fail;
    }
    ts_keccak256(ser + PUBKEY_XY_OFFSET, ser_len - PUBKEY_XY_OFFSET, h);
    memcpy(self->address, h + ADDRESS_HASH_OFFSET, TS_ETH_ADDRESS_BYTES);
    sodium_memzero(key, TS_ETHKEY_BYTES);
    sodium_memzero(seed, sizeof seed);
    return self;
fail:
    sodium_memzero(key, TS_ETHKEY_BYTES);
    sodium_memzero(seed, sizeof seed);
    ts_ethkey_destroy(&self);
    return NULL;
}

ts_ethkey_t *ts_ethkey_from_hex(const char *hex)
{
    uint8_t key[TS_ETHKEY_BYTES];
    if (!hex) {
        ts_error_set("no private key given");
        return NULL;
    }
    if (parse_key(hex, strlen(hex), key) < 0)
        return NULL;
    return from_bytes(key);
}

ts_ethkey_t *ts_ethkey_load(const char *path)
{
    /* open/read rather than stdio, so no library buffer keeps a copy of the key. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ts_error_set("%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & FILE_MODE_GROUP_OTHER))
        ts_warn("%s: private key file is readable by group or others (mode %03o)", path,
                (unsigned)(st.st_mode & FILE_MODE_PERMISSIONS));
    char buf[KEY_FILE_MAX + 1];
    size_t n = 0;
    ssize_t got = 0;
    while (n < sizeof buf && (got = read(fd, buf + n, sizeof buf - n)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;
        n += (size_t)got;
    }
    int read_errno = got < 0 ? errno : 0;
    close(fd);
    ts_ethkey_t *self = NULL;
    uint8_t key[TS_ETHKEY_BYTES];
    if (read_errno)
        ts_error_set("%s: %s", path, strerror(read_errno));
    else if (n > KEY_FILE_MAX)
        ts_error_set("%s: too large for a private key file (over %d bytes)", path, KEY_FILE_MAX);
    else if (parse_key(buf, n, key) < 0)
        ts_error_prefix("%s", path);
    else if (!(self = from_bytes(key)))
        ts_error_prefix("%s", path);
    sodium_memzero(buf, sizeof buf);
    return self;
}

void ts_ethkey_destroy(ts_ethkey_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_ethkey_t *self = *self_p;
    if (self->ctx)
        secp256k1_context_destroy(self->ctx);
    sodium_memzero(self, sizeof *self);
    free(self);
    *self_p = NULL;
}

void ts_ethkey_address(const ts_ethkey_t *self, uint8_t out[TS_ETH_ADDRESS_BYTES])
{
    memcpy(out, self->address, TS_ETH_ADDRESS_BYTES);
}

int ts_ethkey_sign(const ts_ethkey_t *self, const uint8_t hash[32], uint8_t r[32], uint8_t s[32], int *recid)
{
    secp256k1_ecdsa_recoverable_signature sig;
    uint8_t compact[SIG_COMPACT];
    /* NULL nonce function: libsecp256k1's default, RFC 6979 (deterministic); signatures come out low-s. */
    if (!secp256k1_ecdsa_sign_recoverable(self->ctx, &sig, hash, self->seckey, NULL, NULL) ||
        !secp256k1_ecdsa_recoverable_signature_serialize_compact(self->ctx, compact, recid, &sig))
        return ts_error_set("secp256k1 signing failed");
    memcpy(r, compact, SIG_COMPACT / 2);
    memcpy(s, compact + SIG_COMPACT / 2, SIG_COMPACT / 2);
    return 0;
}

/* The 40 lower-case hex digits of a and the keccak256 of them, which EIP-55 uses to pick the case. */
static void eip55_hash(const char lower[ADDRESS_HEX_DIGITS], uint8_t h[TS_KECCAK256_BYTES])
{
    ts_keccak256(lower, ADDRESS_HEX_DIGITS, h);
}

static bool eip55_upper(const uint8_t h[TS_KECCAK256_BYTES], size_t i)
{
    unsigned nibble = i % 2 ? h[i / 2] & 0xf : h[i / 2] >> 4;
    return nibble >= EIP55_UPPER_NIBBLE;
}

char *ts_eth_address_format(const uint8_t a[TS_ETH_ADDRESS_BYTES], char out[TS_ETH_ADDRESS_HEX])
{
    static const char digits[] = "0123456789abcdef";
    char *hex = out + 2;
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < TS_ETH_ADDRESS_BYTES; i++) {
        hex[2 * i] = digits[a[i] >> 4];
        hex[2 * i + 1] = digits[a[i] & 0xf];
    }
    hex[ADDRESS_HEX_DIGITS] = '\0';
    uint8_t h[TS_KECCAK256_BYTES];
    eip55_hash(hex, h);
    for (size_t i = 0; i < ADDRESS_HEX_DIGITS; i++)
        if (hex[i] >= 'a' && eip55_upper(h, i))
            hex[i] = (char)toupper((unsigned char)hex[i]);
    return out;
}

int ts_eth_address_parse(const char *hex, uint8_t out[TS_ETH_ADDRESS_BYTES])
{
    /* The text is not echoed here: something of the wrong shape might be a private key pasted in the wrong place. */
    if (!hex)
        return ts_error_set("no Ethereum address given");
    if (hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X') || strlen(hex) != ADDRESS_HEX_DIGITS + 2)
        return ts_error_set("not an Ethereum address (expected 0x and 40 hex digits, got %zu characters)", strlen(hex));
    const char *p = hex + 2;
    bool has_lower = false, has_upper = false;
    for (size_t i = 0; i < TS_ETH_ADDRESS_BYTES; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ts_error_set("\"%s\" is not an Ethereum address (non-hex character)", hex);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    for (const char *c = p; *c; c++) {
        has_lower |= (*c >= 'a' && *c <= 'f');
        has_upper |= (*c >= 'A' && *c <= 'F');
    }
    if (has_lower && has_upper) {
        char canon[TS_ETH_ADDRESS_HEX];
        ts_eth_address_format(out, canon);
        if (strcmp(canon + 2, p) != 0)
            return ts_error_set("\"%s\" has a bad EIP-55 checksum (expected %s)", hex, canon);
    }
    return 0;
}
