/* ts_store: the master's durable state (SQLite, WAL): jobs, frames, tasks and their state machine, nodes.
   Every call is one transaction and safe to call from any thread. */
#ifndef TS_STORE_H
#define TS_STORE_H

#include "lib/ts_kind.h"
#include "lib/ts_hash.h"
#include "lib/ts_account.h"
#include "lib/ts_manifest.h"
#include "lib/ts_token.h"
#include "verifier/ts_policy.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct ts_store ts_store_t;


/* The frame number under which a render job that ends in an encode keeps its video (below any Blender frame). */
#define TS_VIDEO_FRAME (-2147483647 - 1)

#define TS_JOB_NAME_CAP 65     /* a job's name: up to 64 bytes, no control characters */
#define TS_JOB_AFTER_MAX 64    /* parents one job may wait for */
#define TS_JOB_NOTIFY_URL_CAP 2049 /* a job's webhook URL: up to 2048 bytes */

/* One file of a job's manifest: the name the job knows it by (a relative path) and its content hash. */
typedef struct {
    char name[256];
    char hash[TS_HASH_HEX];
} ts_job_input_t;

typedef struct {
    char type[16];       /* a job type's name (master/ts_jobtype.h) */
    ts_job_input_t *inputs;  /* the job's input files, its manifest (malloc'd: ts_job_request_free) */
    int ninputs;
    char settings[1024]; /* a type's own settings (JSON), kept as the job's params; "" for none */
    char scene[TS_HASH_HEX];   /* the input: a .blend, or the video of a transcode */
    char scene_name[256];
    int frame_start, frame_end;
    int tiles_x, tiles_y;
    char format[16];     /* "scene", "png", "exr" */
    int priority;
    char device[8];      /* "cpu", "gpu" */
    char blender[32];    /* version prefix, "" for any */
    bool no_denoise;
    /* transcode, or a render that ends in an encode (encode set) */
    bool encode;
    char vcodec[32];
    int crf;             /* -1: unset */
    long long bitrate;   /* bits/s, 0: unset */
    char preset[32];
    int out_width, out_height;  /* 0: the source's */
    char container[8];   /* "mp4", "mkv" */
    double segment_seconds;
    int threads;
    int fps_num, fps_den;  /* set by the job compiler: the whole source's frame rate, pinned for every segment */
    /* payment */
    char requester[TS_ACCOUNT_NAME_CAP];  /* the account that pays */
    bool requester_given; /* the request named it (a requester's token may only name its own) */
    int64_t budget;      /* token units locked for the job */
    int tb_num, tb_den;    /* set by the job compiler: the time base of the segments' start/end pts */
    /* a render of an artist's project (the scene with its textures, libraries, caches): */
    char project_root[TS_MANIFEST_ROOT_CAP]; /* the project's root folder on the artist's machine ("" for a scene alone) */
    char *missing;       /* JSON list of the files the artist let go missing (--allow-missing); malloc'd, NULL: none */
    bool allow_missing;  /* the renderer does not refuse the scene for missing files (--allow-missing) */
    char manifest[TS_HASH_HEX]; /* set by the type's create: the blob listing the project's files for slaves */
    /* a studio's queue (ts_store_deps.c) */
    char name[TS_JOB_NAME_CAP]; /* "" for none */
    int64_t after[TS_JOB_AFTER_MAX]; /* jobs it waits for: it starts when every one is done */
    int nafter;
    bool fail_with_parent;      /* a parent failed or cancelled: fail too (default: be held, saying why) */
    bool paused;                /* submitted paused: nothing starts until it is resumed */
    char pool[TS_REQUEST_TAG_CAP]; /* runs only on nodes with this tag ("" any) */
    int max_nodes;              /* nodes working on it at once (0: any number) */
    int chunk;                  /* frames a node gets per assignment (render without tiles; 0 or 1: one) */
    char out_pattern[TS_REQUEST_OUT_PATTERN_CAP]; /* a render's output file names ("" frame_NNNN) */
    char notify_url[TS_JOB_NOTIFY_URL_CAP]; /* a webhook: each of the job's events is POSTed here ("" none) */
} ts_job_request_t;

