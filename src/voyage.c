/*
 * NAME
 *	voyage 3 - client of Voyage AI's embeddings endpoint
 * DESCRIPTION
 *	See voyage.h. One libcurl easy handle per object, reused so that
 *	the connection (and TLS session) stays open between batches.
 */
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>

#include "log.h"
#include "voyage.h"

struct crm_voyage {
    CURL *curl;
    char *url;
    char *auth;			/* "Authorization: Bearer KEY" */
    char *model;
    unsigned dimension, timeout_s, max_retries, backoff_ms;
    const int *stop;
    void (*on_retry)(void *ctx, const char *why, unsigned delay_ms);
    void *ctx;
};

typedef struct body {
    GString *buf;
    bool too_big;
} body;

static GOnce curl_once = G_ONCE_INIT;

static gpointer curl_init(gpointer unused)
{
    (void)unused;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return NULL;
}

crm_voyage *crm_voyage_new(const crm_voyage_opts *o)
{
    crm_voyage *v = g_new0(crm_voyage, 1);
    const char *base = o->base_url != NULL ? o->base_url : "https://api.voyageai.com";
    size_t blen = strlen(base);

    g_once(&curl_once, curl_init, NULL);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    v->url = g_strdup_printf("%.*s/v1/embeddings", (int)blen, base);
    v->auth = g_strdup_printf("Authorization: Bearer %s", o->api_key != NULL ? o->api_key : "");
    v->model = g_strdup(o->model);
    v->dimension = o->dimension;
    v->timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
    v->max_retries = o->max_retries;
    v->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 1;
    v->stop = o->stop;
    v->on_retry = o->on_retry;
    v->ctx = o->ctx;
    v->curl = curl_easy_init();
    return v;
}

void crm_voyage_free(crm_voyage *v)
{
    if (v == NULL)
        return;
    if (v->curl != NULL)
        curl_easy_cleanup(v->curl);
    g_free(v->url);
    if (v->auth != NULL)	/* the key does not linger in freed memory */
        memset(v->auth, 0, strlen(v->auth));
    g_free(v->auth);
    g_free(v->model);
    g_free(v);
}

size_t crm_voyage_estimate_tokens(size_t len)
{
    return (len + CRM_VOYAGE_BYTES_PER_TOKEN - 1) / CRM_VOYAGE_BYTES_PER_TOKEN + 1;
}

size_t crm_voyage_utf8_prefix(const char *s, size_t len, size_t max)
{
    size_t n;

    if (len <= max)
        return len;
    n = max;
    /* back off continuation bytes (10xxxxxx) to the start of a character */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *p)
{
    body *b = p;
    size_t n = size * nmemb;

    if (b->buf->len + n > CRM_VOYAGE_MAX_RESPONSE) {
        b->too_big = true;
        return 0;	/* makes curl fail the transfer */
    }
    g_string_append_len(b->buf, data, (gssize)n);
    return n;
}

static char *request_json(const crm_voyage *v, const char *const *texts, size_t n,
                          const char *input_type)
{
    json_t *req = json_object(), *input = json_array();
    char *s;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(input, json_string(texts[i]));
    json_object_set_new(req, "model", json_string(v->model));
    json_object_set_new(req, "input", input);
    json_object_set_new(req, "input_type", json_string(input_type));
    json_object_set_new(req, "output_dimension", json_integer(v->dimension));
    /* Voyage's default, stated: an input over the context is cut, not refused */
    json_object_set_new(req, "truncation", json_true());
    s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return s;
}

