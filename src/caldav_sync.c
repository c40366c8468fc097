/*
 * NAME
 *	caldav_sync 3 - keep one CalDAV account's calendars in step with the CRM
 * DESCRIPTION
 *	See caldav_sync.h. One thread per source; it owns its database
 *	connections (the pipeline's, and a control one for the lease, state,
 *	counts and marks while a batch commits), its CalDAV client and its
 *	pipeline. Shaped as imap_sync.c, on purpose: one way to run a source.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>

#include "caldav.h"
#include "caldav_sync.h"
#include "calendar_event.h"
#include "db.h"
#include "log.h"
#include "meeting.h"
#include "pipeline.h"
#include "store.h"

/* resources per calendar-multiget call: bounds the bodies in memory */
#define FETCH_HREFS		50
/* rows per transaction; the cursor goes with the last one */
#define BATCH_ROWS		100
/* how far (seconds) the expansion window may move before every event of
 * a calendar is read again: a day, so series gain their new occurrences
 * daily at the cost of one full read per calendar and day */
#define REEXPAND_S		86400
/* a password file larger than this is not one */
#define MAX_SECRET_BYTES	16384

/* ---- settings ---------------------------------------------------------- */

void crm_caldav_settings_clear(crm_caldav_settings *s)
{
    g_free(s->url);
    g_free(s->user);
    g_free(s->secret_file);
    g_strfreev(s->calendars);
    g_free(s->ca_file);
    memset(s, 0, sizeof *s);
}

static char *dump(json_t *o)
{
    char *out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS), *copy;

    copy = g_strdup(out != NULL ? out : "{}");
    free(out);
    return copy;
}

char *crm_caldav_settings_json(const crm_caldav_settings *s)
{
    json_t *o = json_object(), *c = json_array();
    char *out;

    json_object_set_new(o, "url", json_string(s->url));
    json_object_set_new(o, "user", json_string(s->user));
    json_object_set_new(o, "secret_file", json_string(s->secret_file));
    for (char **p = s->calendars; p != NULL && *p != NULL; p++)
        json_array_append_new(c, json_string(*p));
    json_object_set_new(o, "calendars", c);
    if (s->ca_file != NULL)
        json_object_set_new(o, "ca_file", json_string(s->ca_file));
    out = dump(o);
    json_decref(o);
    return out;
}

static char *json_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v != NULL && *v ? g_strdup(v) : NULL;
}

int crm_caldav_settings_parse(const char *json, crm_caldav_settings *s, char *err,
                              size_t errlen)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je), *c;
    GPtrArray *names = g_ptr_array_new();

    memset(s, 0, sizeof *s);
    if (!json_is_object(o)) {
        json_decref(o);
        g_ptr_array_free(names, TRUE);
        return crm_err_set(err, errlen, "source settings are not a JSON object: %s", je.text);
    }
    s->url = json_str(o, "url");
    s->user = json_str(o, "user");
    s->secret_file = json_str(o, "secret_file");
    s->ca_file = json_str(o, "ca_file");
    c = json_object_get(o, "calendars");
    for (size_t i = 0; i < json_array_size(c); i++) {
        const char *n = json_string_value(json_array_get(c, i));
        if (n != NULL && *n)
            g_ptr_array_add(names, g_strdup(n));
    }
    g_ptr_array_add(names, NULL);
    s->calendars = (char **)g_ptr_array_free(names, FALSE);
    json_decref(o);
    if (s->url == NULL || s->user == NULL || s->secret_file == NULL) {
        crm_caldav_settings_clear(s);
        return crm_err_set(err, errlen, "source settings lack url, user or secret_file");
    }
    return 0;
}

/* ---- one sync ---------------------------------------------------------- */

typedef struct sync_ctx {
    const crm_config *cfg;
    int64_t id;
    const char *holder;
    volatile gint *stop;
    crm_store *store;		/* the pipeline's: rows and cursors */
    crm_store *ctl;		/* ours: lease, state, counts, marks */
    crm_caldav *dav;
    crm_caldav_settings set;
    crm_workspace *ws;
    crm_pipeline *pipe;		/* one per poll: its expansion window is now's */
    crm_cal_limits lim;		/* the pipeline's */
    const char *folder;		/* the calendar URL being synced */
    GPtrArray *failures;	/* "ref\treason" since the last cursor */
    long stored, duplicates, skipped, failed, marked;
    bool db_failed;		/* reconnect the database before going on */
    gint64 lease_renewed;	/* monotonic µs */
    bool lease_lost;
    char err[1024];		/* why the last attempt failed */
} sync_ctx;