void ts_job_request_free(ts_job_request_t *req);

/* One planned piece with its own input: a transcode's segment (its stream-copied cut and the frames it owns), a
   contact sheet's thumbnail (an image). */
typedef struct {
    char hash[TS_HASH_HEX];
    long long start_pts, end_pts;   /* segments: the first start is INT64_MIN, the last end INT64_MAX (open ends) */
    long long frames;               /* segments: frames it owns, its share of the job's work and price */
} ts_store_segment_t;

/* A job made of pieces planned at submit, each with its own input, that join into one output (frame 0). */
typedef struct {
    const char *type;               /* the job type's name */
    int kind;                       /* the pieces' task kind */
    int width, height;              /* the job's frame size: each piece's rectangle (a contact sheet's cell); 0 none */
    int tiles_x, tiles_y;           /* how the output lays the pieces out (a contact sheet's columns and rows) */
    const char *format, *ext;       /* the output's file type */
    const char *params;             /* the type's settings (JSON text) */
    bool per_frame_units;           /* a piece's units are its frames (segments); else its rectangle's pixels */
} ts_store_pieces_job_t;

/* A segment's work units: the frames it owns (at least 1; its pts range can be open-ended). */
static inline int64_t ts_store_segment_units(const ts_store_segment_t *s)
{
    return s->frames > 0 ? (int64_t)s->frames : 1;
}

typedef struct {
    int64_t id, job_id;
    int kind, frame, tile;
    int x0, y0, x1, y1;
    char scene[TS_HASH_HEX];
    char input_hash[TS_HASH_HEX];
    char format[16];
    char device[8];
    bool no_denoise;
    char state[16];
    char node[TS_HASH_HEX];
    double assigned_at;
    int failures;
    long long start_pts, end_pts;   /* TS_KIND_SEGMENT */
    char params[512];               /* the job's encoder settings (JSON) */
    char manifest[TS_HASH_HEX];     /* the job's project manifest blob ("" for a scene alone) */
    /* verification (ts_store_verify.c) */
    int64_t check_of;               /* a check task: the task whose result it re-does; 0 for ordinary work */
    char verify[16];                /* ordinary work: "", "unchecked", "pending", "tiebreak", "passed";
                                       a check: "", "check", "disputed", "inconclusive" */
    char dclass[96];                /* the device class the result came from (Blender version, device, CPU model) */
    char result[TS_HASH_HEX];       /* the output's content hash, once a result is in */
    int64_t result_size;
} ts_task_t;

typedef struct {
    int64_t id;
    int width, height, tiles_x, tiles_y, margin;
    int frame_start, frame_end;
    char state[16];
    char format[16];
    char ext[16];
    char scene[TS_HASH_HEX];
    char scene_name[256];
    char type[16];
    char params[512];
    bool noisy;          /* its renderer may differ between honest runs (Cycles' adaptive sampling) */
    char requester[TS_ACCOUNT_NAME_CAP]; /* the account that pays (and may see it) */
    char out_pattern[TS_REQUEST_OUT_PATTERN_CAP]; /* a render's output file names ("" frame_NNNN) */
} ts_job_t;

/* A render job that ends in an encode carries encoder settings (a "vcodec" in its params). */
bool ts_job_encodes(const ts_job_t *j);

/* What a probe learned about a scene (filled from the slave's SceneInfo). */
typedef struct {
    int width, height, frame_start, frame_end;
    int fps_num, fps_den;
    int margin;          /* the margin the tiles are rendered with (0 unless the scene needs context pixels) */
    int samples;         /* samples per pixel (weighs a tile's price against a frame's finish); 0: unknown */
    bool adaptive;       /* Cycles' adaptive sampling is on: honest renders may differ (docs/blender-notes.md) */
    char ext[16];
} ts_scene_facts_t;

ts_store_t *ts_store_open(const char *path);
void ts_store_destroy(ts_store_t **self_p);

