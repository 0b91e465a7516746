/* ts_file: whole small files: read into memory with a size bound, written atomically (temporary file, rename);
   a scratch directory removed. */
#ifndef TS_FILE_H
#define TS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the whole file into *data (malloc'd, the caller frees; one spare NUL byte after it), *len its size.
   -1 with ts_error() naming the path when it cannot be read, is empty and allow_empty is 0, or is over max bytes
   (max 0: no bound). */
int ts_file_read(const char *path, size_t max, int allow_empty, uint8_t **data, size_t *len);
/* Whether a file starts as a .blend does: plain ("BLENDER"), gzip or zstd compressed (files are told by content). */
bool ts_file_is_blend(const char *path);
/* Writes path atomically: "<path>.tmp", flushed to disk, then renamed over path. -1 with ts_error() naming it. */
int ts_file_write_atomic(const char *path, const void *data, size_t len);
/* Writes all of data to fd (a pipe: short writes and EINTR retried). 0, or -1 with errno set. */
int ts_file_write_fd(int fd, const void *data, size_t len);
/* Removes a directory and the files directly in it (for tests' scratch directories; not recursive). */
void ts_file_remove_dir(const char *dir);

#endif
