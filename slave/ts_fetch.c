/* ts_fetch: HTTP downloads (libcurl): a content-addressed blob into the slave's cache, verified by hash; small
   documents (a .torrent) into memory. */
#include "slave/ts_fetch.h"
#include "lib/ts_error.h"
#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 10L
#define LOW_SPEED_BYTES 1L
#define LOW_SPEED_TIME_S 60L

static const char *s_ca_file; /* NULL: the system's CAs */

void ts_fetch_set_ca_file(const char *path)
{
    s_ca_file = path;
}

static int progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    volatile sig_atomic_t *stop = p;
    return stop && *stop ? 1 : 0;
}

/* Runs one GET of url into the write callback (NULL: fwrite to data); the message names the URL. */
static int get(const char *url, curl_write_callback write, void *data, volatile sig_atomic_t *stop)
{
    CURL *c = curl_easy_init();
    if (!c)
        return ts_error_set("%s: out of memory", url);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (write)
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, data);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (s_ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, s_ca_file);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
        return ts_error_set("%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return 0;
}

int ts_fetch_blob(ts_blobs_t *cache, const char *base_url, const char *hash, volatile sig_atomic_t *stop)
{
    if (!ts_hash_valid(hash))
        return ts_error_set("'%s' is not a content hash", hash);
    char url[1024], tmp[PATH_MAX], got[TS_HASH_HEX];
    snprintf(url, sizeof url, "%s/%s", base_url, hash);
    int fd = ts_blobs_tmp(cache, tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return ts_error_set("%s: out of memory", url);
    }
    int rc = get(url, NULL, f, stop);
    if (fclose(f) != 0 && rc == 0)
        rc = ts_error_set("%s: cannot write the cache", url);
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    if (ts_blobs_put_file(cache, tmp, hash, got) < 0)
        return ts_error_prefix("%s", url);
    return 0;
}

typedef struct {
    unsigned char *data;
    size_t len, max;
    bool too_big;
} membuf_t;

static size_t to_mem(char *ptr, size_t size, size_t n, void *arg)
{
    membuf_t *m = arg;
    size_t add = size * n;
    if (m->len + add > m->max) {
        m->too_big = true;
        return 0;
    }
    unsigned char *grown = realloc(m->data, m->len + add);
    if (!grown)
        return 0;
    m->data = grown;
    memcpy(m->data + m->len, ptr, add);
    m->len += add;
    return add;
}

int ts_fetch_mem(const char *url, size_t max, unsigned char **data, size_t *len, volatile sig_atomic_t *stop)
{
    membuf_t m = {.max = max};
    int rc = get(url, to_mem, &m, stop);
    if (rc < 0 || m.len == 0) {
        free(m.data);
        if (m.too_big)
            return ts_error_set("%s: larger than %zu bytes", url, max);
        return rc < 0 ? -1 : ts_error_set("%s: empty", url);
    }
    *data = m.data;
    *len = m.len;
    return 0;
}
