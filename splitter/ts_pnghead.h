/* ts_pnghead: a bounds check of a PNG file's chunks before libpng (through OpenImageIO) reads it. */
#ifndef TS_PNGHEAD_H
#define TS_PNGHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TS_PNGHEAD_CHUNK_MAX (8u << 20)    /* bytes of a chunk other than image data */
#define TS_PNGHEAD_INFLATE_MAX (16u << 20) /* bytes a compressed text or ICC profile chunk may inflate to */

/* Whether len bytes start with PNG's signature. */
bool ts_pnghead_magic(const unsigned char *data, size_t len);
/* Walks a PNG file's chunks from its start to IEND (or the end of the file): libpng reads a whole chunk into memory
   before anything else (a 372-byte file claiming a 1.9 GB tEXt chunk made the master allocate 1.9 GB), and inflates
   iCCP, zTXt and compressed iTXt chunks without a bound of its own. So every chunk but image data (IDAT, fdAT) must
   hold at most TS_PNGHEAD_CHUNK_MAX bytes, and inflate, with an ICC profile's declared size, to at most
   TS_PNGHEAD_INFLATE_MAX. 0 when sound (or not a PNG); -1 with why naming the chunk and what is wrong. */
int ts_pnghead_check(FILE *f, char *why, size_t cap);

int ts_pnghead_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