/* Return codes, one convention for every call: 0 done, -1 an error (ts_error() says why). A lookup or a yes/no
   question returns 1 (found, taken, still wanted) or 0 (not found, refused) instead of 0, and a call that fills a
   list returns how many it filled. Any other outcome is one of these names, never a bare number: */
#define TS_STORE_REFUSED (-2)  /* payments refuse a new job (its budget); ts_error() says why */
#define TS_STORE_UNKNOWN 2     /* no such job or node */
#define TS_STORE_ENDED 3       /* the job has already ended */
#define TS_STORE_NOT_QUARANTINED 4 /* the node is not quarantined */
#define TS_STORE_EXISTS 5      /* the account exists already */
#define TS_STORE_INVALID 6     /* the request does not fit the job; ts_error() names the field */
#define TS_STORE_CONFLICT 7    /* the job's state does not allow it now; ts_error() says why */

/* Jobs */
int64_t ts_store_job_create(ts_store_t *self, const ts_job_request_t *req, int margin);
/* A job of pieces planned at submit (a transcode's segments, a contact sheet's thumbnails), one task each, and its
   single output (frame 0). */
int64_t ts_store_job_create_pieces(ts_store_t *self, const ts_job_request_t *req, const ts_store_pieces_job_t *job,
                                   const ts_store_segment_t *pieces, int count);
/* The manifest name of a job's input: 1 found, 0 not, -1 error. */
int ts_store_job_input_name(ts_store_t *self, int64_t id, const char *hash, char *name, size_t cap);
/* A job's manifest as JSON: [{"name", "hash"}] in the order submitted. */
json_t *ts_store_job_inputs_json(ts_store_t *self, int64_t id);
/* How many files a job's manifest lists (0 for an unknown job). */
int64_t ts_store_job_inputs_count(ts_store_t *self, int64_t id);
int ts_store_job_get(ts_store_t *self, int64_t id, ts_job_t *job);   /* 1 found, 0 not, -1 error */
/* 0 cancelled; TS_STORE_UNKNOWN, TS_STORE_ENDED; -1 error. */
int ts_store_job_cancel(ts_store_t *self, int64_t id);
/* Queue control (ts_store_deps.c): pause (running tasks finish, nothing new starts), resume (it waits again for
   parents not done), priority. 0 done; TS_STORE_UNKNOWN, TS_STORE_ENDED; -1 error. */
int ts_store_job_pause(ts_store_t *self, int64_t id);
int ts_store_job_resume(ts_store_t *self, int64_t id);
int ts_store_job_priority(ts_store_t *self, int64_t id, int priority);
/* Requeue (ts_store_requeue.c): frames of a render job that has ended (done or failed) are rendered again and paid
   as new work. Each chosen frame's tasks are set aside ('superseded': counted neither done nor failed, their
   payments stand), the frame is rendering again with fresh tiles as the plan made them (failures from 0), and a
   video at the end is made again; the requester pays the new pieces' prices into the job's funds; the job is
   running again (its error and finish cleared). A failed job's unfinished frames must be among the chosen. */
typedef struct {
    const int *frames;   /* chosen frames (any order, repeats allowed), or NULL */
    int nframes;
    bool failed;         /* and the frames that did not finish when the job failed */
} ts_requeue_request_t;
typedef struct {
    int *frames;         /* the frames requeued, ascending (malloc'd: free it) */
    int nframes;
    int tiles;           /* tile tasks queued */
    bool video;          /* the video at the end is made again */
    int64_t price;       /* paid into the job's funds for the new work (token units; 0 without payments) */
} ts_requeue_result_t;
/* 0 done (out filled); TS_STORE_UNKNOWN; TS_STORE_INVALID (not a render job, a frame outside the job, nothing
   chosen, unfinished frames left out); TS_STORE_CONFLICT (cancelled, not planned yet, still running, no failed
   frames, a backend that cannot take more funds); TS_STORE_REFUSED (the requester's balance is short: ts_error()
   says how much is needed); -1 error. */