static bool stopping(sync_ctx *x)
{
    return g_atomic_int_get(x->stop) != 0 || x->lease_lost;
}

static void on_outcome(void *ctx, const char *ref, crm_outcome outcome, const char *reason)
{
    sync_ctx *x = ctx;

    switch (outcome) {
    case CRM_OUTCOME_INGESTED:
        x->stored++;
        break;
    case CRM_OUTCOME_DUPLICATE:
        x->duplicates++;
        break;
    case CRM_OUTCOME_SKIPPED:
        x->skipped++;
        break;
    case CRM_OUTCOME_FAILED:
        x->failed++;
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s: %s", x->id, ref,
                reason != NULL ? reason : "failed");
        g_ptr_array_add(x->failures, g_strdup_printf("%s\t%s", ref, reason ? reason : "failed"));
        break;
    }
}

/* Renew the lease when a third of it has passed. false: lost (another
 * gateway took it, or the source was removed) or the database failed. */
static bool keep_lease(sync_ctx *x, bool now)
{
    gint64 t = g_get_monotonic_time();
    bool held = false;

    if (x->ctl == NULL)
        return true;
    if (!now && t - x->lease_renewed < (gint64)x->cfg->source_lease * G_USEC_PER_SEC / 3)
        return true;
    if (crm_store_source_lease(x->ctl, x->id, x->holder, (int)x->cfg->source_lease, &held,
                               x->err, sizeof x->err) < 0) {
        x->db_failed = true;
        return false;
    }
    x->lease_renewed = t;
    if (!held) {
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": lease held elsewhere or source "
                "removed; stopping here", x->id);
        x->lease_lost = true;
    }
    return held;
}

/* The failures gathered so far, as crmgate_source_advance() takes them. */
static char *take_failures(sync_ctx *x)
{
    json_t *a = json_array();
    char *out;

    for (guint i = 0; i < x->failures->len; i++) {
        char **f = g_strsplit(g_ptr_array_index(x->failures, i), "\t", 2);
        json_t *o = json_object();
        json_object_set_new(o, "ref", json_string(f[0]));
        json_object_set_new(o, "reason", json_string(f[1] ? f[1] : ""));
        json_array_append_new(a, o);
        g_strfreev(f);
    }
    g_ptr_array_set_size(x->failures, 0);
    out = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    {
        char *copy = g_strdup(out != NULL ? out : "[]");
        free(out);
        return copy;
    }
}

/* Store what the pipeline holds with the calendar's new cursor, in one
 * transaction, and wait for it. Counts and late failures go through
 * the control connection. */
static int advance(sync_ctx *x, const char *state_json, char *err, size_t errlen)
{
    char *failures = take_failures(x);
    crm_source_cursor cur = { x->id, x->folder, state_json, failures };
    int rc = crm_pipeline_flush_at(x->pipe, &cur, err, errlen);

    g_free(failures);
    if (rc < 0) {
        x->db_failed = true;
        return -1;
    }
    /* items the store refused were reported while collecting the batch */
    for (guint i = 0; i < x->failures->len; i++) {
        char **f = g_strsplit(g_ptr_array_index(x->failures, i), "\t", 2);
        char e2[256];
        (void)crm_store_source_failure(x->ctl, x->id, x->folder, f[0], f[1] ? f[1] : "",
                                       e2, sizeof e2);
        g_strfreev(f);
    }
    g_ptr_array_set_size(x->failures, 0);
    if (crm_store_source_count(x->ctl, x->id, x->stored, x->duplicates, x->skipped, x->failed,
                               err, errlen) < 0) {
        x->db_failed = true;
        return -1;
    }
    x->stored = x->duplicates = x->skipped = x->failed = 0;
    return 0;
}

/* A resource's URL: the key of its meetings (metadata.caldav_href) and
 * its name in failures. Percent-encoding is kept as the server wrote it,
 * so that the sync and the removal of one resource give one string. */
static char *resource_url(const char *calendar_url, const char *href)
{
    GError *e = NULL;
    char *u = g_uri_resolve_relative(calendar_url, href, G_URI_FLAGS_ENCODED, &e);

    if (u == NULL) {
        g_clear_error(&e);
        return g_strdup(href);
    }
    return u;
}

