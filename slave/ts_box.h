/* ts_box: the folder that shows the running task's inputs, and nothing else, to the sandboxed renderer. */
#ifndef TS_BOX_H
#define TS_BOX_H

#include <stdbool.h>
#include <stddef.h>

/* Empties box: links removed, projects moved back into projects (a stale one is removed when home holds a newer
   layout). 0, or -1 with ts_error(). */
int ts_box_clear(const char *box, const char *projects);
/* Hard-links src into box as name; out gets the path the renderer opens. */
int ts_box_file(const char *box, const char *src, const char *name, char *out, size_t cap);
/* Moves the laid-out project projects/name into box; out gets its path there. */
int ts_box_project(const char *box, const char *projects, const char *name, char *out, size_t cap);

int ts_box_test(bool verbose);

#endif
