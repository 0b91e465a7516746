/* ts_blender: one persistent Blender process driven through the worker script (JSON lines on fds 3 and 4). */
#ifndef TS_BLENDER_H
#define TS_BLENDER_H

#include "slave/ts_sandbox.h"
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

typedef struct ts_blender ts_blender_t;

/* exe: the blender executable; script: blender_worker.py; log: file for Blender's own output. */
/* threads: Cycles' render threads (0: all cores); max_data: a hard limit on Blender's data (RLIMIT_DATA: heap and
   private memory) in bytes, 0 for none; sandbox: the box it runs in (NULL: none, --no-sandbox), kept by the caller. */
ts_blender_t *ts_blender_new(const char *exe, const char *script, const char *log, int threads, int64_t max_data,
                             const ts_sandbox_t *sandbox);
/* Another persistent program that speaks as the worker script does (requests on fd 3, replies on fd 4): the slave's
   own encoder (`tessera-slave encoder`), in the same box; label names it in the log ("encoder"). */
ts_blender_t *ts_blender_new_program(const char *label, char *const argv[], const char *log, int64_t max_data,
                                     const ts_sandbox_t *sandbox);
/* Kills and reaps the process (SIGTERM, then SIGKILL after a grace period). */
void ts_blender_destroy(ts_blender_t **self_p);

/* Sends one request and waits for its reply, starting Blender first when it is not running.
   Returns the reply object, or NULL with ts_error() when Blender crashed, hung past timeout_s (it is then
   killed), or *stop became true; the process is restarted by the next call. */
json_t *ts_blender_call(ts_blender_t *self, json_t *request, double timeout_s, volatile sig_atomic_t *stop);
/* Ends the process now (it is restarted by the next call). */
void ts_blender_kill(ts_blender_t *self);
bool ts_blender_running(const ts_blender_t *self);
/* The Cycles device ids of the GPUs the owner lends (comma-separated, "" for none): sent with every request, and the
   worker enables exactly those for a GPU task. */
void ts_blender_set_gpus(ts_blender_t *self, const char *cycles_ids);
/* From any thread: SIGKILLs Blender's whole process group at once (its GPU and memory are free as soon as the
   kernel has reaped it). The thread in ts_blender_call sees it gone, as when *stop is set with it. */
void ts_blender_preempt(ts_blender_t *self);

#endif
