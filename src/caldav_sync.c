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
#include "json_util.h"
#include "log.h"
#include "meeting.h"
#include "pipeline.h"
#include "source_sync.h"
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

/* ---- settings ---------------------------------------------------------- */

void crm_caldav_settings_clear(crm_caldav_settings *s)
{
    g_free(s->url);
    g_free(s->user);
    g_free(s->secret_file);
    g_strfreev(s->calendars);
    g_free(s->ca_file);
    g_free(s->owner);
    memset(s, 0, sizeof *s);
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
    if (s->owner != NULL)
        json_object_set_new(o, "owner", json_string(s->owner));
    out = crm_json_dump(o);
    json_decref(o);
    return out;
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
    s->url = crm_json_member(o, "url");
    s->user = crm_json_member(o, "user");
    s->secret_file = crm_json_member(o, "secret_file");
    s->ca_file = crm_json_member(o, "ca_file");
    s->owner = crm_json_member(o, "owner");
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
    crm_source_session s;	/* lease, connections, workspace, err */
    crm_caldav *dav;
    crm_caldav_settings set;
    crm_pipeline *pipe;		/* one per poll: its expansion window is now's */
    crm_cal_limits lim;		/* the pipeline's */
    long marked;		/* meetings marked cancelled */
} sync_ctx;

/* Store what the pipeline holds with the calendar's new cursor, in one
 * transaction, and wait for it. */
static int advance(sync_ctx *x, const char *state_json, char *err, size_t errlen)
{
    return crm_source_advance(&x->s, x->pipe, state_json, true, err, errlen);
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

    if (crm_store_caldav_forget(x->s.ctl, x->s.ws->id, url, keep,
                                windowed ? x->lim.window_start : 0,
                                windowed ? x->lim.window_end : 0, &n, err, errlen) < 0) {
        x->s.db_failed = true;
        return -1;
    }
    if (n > 0)
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": %s: %ld meeting%s no longer in "
                "the calendar, marked cancelled", x->s.id, url, n, n == 1 ? "" : "s");
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
    keep = crm_json_dump(keys);
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

        if (crm_source_stopping(&x->s) || !crm_source_keep_lease(&x->s, false))
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
                    x->s.db_failed = true;
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
    out = crm_json_dump(st);
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
                "doubled)", x->s.id, cal->url);
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
                x->s.id, cal->url, ch.n_changed, ch.n_removed);
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
    if (crm_source_stopping(&x->s)) {
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
    if (crm_source_stopping(&x->s)) {
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

    x->s.folder = cal->url;
    if (crm_store_source_cursor(x->s.ctl, x->s.id, cal->url, &state, err, errlen) < 0) {
        x->s.db_failed = true;
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
                "for the occurrences of series now in the window", x->s.id, cal->url);
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
    for (size_t i = 0; i < n && rc == 0 && !crm_source_stopping(&x->s); i++) {
        bool wanted = x->set.calendars[0] == NULL;
        for (char **c = x->set.calendars; *c != NULL && !wanted; c++)
            wanted = chosen(&x->set, &cals[i], *c);
        if (wanted)
            rc = sync_calendar(x, &cals[i], err, errlen);
    }
    crm_caldav_calendars_free(cals, n);
    return rc;
}

static int connect_server(sync_ctx *x, char *err, size_t errlen)
{
    char *secret = crm_source_read_secret(x->set.secret_file, err, errlen);
    crm_caldav_opts o = {
        .url = x->set.url, .user = x->set.user, .password = secret,
        .ca_file = x->set.ca_file, .timeout_s = (long)x->s.cfg->source_timeout,
    };

    if (secret == NULL)
        return -1;
    x->dav = crm_caldav_new(&o, err, errlen);
    memset(secret, 0, strlen(secret));
    g_free(secret);
    return x->dav != NULL ? 0 : -1;
}

/* A pipeline for one poll: the expansion window is placed around now,
 * and forget_missing() must use the very same one. */
static void new_pipeline(sync_ctx *x)
{
    int64_t now = (int64_t)time(NULL);
    crm_pipeline_opts o = {
        .source = "caldav", .create_accounts = x->s.cfg->create_accounts,
        .limits = x->s.cfg->limits, .storage_dir = x->s.cfg->storage_dir,
        .batch_size = MIN(x->s.cfg->batch_size, (unsigned)BATCH_ROWS),
        .contacts = x->s.contacts,
    };

    crm_cal_limits_default(&x->lim);
    x->lim.window_start = now - (int64_t)CRM_CAL_DEFAULT_PAST_DAYS * 86400;
    x->lim.window_end = now + (int64_t)CRM_CAL_DEFAULT_FUTURE_DAYS * 86400;
    o.cal_limits = x->lim;
    /* the owner is a participant of every meeting of their calendars,
     * and their PARTSTAT in them is their own answer (meeting.h) */
    o.calendar_owner = x->set.owner != NULL ? x->set.owner
                     : strchr(x->set.user, '@') != NULL ? x->set.user : NULL;
    x->pipe = crm_pipeline_new(x->s.store, x->s.ws, &o, crm_source_outcome, &x->s);
}

/* ---- the driver crm_source_run() calls ---------------------------------- */

static int dav_configure(void *ctx, const char *settings)
{
    sync_ctx *x = ctx;

    crm_caldav_settings_clear(&x->set);
    return crm_caldav_settings_parse(settings, &x->set, x->s.err, sizeof x->s.err);
}

static int dav_connect(void *ctx)
{
    sync_ctx *x = ctx;

    if (connect_server(x, x->s.err, sizeof x->s.err) < 0)
        return -1;
    crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": CalDAV %s as %s; polling every "
            "%u s", x->s.id, x->set.url, x->set.user, MAX(x->s.cfg->source_poll, 1u));
    return 0;
}

static int dav_sync(void *ctx)
{
    sync_ctx *x = ctx;
    int rc;

    new_pipeline(x);
    rc = sync_all(x, x->s.err, sizeof x->s.err);
    g_clear_pointer(&x->pipe, crm_pipeline_free);
    return rc < 0 ? -1 : 0;
}

static int dav_wait(void *ctx)
{
    sync_ctx *x = ctx;

    crm_source_pause(&x->s, (double)MAX(x->s.cfg->source_poll, 1u));
    return 0;
}

static void dav_disconnect(void *ctx)
{
    sync_ctx *x = ctx;

    g_clear_pointer(&x->pipe, crm_pipeline_free);
    g_clear_pointer(&x->dav, crm_caldav_free);
}

void crm_caldav_sync_run(const crm_config *cfg, int64_t source_id, const char *holder,
                         volatile gint *stop)
{
    static const crm_source_driver driver = {
        "caldav", dav_configure, dav_connect, dav_sync, dav_wait, dav_disconnect
    };
    sync_ctx x = { .s = { .cfg = cfg, .id = source_id, .holder = holder, .stop = stop } };

    crm_source_run(&x.s, &driver, &x);
    crm_caldav_settings_clear(&x.set);
}
