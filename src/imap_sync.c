/*
 * NAME
 *	imap_sync 3 - keep one connected mailbox in step with the CRM
 * DESCRIPTION
 *	See imap_sync.h. One thread per source; it owns its database
 *	connection, its IMAP connection and its pipeline.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>

#include "db.h"
#include "imap_sync.h"
#include "json_util.h"
#include "log.h"
#include "pipeline.h"
#include "source_sync.h"
#include "store.h"

/* UIDs per chunk: one cursor advance, one SIZE and (a few) FETCH commands */
#define CHUNK_UIDS		200
/* bytes of mail one FETCH may bring into memory */
#define FETCH_BYTES		(32u * 1024 * 1024)
/* RFC 2177: re-issue IDLE before 29 minutes */
#define IDLE_MAX_S		(25 * 60)

/* ---- settings ---------------------------------------------------------- */

static const char *security_name(crm_imap_security s)
{
    return s == CRM_IMAP_TLS ? "tls" : s == CRM_IMAP_STARTTLS ? "starttls" : "plain";
}

void crm_imap_settings_clear(crm_imap_settings *s)
{
    g_free(s->host);
    g_free(s->user);
    g_free(s->owner);
    g_free(s->secret_file);
    g_strfreev(s->folders);
    g_free(s->ca_file);
    memset(s, 0, sizeof *s);
}

char *crm_imap_settings_json(const crm_imap_settings *s)
{
    json_t *o = json_object(), *f = json_array();
    char *out;

    json_object_set_new(o, "host", json_string(s->host));
    json_object_set_new(o, "port", json_integer(s->port));
    json_object_set_new(o, "security", json_string(security_name(s->security)));
    json_object_set_new(o, "user", json_string(s->user));
    json_object_set_new(o, "owner", json_string(s->owner));
    json_object_set_new(o, "auth", json_string(s->xoauth2 ? "xoauth2" : "password"));
    json_object_set_new(o, "secret_file", json_string(s->secret_file));
    for (char **p = s->folders; p != NULL && *p != NULL; p++)
        json_array_append_new(f, json_string(*p));
    json_object_set_new(o, "folders", f);
    json_object_set_new(o, "since", json_integer(s->since));
    if (s->ca_file != NULL)
        json_object_set_new(o, "ca_file", json_string(s->ca_file));
    out = crm_json_dump(o);
    json_decref(o);
    return out;
}

int crm_imap_settings_parse(const char *json, crm_imap_settings *s, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je), *f;
    const char *sec, *auth;

    memset(s, 0, sizeof *s);
    if (!json_is_object(o)) {
        json_decref(o);
        return crm_err_set(err, errlen, "source settings are not a JSON object: %s", je.text);
    }
    s->host = crm_json_member(o, "host");
    s->user = crm_json_member(o, "user");
    s->owner = crm_json_member(o, "owner");
    s->secret_file = crm_json_member(o, "secret_file");
    s->ca_file = crm_json_member(o, "ca_file");
    s->port = (unsigned)json_integer_value(json_object_get(o, "port"));
    s->since = json_integer_value(json_object_get(o, "since"));
    sec = json_string_value(json_object_get(o, "security"));
    auth = json_string_value(json_object_get(o, "auth"));
    s->security = g_strcmp0(sec, "plain") == 0 ? CRM_IMAP_PLAIN
                : g_strcmp0(sec, "starttls") == 0 ? CRM_IMAP_STARTTLS : CRM_IMAP_TLS;
    s->xoauth2 = g_strcmp0(auth, "xoauth2") == 0;
    f = json_object_get(o, "folders");
    {
        GPtrArray *names = g_ptr_array_new();
        for (size_t i = 0; i < json_array_size(f); i++) {
            const char *n = json_string_value(json_array_get(f, i));
            if (n != NULL && *n)
                g_ptr_array_add(names, g_strdup(n));
        }
        if (names->len == 0)
            g_ptr_array_add(names, g_strdup("INBOX"));
        g_ptr_array_add(names, NULL);
        s->folders = (char **)g_ptr_array_free(names, FALSE);
    }
    json_decref(o);
    if (s->host == NULL || s->user == NULL || s->secret_file == NULL) {
        crm_imap_settings_clear(s);
        return crm_err_set(err, errlen, "source settings lack host, user or secret_file");
    }
    return 0;
}