/* Meetings of the resource that are not (or no longer) in it: keep is a
 * JSON array of the dedup keys it holds; windowed: only occurrences in
 * the expansion window were looked at. */
static int forget(sync_ctx *x, const char *url, const char *keep, bool windowed,
                  char *err, size_t errlen)
{
    long n = 0;

    if (crm_store_caldav_forget(x->ctl, x->ws->id, url, keep,
                                windowed ? x->lim.window_start : 0,
                                windowed ? x->lim.window_end : 0, &n, err, errlen) < 0) {
        x->db_failed = true;
        return -1;
    }
    if (n > 0)
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": %s: %ld meeting%s no longer in "
                "the calendar, marked cancelled", x->id, url, n, n == 1 ? "" : "s");
    x->marked += n;
    return 0;
}

/* The occurrences an edited resource no longer holds (an EXDATE, a
 * shorter series, another UID) are marked as a removed resource's are.
 * The resource is parsed here a second time, with the pipeline's limits,
 * for its dedup keys; an unreadable one marks nothing (the pipeline
 * reports it). */
static int forget_missing(sync_ctx *x, const char *url, const char *data, size_t len,
                          char *err, size_t errlen)
{
    crm_calendar *cal = NULL;
    char why[256];
    json_t *keys;
    char *keep;
    int rc;

    if (crm_calendar_parse(data, len, &x->lim, &cal, why, sizeof why) != CRM_CAL_OK)
        return 0;
    if (cal->n_dropped > 0) {
        crm_calendar_free(cal);
        return 0;	/* a dropped event's keys are unknown: mark nothing */
    }
    keys = json_array();
    for (size_t i = 0; i < cal->n_events; i++) {
        char *k = crm_meeting_dedup_key(&cal->events[i]);
        json_array_append_new(keys, json_string(k));
        g_free(k);
    }
    keep = dump(keys);
    json_decref(keys);
    crm_calendar_free(cal);
    rc = forget(x, url, keep, true, err, errlen);
    g_free(keep);
    return rc;
}

/* Read the resources (hrefs of calendar_url) and hand them to the
 * pipeline, FETCH_HREFS at a time. */
static int take_resources(sync_ctx *x, const char *calendar_url, char **hrefs, size_t n,
                          char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i += FETCH_HREFS) {
        size_t m = MIN((size_t)FETCH_HREFS, n - i), ni = 0;
        crm_caldav_item *items = NULL;

        if (stopping(x) || !keep_lease(x, false))
            return 0;
        if (crm_caldav_multiget(x->dav, calendar_url, (const char *const *)hrefs + i, m,
                                &items, &ni, err, errlen) < 0)
            return -1;
        for (size_t k = 0; k < ni; k++) {
            char *url = resource_url(calendar_url, items[k].href);
            int rc = 0;

            /* a resource gone since the listing is left out; the next
             * sync reports it removed */
            if (items[k].data != NULL) {
                rc = crm_pipeline_submit_calendar(x->pipe, items[k].data, items[k].len, url,
                                                  (int64_t)time(NULL), err, errlen);
                if (rc < 0)
                    x->db_failed = true;
                else
                    rc = forget_missing(x, url, items[k].data, items[k].len, err, errlen);
            }
            g_free(url);
            if (rc < 0) {
                crm_caldav_items_free(items, ni);
                return -1;
            }
        }
        crm_caldav_items_free(items, ni);
    }
    return 0;
}

