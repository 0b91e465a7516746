/* ts_index: a hash index from byte-string keys to pointers (the master's nodes by id and by routing id): O(1). */
#ifndef TS_INDEX_H
#define TS_INDEX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ts_index ts_index_t;

ts_index_t *ts_index_new(void);
void ts_index_destroy(ts_index_t **self_p);
/* Maps key (len bytes, copied) to value, replacing what it mapped to. 0, or -1 out of memory. */
int ts_index_put(ts_index_t *self, const void *key, size_t len, void *value);
/* What key maps to, or NULL. */
void *ts_index_get(const ts_index_t *self, const void *key, size_t len);
/* Forgets key (nothing when it is not there). */
void ts_index_del(ts_index_t *self, const void *key, size_t len);
size_t ts_index_count(const ts_index_t *self);

int ts_index_test(bool verbose);

#endif
