/* ts_wallet_page: the Wallet page: the artist's balance and funds held for jobs (GET /api/v1/wallet), the shown
   job's budget, funds held and locked, paid and refunded, and the account's transactions (GET /api/v1/wallet/{account},
   newest first). Fetched off the main thread every TS_WALLET_POLL_MS while the page is shown, and when the session
   reconnects. Amounts in tokens, as the CLI writes them. */
#ifndef TS_WALLET_PAGE_H
#define TS_WALLET_PAGE_H

#include "gui/ts_job.h"
#include "gui/ts_session.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_WALLET_POLL_MS 3000

#define TS_TYPE_WALLET_PAGE (ts_wallet_page_get_type())
G_DECLARE_FINAL_TYPE(TsWalletPage, ts_wallet_page, TS, WALLET_PAGE, GtkBox)

/* The session the page asks (a reference is kept); set once, before the page is shown. */
void ts_wallet_page_set_session(TsWalletPage *self, TsSession *session);
/* The job whose money is shown (NULL: none); a reference is kept. */
void ts_wallet_page_set_job(TsWalletPage *self, TsJob *job);

G_END_DECLS

#endif
