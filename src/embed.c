/*
 * NAME
 *	embed 3 - the embedding worker
 * DESCRIPTION
 *	See embed.h. Each thread has its own database connection
 *	(embed_store.h) and its own Voyage client (voyage.h); threads share
 *	nothing but the stop flag, so they coordinate only through the
 *	queue's row locks, exactly as workers in other processes do.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "db.h"
#include "embed.h"
#include "embed_store.h"
#include "log.h"
#include "voyage.h"

typedef struct settings {
    char *conninfo, *api_key, *base_url, *model;
    unsigned dimension, batch, lease, max_attempts, max_retries, backoff_ms, timeout, poll;
    bool once;
} settings;

typedef struct thread_ctx thread_ctx;

struct crm_embed_worker {
    int stop;			/* atomic */
    int alive;			/* atomic: threads still running */
    settings s;
    unsigned n;
    thread_ctx **threads;
};

struct thread_ctx {
    crm_embed_worker *w;
    crm_embed_store *es;	/* the connection of the request in flight */
    const long long *ids;	/* its jobs, whose lease retries extend */
    size_t n_ids;
    GThread *thread;
    char id[160];		/* claimed_by */
    crm_embed_stats stats;
    bool failed;
    char err[1024];
};

typedef enum { GROUP_OK, GROUP_AUTH, GROUP_DB, GROUP_STOPPED, GROUP_UNAVAILABLE } group_rc;

/* One text on its way to Voyage. */
typedef struct item {
    long long id;
    const char *text;
    char *note;			/* e.g. truncation; kept in last_error */
} item;

int crm_embed_api_key(const crm_config *cfg, char **key, char *err, size_t errlen)
{
    const char *env = getenv("VOYAGE_API_KEY");

    *key = NULL;
    if (cfg->voyage_api_key_file != NULL) {
        GError *e = NULL;
        char *text = NULL, *nl;

        if (!g_file_get_contents(cfg->voyage_api_key_file, &text, NULL, &e)) {
            crm_err_set(err, errlen, "voyage_api_key_file: %s", e->message);
            g_error_free(e);
            return -1;
        }
        if ((nl = strchr(text, '\n')) != NULL)
            *nl = '\0';
        g_strstrip(text);
        if (*text == '\0') {
            g_free(text);
            return crm_err_set(err, errlen, "voyage_api_key_file %s is empty",
                               cfg->voyage_api_key_file);
        }
        *key = text;
        return 0;
    }
    if (env != NULL && *env) {
        *key = g_strdup(env);
        return 0;
    }
    return crm_err_set(err, errlen, "no Voyage API key: set VOYAGE_API_KEY or voyage_api_key_file");
}

int crm_embed_check(const crm_config *cfg, char **conninfo, char *err, size_t errlen)
{
    PGconn *conn = crm_db_connect(cfg, 0, err, errlen);
    crm_embed_store *es;
    int rc;

    *conninfo = NULL;
    if (conn == NULL)
        return -1;
    *conninfo = crm_db_conninfo(cfg, err, errlen);
    es = crm_embed_store_open(conn, err, errlen);
    if (es == NULL || *conninfo == NULL) {
        crm_embed_store_close(es);
        g_clear_pointer(conninfo, g_free);
        return -1;
    }
    rc = crm_embed_store_check_dimension(es, "interactions", "embedding", cfg->embedding_dimension,
                                         err, errlen);
    crm_embed_store_close(es);
    if (rc != 0)
        g_clear_pointer(conninfo, g_free);
    return rc;
}

static bool stopping(const crm_embed_worker *w)
{
    return g_atomic_int_get(&w->stop) != 0;
}

static void nap(const crm_embed_worker *w, unsigned seconds)
{
    for (unsigned i = 0; i < seconds * 10 && !stopping(w); i++)
        g_usleep(100000);
}

/* Before each wait to retry: log, and keep the jobs' lease ahead of the
 * retries, so that a slow Voyage does not hand them to another worker. */