int ts_store_job_requeue(ts_store_t *self, int64_t id, const ts_requeue_request_t *req, ts_requeue_result_t *out);
int ts_store_job_fail(ts_store_t *self, int64_t id, const char *error);
/* A probe's facts become the job's frames and tile tasks (tiles cut by the caller's plan). */
typedef struct { int x0, y0, x1, y1; } ts_store_rect_t;
int ts_store_job_plan(ts_store_t *self, int64_t id, const ts_scene_facts_t *facts, const ts_store_rect_t *render,
                      int ntiles);
json_t *ts_store_job_json(ts_store_t *self, int64_t id);   /* NULL when unknown */
/* Every job, oldest first; with requester, only the jobs that account pays for. */
json_t *ts_store_jobs_json(ts_store_t *self, const char *requester);
/* The stored output of a finished frame: 1 found, 0 not. */
int ts_store_output(ts_store_t *self, int64_t job, int frame, char hash[TS_HASH_HEX]);

/* Tasks */
/* Assigns up to max queued tasks that fit the node, best first; returns how many (tasks filled). */
int ts_store_assign(ts_store_t *self, const char *node, const char *blender_version, bool has_gpu,
                    const char *prefer_scene, int max_failures, ts_task_t *tasks, int max);
/* The same for a node with max free slots and room for that many tasks in tasks: a job with chunks gives the node
   its next frames with the first (a chunk may go past max). */
int ts_store_assign_chunks(ts_store_t *self, const char *node, const char *blender_version, bool has_gpu,
                           const char *prefer_scene, int max_failures, ts_task_t *tasks, int max, int room);
int ts_store_task_get(ts_store_t *self, int64_t id, ts_task_t *task);   /* 1 found, 0 not */
/* Every assigned task, only what the master's tick needs of it (malloc'd): thousands a tick, so not whole rows. */
typedef struct {
    int64_t id;
    char node[TS_HASH_HEX];
    double assigned_at;
} ts_assigned_t;
int ts_store_assigned_brief(ts_store_t *self, ts_assigned_t **out, int *count);
/* Assigned tasks (malloc'd), all of them or those of one node (node not NULL). */
int ts_store_tasks_assigned(ts_store_t *self, const char *node, ts_task_t **tasks, int *count);
/* A batch: the calling thread holds the store, and every transaction until ts_store_batch_end commits with it (each
   still undone alone when it fails). The master wraps each wake's messages and tick in one, so a thousand results
   a second are a few commits, not thousands; other threads wait for the batch's end. */
int ts_store_batch_begin(ts_store_t *self);
int ts_store_batch_end(ts_store_t *self);
/* Rows written since the store opened, by anyone (a number that moves whenever what a node may take can change). */
uint64_t ts_store_changes(ts_store_t *self);
int ts_store_node_assigned_count(ts_store_t *self, const char *node);
/* Back to the queue. With failed: counts a failure on the task and on the (job, node) pair, and fails the
   job once the task has failed max_failures times (error says which task and why). */
int ts_store_task_requeue(ts_store_t *self, int64_t id, bool failed, const char *error, int max_failures);
/* Records an accepted tile or segment. Sets *frame_complete when every task of that kind for its frame is now done. */
int ts_store_tile_done(ts_store_t *self, int64_t id, const char *hash, const char *node, bool *frame_complete);
/* Records a finished frame; the job is done when all its frames are. */
int ts_store_finish_done(ts_store_t *self, int64_t id, const char *hash, int64_t size, const char *node);
/* Probe task bookkeeping. */
int ts_store_probe_done(ts_store_t *self, int64_t id, const char *node);

/* A render job that ends in an encode: its frames are done and its video input is cut into segments. */
int ts_store_video_segments(ts_store_t *self, int64_t job, const ts_store_segment_t *segs, int count, int tb_num,
                            int tb_den, int fps_num, int fps_den);
