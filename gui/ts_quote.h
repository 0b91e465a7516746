/* ts_quote: the submit form's quote: POST /api/v1/quote in GLib's thread pool (never on the main loop), and its
   answer as one line for the form. */
#ifndef TS_QUOTE_H
#define TS_QUOTE_H

#include "gui/ts_config.h"
#include <gio/gio.h>

typedef struct {
    int frames, tiles_x, tiles_y, width, height, samples;
    const char *budget; /* token amount as text; NULL or "": the master's default */
} TsQuoteRequest;

/* Asks the master (cfg) for a quote; the answer is the master's JSON (a json_t *, decref it). */
void ts_quote_async(const TsConfig *cfg, const TsQuoteRequest *req, GCancellable *cancellable, GAsyncReadyCallback cb,
                    gpointer ud);
void *ts_quote_finish(GAsyncResult *result, GError **error);
/* The answer as the form shows it: "Price: at least P tokens (N pieces); locks B. ETA: ..." (g_free it). */
char *ts_quote_text(const void *answer);

#endif