static void on_retry(void *p, const char *why, unsigned delay_ms)
{
    thread_ctx *t = p;
    char err[1024];

    crm_log(CRM_LOG_WARN, "embed: worker %s: Voyage: %s; retrying in %u ms", t->id, why, delay_ms);
    if (t->es != NULL && t->n_ids > 0 &&
        crm_embed_store_extend(t->es, t->id, t->ids, t->n_ids,
                               t->w->s.lease + delay_ms / 1000 + t->w->s.timeout, err, sizeof err) < 0)
        crm_log(CRM_LOG_WARN, "embed: worker %s: %s", t->id, err);
}

static void release(thread_ctx *t, crm_embed_store *es, const item *items, size_t n,
                    const char *reason, bool final, bool refund)
{
    long long *ids = g_new(long long, n);
    char err[1024];

    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].id;
    /* the lease runs out anyway if this fails: the jobs are not lost */
    if (crm_embed_store_release(es, t->id, ids, n, reason, final, refund, err, sizeof err) < 0)
        crm_log(CRM_LOG_WARN, "embed: worker %s: %s", t->id, err);
    g_free(ids);
}

/* Embed items[0..n) in one request and write the vectors. */
static group_rc embed_group(thread_ctx *t, crm_embed_store *es, crm_voyage *v,
                            const item *items, size_t n)
{
    const settings *s = &t->w->s;
    const char **texts = g_new(const char *, n);
    float *vecs = g_new(float, n * s->dimension);
    char err[1024];
    group_rc rc = GROUP_OK;
    crm_voyage_status st;

    long long *held = g_new(long long, n);

    for (size_t i = 0; i < n; i++) {
        texts[i] = items[i].text;
        held[i] = items[i].id;
    }
    /* a later request of the batch waited for the earlier ones: renew */
    if (crm_embed_store_extend(es, t->id, held, n, s->lease, err, sizeof err) < 0)
        crm_log(CRM_LOG_WARN, "embed: worker %s: %s", t->id, err);
    t->es = es;
    t->ids = held;
    t->n_ids = n;
    st = crm_voyage_embed(v, texts, n, "document", vecs, NULL, err, sizeof err);
    t->es = NULL;
    t->ids = NULL;
    t->n_ids = 0;
    g_free(held);
    g_free(texts);
    switch (st) {
    case CRM_VOYAGE_OK: {
        long long *ids = g_new(long long, n);
        char **vt = g_new(char *, n), **notes = g_new(char *, n);
        int done = 0;

        t->stats.requests++;
        for (size_t i = 0; i < n; i++) {
            ids[i] = items[i].id;
            vt[i] = crm_embed_vector_text(vecs + i * s->dimension, s->dimension);
            notes[i] = items[i].note;
        }
        if (crm_embed_store_finish(es, t->id, ids, vt, notes, n, &done, err, sizeof err) < 0) {
            crm_log(CRM_LOG_WARN, "embed: worker %s: %s", t->id, err);
            rc = GROUP_DB;
        } else {
            t->stats.embedded += done;
            if ((size_t)done < n)
                crm_log(CRM_LOG_INFO, "embed: worker %s: %zu of %zu jobs were taken over or "
                        "re-queued meanwhile; their vectors were not written", t->id,
                        n - (size_t)done, n);
        }
        for (size_t i = 0; i < n; i++)
            g_free(vt[i]);
        g_free(vt);
        g_free(notes);
        g_free(ids);
        break;
    }
    case CRM_VOYAGE_TRANSIENT:
        /* Voyage is unavailable: not the texts' fault, no attempt used */
        crm_log(CRM_LOG_WARN, "embed: worker %s: Voyage is unavailable, %zu jobs back to the "
                "queue: %s", t->id, n, err);
        release(t, es, items, n, err, false, true);
        t->stats.retried += (long)n;
        g_strlcpy(t->err, err, sizeof t->err);
        rc = GROUP_UNAVAILABLE;
        break;
    case CRM_VOYAGE_BAD_ANSWER:
        /* maybe these texts: the attempt counts, so it ends */
        crm_log(CRM_LOG_WARN, "embed: worker %s: %zu jobs back to the queue: %s", t->id, n, err);
        release(t, es, items, n, err, false, false);
        t->stats.retried += (long)n;
        break;
    case CRM_VOYAGE_STOPPED:
        release(t, es, items, n, "the worker stopped", false, true);
        rc = GROUP_STOPPED;
        break;
    case CRM_VOYAGE_AUTH:
        crm_log(CRM_LOG_ERROR, "embed: worker %s: the Voyage API key is refused: %s", t->id, err);
        release(t, es, items, n, err, false, true);
        g_strlcpy(t->err, err, sizeof t->err);
        rc = GROUP_AUTH;
        break;
    case CRM_VOYAGE_REJECTED:
        if (n > 1) {
            /* find the text Voyage refuses; embed its neighbours */
            rc = embed_group(t, es, v, items, n / 2);
            if (rc == GROUP_OK)
                rc = embed_group(t, es, v, items + n / 2, n - n / 2);
            else
                release(t, es, items + n / 2, n - n / 2, "not sent: the worker stopped, or Voyage "
                        "is unavailable", false, true);
            break;
        }
        crm_log(CRM_LOG_WARN, "embed: worker %s: job %lld failed: %s", t->id, items[0].id, err);
        release(t, es, items, 1, err, true, false);
        t->stats.failed++;
        break;
    }
    g_free(vecs);
    return rc;
}

