/* ts_exrhead: a bounds check of an OpenEXR file's headers before any EXR library reads it. */
#ifndef TS_EXRHEAD_H
#define TS_EXRHEAD_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Walks the header(s) of an OpenEXR file of `size` bytes, of which `data` holds the first `len`: the magic number,
   the version, and every attribute (name, type, byte count) until the header ends, each attribute's bytes within
   the file. OpenEXR itself allocates what an attribute claims before reading it (a 235-byte file claiming a
   2 GB string made the master allocate 2 GB), so a stranger's file passes this first. 0 when sound; -1 with why
   naming the attribute and what is wrong. */
int ts_exrhead_check(const unsigned char *data, size_t len, long long size, char *why, size_t cap);

/* Whether len bytes start with OpenEXR's magic number. */
bool ts_exrhead_magic(const unsigned char *data, size_t len);

int ts_exrhead_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
