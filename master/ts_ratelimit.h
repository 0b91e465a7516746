/* ts_ratelimit: failed attempts per client address (a token bucket each), so a burst of wrong API tokens from one
   address is slowed down without slowing anyone else. */
#ifndef TS_RATELIMIT_H
#define TS_RATELIMIT_H

#include <stdbool.h>
#include <sys/socket.h>

typedef struct ts_ratelimit ts_ratelimit_t;

/* An address may fail burst times at once, then once every 1/per_second seconds. */
ts_ratelimit_t *ts_ratelimit_new(double burst, double per_second);
void ts_ratelimit_destroy(ts_ratelimit_t **self_p);
/* Whether addr may try now (it has a failure left in its bucket); *retry_s (may be NULL) gets the seconds until it
   may. An IPv6 address counts by its /64, which one subscriber holds whole. */
bool ts_ratelimit_allowed(ts_ratelimit_t *self, const struct sockaddr *addr, double now, double *retry_s);
/* Counts one failure of addr; true when it used the bucket's last one (the caller says so once, not per request). */
bool ts_ratelimit_fail(ts_ratelimit_t *self, const struct sockaddr *addr, double now);
/* addr as text, for logs. */
void ts_ratelimit_addr_text(const struct sockaddr *addr, char *out, size_t cap);

int ts_ratelimit_test(bool verbose);

#endif
