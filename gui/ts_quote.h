/* ts_quote: the submit form's quote: the body of POST /api/v1/quote (sent with ts_session_post_json_async, off the
   main loop), and its answer as one line for the form. */
#ifndef TS_QUOTE_H
#define TS_QUOTE_H

#include <glib.h>

typedef struct {
    int frames, tiles_x, tiles_y, width, height, samples;
    const char *budget; /* token amount as text; NULL or "": the master's default */
} TsQuoteRequest;

/* The request as POST /api/v1/quote's body (a json_t *, decref it). */
void *ts_quote_body(const TsQuoteRequest *req);
/* The answer as the form shows it: "Price: at least P tokens (N pieces); locks B. ETA: ..." (g_free it). */
char *ts_quote_text(const void *answer);

#endif
