/* ts_ctl: the slave's control socket: the PC's owner pauses, resumes and asks for the status of the slave running on
   it (`tessera-slave ctl pause|resume|status`), over a Unix socket only its own user (or root) may use. */
#ifndef TS_CTL_H
#define TS_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ts_ctl ts_ctl_t;

/* Answers one command ("pause", "resume", "status"): a JSON object (the server frees it), or NULL for an unknown
   command. */
typedef json_t *(*ts_ctl_handler_t)(void *arg, const char *command);

/* Listens at path (mode 0600; a stale socket there is replaced). NULL with ts_error(). */
ts_ctl_t *ts_ctl_listen(const char *path, ts_ctl_handler_t handler, void *arg);
void ts_ctl_destroy(ts_ctl_t **self_p);
/* The listening descriptor, for the reactor's poll. */
int ts_ctl_fd(const ts_ctl_t *self);
/* Serves the connections waiting (each one command, one JSON line back); a peer of another user is refused. */
void ts_ctl_serve(ts_ctl_t *self);

/* The client: sends command and prints nothing; *reply (caller frees) gets the answer. -1 with ts_error() naming
   the socket when the slave cannot be reached or refuses. */
int ts_ctl_request(const char *path, const char *command, json_t **reply);

int ts_ctl_test(bool verbose);

#endif