/* ---- one sync ---------------------------------------------------------- */

typedef struct sync_ctx {
    crm_source_session s;	/* lease, connections, workspace, err */
    crm_imap *imap;
    crm_imap_settings set;
    crm_pipeline *pipe;
    char folder_url[1024];	/* RFC 5092 IMAP URL of the folder, for refs */
} sync_ctx;

/* Store what the pipeline holds with the folder's new cursor. Not
 * final: the commit runs while the next chunk is fetched. */
static int advance(sync_ctx *x, uint32_t uidvalidity, uint32_t last_uid, bool final,
                   char *err, size_t errlen)
{
    char state[96];

    g_snprintf(state, sizeof state, "{\"uidvalidity\": %u, \"last_uid\": %u}", uidvalidity,
               last_uid);
    return crm_source_advance(&x->s, x->pipe, state, final, err, errlen);
}

static void on_message(void *ctx, uint32_t uid, const char *raw, size_t len)
{
    sync_ctx *x = ctx;
    char ref[1200], err[512];

    if (x->s.db_failed)
        return;
    g_snprintf(ref, sizeof ref, "%s;UID=%u", x->folder_url, uid);
    if (crm_pipeline_submit(x->pipe, raw, len, ref, (int64_t)time(NULL), err, sizeof err) < 0) {
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s", x->s.id, err);
        x->s.db_failed = true;
    }
}

/* Fetch one chunk of UIDs: sizes first, so that an oversized message is
 * refused without being read, then the bodies in bounded FETCHes. */