/* Check the documented shape and fill out[]: 0, or -1 with why. */
static int parse_response(const crm_voyage *v, const char *text, size_t len, size_t n,
                          float *out, long *tokens, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je), *data, *item;
    size_t i;
    bool *seen;
    int rc = -1;

    if (root == NULL)
        return crm_err_set(err, errlen, "malformed response: not JSON (%s)", je.text);
    data = json_object_get(root, "data");
    if (!json_is_array(data)) {
        crm_err_set(err, errlen, "malformed response: no data array");
        json_decref(root);
        return -1;
    }
    if (json_array_size(data) != n) {
        crm_err_set(err, errlen, "malformed response: %zu embeddings for %zu texts",
                    json_array_size(data), n);
        json_decref(root);
        return -1;
    }
    seen = g_new0(bool, n);
    json_array_foreach(data, i, item) {
        json_t *idx = json_object_get(item, "index"), *emb = json_object_get(item, "embedding"), *x;
        json_int_t k;
        size_t d;

        if (!json_is_integer(idx) || (k = json_integer_value(idx)) < 0 || (size_t)k >= n ||
            seen[k]) {
            crm_err_set(err, errlen, "malformed response: bad or repeated index in data[%zu]", i);
            goto out;
        }
        if (!json_is_array(emb) || json_array_size(emb) != v->dimension) {
            crm_err_set(err, errlen, "malformed response: data[%zu] has %zu dimensions, not %u",
                        i, json_is_array(emb) ? json_array_size(emb) : 0, v->dimension);
            goto out;
        }
        seen[k] = true;
        json_array_foreach(emb, d, x) {
            if (!json_is_number(x)) {
                crm_err_set(err, errlen, "malformed response: data[%zu] holds a non-number", i);
                goto out;
            }
            out[(size_t)k * v->dimension + d] = (float)json_number_value(x);
        }
    }
    if (tokens != NULL) {
        json_t *u = json_object_get(json_object_get(root, "usage"), "total_tokens");
        *tokens = json_is_integer(u) ? (long)json_integer_value(u) : -1;
    }
    rc = 0;
out:
    g_free(seen);
    json_decref(root);
    return rc;
}

/* Voyage's error body is {"detail": "..."}; else the start of the body. */
static void error_detail(const GString *b, char *out, size_t outlen)
{
    json_t *root = json_loadb(b->str, b->len, 0, NULL);
    json_t *d = root != NULL ? json_object_get(root, "detail") : NULL;

    if (json_is_string(d))
        g_strlcpy(out, json_string_value(d), outlen);
    else
        snprintf(out, outlen, "%.*s", (int)MIN(b->len, 200), b->str);
    json_decref(root);
    g_strdelimit(out, "\r\n", ' ');
}

/* libcurl's progress callback: a non-zero return aborts the transfer. */
static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const crm_voyage *v = p;

    (void)dt, (void)dn, (void)ut, (void)un;
    return v->stop != NULL && g_atomic_int_get(v->stop) ? 1 : 0;
}

/* Sleep ms, in slices, unless *stop is set: false when stopped. */
static bool nap(const crm_voyage *v, unsigned ms)
{
    while (ms > 0) {
        unsigned slice = MIN(ms, 100u);
        if (v->stop != NULL && g_atomic_int_get(v->stop))
            return false;
        g_usleep((gulong)slice * 1000);
        ms -= slice;
    }
    return v->stop == NULL || !g_atomic_int_get(v->stop);
}

