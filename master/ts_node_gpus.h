/* ts_node_gpus: a Hello's GPU list made fit to keep and show: the store's JSON, the lent models, their free memory. */
#ifndef TS_NODE_GPUS_H
#define TS_NODE_GPUS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/tessera.pb-c.h"

#define TS_NODE_GPUS_MAX 16      /* GPUs kept per node; a Hello listing more is cut there */
#define TS_NODE_GPU_TEXT_MAX 128 /* characters kept of a GPU's name, driver, ... */

typedef struct {
    char *json;        /* a JSON array (malloc'd), each GPU with "enabled"; "[]" when none */
    int lent;          /* how many the owner lends (enabled) */
    int64_t vram_free; /* bytes: the least free memory among the lent GPUs (0: none lent) */
} ts_node_gpus_t;

/* The node's GPUs from its Hello; the lent GPUs' models are appended to class ("/MODEL[+MODEL...]", so that the
   verifier compares results of like GPUs). Strings from the slave are kept to printable ASCII. 0, or -1 out of
   memory. */
int ts_node_gpus(const Tessera__Hello *h, ts_node_gpus_t *out, char *klass, size_t klass_cap);
void ts_node_gpus_free(ts_node_gpus_t *g);

#endif