/* Frames of render jobs ending in an encode whose frames are all done: fills up to max job ids. */
int ts_store_videos_to_cut(ts_store_t *self, int64_t *jobs, int max);
/* The finished frame files of a job, in frame order (hashes malloc'd, count frames). */
int ts_store_frame_outputs(ts_store_t *self, int64_t job, char (**hashes)[TS_HASH_HEX], int *count);

/* Frames waiting to be stitched: fills up to max (job, frame) pairs. */
int ts_store_frames_to_stitch(ts_store_t *self, int64_t *jobs, int *frames, int max);
/* The result hashes of a frame's pieces of one kind (its tiles, a video's segments, a sheet's thumbnails), in order. */
int ts_store_frame_tiles(ts_store_t *self, int64_t job, int frame, int kind, char (*hashes)[TS_HASH_HEX], int count);
/* The number of pieces of one kind (ordinary work, not cancelled) of a job's frame: a video's segments, a sheet's
   thumbnails. */
int ts_store_piece_count(ts_store_t *self, int64_t job, int frame, int kind);
/* A frame's (or a transcode's) final output is stored: the frame is done, and the job when all are. */
int ts_store_frame_output(ts_store_t *self, int64_t job, int frame, const char *hash, int64_t size);
/* The stitched frame is stored: queue its finish task. */
int ts_store_frame_stitched(ts_store_t *self, int64_t job, int frame, const char *hash);

/* Verification (ts_store_verify.c): every result is checked by the verifier thread before it counts; a
   sampled share is re-done by another node (a check task) and compared. */
typedef struct {
    ts_check_rates_t rates; /* the check rate's parameters (verifier/ts_policy.h) */
    double area;            /* share of a tile's pixels its check re-renders (a random window; 1: all of it) */
    int quarantine_after;  /* jobs a node may be blocked on (by failed checks) before it is quarantined */
    int max_failures;      /* as for every task */
} ts_check_policy_t;

/* A result is in (its signature checked, its output stored): the task waits for the verifier. Taken from the
   node the task is assigned to, or for re-queued ordinary work. 1 taken, 0 refused (ts_error() says why). */
int ts_store_result_in(ts_store_t *self, int64_t id, const char *node, const char *hash, int64_t size,
                       const char *dclass, double busy_seconds);
/* Results waiting for the verifier: fills up to max task ids. */
int ts_store_results_to_verify(ts_store_t *self, int64_t *ids, int max);
/* The result failed its own checks: back to the queue with a failure counted; its node's run of valid
   results restarts. */
int ts_store_result_invalid(ts_store_t *self, int64_t id, const char *why, const ts_check_policy_t *p);

/* What a verdict changed. */
typedef struct {
    bool frame_complete;   /* a frame (or a job's video) is ready to stitch */
    bool sampled;          /* a check task was queued */
    int punished;          /* nodes that failed a check by this verdict */
    char punished_node[2][TS_HASH_HEX];
    int requeued;          /* results re-queued because their node failed a check */
    bool quarantined;      /* a punished node is now quarantined farm-wide */
    int unresolved;        /* disputes settled without a third node (ts_store_checks_expire) */
} ts_verdict_t;

/* Ordinary work whose result passed its checks: draw (uniform in [0,1)) below the node's rate samples it for a
   check by another eligible online node; otherwise (or with no such node) it is accepted unchecked. */
int ts_store_result_valid(ts_store_t *self, int64_t id, double draw, const ts_check_policy_t *p, ts_verdict_t *v);
/* For a check task with a valid result: the task it checks and, for a tie-break, the disputed first check
   (disputed->id 0 otherwise). 1 when the check is still wanted; 0 when the task it checks has moved on. */