/* Embed a claimed batch: cut it into requests within Voyage's limits. */
static group_rc process(thread_ctx *t, crm_embed_store *es, crm_voyage *v, GPtrArray *jobs)
{
    const settings *s = &t->w->s;
    item *items = g_new0(item, jobs->len), *gone = g_new0(item, jobs->len),
         *spent = g_new0(item, jobs->len);
    size_t n = 0, n_gone = 0, n_spent = 0, start = 0, tokens = 0;
    char **owned = g_new0(char *, jobs->len);
    group_rc rc = GROUP_OK;
    char err[1024];

    for (guint i = 0; i < jobs->len; i++) {
        crm_embed_job *j = g_ptr_array_index(jobs, i);
        size_t len;

        if ((unsigned)j->attempts > s->max_attempts) {
            spent[n_spent++].id = j->id;
            continue;
        }
        if (j->text == NULL || *j->text == '\0') {
            gone[n_gone].id = j->id;
            gone[n_gone++].note = j->text == NULL
                ? g_strdup("nothing embedded: the target row is gone")
                : g_strdup("nothing embedded: the text is empty");
            continue;
        }
        items[n].id = j->id;
        items[n].text = j->text;
        len = strlen(j->text);
        if (len > CRM_EMBED_MAX_TEXT_BYTES) {
            size_t cut = crm_voyage_utf8_prefix(j->text, len, CRM_EMBED_MAX_TEXT_BYTES);
            owned[i] = g_strndup(j->text, cut);
            items[n].text = owned[i];
            items[n].note = g_strdup_printf("truncated: %zu of %zu bytes embedded (model context "
                                            "%d tokens)", cut, len, CRM_VOYAGE_CONTEXT_TOKENS);
            crm_log(CRM_LOG_INFO, "embed: job %lld (%s %s): text of %zu bytes truncated to %zu",
                    j->id, j->target_table, j->target_id, len, cut);
            t->stats.truncated++;
        }
        n++;
    }
    if (n_spent > 0) {
        char reason[128];
        snprintf(reason, sizeof reason, "gave up after %u attempts", s->max_attempts);
        crm_log(CRM_LOG_WARN, "embed: worker %s: %zu jobs %s", t->id, n_spent, reason);
        release(t, es, spent, n_spent, reason, true, false);
        t->stats.failed += (long)n_spent;
    }
    if (n_gone > 0) {
        long long *ids = g_new(long long, n_gone);
        char **notes = g_new(char *, n_gone);
        int done = 0;
        for (size_t i = 0; i < n_gone; i++) {
            ids[i] = gone[i].id;
            notes[i] = gone[i].note;
        }
        if (crm_embed_store_finish(es, t->id, ids, NULL, notes, n_gone, &done, err, sizeof err) < 0) {
            crm_log(CRM_LOG_WARN, "embed: worker %s: %s", t->id, err);
            rc = GROUP_DB;
        }
        t->stats.empty += done;
        g_free(ids);
        g_free(notes);
    }

    /* requests: consecutive texts within the count and token budgets */
    for (size_t i = 0; i < n && rc == GROUP_OK; i++) {
        size_t est = crm_voyage_estimate_tokens(strlen(items[i].text));
        if (i > start && (i - start >= CRM_VOYAGE_MAX_TEXTS ||
                          tokens + est > CRM_EMBED_REQUEST_TOKENS)) {
            rc = embed_group(t, es, v, items + start, i - start);
            start = i;
            tokens = 0;
        }
        tokens += est;
    }
    if (rc == GROUP_OK && start < n)
        rc = embed_group(t, es, v, items + start, n - start);
    else if (rc != GROUP_OK && rc != GROUP_DB && start < n)
        release(t, es, items + start, n - start, "not sent: the worker stopped, or Voyage is "
                "unavailable", false, true);
    /* after GROUP_DB the connection is unusable: the leases free the jobs */

    for (size_t i = 0; i < n; i++)
        g_free(items[i].note);
    for (size_t i = 0; i < n_gone; i++)
        g_free(gone[i].note);
    for (guint i = 0; i < jobs->len; i++)
        g_free(owned[i]);
    g_free(owned);
    g_free(items);
    g_free(gone);
    g_free(spent);
    return rc;
}