static int forget_removed(sync_ctx *x, const char *calendar_url, char *const *hrefs, size_t n,
                          char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        char *url = resource_url(calendar_url, hrefs[i]);
        int rc = forget(x, url, "[]", false, err, errlen);

        g_free(url);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* What one calendar's sync is asked to do. */
typedef struct pass {
    const crm_caldav_calendar *cal;
    json_t *cursor;		/* the stored state, or NULL */
    bool reread;		/* read every resource, changed or not */
    int64_t window_end;		/* to keep in the new state */
} pass;

/* The cursor's JSON: the token or the etags, and how far ahead the
 * calendar's series have been expanded. */
static char *state_json(const pass *ps, json_t *st)
{
    char *out;

    json_object_set_new(st, "window_end", json_integer((json_int_t)ps->window_end));
    out = dump(st);
    json_decref(st);
    return out;
}

/* Every href of the calendar not in seen, appended to hrefs (copies). */
static int add_unchanged(sync_ctx *x, const char *calendar_url, GHashTable *seen,
                         GPtrArray *hrefs, char *err, size_t errlen)
{
    crm_caldav_item *items = NULL;
    size_t n = 0;
    char *ctag = NULL;

    if (crm_caldav_list(x->dav, calendar_url, &ctag, &items, &n, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!g_hash_table_contains(seen, items[i].href))
            g_ptr_array_add(hrefs, g_strdup(items[i].href));
    g_free(ctag);
    crm_caldav_items_free(items, n);
    return 0;
}

/* Sync-collection from the cursor's token. CRM_CALDAV_UNSUPPORTED when
 * the server has none: the caller falls back to etags. */
static int sync_by_token(sync_ctx *x, pass *ps, const char *token, char *err, size_t errlen)
{
    const crm_caldav_calendar *cal = ps->cal;
    crm_caldav_changes ch;
    GPtrArray *hrefs = NULL;
    GHashTable *seen = NULL;
    json_t *st;
    char *state;
    int rc;

    /* the discovery's token is the collection's current one: unchanged,
     * nothing to ask */
    if (!ps->reread && token != NULL && cal->sync_token != NULL &&
        strcmp(token, cal->sync_token) == 0)
        return 0;
    rc = crm_caldav_sync(x->dav, cal->url, token, &ch, err, errlen);
    if (rc != 0)
        return rc;
    if (ch.token_invalid) {
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s: the server forgot the sync "
                "token: syncing the calendar again (stored meetings are recognised, not "
                "doubled)", x->id, cal->url);
        crm_caldav_changes_clear(&ch);
        token = NULL;
        ps->window_end = x->lim.window_end;	/* everything is read again */
        rc = crm_caldav_sync(x->dav, cal->url, NULL, &ch, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (!ps->reread && ch.n_changed == 0 && ch.n_removed == 0 && token != NULL &&
        g_strcmp0(ch.sync_token, token) == 0) {
        crm_caldav_changes_clear(&ch);
        return 0;
    }
    if (ch.n_changed + ch.n_removed > 0)
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": %s: %zu changed, %zu removed",
                x->id, cal->url, ch.n_changed, ch.n_removed);
    rc = -1;
    hrefs = g_ptr_array_new_with_free_func(g_free);
    seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < ch.n_changed; i++) {
        g_ptr_array_add(hrefs, g_strdup(ch.changed[i].href));
        g_hash_table_add(seen, ch.changed[i].href);
    }
    /* a token says what changed, not which series need expanding
     * further: the others are listed and read too */
    if (ps->reread && token != NULL && add_unchanged(x, cal->url, seen, hrefs, err, errlen) < 0)
        goto out;
    if (forget_removed(x, cal->url, ch.removed, ch.n_removed, err, errlen) < 0 ||
        take_resources(x, cal->url, (char **)hrefs->pdata, hrefs->len, err, errlen) < 0)
        goto out;
    if (stopping(x)) {
        rc = 0;		/* not all read: the cursor stays */
        goto out;
    }
    st = json_object();
    json_object_set_new(st, "sync_token", ch.sync_token ? json_string(ch.sync_token) : json_null());
    state = state_json(ps, st);
    rc = advance(x, state, err, errlen);
    g_free(state);
out:
    if (seen != NULL)
        g_hash_table_destroy(seen);
    if (hrefs != NULL)
        g_ptr_array_unref(hrefs);
    crm_caldav_changes_clear(&ch);
    return rc;
}

/* Without sync-collection: the getctag, then every etag compared with
 * the cursor's. */
static int sync_by_etags(sync_ctx *x, pass *ps, char *err, size_t errlen)
{
    const crm_caldav_calendar *cal = ps->cal;
    const char *old_ctag = json_string_value(json_object_get(ps->cursor, "ctag"));
    json_t *old = json_object_get(ps->cursor, "etags"), *now_etags, *st;
    crm_caldav_item *items = NULL;
    size_t n = 0, n_changed = 0, n_removed = 0;
    char *ctag = NULL, *state, **changed, **removed;
    const char *href;
    json_t *v;
    int rc = -1;

    if (crm_caldav_list(x->dav, cal->url, &ctag, &items, &n, err, errlen) < 0)
        return -1;
    if (!ps->reread && ctag != NULL && old_ctag != NULL && strcmp(ctag, old_ctag) == 0) {
        g_free(ctag);
        crm_caldav_items_free(items, n);
        return 0;
    }
    now_etags = json_object();
    changed = g_new0(char *, n + 1);
    removed = g_new0(char *, json_object_size(old) + 1);
    for (size_t i = 0; i < n; i++) {
        const char *was = json_string_value(json_object_get(old, items[i].href));
        json_object_set_new(now_etags, items[i].href,
                            items[i].etag ? json_string(items[i].etag) : json_null());
        if (ps->reread || items[i].etag == NULL || was == NULL || strcmp(was, items[i].etag) != 0)
            changed[n_changed++] = items[i].href;
    }
    json_object_foreach(old, href, v) {
        if (json_object_get(now_etags, href) == NULL)
            removed[n_removed++] = (char *)href;
    }
    if (!ps->reread && json_is_object(ps->cursor) && n_changed == 0 && n_removed == 0 &&
        g_strcmp0(ctag, old_ctag) == 0) {
        rc = 0;		/* nothing changed, no new ctag: nothing to write */
        goto out;
    }
    if (forget_removed(x, cal->url, removed, n_removed, err, errlen) < 0 ||
        take_resources(x, cal->url, changed, n_changed, err, errlen) < 0)
        goto out;
    if (stopping(x)) {
        rc = 0;
        goto out;
    }
    st = json_object();
    json_object_set_new(st, "ctag", ctag ? json_string(ctag) : json_null());
    json_object_set(st, "etags", now_etags);
    state = state_json(ps, st);
    rc = advance(x, state, err, errlen);
    g_free(state);
out:
    g_free(changed);
    g_free(removed);
    json_decref(now_etags);
    g_free(ctag);
    crm_caldav_items_free(items, n);
    return rc;
}

/* A sync reads only what changed, but a series is expanded only up to
 * window_end when read: once the window has moved REEXPAND_S past the
 * cursor's window_end, every resource is read again, so that the
 * occurrences now coming into the window are stored (the others are
 * duplicates). A first sync reads everything anyway. */
static int sync_calendar(sync_ctx *x, const crm_caldav_calendar *cal, char *err, size_t errlen)
{
    char *state = NULL;
    const char *token;
    pass ps = { .cal = cal };
    int rc;

    x->folder = cal->url;
    if (crm_store_source_cursor(x->ctl, x->id, cal->url, &state, err, errlen) < 0) {
        x->db_failed = true;
        return -1;
    }
    ps.cursor = state != NULL ? json_loads(state, 0, NULL) : NULL;
    g_free(state);
    ps.window_end = (int64_t)json_integer_value(json_object_get(ps.cursor, "window_end"));
    if (ps.cursor == NULL || x->lim.window_end - ps.window_end >= REEXPAND_S) {
        ps.reread = ps.cursor != NULL;
        ps.window_end = x->lim.window_end;
    }
    if (ps.reread)
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": %s: reading every event again, "
                "for the occurrences of series now in the window", x->id, cal->url);
    token = json_string_value(json_object_get(ps.cursor, "sync_token"));
    rc = CRM_CALDAV_UNSUPPORTED;
    /* a server announcing sync tokens, or one that gave us one before */
    if (cal->sync_token != NULL || token != NULL)
        rc = sync_by_token(x, &ps, token, err, errlen);
    if (rc == CRM_CALDAV_UNSUPPORTED)
        rc = sync_by_etags(x, &ps, err, errlen);
    json_decref(ps.cursor);
    return rc < 0 ? -1 : 0;
}