int ts_store_check_parties(ts_store_t *self, int64_t check_id, ts_task_t *original, ts_task_t *disputed);
/* A check no longer wanted is cancelled. */
int ts_store_check_drop(ts_store_t *self, int64_t check_id);
enum { TS_AGREES_ORIGINAL = 1, TS_AGREES_DISPUTED = 2 };
/* Settles a check by what its result agrees with (mask of TS_AGREES_*). A first check that agrees credits
   both nodes and completes the task; one that does not queues a tie-break for a third node (nobody is
   punished yet). A tie-break credits the side(s) it agrees with and punishes the other; agreeing with
   neither re-queues the task with a failure counted and punishes nobody. Punishing a node: its run of
   valid results restarts, the failure is recorded (verdicts), it is blocked for the job, every unchecked
   result of it in the job is re-queued (frames built on them are reopened), and it is quarantined once
   blocked on quarantine_after jobs since its last lift. */
int ts_store_check_settle(ts_store_t *self, int64_t check_id, int mask, const char *detail,
                          const ts_check_policy_t *p, ts_verdict_t *v);
/* Checks queued more than max_wait seconds ago that no online node may take. A first check is dropped and the
   task it checks accepted unchecked. A tie-break is dropped and the dispute left unresolved: nobody is punished
   or credited, the piece keeps the result of the node with the longer run of valid results (the original's on
   a tie; verifier/ts_agree.h), the other node is paid as a check, both get a 'disputed' verdict and the task's
   verify is 'disputed'. Returns how many (v->unresolved of them disputes). */
int ts_store_checks_expire(ts_store_t *self, double max_wait, const ts_check_policy_t *p, ts_verdict_t *v);
/* An operator lifts a node's quarantine: 0 lifted; TS_STORE_UNKNOWN, TS_STORE_NOT_QUARANTINED; -1 error. */
int ts_store_node_lift(ts_store_t *self, const char *id);
/* A job's compute on ordinary work and on checks (seconds the nodes reported) and its verdicts. */
json_t *ts_store_job_checks_json(ts_store_t *self, int64_t job);

/* Payments (ts_store_pay.c): with an escrow attached, a job's budget is funded when it is created, each piece's
   price (the budget times the piece's share of the job's work units: pixels x samples for tiles, pixels for
   finishes, frames for segments) is locked when the piece is first assigned and released to the node whose
   result is accepted, in the transaction that accepts it; spot checks and redone work are paid by the farm's own
   account, a failed check slashes the cheater's stake, and what is left returns to the requester when the job
   ends. */
typedef struct {
    int64_t min_task_price;  /* a job's budget must give each of its pieces at least this */
    int64_t min_stake;       /* a node with less stake gets no work */
    double deadline_s;       /* after this long the requester may reclaim a job's funds itself (evm) */
} ts_pay_policy_t;

struct ts_escrow;
/* Attaches the escrow (NULL: no payments, as for the store's own tests). The store does not own it. */
/* Fair share (ts_store_shares.c): on (the default), requesters get node time in proportion to their weights and
   priority orders each requester's own jobs; off, the queue is ordered by priority and age across requesters. */
void ts_store_set_fair_share(ts_store_t *self, bool on);
/* A requester's weight (above 0; 0 leaves it) and limit of tasks running at once (0: none; -1 leaves it). */
int ts_store_share_set(ts_store_t *self, const char *requester, double weight, int max_running);
/* [{"requester", "weight", "max_running", "running", "node_seconds", "queued"}] of every requester with a share, open
   work or recent use, or of one (requester not NULL); NULL on error. */
json_t *ts_store_shares_json(ts_store_t *self, const char *requester);
void ts_store_set_escrow(ts_store_t *self, struct ts_escrow *escrow, const ts_pay_policy_t *policy);
/* The store's database handle, for an escrow backend's tables (ts_escrow_new). */
struct sqlite3 *ts_store_db(ts_store_t *self);
/* tessera wallet: every account; one account's history (1: unknown account). */
json_t *ts_store_wallet_json(ts_store_t *self);
int ts_store_wallet_history(ts_store_t *self, const char *account, int limit, json_t **out);