static void fail(thread_ctx *t, const char *why)
{
    t->failed = true;
    g_strlcpy(t->err, why, sizeof t->err);
}

static gpointer thread_main(gpointer p)
{
    thread_ctx *t = p;
    crm_embed_worker *w = t->w;
    const settings *s = &w->s;
    crm_voyage_opts o = {
        s->base_url, s->api_key, s->model, s->dimension, s->timeout, s->max_retries,
        s->backoff_ms, &w->stop, on_retry, t
    };
    crm_voyage *v = crm_voyage_new(&o);
    crm_embed_store *es = NULL;
    char err[1024];
    unsigned outage_pause = 0;	/* grows while Voyage stays unavailable */

    crm_log(CRM_LOG_DEBUG, "embed: worker %s started", t->id);
    while (!stopping(w)) {
        GPtrArray *jobs = NULL;
        group_rc rc;

        if (es == NULL && (es = crm_embed_store_connect(s->conninfo, err, sizeof err)) == NULL) {
            if (s->once) {
                fail(t, err);
                break;
            }
            crm_log(CRM_LOG_WARN, "embed: worker %s: %s", t->id, err);
            nap(w, CRM_EMBED_DB_PAUSE_S);
            continue;
        }
        if (crm_embed_store_claim(es, t->id, s->batch, s->lease, &jobs, err, sizeof err) < 0) {
            g_clear_pointer(&es, crm_embed_store_close);
            if (s->once) {
                fail(t, err);
                break;
            }
            crm_log(CRM_LOG_WARN, "embed: worker %s: %s", t->id, err);
            nap(w, CRM_EMBED_DB_PAUSE_S);
            continue;
        }
        if (jobs->len == 0) {
            g_ptr_array_unref(jobs);
            if (s->once)
                break;
            nap(w, s->poll);
            continue;
        }
        rc = process(t, es, v, jobs);
        g_ptr_array_unref(jobs);
        if (rc == GROUP_DB) {
            g_clear_pointer(&es, crm_embed_store_close);
            if (s->once) {
                fail(t, "the database failed while writing embeddings");
                break;
            }
            nap(w, CRM_EMBED_DB_PAUSE_S);
        } else if (rc == GROUP_AUTH) {
            char why[1100];
            snprintf(why, sizeof why, "the Voyage API key is refused: %s", t->err);
            if (s->once) {
                fail(t, why);
                break;
            }
            nap(w, CRM_EMBED_AUTH_PAUSE_S);
        } else if (rc == GROUP_UNAVAILABLE) {
            char why[1100];
            snprintf(why, sizeof why, "Voyage is unavailable: %s", t->err);
            if (s->once) {
                fail(t, why);
                break;
            }
            outage_pause = MIN(MAX(outage_pause * 2, s->poll), CRM_EMBED_OUTAGE_PAUSE_S);
            crm_log(CRM_LOG_WARN, "embed: worker %s: %s; next try in %u s", t->id, why, outage_pause);
            nap(w, outage_pause);
        } else if (rc == GROUP_OK) {
            outage_pause = 0;
        }
    }
    crm_embed_store_close(es);
    crm_voyage_free(v);
    crm_log(CRM_LOG_DEBUG, "embed: worker %s ended", t->id);
    g_atomic_int_add(&w->alive, -1);
    return NULL;
}

