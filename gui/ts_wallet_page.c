/* ts_wallet_page: the Wallet page: the account's funds, the shown job's money and the history (see ts_wallet_page.h).
   The job's money is the master's job view's: budget, paid, held (escrow and locked to tasks) and refunded; a chain's
   ledger gives no held or refunded there, and the page says so rather than guess. */
#include "gui/ts_wallet_page.h"
#include "escrow/escrow.h"
#include "gui/ts_poll.h"
#include <jansson.h>

#define AMOUNT_TEXT 32

struct _TsWalletPage {
    GtkBox parent;
    GtkLabel *status_label, *balance_label, *locked_label, *job_label;
    GtkListView *history_view;
    GtkStringList *history_rows;
    TsSession *session;
    TsJob *job;
    char *account;
    GCancellable *cancel;
    gboolean fetching;
};

G_DEFINE_FINAL_TYPE(TsWalletPage, ts_wallet_page, GTK_TYPE_BOX)

static const char *tokens(gint64 units, char *buf)
{
    ts_amount_format(units, buf, AMOUNT_TEXT);
    return buf;
}

static gint64 amount(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* An amount of the job's view, or "unknown" where the master does not say (-1). */
static const char *known(gint64 units, char *buf)
{
    return units < 0 ? "unknown" : tokens(units, buf);
}

/* The shown job's money, as its view on the master has it. */
static void show_job(TsWalletPage *self)
{
    if (!self->job) {
        gtk_label_set_text(self->job_label, "No job shown: select one in the Jobs page.");
        return;
    }
    TsJob *job = self->job;
    char b[AMOUNT_TEXT], h[AMOUNT_TEXT], p[AMOUNT_TEXT], r[AMOUNT_TEXT];
    g_autofree char *text = g_strdup_printf("Job #%" G_GINT64_FORMAT " %s (%s): budget %s · held %s · paid %s · "
                                            "refunded %s", ts_job_get_id(job), ts_job_get_name(job),
                                            ts_job_get_state(job), tokens(ts_job_get_budget(job), b),
                                            known(ts_job_get_locked(job), h), tokens(ts_job_get_paid(job), p),
                                            known(ts_job_get_refunded(job), r));
    gtk_label_set_text(self->job_label, text);
}

/* "2024-05-01 12:00:03  refund   job 3    balance      +5.5  what the job did not spend": fixed widths, shown in
   a monospace font, so the rows line up as columns. */
static char *history_row(const json_t *x)
{
    g_autoptr(GDateTime) at = g_date_time_new_from_unix_local((gint64)json_number_value(json_object_get(x, "at")));
    g_autofree char *when = at ? g_date_time_format(at, "%Y-%m-%d %H:%M:%S") : g_strdup("?");
    char a[AMOUNT_TEXT];
    gint64 units = amount(x, "amount");
    g_autofree char *job = amount(x, "job") ? g_strdup_printf("job %" G_GINT64_FORMAT, amount(x, "job")) : g_strdup("");
    g_autofree char *signed_amount = g_strdup_printf("%s%s", units > 0 ? "+" : "", tokens(units, a));
    return g_strdup_printf("%s  %-8s %-9s %-8s %14s  %s", when, json_string_value(json_object_get(x, "kind")), job,
                           json_string_value(json_object_get(x, "bucket")), signed_amount,
                           json_string_value(json_object_get(x, "memo")));
}

static void history_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_autoptr(GError) error = NULL;
    json_t *o = ts_session_get_json_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    TsWalletPage *self = ud;
    self->fetching = FALSE;
    if (!o) {
        g_autofree char *msg = g_strdup_printf("Cannot read %s's history: %s", self->account, error->message);
        gtk_label_set_text(self->status_label, msg);
        return;
    }
    const json_t *history = json_object_get(o, "history");
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < json_array_size(history); i++)
        g_ptr_array_add(rows, history_row(json_array_get(history, i)));
    json_decref(o);
    g_ptr_array_add(rows, NULL);
    gtk_string_list_splice(self->history_rows, 0, g_list_model_get_n_items(G_LIST_MODEL(self->history_rows)),
                           (const char *const *)rows->pdata);
    show_job(self);
}

/* The caller's own requester account: the one GET wallet lists for a requester's token; NULL for the operator's,
   which lists every account. */
static const json_t *own_account(const json_t *wallet)
{
    const json_t *mine = NULL, *a;
    size_t i, requesters = 0;
    json_array_foreach(json_object_get(wallet, "accounts"), i, a) {
        if (g_strcmp0(json_string_value(json_object_get(a, "kind")), "requester") == 0) {
            mine = a;
            requesters++;
        }
    }
    return requesters == 1 && !json_object_get(wallet, "minted") ? mine : NULL;
}