/* Accounts and API tokens (ts_store_accounts.c) */
/* Who is calling the API: the operator, or a requester by its account name. */
typedef struct {
    bool operator;
    char account[TS_ACCOUNT_NAME_CAP];   /* "" for the operator */
} ts_caller_t;
/* Whose token this is: 1 a valid token (caller filled), 0 unknown, revoked or a wrong secret, -1 error. */
int ts_store_token_check(ts_store_t *self, const ts_token_key_t *key, ts_caller_t *caller);
/* Keeps the operator's token in the file at path (mode 0600): a token the store knows is kept; a missing or
   unknown one is replaced by a new token, and every older operator token is revoked. */
int ts_store_operator_token(ts_store_t *self, const char *path);
/* A new requester account (or a revoked one back) with a new token; 0, TS_STORE_EXISTS, -1. */
int ts_store_account_add(ts_store_t *self, const char *name, char token[TS_TOKEN_CAP]);
/* Revokes an account and its tokens; 0, TS_STORE_UNKNOWN, -1. */
int ts_store_account_revoke(ts_store_t *self, const char *name);
/* 1 when name is an account that is not revoked. */
int ts_store_account_active(ts_store_t *self, const char *name);
json_t *ts_store_accounts_json(ts_store_t *self);
/* Credits an account's balance (the escrow's ts_escrow_credit, once per ref); 0, TS_STORE_UNKNOWN,
   TS_STORE_REFUSED (ts_error() says why), -1. */
int ts_store_account_credit(ts_store_t *self, const char *name, int64_t amount, const char *ref);

/* Nodes */
int ts_store_node_seen(ts_store_t *self, const char *id, const char *name, const char *blender,
                       const char *devices_json, const char *cpu_model, const char *payout, int cores, int64_t memory);
int ts_store_node_state(ts_store_t *self, const char *id, const char *state);
/* The node's owner has it back (reason: "in use", "outside hours", ...): state 'paused'; a pause that gave tasks
   back (given_back > 0) is recorded as a preemption (tessera nodes: preemptions in the last 24 h). */
int ts_store_node_pause(ts_store_t *self, const char *id, const char *reason, int given_back);
#define TS_NODE_TAGS_CAP 512
/* A node's pools (comma-separated tags, "" none) and its owner's cap on a renderer's memory (bytes, 0: none), as its
   Hello said. */
int ts_store_node_tags(ts_store_t *self, const char *id, const char *tags, int64_t max_memory);
/* A node's Vulkan GPUs as its Hello listed them (a JSON array, each with "enabled"), what its renderers run in
   ("bwrap", or "none": unsafe) and the least free memory of the GPUs it lends (bytes; 0: none lent or unknown): a
   GPU job whose renders were seen to need more is not given to it. */
int ts_store_node_gpus(ts_store_t *self, const char *id, const char *gpus_json, const char *sandbox, int64_t vram_free);
/* A render of the job was seen to need this many bytes (its renderer's resident peak): the job's need is the
   largest seen, and a node whose owner allows less gets none of its tasks. */
int ts_store_job_memory(ts_store_t *self, int64_t job, int64_t bytes);
/* What a node was paid since a time and in all (token units), for its owner. */
int ts_store_node_earnings(ts_store_t *self, const char *node, double since, int64_t *today, int64_t *total);
/* A paused node works again: state 'online'. */
int ts_store_node_resume(ts_store_t *self, const char *id);
int ts_store_nodes_all_offline(ts_store_t *self);
/* Every node with its state ("quarantined", "blocked", "busy", "online", "offline"), reputation (its run of
   consecutive valid results), check_rate (what its next result is drawn against, at the price of its last
   piece), checks passed and failed, blocked jobs; with payments also stake and at_risk (token units). */
json_t *ts_store_nodes_json(ts_store_t *self, const ts_check_rates_t *rates);

/* ---- Job and task events (ts_store_events.c) ----
   Every new job or task and every change of its state is one row of `events`, written by SQLite triggers
   (ts_store.c's migrations) in the transaction that makes the change, so no code path can forget one and none is
   recorded for a change rolled back. Ids only grow (AUTOINCREMENT; one connection commits them in order), so a
   reader's place is the last id it has. Old events are pruned: those older than TS_EVENTS_MAX_AGE_S beyond the
   newest TS_EVENTS_KEEP. */