/* The last non-empty segment of a URL's path: a calendar's name when it
 * has no display name. */
static char *last_segment(const char *url)
{
    char *copy = g_strdup(url), *slash, *out;
    size_t len = strlen(copy);

    while (len > 0 && copy[len - 1] == '/')
        copy[--len] = '\0';
    slash = strrchr(copy, '/');
    out = g_uri_unescape_string(slash != NULL ? slash + 1 : copy, NULL);
    g_free(copy);
    return out != NULL ? out : g_strdup("");
}

static bool chosen(const crm_caldav_settings *set, const crm_caldav_calendar *cal,
                   const char *name)
{
    char *seg;
    bool yes;

    if (set->calendars == NULL || set->calendars[0] == NULL)
        return name == NULL;
    if (name == NULL)
        return false;
    if (cal->name != NULL && strcmp(cal->name, name) == 0)
        return true;
    seg = last_segment(cal->url);
    yes = strcmp(seg, name) == 0;
    g_free(seg);
    return yes;
}

/* Discover the calendars and sync the chosen ones. A chosen name that
 * the server does not have is an error the admin should see. */
static int sync_all(sync_ctx *x, char *err, size_t errlen)
{
    crm_caldav_calendar *cals = NULL;
    size_t n = 0;
    int rc = 0;

    if (crm_caldav_discover(x->dav, &cals, &n, err, errlen) < 0)
        return -1;
    for (char **c = x->set.calendars; c != NULL && *c != NULL && rc == 0; c++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = chosen(&x->set, &cals[i], *c);
        if (!found)
            rc = crm_err_set(err, errlen, "calendar \"%s\" not found at %s", *c, x->set.url);
    }
    for (size_t i = 0; i < n && rc == 0 && !stopping(x); i++) {
        bool wanted = x->set.calendars[0] == NULL;
        for (char **c = x->set.calendars; *c != NULL && !wanted; c++)
            wanted = chosen(&x->set, &cals[i], *c);
        if (wanted)
            rc = sync_calendar(x, &cals[i], err, errlen);
    }
    crm_caldav_calendars_free(cals, n);
    return rc;
}

