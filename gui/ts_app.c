/* ts_app: the GtkApplication: style, sign-in, main window (see ts_app.h). */
#include "gui/ts_app.h"
#include "gui/ts_config.h"
#include "gui/ts_session.h"
#include "gui/ts_signin_dialog.h"
#include "gui/ts_window.h"
#include <curl/curl.h>

#define APP_ID "org.tessera.Gui"

struct _TsApp {
    GtkApplication parent;
};

G_DEFINE_FINAL_TYPE(TsApp, ts_app, GTK_TYPE_APPLICATION)

static void open_window(TsApp *self, const TsConfig *cfg)
{
    g_autoptr(TsSession) session = ts_session_new(cfg);
    gtk_window_present(GTK_WINDOW(ts_window_new(GTK_APPLICATION(self), session)));
}

static void signed_in(TsSigninDialog *dialog, gpointer cfg, TsApp *self)
{
    open_window(self, cfg);
    gtk_window_destroy(GTK_WINDOW(dialog));
}

static void activate(GApplication *app)
{
    GList *windows = gtk_application_get_windows(GTK_APPLICATION(app));
    if (windows) {
        gtk_window_present(windows->data);
        return;
    }
    TsConfig cfg;
    g_autoptr(GError) error = NULL;
    if (ts_config_load(&cfg, &error)) {
        open_window(TS_APP(app), &cfg);
    } else {
        if (error)
            g_warning("%s", error->message);
        TsSigninDialog *dialog = ts_signin_dialog_new(GTK_APPLICATION(app), &cfg);
        g_signal_connect_object(dialog, "signed-in", G_CALLBACK(signed_in), app, 0);
        gtk_window_present(GTK_WINDOW(dialog));
    }
    ts_config_clear(&cfg);
}

static void startup(GApplication *app)
{
    G_APPLICATION_CLASS(ts_app_parent_class)->startup(app);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any worker thread makes a call */
    GtkCssProvider *css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/org/tessera/gui/style.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref(css);
}

static void app_shutdown(GApplication *app)
{
    G_APPLICATION_CLASS(ts_app_parent_class)->shutdown(app);
    curl_global_cleanup();
}

static void ts_app_class_init(TsAppClass *klass)
{
    GApplicationClass *ac = G_APPLICATION_CLASS(klass);
    ac->activate = activate;
    ac->startup = startup;
    ac->shutdown = app_shutdown;
}

static void ts_app_init(TsApp *self)
{
}

TsApp *ts_app_new(void)
{
    /* not unique: two farms (two environments) may each have their window */
    return g_object_new(TS_TYPE_APP, "application-id", APP_ID, "flags", G_APPLICATION_NON_UNIQUE, NULL);
}