static void settings_clear(settings *s)
{
    g_free(s->conninfo);
    if (s->api_key != NULL)
        memset(s->api_key, 0, strlen(s->api_key));
    g_free(s->api_key);
    g_free(s->base_url);
    g_free(s->model);
}

crm_embed_worker *crm_embed_worker_start(const crm_config *cfg, bool once, bool *usage,
                                         char *err, size_t errlen)
{
    crm_embed_worker *w;
    char *key = NULL, *conninfo = NULL;
    int rc;
    guint32 tag = g_random_int();

    if (usage != NULL)
        *usage = true;
    if (crm_embed_api_key(cfg, &key, err, errlen) < 0)
        return NULL;
    rc = crm_embed_check(cfg, &conninfo, err, errlen);
    if (rc != 0) {
        if (usage != NULL)
            *usage = rc > 0;
        if (rc > 0) {
            char sub[512];
            g_strlcpy(sub, err, sizeof sub);
            crm_err_set(err, errlen, "refusing to embed: %s (the vectors would not fit)", sub);
        }
        g_free(key);
        return NULL;
    }
    w = g_new0(crm_embed_worker, 1);
    w->s = (settings){
        conninfo, key, g_strdup(cfg->voyage_base_url),
        g_strdup(cfg->embedding_model != NULL ? cfg->embedding_model : "voyage-3-large"),
        cfg->embedding_dimension, MIN(cfg->embed_batch_size, 10000u), cfg->embed_lease,
        cfg->embed_max_attempts, cfg->embed_max_retries, cfg->embed_backoff_ms,
        cfg->embed_timeout, cfg->embed_poll, once
    };
    w->n = cfg->embed_workers;
    w->threads = g_new0(thread_ctx *, w->n);
    g_atomic_int_set(&w->alive, (int)w->n);
    for (unsigned i = 0; i < w->n; i++) {
        thread_ctx *t = g_new0(thread_ctx, 1);
        t->w = w;
        snprintf(t->id, sizeof t->id, "%s:%d:%08x:%u", g_get_host_name(), (int)getpid(), tag, i);
        w->threads[i] = t;
        t->thread = g_thread_new("embed", thread_main, t);
    }
    return w;
}

bool crm_embed_worker_done(crm_embed_worker *w)
{
    return g_atomic_int_get(&w->alive) == 0;
}

int crm_embed_worker_stop(crm_embed_worker *w, crm_embed_stats *stats, char *err, size_t errlen)
{
    int rc = 0;

    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (w == NULL)
        return 0;
    g_atomic_int_set(&w->stop, 1);
    for (unsigned i = 0; i < w->n; i++) {
        thread_ctx *t = w->threads[i];
        g_thread_join(t->thread);
        if (stats != NULL) {
            stats->embedded += t->stats.embedded;
            stats->failed += t->stats.failed;
            stats->retried += t->stats.retried;
            stats->truncated += t->stats.truncated;
            stats->empty += t->stats.empty;
            stats->requests += t->stats.requests;
        }
        if (t->failed && rc == 0) {
            crm_err_set(err, errlen, "%s", t->err);
            rc = -1;
        }
        g_free(t);
    }
    g_free(w->threads);
    settings_clear(&w->s);
    g_free(w);
    return rc;
}
