/* ts_poll: a page's refresh while it is on screen: a function called when the widget is mapped and then every
   interval until it is unmapped (a page of a GtkStack is mapped only while shown). */
#ifndef TS_POLL_H
#define TS_POLL_H

#include <gtk/gtk.h>

/* fn(data) at each map and every interval_ms while mapped; data must live as long as widget. */
void ts_poll_while_mapped(GtkWidget *widget, guint interval_ms, void (*fn)(gpointer data), gpointer data);

#endif