static int fetch_chunk(sync_ctx *x, const uint32_t *uids, size_t n, char *err, size_t errlen)
{
    uint32_t *sizes = g_new(uint32_t, n);
    size_t max = x->s.cfg->limits.max_message_bytes;
    GArray *batch = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    size_t bytes = 0;
    int rc = -1;

    if (crm_imap_sizes(x->imap, uids, n, sizes, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i <= n; i++) {
        if (i < n) {
            char ref[1200], why[128];
            if (sizes[i] == 0)
                continue;	/* expunged since the search */
            if (max > 0 && sizes[i] > max) {
                g_snprintf(ref, sizeof ref, "%s;UID=%u", x->folder_url, uids[i]);
                g_snprintf(why, sizeof why, "message of %u bytes exceeds max_message_size (%zu)",
                           sizes[i], max);
                crm_source_outcome(&x->s, ref, CRM_OUTCOME_FAILED, why);
                continue;
            }
        }
        if (batch->len > 0 && (i == n || bytes + sizes[i] > FETCH_BYTES)) {
            if (crm_imap_fetch(x->imap, (uint32_t *)(void *)batch->data, batch->len, on_message,
                               x, err, errlen) < 0)
                goto out;
            if (x->s.db_failed) {
                crm_err_set(err, errlen, "the database is unreachable");
                goto out;
            }
            g_array_set_size(batch, 0);
            bytes = 0;
        }
        if (i < n) {
            g_array_append_val(batch, uids[i]);
            bytes += sizes[i];
        }
    }
    rc = 0;
out:
    g_array_free(batch, TRUE);
    g_free(sizes);
    return rc;
}

static int parse_cursor(const char *json, uint32_t *uidvalidity, uint32_t *last_uid)
{
    json_t *o = json_loads(json, 0, NULL);

    *uidvalidity = (uint32_t)json_integer_value(json_object_get(o, "uidvalidity"));
    *last_uid = (uint32_t)json_integer_value(json_object_get(o, "last_uid"));
    json_decref(o);
    return *uidvalidity != 0 ? 0 : -1;
}

static int sync_folder(sync_ctx *x, const char *folder, char *err, size_t errlen)
{
    crm_imap_folder info;
    char *state = NULL;
    uint32_t validity = 0, last_uid = 0, top;
    int64_t since = 0;
    GArray *uids = NULL;
    int rc = -1;

    x->s.folder = folder;
    {
        char *user = g_uri_escape_string(x->set.user, NULL, FALSE);
        char *path = g_uri_escape_string(folder, "/", FALSE);
        g_snprintf(x->folder_url, sizeof x->folder_url, "imap://%s@%s:%u/%s", user, x->set.host,
                   x->set.port ? x->set.port : x->set.security == CRM_IMAP_TLS ? 993 : 143, path);
        g_free(user);
        g_free(path);
    }
    if (crm_imap_select(x->imap, folder, &info, err, errlen) < 0)
        return -1;
    if (crm_store_source_cursor(x->s.ctl, x->s.id, folder, &state, err, errlen) < 0) {
        x->s.db_failed = true;
        return -1;
    }
    if (state == NULL || parse_cursor(state, &validity, &last_uid) < 0) {
        since = x->set.since;
        last_uid = 0;
    } else if (validity != info.uidvalidity) {
        crm_log(CRM_LOG_WARN, "source %" G_GINT64_FORMAT ": %s: UIDVALIDITY changed from %u "
                "to %u: syncing it again (stored mail is recognised, not doubled)",
                x->s.id, folder, validity, info.uidvalidity);
        since = x->set.since;
        last_uid = 0;
    } else if (info.uidnext != 0 && info.uidnext <= last_uid + 1) {
        g_free(state);
        return 0;	/* nothing new */
    }
    g_free(state);
    if (crm_imap_uids_after(x->imap, last_uid, since, &uids, err, errlen) < 0)
        return -1;
    if (uids->len > 0)
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": %s: %u new messages", x->s.id, folder,
                uids->len);
    top = last_uid;
    for (guint i = 0; i < uids->len; i += CHUNK_UIDS) {
        size_t n = MIN((guint)CHUNK_UIDS, uids->len - i);
        const uint32_t *chunk = &g_array_index(uids, uint32_t, i);

        if (crm_source_stopping(&x->s) || !crm_source_keep_lease(&x->s, false)) {
            rc = 0;
            goto out;
        }
        if (fetch_chunk(x, chunk, n, err, errlen) < 0)
            goto out;
        top = chunk[n - 1];
        if (advance(x, info.uidvalidity, top, false, err, errlen) < 0)
            goto out;
    }
    /* Mail that the "since" window left out lies below UIDNEXT: later
     * syncs start there, not at the last message taken. */
    if (info.uidnext > 0 && info.uidnext - 1 > top)
        top = info.uidnext - 1;
    if (advance(x, info.uidvalidity, top, true, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    g_array_free(uids, TRUE);
    return rc;
}

static int connect_mailbox(sync_ctx *x, char *err, size_t errlen)
{
    char *secret = crm_source_read_secret(x->set.secret_file, err, errlen);
    crm_imap_account a = {
        x->set.host, (uint16_t)x->set.port, x->set.security, x->set.user, x->set.xoauth2,
        secret, x->set.ca_file, (int)x->s.cfg->source_timeout,
        /* a body may be max_message_size; a bit more for the response */
        x->s.cfg->limits.max_message_bytes > 0 ? x->s.cfg->limits.max_message_bytes + 65536 : 0
    };

    if (secret == NULL)
        return -1;
    x->imap = crm_imap_connect(&a, err, errlen);
    memset(secret, 0, strlen(secret));
    g_free(secret);
    return x->imap != NULL ? 0 : -1;
}

/* Wait for new mail: IDLE on the first folder, else sleep. Returns 0
 * when it is time to sync again, -1 on a connection error. */
static int wait_for_mail(sync_ctx *x, char *err, size_t errlen)
{
    crm_imap_folder info;
    gint64 start = g_get_monotonic_time();
    gint64 poll_us = (gint64)MAX(x->s.cfg->source_poll, 1u) * G_USEC_PER_SEC;
    bool others = x->set.folders[0] != NULL && x->set.folders[1] != NULL;
    int r = 0;

    if (!crm_imap_has_idle(x->imap)) {
        crm_source_pause(&x->s, (double)MAX(x->s.cfg->source_poll, 1u));
        return 0;
    }
    if (crm_imap_select(x->imap, x->set.folders[0], &info, err, errlen) < 0 ||
        crm_imap_idle_start(x->imap, err, errlen) < 0)
        return -1;
    while (!crm_source_stopping(&x->s)) {
        gint64 waited = g_get_monotonic_time() - start;
        if (waited >= (gint64)IDLE_MAX_S * G_USEC_PER_SEC || (others && waited >= poll_us))
            break;
        r = crm_imap_idle_wait(x->imap, 1000, err, errlen);
        if (r != 0)
            break;
        if (!crm_source_keep_lease(&x->s, false))
            break;
    }
    if (r < 0)
        return -1;
    return crm_imap_idle_done(x->imap, err, errlen);
}

/* ---- the driver crm_source_run() calls ---------------------------------- */

static int imap_configure(void *ctx, const char *settings)
{
    sync_ctx *x = ctx;

    crm_imap_settings_clear(&x->set);
    return crm_imap_settings_parse(settings, &x->set, x->s.err, sizeof x->s.err);
}

static int imap_connect(void *ctx)
{
    sync_ctx *x = ctx;
    const crm_config *cfg = x->s.cfg;
    crm_pipeline_opts o = {
        .source = "imap", .create_accounts = cfg->create_accounts,
        .limits = cfg->limits, .storage_dir = cfg->storage_dir,
        .batch_size = MIN(cfg->batch_size, (unsigned)CHUNK_UIDS),
        .contacts = x->s.contacts,
    };

    if (connect_mailbox(x, x->s.err, sizeof x->s.err) < 0)
        return -1;
    if (crm_imap_has_idle(x->imap))
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": connected to %s as %s; "
                "waiting in IDLE", x->s.id, x->set.host, x->set.user);
    else
        crm_log(CRM_LOG_INFO, "source %" G_GINT64_FORMAT ": connected to %s as %s; "
                "no IDLE: polling every %u s", x->s.id, x->set.host, x->set.user, cfg->source_poll);
    x->pipe = crm_pipeline_new(x->s.store, x->s.ws, &o, crm_source_outcome, &x->s);
    return 0;
}

static int imap_sync(void *ctx)
{
    sync_ctx *x = ctx;

    for (char **f = x->set.folders; *f != NULL && !crm_source_stopping(&x->s); f++)
        if (sync_folder(x, *f, x->s.err, sizeof x->s.err) < 0)
            return -1;
    return 0;
}

static int imap_wait(void *ctx)
{
    sync_ctx *x = ctx;

    return wait_for_mail(x, x->s.err, sizeof x->s.err);
}

static void imap_disconnect(void *ctx)
{
    sync_ctx *x = ctx;

    g_clear_pointer(&x->pipe, crm_pipeline_free);
    g_clear_pointer(&x->imap, crm_imap_close);
}

void crm_imap_sync_run(const crm_config *cfg, int64_t source_id, const char *holder,
                       volatile gint *stop)
{
    static const crm_source_driver driver = {
        "imap", imap_configure, imap_connect, imap_sync, imap_wait, imap_disconnect
    };
    sync_ctx x = { .s = { .cfg = cfg, .id = source_id, .holder = holder, .stop = stop } };

    crm_source_run(&x.s, &driver, &x);
    crm_imap_settings_clear(&x.set);
}
