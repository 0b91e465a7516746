/* ts_fetch: HTTP download (libcurl) of a content-addressed blob into the slave's cache, verified by hash. */
#include "slave/ts_fetch.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 10L
#define LOW_SPEED_BYTES 1L
#define LOW_SPEED_TIME_S 60L

static int progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    volatile sig_atomic_t *stop = p;
    return stop && *stop ? 1 : 0;
}

int ts_fetch_blob(ts_blobs_t *cache, const char *base_url, const char *hash, volatile sig_atomic_t *stop)
{
    if (!ts_hash_valid(hash))
        return ts_error_set("'%s' is not a content hash", hash);
    if (ts_blobs_has(cache, hash)) {
        if (ts_blobs_verify(cache, hash) == 0)
            return 0;
        ts_warn("cached %s was corrupt: fetching it again", hash);
    }
    char url[1024], tmp[PATH_MAX], got[TS_HASH_HEX];
    snprintf(url, sizeof url, "%s/%s", base_url, hash);
    int fd = ts_blobs_tmp(cache, tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    CURL *c = curl_easy_init();
    if (!f || !c) {
        if (f)
            fclose(f);
        else
            close(fd);
        unlink(tmp);
        curl_easy_cleanup(c);
        return ts_error_set("%s: out of memory", url);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (fclose(f) != 0 && rc == CURLE_OK) {
        unlink(tmp);
        return ts_error_set("%s: cannot write the cache", url);
    }
    if (rc != CURLE_OK) {
        unlink(tmp);
        return ts_error_set("%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
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
    CURL *c = curl_easy_init();
    if (!c)
        return ts_error_set("%s: out of memory", url);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_mem);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || m.len == 0) {
        free(m.data);
        if (m.too_big)
            return ts_error_set("%s: larger than %zu bytes", url, max);
        return ts_error_set("%s: %s", url, rc != CURLE_OK ? (errbuf[0] ? errbuf : curl_easy_strerror(rc)) : "empty");
    }
    *data = m.data;
    *len = m.len;
    return 0;
}