#define TS_EVENTS_KEEP 100000
#define TS_EVENTS_MAX_AGE_S (7 * 86400.0)
typedef struct {
    int64_t id;
    double at;                   /* Unix seconds */
    int64_t job_id;
    int64_t task_id;             /* 0: an event of the job itself */
    int kind, frame, tile;       /* a task's */
    int64_t check_of;            /* a spot check: the task it re-does (0 for ordinary work) */
    char node[TS_HASH_HEX];      /* a task's node (the one that held it, when it goes back to the queue) */
    char from[16];               /* "" for a new job or task */
    char to[16];
    char name[TS_JOB_NAME_CAP];  /* the job's name and requester */
    char requester[TS_ACCOUNT_NAME_CAP];
} ts_event_t;
/* Up to max events with ids above after, oldest first: every job's (requester NULL) or those of the jobs one account
   pays for; of one job only when job > 0. *next (may be NULL) gets where to read on from: the last id returned, or
   past events skipped by the filter. Returns how many, -1 on error. */
int ts_store_events_after(ts_store_t *self, int64_t after, const char *requester, int64_t job, ts_event_t *events,
                          int max, int64_t *next);
/* The ids kept: *oldest the first (latest + 1 when none is kept), *latest the last ever given (0: none yet). */
int ts_store_events_span(ts_store_t *self, int64_t *oldest, int64_t *latest);
/* Deletes the events older than before (Unix seconds) that are not among the newest keep; returns how many. */
int64_t ts_store_events_prune(ts_store_t *self, int64_t keep, double before);
/* An event as JSON: id, type ("job" or "task"), at, job, name, requester, from (null for a new one), to; a task's
   also task, kind, frame, tile, node and check_of (when it is a spot check). */
json_t *ts_store_event_json(const ts_event_t *e);
/* Who is told of new events: stored(arg) is called whenever one is written, under the store's lock from the thread
   writing (before its transaction commits; it must not call the store). */
typedef struct {
    void (*stored)(void *arg);
    void *arg;
} ts_store_watch_t;
/* One watcher per store; the caller keeps *watch until it calls again with NULL (before the store is destroyed). */
void ts_store_events_watch(ts_store_t *self, const ts_store_watch_t *watch);

/* Per-job webhooks (ts_store_notify.c): the URL and how far its events have been delivered (the last event id
   acknowledged with a 2xx), so a restarted master goes on where it stopped and sends nothing twice after success. */
#define TS_NOTIFY_ERROR_CAP 256
typedef struct {
    int64_t job_id;
    char url[TS_JOB_NOTIFY_URL_CAP];
    int64_t sent;        /* the last event delivered (0: none) */
    int failures;        /* attempts failed in a row */
} ts_notify_target_t;
/* Sets (or replaces) a job's webhook; its events from the first on are delivered (a new job's is set as it is made,
   from its request's notify_url). */
int ts_store_notify_set(ts_store_t *self, int64_t job, const char *url);
/* Up to max webhooks with an event not yet delivered whose next attempt is due at now; returns how many. *next_due
   (may be NULL) gets the earliest attempt that is not yet due (0: none). */
int ts_store_notify_due(ts_store_t *self, double now, ts_notify_target_t *targets, int max, double *next_due);
/* Event id of job was delivered: the cursor moves on and the failures are forgotten. */
int ts_store_notify_sent(ts_store_t *self, int64_t job, int64_t event_id);
/* An attempt failed: counted, next attempt at retry_at, error kept for the job's view. */
int ts_store_notify_failed(ts_store_t *self, int64_t job, double retry_at, const char *error);
/* A job's webhook as the API shows it (no URL, which may hold a secret): {"delivered", "failures", "error"};
   NULL when the job has none. */
json_t *ts_store_notify_json(ts_store_t *self, int64_t job);

int ts_store_events_test(bool verbose);

int ts_store_test(bool verbose);
int ts_store_requeue_test(bool verbose);

#endif