crm_voyage_status crm_voyage_embed(crm_voyage *v, const char *const *texts, size_t n,
                                   const char *input_type, float *out, long *tokens,
                                   char *err, size_t errlen)
{
    char *req;
    struct curl_slist *hdr = NULL;
    crm_voyage_status st = CRM_VOYAGE_TRANSIENT;

    if (v->curl == NULL)
        return crm_err_set(err, errlen, "libcurl did not initialise"), CRM_VOYAGE_TRANSIENT;
    if (n == 0 || n > CRM_VOYAGE_MAX_TEXTS) {
        crm_err_set(err, errlen, "%zu texts in one request (1 to %d)", n, CRM_VOYAGE_MAX_TEXTS);
        return CRM_VOYAGE_REJECTED;
    }
    req = request_json(v, texts, n, input_type);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, v->auth);

    for (unsigned attempt = 0;; attempt++) {
        body b = { g_string_new(NULL), false };
        long code = 0;
        curl_off_t retry_after = 0;
        char why[512];
        CURLcode cc;
        bool retry = false, malformed = false;

        curl_easy_reset(v->curl);
        curl_easy_setopt(v->curl, CURLOPT_URL, v->url);
        curl_easy_setopt(v->curl, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(v->curl, CURLOPT_POSTFIELDS, req);
        curl_easy_setopt(v->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(v->curl, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(v->curl, CURLOPT_TIMEOUT, (long)v->timeout_s);
        curl_easy_setopt(v->curl, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(v->curl, CURLOPT_NOSIGNAL, 1L);	/* threads */
        curl_easy_setopt(v->curl, CURLOPT_PROTOCOLS_STR, "http,https");
        /* a worker told to stop does not wait for a slow answer */
        curl_easy_setopt(v->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(v->curl, CURLOPT_XFERINFODATA, v);
        curl_easy_setopt(v->curl, CURLOPT_NOPROGRESS, 0L);
        cc = curl_easy_perform(v->curl);
        if (cc == CURLE_ABORTED_BY_CALLBACK) {
            g_string_free(b.buf, TRUE);
            crm_err_set(err, errlen, "stopped while waiting for Voyage");
            st = CRM_VOYAGE_STOPPED;
            break;
        }
        if (cc != CURLE_OK) {
            snprintf(why, sizeof why, "%s", b.too_big ? "response too large"
                                                     : curl_easy_strerror(cc));
            retry = true;
        } else {
            curl_easy_getinfo(v->curl, CURLINFO_RESPONSE_CODE, &code);
            curl_easy_getinfo(v->curl, CURLINFO_RETRY_AFTER, &retry_after);
            if (code == 200) {
                if (parse_response(v, b.buf->str, b.buf->len, n, out, tokens, why, sizeof why) == 0)
                    st = CRM_VOYAGE_OK;
                else
                    retry = malformed = true;
            } else {
                char detail[300];
                error_detail(b.buf, detail, sizeof detail);
                snprintf(why, sizeof why, "HTTP %ld: %s", code, detail);
                if (code == 429 || code >= 500 || code == 408)
                    retry = true;
                else
                    st = code == 401 || code == 403 ? CRM_VOYAGE_AUTH : CRM_VOYAGE_REJECTED;
            }
        }
        g_string_free(b.buf, TRUE);
        if (st == CRM_VOYAGE_OK)
            break;
        crm_err_set(err, errlen, "%s", why);
        if (!retry)
            break;
        if (attempt >= v->max_retries) {
            st = malformed ? CRM_VOYAGE_BAD_ANSWER : CRM_VOYAGE_TRANSIENT;
            crm_err_set(err, errlen, "%s (after %u retries)", why, attempt);
            break;
        }
        {
            /* "equal jitter": uniform in [cap/2, cap], cap doubling per retry, so
             * workers that failed together do not retry together */
            guint64 cap = (guint64)v->backoff_ms << MIN(attempt, 20u);
            unsigned delay;
            if (cap > CRM_VOYAGE_MAX_BACKOFF_MS)
                cap = CRM_VOYAGE_MAX_BACKOFF_MS;
            delay = (unsigned)(cap / 2 + (guint64)g_random_int_range(0, (gint32)(cap / 2 + 1)));
            if (retry_after > 0) {
                /* the server knows better: wait what it says, spread a little */
                delay = (unsigned)MIN(retry_after, (curl_off_t)CRM_VOYAGE_MAX_RETRY_AFTER_S) * 1000
                      + (unsigned)g_random_int_range(0, 250);
            }
            if (v->on_retry != NULL)
                v->on_retry(v->ctx, why, delay);
            if (!nap(v, delay)) {
                st = CRM_VOYAGE_STOPPED;
                break;
            }
        }
    }
    curl_slist_free_all(hdr);
    free(req);
    return st;
}
