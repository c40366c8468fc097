/*
 * NAME
 *	source_sync 3 - what every connected source's sync thread shares
 * DESCRIPTION
 *	See source_sync.h.
 */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <jansson.h>

#include "db.h"
#include "json_util.h"
#include "log.h"
#include "source_sync.h"

/* a password or token file larger than this is not one */
#define MAX_SECRET_BYTES	16384

bool crm_source_stopping(const crm_source_session *s)
{
    return g_atomic_int_get(s->stop) != 0 || s->lease_lost;
}

bool crm_source_keep_lease(crm_source_session *s, bool now)
{
    gint64 t = g_get_monotonic_time();
    bool held = false;

    if (s->ctl == NULL)
        return true;
    if (!now && t - s->lease_renewed < (gint64)s->cfg->source_lease * G_USEC_PER_SEC / 3)
        return true;
    if (crm_store_source_lease(s->ctl, s->id, s->holder, (int)s->cfg->source_lease, &held,
                               s->err, sizeof s->err) < 0) {
        s->db_failed = true;
        return false;
    }
    s->lease_renewed = t;
    if (!held) {
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": lease held elsewhere or source "
                "removed; stopping here", s->id);
        s->lease_lost = true;
    }
    return held;
}

void crm_source_pause(crm_source_session *s, double secs)
{
    gint64 until = g_get_monotonic_time() + (gint64)(secs * G_USEC_PER_SEC);

    while (!crm_source_stopping(s) && g_get_monotonic_time() < until) {
        g_usleep(200 * 1000);
        if (!s->db_failed && !crm_source_keep_lease(s, false))
            return;
    }
}

void crm_source_state(crm_source_session *s, const char *state, const char *error)
{
    char err[512];

    if (s->ctl == NULL || s->db_failed)
        return;
    if (crm_store_source_state(s->ctl, s->id, state, error, err, sizeof err) < 0) {
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s", s->id, err);
        s->db_failed = true;
    }
}

char *crm_source_read_secret(const char *path, char *err, size_t errlen)
{
    char *data = NULL;
    gsize len = 0;
    GError *e = NULL;

    if (!g_file_get_contents(path, &data, &len, &e)) {
        crm_err_set(err, errlen, "reading the secret file: %s", e->message);
        g_error_free(e);
        return NULL;
    }
    if (len > MAX_SECRET_BYTES || memchr(data, '\0', len) != NULL) {
        g_free(data);
        crm_err_set(err, errlen, "secret file %s does not hold a password or token", path);
        return NULL;
    }
    return g_strchomp(data);
}

void crm_source_outcome(void *session, const char *ref, crm_outcome outcome, const char *reason)
{
    crm_source_session *s = session;

    switch (outcome) {
    case CRM_OUTCOME_INGESTED:
        s->stored++;
        break;
    case CRM_OUTCOME_DUPLICATE:
        s->duplicates++;
        break;
    case CRM_OUTCOME_SKIPPED:
        s->skipped++;
        break;
    case CRM_OUTCOME_FAILED:
        s->failed++;
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s: %s", s->id, ref,
                reason != NULL ? reason : "failed");
        g_ptr_array_add(s->failures, g_strdup_printf("%s\t%s", ref, reason ? reason : "failed"));
        break;
    }
}

/* The failures gathered so far, as crmgate_source_advance() takes them. */
static char *take_failures(crm_source_session *s)
{
    json_t *a = json_array();
    char *out;

    for (guint i = 0; i < s->failures->len; i++) {
        char **f = g_strsplit(g_ptr_array_index(s->failures, i), "\t", 2);
        json_t *o = json_object();
        json_object_set_new(o, "ref", json_string(f[0]));
        json_object_set_new(o, "reason", json_string(f[1] ? f[1] : ""));
        json_array_append_new(a, o);
        g_strfreev(f);
    }
    g_ptr_array_set_size(s->failures, 0);
    out = crm_json_dump(a);
    json_decref(a);
    return out;
}

int crm_source_advance(crm_source_session *s, crm_pipeline *p, const char *state_json, bool wait,
                       char *err, size_t errlen)
{
    char *failures = take_failures(s);
    crm_source_cursor cur = { s->id, s->folder, state_json, failures };
    int rc = wait ? crm_pipeline_flush_at(p, &cur, err, errlen)
                  : crm_pipeline_send_at(p, &cur, err, errlen);

    g_free(failures);
    if (rc < 0) {
        s->db_failed = true;
        return -1;
    }
    /* items the store refused were reported while collecting their batch */
    for (guint i = 0; i < s->failures->len; i++) {
        char **f = g_strsplit(g_ptr_array_index(s->failures, i), "\t", 2);
        char e2[256];
        (void)crm_store_source_failure(s->ctl, s->id, s->folder, f[0], f[1] ? f[1] : "",
                                       e2, sizeof e2);
        g_strfreev(f);
    }
    g_ptr_array_set_size(s->failures, 0);
    if (crm_store_source_count(s->ctl, s->id, s->stored, s->duplicates, s->skipped, s->failed,
                               err, errlen) < 0) {
        s->db_failed = true;
        return -1;
    }
    s->stored = s->duplicates = s->skipped = s->failed = 0;
    return 0;
}