static char *read_secret(const char *path, char *err, size_t errlen)
{
    char *data = NULL;
    gsize len = 0;
    GError *e = NULL;

    if (!g_file_get_contents(path, &data, &len, &e)) {
        crm_err_set(err, errlen, "reading the password file: %s", e->message);
        g_error_free(e);
        return NULL;
    }
    if (len > MAX_SECRET_BYTES || memchr(data, '\0', len) != NULL) {
        g_free(data);
        crm_err_set(err, errlen, "password file %s does not hold a password", path);
        return NULL;
    }
    return g_strchomp(data);
}

static int connect_server(sync_ctx *x, char *err, size_t errlen)
{
    char *secret = read_secret(x->set.secret_file, err, errlen);
    crm_caldav_opts o = {
        .url = x->set.url, .user = x->set.user, .password = secret,
        .ca_file = x->set.ca_file, .timeout_s = (long)x->cfg->source_timeout,
    };

    if (secret == NULL)
        return -1;
    x->dav = crm_caldav_new(&o, err, errlen);
    memset(secret, 0, strlen(secret));
    g_free(secret);
    return x->dav != NULL ? 0 : -1;
}

/* Sleep up to secs, waking for stop, renewing the lease. */
static void pause_for(sync_ctx *x, double secs)
{
    gint64 until = g_get_monotonic_time() + (gint64)(secs * G_USEC_PER_SEC);

    while (!stopping(x) && g_get_monotonic_time() < until) {
        g_usleep(200 * 1000);
        if (!x->db_failed && !keep_lease(x, false))
            return;
    }
}

static void record_state(sync_ctx *x, const char *state, const char *error)
{
    char err[512];

    if (x->ctl == NULL || x->db_failed)
        return;
    if (crm_store_source_state(x->ctl, x->id, state, error, err, sizeof err) < 0) {
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s", x->id, err);
        x->db_failed = true;
    }
}

/* Load what a sync needs from the database; 1 when the source is gone. */
static int load_source(sync_ctx *x, char *err, size_t errlen)
{
    GPtrArray *list = NULL;
    crm_source *src = NULL;
    int rc;

    if (crm_store_source_list(x->ctl, "caldav", &list, err, errlen) < 0) {
        x->db_failed = true;
        return -1;
    }
    for (guint i = 0; i < list->len && src == NULL; i++)
        if (((crm_source *)g_ptr_array_index(list, i))->id == x->id)
            src = g_ptr_array_index(list, i);
    if (src == NULL) {
        g_ptr_array_unref(list);
        return 1;
    }
    crm_caldav_settings_clear(&x->set);
    if (crm_caldav_settings_parse(src->settings, &x->set, err, errlen) < 0) {
        g_ptr_array_unref(list);
        return -1;
    }
    g_clear_pointer(&x->ws, crm_workspace_free);
    rc = crm_store_workspace_load(x->ctl, src->workspace, &x->ws, err, errlen);
    g_ptr_array_unref(list);
    if (rc != 0) {
        x->db_failed = rc < 0;
        return -1;
    }
    return 0;
}