static void wallet_done(GObject *source, GAsyncResult *result, gpointer ud)
{
    g_autoptr(GError) error = NULL;
    json_t *w = ts_session_get_json_finish(TS_SESSION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    TsWalletPage *self = ud;
    if (!w) {
        self->fetching = FALSE;
        g_autofree char *msg = g_strdup_printf("Cannot read the wallet: %s", error->message);
        gtk_label_set_text(self->status_label, msg);
        return;
    }
    const json_t *mine = own_account(w);
    char b[AMOUNT_TEXT], l[AMOUNT_TEXT];
    if (!mine) {
        self->fetching = FALSE;
        g_autofree char *msg = g_strdup_printf("This token sees %zu accounts (the operator's): `tessera wallet` lists "
                                               "them; the minted total is %s tokens.",
                                               json_array_size(json_object_get(w, "accounts")),
                                               tokens(amount(w, "minted"), b));
        gtk_label_set_text(self->status_label, msg);
        json_decref(w);
        return;
    }
    g_free(self->account);
    self->account = g_strdup(json_string_value(json_object_get(mine, "account")));
    g_autofree char *status = g_strdup_printf("Account %s (%s ledger)", self->account,
                                              json_string_value(json_object_get(w, "backend")));
    g_autofree char *balance = g_strdup_printf("Balance: %s tokens", tokens(amount(mine, "balance"), b));
    g_autofree char *locked = g_strdup_printf("Held for jobs (escrow and locked for tasks): %s tokens",
                                              tokens(amount(mine, "locked"), l));
    gtk_label_set_text(self->status_label, status);
    gtk_label_set_text(self->balance_label, balance);
    gtk_label_set_text(self->locked_label, locked);
    json_decref(w);
    g_autofree char *escaped = g_uri_escape_string(self->account, NULL, FALSE);
    g_autofree char *path = g_strdup_printf("/api/v1/wallet/%s", escaped);
    ts_session_get_json_async(self->session, path, self->cancel, history_done, self);
}

static void refresh(gpointer data)
{
    TsWalletPage *self = data;
    if (!self->session || self->fetching)
        return;
    self->fetching = TRUE;
    ts_session_get_json_async(self->session, "/api/v1/wallet", self->cancel, wallet_done, self);
}

static void on_resync(TsWalletPage *self)
{
    if (gtk_widget_get_mapped(GTK_WIDGET(self)))
        refresh(self);
}

static void dispose(GObject *object)
{
    TsWalletPage *self = TS_WALLET_PAGE(object);
    g_cancellable_cancel(self->cancel);
    if (self->session)
        g_signal_handlers_disconnect_by_data(self->session, self);
    g_clear_object(&self->session);
    g_clear_object(&self->job);
    g_clear_object(&self->history_rows);
    g_clear_object(&self->cancel);
    g_clear_pointer(&self->account, g_free);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_WALLET_PAGE);
    G_OBJECT_CLASS(ts_wallet_page_parent_class)->dispose(object);
}

static void ts_wallet_page_class_init(TsWalletPageClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-wallet-page.ui");
    gtk_widget_class_bind_template_child(wc, TsWalletPage, status_label);
    gtk_widget_class_bind_template_child(wc, TsWalletPage, balance_label);
    gtk_widget_class_bind_template_child(wc, TsWalletPage, locked_label);
    gtk_widget_class_bind_template_child(wc, TsWalletPage, job_label);
    gtk_widget_class_bind_template_child(wc, TsWalletPage, history_view);
}

static void ts_wallet_page_init(TsWalletPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancel = g_cancellable_new();
    self->history_rows = gtk_string_list_new(NULL);
    GtkNoSelection *none = gtk_no_selection_new(g_object_ref(G_LIST_MODEL(self->history_rows)));
    gtk_list_view_set_model(self->history_view, GTK_SELECTION_MODEL(none));
    g_object_unref(none);
    show_job(self);
    ts_poll_while_mapped(GTK_WIDGET(self), TS_WALLET_POLL_MS, refresh, self);
}

void ts_wallet_page_set_session(TsWalletPage *self, TsSession *session)
{
    g_return_if_fail(!self->session);
    self->session = g_object_ref(session);
    g_signal_connect_swapped(session, "resync", G_CALLBACK(on_resync), self);
    g_signal_connect_swapped(session, "jobs-refreshed", G_CALLBACK(on_resync), self); /* money moves with jobs */
    on_resync(self);
}

void ts_wallet_page_set_job(TsWalletPage *self, TsJob *job)
{
    g_set_object(&self->job, job);
    show_job(self);
}
