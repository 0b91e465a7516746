/* ts_node_gpus: a Hello's GPU list made fit to keep and show: the store's JSON, the lent models, their free memory. */
#include "master/ts_node_gpus.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ts_error.h"

#define GPU_MB_MAX (1LL << 30) /* a GPU with more than 1 PiB is not believed: its memory is shown as 0 */

static json_int_t mb(uint64_t v) { return v > (uint64_t)GPU_MB_MAX ? 0 : (json_int_t)v; }

/* A slave's text as a JSON string: printable ASCII only (anything else becomes '?'), at most TS_NODE_GPU_TEXT_MAX. */
static json_t *clean(const char *s)
{
    char out[TS_NODE_GPU_TEXT_MAX + 1];
    size_t n = 0;
    for (; s && s[n] && n < TS_NODE_GPU_TEXT_MAX; n++)
        out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
    out[n] = '\0';
    return json_string(out);
}

int ts_node_gpus(const Tessera__Hello *h, ts_node_gpus_t *out, char *klass, size_t klass_cap)
{
    memset(out, 0, sizeof *out);
    json_t *arr = json_array();
    size_t count = h->n_gpus < TS_NODE_GPUS_MAX ? h->n_gpus : TS_NODE_GPUS_MAX;
    for (size_t i = 0; arr && i < count; i++) {
        const Tessera__Gpu *g = h->gpus[i];
        json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:b, s:o}", "index",
                              (json_int_t)g->index, "name", clean(g->name), "vendor", clean(g->vendor), "type",
                              clean(g->type), "driver", clean(g->driver), "driver_version", clean(g->driver_version),
                              "memory_mb", mb(g->memory_mb), "free_mb", mb(g->free_mb), "uuid", clean(g->uuid), "pci",
                              clean(g->pci), "enabled", g->enabled, "cycles_id", clean(g->cycles_id));
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
        if (!g->enabled)
            continue;
        int64_t free_bytes = (int64_t)mb(g->free_mb) << 20;
        if (out->lent == 0 || free_bytes < out->vram_free)
            out->vram_free = free_bytes;
        size_t used = strlen(klass);
        if (klass_cap > used)
            snprintf(klass + used, klass_cap - used, "%s%s", out->lent ? "+" : "/",
                     json_string_value(json_object_get(o, "name")));
        out->lent++;
    }
    out->json = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!out->json)
        return ts_error_set("out of memory listing a node's GPUs");
    return 0;
}

void ts_node_gpus_free(ts_node_gpus_t *g)
{
    free(g->json);
    g->json = NULL;
}
