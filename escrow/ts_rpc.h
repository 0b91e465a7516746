/* ts_rpc: a JSON-RPC 2.0 client over HTTP(S) (libcurl + jansson), for an Ethereum node. One handle per thread. */
#ifndef TS_RPC_H
#define TS_RPC_H

#include <jansson.h>
#include <stdbool.h>

typedef struct ts_rpc ts_rpc_t;

/* url: the node's HTTP endpoint; timeout_s: per call, connect included. NULL with ts_error on a bad argument. */
ts_rpc_t *ts_rpc_new(const char *url, double timeout_s);
void ts_rpc_destroy(ts_rpc_t **self_p);

/* Call method with params (a JSON array, stolen; NULL for []). Returns "result" (a new reference; JSON null is a
 * valid result), or NULL with ts_error: "chain RPC at <url> is unreachable: <why>" when there was no HTTP exchange,
 * "<method>: <message>" for a JSON-RPC error object, or what is wrong with the response. */
json_t *ts_rpc_call(ts_rpc_t *self, const char *method, json_t *params);

/* After a JSON-RPC error: its "data" when a string (for a revert, the revert data as 0x hex), else NULL; and its
 * code (0 when the last call failed otherwise or succeeded). Valid until the next call. */
const char *ts_rpc_last_error_data(const ts_rpc_t *self);
int ts_rpc_last_error_code(const ts_rpc_t *self);
const char *ts_rpc_url(const ts_rpc_t *self);

int ts_rpc_test(bool verbose);

#endif
