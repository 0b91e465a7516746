/* ts_ratelimit: a fixed table of per-address token buckets behind a mutex (open addressing; when the table is
   full, the bucket that has refilled most is reused, as it holds the least). */
#include "master/ts_ratelimit.h"
#include "tests/ts_test.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096  /* addresses remembered at once */
#define PROBES 16   /* slots looked at for one address */

typedef struct {
    unsigned char key[16];
    bool used;
    double tokens, at;   /* failures left at time at */
} bucket_t;

struct ts_ratelimit {
    pthread_mutex_t lock;
    double burst, rate;
    bucket_t slots[SLOTS];
};

ts_ratelimit_t *ts_ratelimit_new(double burst, double per_second)
{
    ts_ratelimit_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->burst = burst;
    self->rate = per_second;
    return self;
}

void ts_ratelimit_destroy(ts_ratelimit_t **self_p)
{
    if (!*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    free(*self_p);
    *self_p = NULL;
}

/* IPv4 as its v4-mapped IPv6 form; IPv6 by its /64. */
static void key_of(const struct sockaddr *addr, unsigned char key[16])
{
    memset(key, 0, 16);
    if (addr && addr->sa_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    } else if (addr && addr->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)addr)->sin6_addr, 8);
    }
}

static uint32_t hash_key(const unsigned char key[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 16777619u;
    return h;
}

static double refill(const ts_ratelimit_t *self, const bucket_t *b, double now)
{
    double t = b->tokens + (now - b->at) * self->rate;
    return t < self->burst ? t : self->burst;
}

/* The bucket of key, made full when new; under the lock. */
static bucket_t *find(ts_ratelimit_t *self, const unsigned char key[16], double now, bool create)
{
    uint32_t h = hash_key(key);
    bucket_t *victim = NULL;
    double victim_tokens = -1;
    for (int i = 0; i < PROBES; i++) {
        bucket_t *b = &self->slots[(h + (uint32_t)i) % SLOTS];
        if (b->used && memcmp(b->key, key, 16) == 0)
            return b;
        double t = b->used ? refill(self, b, now) : self->burst + 1;
        if (t > victim_tokens) {
            victim = b;
            victim_tokens = t;
        }
    }
    if (!create)
        return NULL;
    memcpy(victim->key, key, 16);
    victim->used = true;
    victim->tokens = self->burst;
    victim->at = now;
    return victim;
}

bool ts_ratelimit_allowed(ts_ratelimit_t *self, const struct sockaddr *addr, double now, double *retry_s)
{
    unsigned char key[16];
    key_of(addr, key);
    pthread_mutex_lock(&self->lock);
    bucket_t *b = find(self, key, now, false);
    double t = b ? refill(self, b, now) : self->burst;
    pthread_mutex_unlock(&self->lock);
    if (retry_s)
        *retry_s = t >= 1 ? 0 : (1 - t) / self->rate;
    return t >= 1;
}

bool ts_ratelimit_fail(ts_ratelimit_t *self, const struct sockaddr *addr, double now)
{
    unsigned char key[16];
    key_of(addr, key);
    pthread_mutex_lock(&self->lock);
    bucket_t *b = find(self, key, now, true);
    double before = refill(self, b, now);
    b->tokens = before >= 1 ? before - 1 : before;
    b->at = now;
    bool emptied = before >= 1 && b->tokens < 1;
    pthread_mutex_unlock(&self->lock);
    return emptied;
}

void ts_ratelimit_addr_text(const struct sockaddr *addr, char *out, size_t cap)
{
    char text[INET6_ADDRSTRLEN] = "?";
    if (addr && addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, text, sizeof text);
    else if (addr && addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, text, sizeof text);
    snprintf(out, cap, "%s", text);
}

int ts_ratelimit_test(bool verbose)
{
    (void)verbose;
    int failures = 0;
    ts_ratelimit_t *rl = ts_ratelimit_new(3, 1);
    struct sockaddr_in a = {.sin_family = AF_INET}, b = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.0.0.1", &a.sin_addr);
    inet_pton(AF_INET, "10.0.0.2", &b.sin_addr);
    const struct sockaddr *pa = (const struct sockaddr *)&a, *pb = (const struct sockaddr *)&b;
    double retry = -1;
    TS_TEST_CHECK(ts_ratelimit_allowed(rl, pa, 100, &retry) && retry == 0, "a new address may try");
    TS_TEST_CHECK(!ts_ratelimit_fail(rl, pa, 100) && !ts_ratelimit_fail(rl, pa, 100), "two failures of three");
    TS_TEST_CHECK(ts_ratelimit_allowed(rl, pa, 100, NULL), "one left");
    TS_TEST_CHECK(ts_ratelimit_fail(rl, pa, 100), "the third failure empties the bucket, and says so");
    TS_TEST_CHECK(!ts_ratelimit_allowed(rl, pa, 100, &retry) && retry > 0.99 && retry <= 1.0,
                  "then it must wait a second (retry %.3f)", retry);
    TS_TEST_CHECK(!ts_ratelimit_fail(rl, pa, 100.1), "a failure while empty does not say so again");
    TS_TEST_CHECK(ts_ratelimit_allowed(rl, pb, 100, NULL), "another address is not slowed down");
    TS_TEST_CHECK(ts_ratelimit_allowed(rl, pa, 101.2, NULL), "a second later it may try once more");
    TS_TEST_CHECK(ts_ratelimit_allowed(rl, pa, 200, NULL) && !ts_ratelimit_fail(rl, pa, 200) &&
                      !ts_ratelimit_fail(rl, pa, 200),
                  "refilled to the burst, not beyond");
    TS_TEST_CHECK(ts_ratelimit_fail(rl, pa, 200), "three failures again empty it");
    struct sockaddr_in6 v6a = {.sin6_family = AF_INET6}, v6b = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8:1:2::1", &v6a.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &v6b.sin6_addr);
    for (int i = 0; i < 3; i++)
        ts_ratelimit_fail(rl, (const struct sockaddr *)&v6a, 300);
    TS_TEST_CHECK(!ts_ratelimit_allowed(rl, (const struct sockaddr *)&v6b, 300, NULL),
                  "an IPv6 address counts by its /64");
    /* many addresses: the table reuses full buckets, the emptied one is kept */
    struct sockaddr_in c = {.sin_family = AF_INET};
    for (uint32_t i = 0; i < 3 * SLOTS; i++) {
        c.sin_addr.s_addr = htonl(0x0b000000u + i);
        ts_ratelimit_fail(rl, (const struct sockaddr *)&c, 300);
    }
    TS_TEST_CHECK(!ts_ratelimit_allowed(rl, (const struct sockaddr *)&v6b, 300, NULL),
                  "an emptied bucket survives %d other addresses", 3 * SLOTS);
    char text[64];
    ts_ratelimit_addr_text(pa, text, sizeof text);
    TS_TEST_CHECK(strcmp(text, "10.0.0.1") == 0, "address text %s", text);
    ts_ratelimit_destroy(&rl);
    return failures;
}
