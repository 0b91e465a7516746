/* ts_index: a hash index from byte-string keys to pointers (the master's nodes by id and by routing id): O(1).
   Open addressing with linear probing over a power-of-two table, FNV-1a hashes kept per slot, tombstones for
   deletions; the table doubles past 70% use (tombstones counted), so a probe stays short at 10,000s of keys. */
#include "lib/ts_index.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 64
#define TOMBSTONE ((void *)&tombstone_mark)

static const char tombstone_mark;

typedef struct {
    void *key;     /* malloc'd copy; NULL: empty; TOMBSTONE: deleted */
    size_t len;
    uint64_t hash;
    void *value;
} slot_t;

struct ts_index {
    slot_t *slots;
    size_t cap;    /* a power of two */
    size_t count;  /* live keys */
    size_t used;   /* live keys and tombstones */
};

static uint64_t fnv1a(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

ts_index_t *ts_index_new(void)
{
    ts_index_t *self = calloc(1, sizeof *self);
    if (self && !(self->slots = calloc(INITIAL_SLOTS, sizeof *self->slots))) {
        free(self);
        self = NULL;
    }
    if (!self) {
        ts_error_set("out of memory");
        return NULL;
    }
    self->cap = INITIAL_SLOTS;
    return self;
}

void ts_index_destroy(ts_index_t **self_p)
{
    ts_index_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->cap; i++)
        if (self->slots[i].key && self->slots[i].key != TOMBSTONE)
            free(self->slots[i].key);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

/* The slot holding key, or NULL. */
static slot_t *find(const ts_index_t *self, const void *key, size_t len, uint64_t hash)
{
    for (size_t i = hash & (self->cap - 1);; i = (i + 1) & (self->cap - 1)) {
        slot_t *s = &self->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMBSTONE && s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

/* Rebuilds the table at cap slots, leaving the tombstones behind. */
static int rehash(ts_index_t *self, size_t cap)
{
    slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return ts_error_set("out of memory");
    for (size_t i = 0; i < self->cap; i++) {
        slot_t *s = &self->slots[i];
        if (!s->key || s->key == TOMBSTONE)
            continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(self->slots);
    self->slots = slots;
    self->cap = cap;
    self->used = self->count;
    return 0;
}

int ts_index_put(ts_index_t *self, const void *key, size_t len, void *value)
{
    uint64_t hash = fnv1a(key, len);
    slot_t *s = find(self, key, len, hash);
    if (s) {
        s->value = value;
        return 0;
    }
    if ((self->used + 1) * 10 > self->cap * 7 &&
        rehash(self, self->count * 2 + 2 > self->cap / 2 ? self->cap * 2 : self->cap) < 0)
        return -1;
    void *copy = malloc(len ? len : 1);
    if (!copy)
        return ts_error_set("out of memory");
    memcpy(copy, key, len);
    size_t i = hash & (self->cap - 1);
    while (self->slots[i].key && self->slots[i].key != TOMBSTONE)
        i = (i + 1) & (self->cap - 1);
    if (!self->slots[i].key)
        self->used++;
    self->slots[i] = (slot_t){.key = copy, .len = len, .hash = hash, .value = value};
    self->count++;
    return 0;
}

void *ts_index_get(const ts_index_t *self, const void *key, size_t len)
{
    slot_t *s = find(self, key, len, fnv1a(key, len));
    return s ? s->value : NULL;
}

void ts_index_del(ts_index_t *self, const void *key, size_t len)
{
    slot_t *s = find(self, key, len, fnv1a(key, len));
    if (!s)
        return;
    free(s->key);
    s->key = TOMBSTONE;
    s->value = NULL;
    self->count--;
}

size_t ts_index_count(const ts_index_t *self)
{
    return self->count;
}

int ts_index_test(bool verbose)
{
    int failures = 0;
    ts_index_t *ix = ts_index_new();
    TS_TEST_REQUIRE(ix != NULL);
    enum { KEYS = 20000 };
    static int values[KEYS];
    char key[32];
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "node-%d", i);
        TS_TEST_REQUIRE(ts_index_put(ix, key, strlen(key), &values[i]) == 0);
    }
    int wrong = 0;
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "node-%d", i);
        wrong += ts_index_get(ix, key, strlen(key)) != &values[i];
    }
    TS_TEST_CHECK(wrong == 0 && ts_index_count(ix) == KEYS, "%d of %d keys found wrong", wrong, KEYS);
    TS_TEST_CHECK(!ts_index_get(ix, "node-x", 6) && !ts_index_get(ix, "node-1", 5), "absent keys, a prefix");
    /* deletions leave every other key found; a key deleted and put again is found; churn does not grow the table */
    for (int i = 0; i < KEYS; i += 2) {
        snprintf(key, sizeof key, "node-%d", i);
        ts_index_del(ix, key, strlen(key));
    }
    wrong = 0;
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "node-%d", i);
        wrong += ts_index_get(ix, key, strlen(key)) != (i % 2 ? &values[i] : NULL);
    }
    TS_TEST_CHECK(wrong == 0 && ts_index_count(ix) == KEYS / 2, "after deleting half: %d wrong", wrong);
    size_t cap = ix->cap;
    for (int round = 0; round < 20; round++)
        for (int i = 0; i < KEYS; i += 2) {
            snprintf(key, sizeof key, "node-%d", i);
            TS_TEST_REQUIRE(ts_index_put(ix, key, strlen(key), &values[0]) == 0);
            ts_index_del(ix, key, strlen(key));
        }
    TS_TEST_CHECK(ix->cap == cap && ts_index_count(ix) == KEYS / 2, "churn grew the table from %zu to %zu slots", cap,
                  ix->cap);
    TS_TEST_REQUIRE(ts_index_put(ix, "\0bin\0", 5, &values[1]) == 0);
    TS_TEST_CHECK(ts_index_get(ix, "\0bin\0", 5) == &values[1] && !ts_index_get(ix, "\0bin", 4), "binary keys");
    if (verbose)
        printf("  index: %d keys, half deleted, 20 rounds of churn in %zu slots\n", KEYS, ix->cap);
out:
    ts_index_destroy(&ix);
    return failures ? -1 : 0;
}