static void close_db(sync_ctx *x)
{
    g_clear_pointer(&x->pipe, crm_pipeline_free);
    g_clear_pointer(&x->store, crm_store_close);
    g_clear_pointer(&x->ctl, crm_store_close);
}

static int open_db(sync_ctx *x, char *err, size_t errlen)
{
    PGconn *data = crm_db_connect(x->cfg, 0, err, errlen), *ctl;

    if (data == NULL)
        return -1;
    if ((x->store = crm_store_open(data, err, errlen)) == NULL)
        return -1;
    if ((ctl = crm_db_connect(x->cfg, 0, err, errlen)) == NULL ||
        (x->ctl = crm_store_open(ctl, err, errlen)) == NULL) {
        close_db(x);
        return -1;
    }
    x->db_failed = false;
    return 0;
}

/* A pipeline for one poll: the expansion window is placed around now,
 * and forget_missing() must use the very same one. */
static void new_pipeline(sync_ctx *x)
{
    int64_t now = (int64_t)time(NULL);
    crm_pipeline_opts o = {
        .source = "caldav", .create_accounts = x->cfg->create_accounts,
        .limits = x->cfg->limits, .storage_dir = x->cfg->storage_dir,
        .batch_size = MIN(x->cfg->batch_size, (unsigned)BATCH_ROWS),
    };

    crm_cal_limits_default(&x->lim);
    x->lim.window_start = now - (int64_t)CRM_CAL_DEFAULT_PAST_DAYS * 86400;
    x->lim.window_end = now + (int64_t)CRM_CAL_DEFAULT_FUTURE_DAYS * 86400;
    o.cal_limits = x->lim;
    x->pipe = crm_pipeline_new(x->store, x->ws, &o, on_outcome, x);
}

void crm_caldav_sync_run(const crm_config *cfg, int64_t source_id, const char *holder,
                         volatile gint *stop)
{
    sync_ctx x = { .cfg = cfg, .id = source_id, .holder = holder, .stop = stop };
    unsigned attempt = 0;

    x.failures = g_ptr_array_new_with_free_func(g_free);
    while (!stopping(&x)) {
        int rc;

        if (x.store == NULL && open_db(&x, x.err, sizeof x.err) < 0)
            goto retry;
        if (!keep_lease(&x, true))
            goto retry;
        rc = load_source(&x, x.err, sizeof x.err);
        if (rc == 1)
            break;	/* removed */
        if (rc < 0)
            goto retry;
        if (connect_server(&x, x.err, sizeof x.err) < 0)
            goto retry;
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": CalDAV %s as %s; polling every "
                "%u s", x.id, x.set.url, x.set.user, MAX(cfg->source_poll, 1u));
        while (!stopping(&x)) {
            record_state(&x, "syncing", NULL);
            new_pipeline(&x);
            if (sync_all(&x, x.err, sizeof x.err) < 0)
                goto retry;
            g_clear_pointer(&x.pipe, crm_pipeline_free);
            if (stopping(&x))
                break;
            record_state(&x, "idle", NULL);
            attempt = 0;
            pause_for(&x, (double)MAX(cfg->source_poll, 1u));
        }
        break;
retry:
        if (stopping(&x))
            break;
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s", x.id, x.err);
        record_state(&x, "error", x.err);
        g_clear_pointer(&x.pipe, crm_pipeline_free);
        g_clear_pointer(&x.dav, crm_caldav_free);
        if (x.db_failed)
            close_db(&x);
        {
            /* exponential backoff, full jitter on its upper half */
            double ceiling = MIN((double)cfg->source_backoff_max, (double)(1u << MIN(attempt, 16u)));
            double delay = ceiling / 2 + g_random_double() * ceiling / 2;
            attempt++;
            pause_for(&x, delay);
        }
    }
    g_clear_pointer(&x.pipe, crm_pipeline_free);
    g_clear_pointer(&x.dav, crm_caldav_free);
    if (x.ctl != NULL && !x.lease_lost) {
        char e2[256];
        (void)crm_store_source_release(x.ctl, x.id, holder, e2, sizeof e2);
    }
    close_db(&x);
    g_clear_pointer(&x.ws, crm_workspace_free);
    crm_caldav_settings_clear(&x.set);
    g_ptr_array_unref(x.failures);
}
