/* ts_fetch: HTTP download (libcurl) of a content-addressed blob into the slave's cache, verified by hash. */
#include "slave/ts_fetch.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include <curl/curl.h>
#include <limits.h>
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