static void close_db(crm_source_session *s)
{
    g_clear_pointer(&s->store, crm_store_close);
    g_clear_pointer(&s->ctl, crm_store_close);
}

static int open_db(crm_source_session *s)
{
    PGconn *data = crm_db_connect(s->cfg, 0, s->err, sizeof s->err), *ctl;

    if (data == NULL)
        return -1;
    if ((s->store = crm_store_open(data, s->err, sizeof s->err)) == NULL)
        return -1;
    if ((ctl = crm_db_connect(s->cfg, 0, s->err, sizeof s->err)) == NULL ||
        (s->ctl = crm_store_open(ctl, s->err, sizeof s->err)) == NULL) {
        close_db(s);
        return -1;
    }
    s->db_failed = false;
    return 0;
}

crm_contact_policy crm_source_contact_policy(const char *settings_json)
{
    json_t *o = json_loads(settings_json != NULL ? settings_json : "", 0, NULL);
    crm_contact_policy p = CRM_CONTACTS_SENT_AND_RECEIVED;

    /* an unknown name (a newer crmgate's) creates nobody rather than too many */
    if (json_string_value(json_object_get(o, "contacts")) != NULL &&
        !crm_contact_policy_parse(json_string_value(json_object_get(o, "contacts")), &p))
        p = CRM_CONTACTS_NONE;
    json_decref(o);
    return p;
}

/* The source's settings (*settings, g_free()) and workspace snapshot
 * (s->ws); 1 when the source is gone, -1 on failure. */
static int load(crm_source_session *s, const char *kind, char **settings)
{
    GPtrArray *list = NULL;
    crm_source *src = NULL;
    int rc;

    *settings = NULL;
    if (crm_store_source_list(s->ctl, kind, &list, s->err, sizeof s->err) < 0) {
        s->db_failed = true;
        return -1;
    }
    for (guint i = 0; i < list->len && src == NULL; i++)
        if (((crm_source *)g_ptr_array_index(list, i))->id == s->id)
            src = g_ptr_array_index(list, i);
    if (src == NULL) {
        g_ptr_array_unref(list);
        return 1;
    }
    g_clear_pointer(&s->ws, crm_workspace_free);
    rc = crm_store_workspace_load(s->ctl, src->workspace, &s->ws, s->err, sizeof s->err);
    if (rc == 0) {
        *settings = g_strdup(src->settings);
        s->contacts = crm_source_contact_policy(src->settings);
    }
    g_ptr_array_unref(list);
    if (rc != 0) {
        s->db_failed = rc < 0;
        return -1;
    }
    return 0;
}

void crm_source_run(crm_source_session *s, const crm_source_driver *d, void *ctx)
{
    unsigned attempt = 0;

    s->failures = g_ptr_array_new_with_free_func(g_free);
    while (!crm_source_stopping(s)) {
        char *settings = NULL;
        int rc;

        if (s->store == NULL && open_db(s) < 0)
            goto retry;
        if (!crm_source_keep_lease(s, true))
            goto retry;
        rc = load(s, d->kind, &settings);
        if (rc == 1)
            break;	/* removed */
        if (rc < 0)
            goto retry;
        rc = d->configure(ctx, settings);
        g_free(settings);
        if (rc < 0 || d->connect(ctx) < 0)
            goto retry;
        while (!crm_source_stopping(s)) {
            crm_source_state(s, "syncing", NULL);
            if (d->sync(ctx) < 0)
                goto retry;
            if (crm_source_stopping(s))
                break;
            crm_source_state(s, "idle", NULL);
            attempt = 0;
            if (d->wait(ctx) < 0)
                goto retry;
        }
        break;
retry:
        if (crm_source_stopping(s))
            break;
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s", s->id, s->err);
        crm_source_state(s, "error", s->err);
        d->disconnect(ctx);
        if (s->db_failed)
            close_db(s);
        {
            /* exponential backoff, full jitter on its upper half */
            double ceiling = MIN((double)s->cfg->source_backoff_max,
                                 (double)(1u << MIN(attempt, 16u)));
            attempt++;
            crm_source_pause(s, ceiling / 2 + g_random_double() * ceiling / 2);
        }
    }
    d->disconnect(ctx);
    if (s->ctl != NULL && !s->lease_lost) {
        char e2[256];
        (void)crm_store_source_release(s->ctl, s->id, s->holder, e2, sizeof e2);
    }
    close_db(s);
    g_clear_pointer(&s->ws, crm_workspace_free);
    g_ptr_array_unref(s->failures);
    s->failures = NULL;
}
