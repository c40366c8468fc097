/*
 * NAME
 *	committer 3 - group commit for the mail listeners
 * DESCRIPTION
 *	See committer.h.
 */
#include <string.h>
#include <time.h>
#include <glib.h>

#include "blobstore.h"
#include "committer.h"
#include "db.h"
#include "dropbox_trust.h"
#include "log.h"
#include "matcher.h"
#include "meeting.h"
#include "prepare.h"
#include "store.h"

#define WORKSPACE_REFRESH_S 30

typedef struct pending {
    crm_delivery *d;
    GMutex lock;
    GCond cond;
    gboolean done;
} pending;

typedef struct cached_ws {
    crm_workspace *ws;
    gint64 loaded_at;
} cached_ws;

struct crm_committer {
    crm_config cfg;		/* the fields the thread reads, copied */
    char *database_url, *home, *pg_bindir, *storage_dir;
    GAsyncQueue *queue;
    GThread *thread;
    gint stopping;
    crm_store *store;		/* the thread's; NULL until (re)connected */
    GHashTable *workspaces;	/* name -> cached_ws */
    GRWLock routes_lock;
    GHashTable *routes;		/* address -> workspace name, or NULL */
    gint64 routes_at;
    gint create_accounts;	/* atomic: SIGHUP may change it */
    gint reload;		/* atomic: refresh routes and workspaces now */
    GMutex trust_lock;		/* guards trusted_ids: SIGHUP may change them */
    char **trusted_ids;		/* trusted_authserv_ids, lower case; NULL: none */
    gint loop_limit, loop_window;	/* atomic: SIGHUP may change them */
};

static void cached_free(gpointer p)
{
    cached_ws *c = p;
    crm_workspace_free(c->ws);
    g_free(c);
}

static bool connect_store(crm_committer *c)
{
    char err[1024];
    PGconn *conn;

    if (c->store != NULL)
        return true;
    conn = crm_db_connect(&c->cfg, 0, err, sizeof err);
    if (conn == NULL) {
        crm_log(CRM_LOG_WARN, "database unreachable: %s", err);
        return false;
    }
    c->store = crm_store_open(conn, err, sizeof err);
    if (c->store == NULL)
        crm_log(CRM_LOG_WARN, "database: %s", err);
    return c->store != NULL;
}

static void drop_store(crm_committer *c)
{
    crm_store_close(c->store);
    c->store = NULL;
    g_hash_table_remove_all(c->workspaces);
}

static void refresh_routes(crm_committer *c)
{
    GHashTable *routes = NULL;
    char err[1024];
    gint64 started;

    if (!connect_store(c))
        return;
    /* the routes are as new as the query's start: a reload asked for
     * while an older query ran must not take that one's answer */
    started = g_get_monotonic_time();
    if (crm_store_routes(c->store, &routes, err, sizeof err) < 0) {
        crm_log(CRM_LOG_WARN, "loading dropbox addresses: %s", err);
        drop_store(c);
        return;
    }
    g_rw_lock_writer_lock(&c->routes_lock);
    if (c->routes != NULL)
        g_hash_table_unref(c->routes);
    c->routes = routes;
    c->routes_at = started;
    g_rw_lock_writer_unlock(&c->routes_lock);
}

static int lookup_route(crm_committer *c, const char *address, char **workspace)
{
    int rc;

    *workspace = NULL;
    g_rw_lock_reader_lock(&c->routes_lock);
    if (c->routes == NULL) {
        rc = -1;
    } else {
        const char *ws = g_hash_table_lookup(c->routes, address);
        *workspace = g_strdup(ws);
        rc = ws != NULL;
    }
    g_rw_lock_reader_unlock(&c->routes_lock);
    return rc;
}

/* Wait, two seconds at most, for routes loaded by a query that started
 * at since or later (1: any load at all). */
static void wait_for_routes(crm_committer *c, gint64 since)
{
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < deadline) {
        gint64 at;
        g_rw_lock_reader_lock(&c->routes_lock);
        at = c->routes_at;
        g_rw_lock_reader_unlock(&c->routes_lock);
        if (at >= since)
            return;
        g_usleep(20 * 1000);
    }
}

int crm_committer_route(crm_committer *c, const char *address, char **workspace)
{
    gint64 asked, wanted;
    int rc = lookup_route(c, address, workspace);

    /* Not loaded yet: the gateway answers as soon as it listens, and the
     * first query is a moment behind. Wait for it briefly rather than
     * turn the first client away with a 451; a database that is down
     * still gets the 451, two seconds later. */
    if (rc < 0) {
        wait_for_routes(c, 1);
        rc = lookup_route(c, address, workspace);
    }
    if (rc != 0)
        return rc;
    /* An address added a moment ago must not get a permanent 550: reload
     * the routes and look again, at most about once a second for
     * everyone, so a run of strangers does not become a run of queries. */
    g_rw_lock_reader_lock(&c->routes_lock);
    asked = c->routes_at;
    g_rw_lock_reader_unlock(&c->routes_lock);
    /* Loaded less than a second ago, perhaps just before the address was
     * added: wait for that second to pass rather than refuse for good. */
    if (g_get_monotonic_time() - asked < G_USEC_PER_SEC)
        g_usleep((gulong)MAX(0, asked + G_USEC_PER_SEC - g_get_monotonic_time()));
    /* routes loaded from a query started after now, not merely other
     * ones: the thread marks them stale (0) before the query, and a
     * periodic query may be under way from before the address existed */
    wanted = g_get_monotonic_time();
    g_atomic_int_set(&c->reload, 1);
    wait_for_routes(c, wanted);
    return lookup_route(c, address, workspace);
}

static const crm_workspace *workspace(crm_committer *c, const char *name, bool *unreachable)
{
    cached_ws *cw = g_hash_table_lookup(c->workspaces, name);
    gint64 now = g_get_monotonic_time();
    crm_workspace *ws = NULL;
    char err[1024];
    int rc;

    *unreachable = false;
    if (cw != NULL && now - cw->loaded_at < WORKSPACE_REFRESH_S * G_USEC_PER_SEC)
        return cw->ws;
    if (c->store == NULL) {
        *unreachable = true;
        return NULL;
    }
    rc = crm_store_workspace_load(c->store, name, &ws, err, sizeof err);
    if (rc < 0) {
        *unreachable = true;
        return NULL;
    }
    if (rc != 0)
        return NULL;
    cw = g_new0(cached_ws, 1);
    cw->ws = ws;
    cw->loaded_at = now;
    g_hash_table_replace(c->workspaces, g_strdup(name), cw);
    return ws;
}

/* One mail's rows for one workspace, in a group being built. A
 * companion is a meeting from the mail's invitation: stored in the same
 * transaction, but the mail's answer depends on the mail alone. */
typedef struct slot {
    pending *req;
    size_t ws_index;
    crm_prepared rows;
    bool companion;
    char *label;		/* companion: the meeting, for the log */
} slot;

/* The meetings of a mail's invitations, as companion slots. An
 * invitation that cannot be read is logged; the mail goes in anyway. */
static void add_invitations(GArray *group, pending *req, size_t w, const crm_workspace *ws,
                            int64_t mail_at)
{
    const crm_message *msg = req->d->msg;
    crm_cal_limits base, lim;

    crm_cal_limits_default(&base);
    crm_meeting_invitation_limits(&base, mail_at, &lim);
    for (size_t i = 0; i < msg->n_calendar_parts; i++) {
        const crm_calendar_part *part = &msg->calendar_parts[i];
        crm_calendar *cal = NULL;
        char why[512];

        if (!crm_meeting_invitation_wanted(part->method))
            continue;
        if (crm_calendar_parse(part->data, part->len, &lim, &cal, why, sizeof why) != CRM_CAL_OK) {
            crm_log(CRM_LOG_WARN, "%s: workspace %s: invitation not logged: %s",
                    req->d->ref, ws->name, why);
            continue;
        }
        for (size_t k = 0; k < cal->n_problems; k++)
            crm_log(CRM_LOG_WARN, "%s: workspace %s: invitation: %s", req->d->ref, ws->name,
                    cal->problems[k]);
        for (size_t k = 0; k < cal->n_events && crm_meeting_invitation_wanted(cal->method); k++) {
            slot s = { req, w, { 0 }, true, crm_meeting_label(&cal->events[k]) };
            /* the dropbox always creates contacts: a rep chose to log it */
            crm_meeting_rows(ws, req->d->source, NULL, CRM_CONTACTS_SENT_AND_RECEIVED, cal,
                             &cal->events[k], req->d->ref, msg, req->d->receive_time, &s.rows);
            if (s.rows.skip != NULL) {
                crm_prepared_clear(&s.rows);
                g_free(s.label);
                continue;
            }
            g_array_append_val(group, s);
        }
        crm_calendar_free(cal);
    }
}

static void mark_bounces(crm_committer *c, const crm_workspace *ws, const crm_message *msg,
                         int64_t at)
{
    for (size_t i = 0; i < msg->n_bounces; i++) {
        const crm_bounce_recipient *b = &msg->bounces[i];
        char *email = crm_email_normalise(b->email);
        char err[512];
        bool marked;

        if (email != NULL && (b->action == NULL || strcmp(b->action, "failed") == 0) &&
            crm_store_mark_bounce(c->store, ws->id, email, b->status, b->diagnostic, at,
                                  &marked, err, sizeof err) < 0)
            crm_log(CRM_LOG_WARN, "marking bounce of %s: %s", email, err);
        g_free(email);
    }
}

static void set_status(pending *req, size_t w, crm_delivery_status st, const char *why)
{
    req->d->status[w] = st;
    if (why != NULL && req->d->reason[0] == '\0')
        g_strlcpy(req->d->reason, why, sizeof req->d->reason);
    if (why != NULL && req->d->reasons != NULL)
        g_strlcpy(req->d->reasons[w], why, sizeof req->d->reasons[w]);
}

/* Whether each workspace of the delivery takes mail from its sender;
 * untrusted[w] set for those that do not (their status set). With
 * all_or_nothing one refusal refuses the mail everywhere. */
static void judge_sender(crm_committer *c, pending *req, bool *untrusted)
{
    crm_delivery *d = req->d;
    crm_trust_input in = { d->envelope_from, &d->msg->from, d->auth, d->n_auth, NULL };
    char why[CRM_DELIVERY_REASON], first[CRM_DELIVERY_REASON] = "";
    char **trusted;

    /* a copy: loading a workspace below may wait on the database */
    g_mutex_lock(&c->trust_lock);
    trusted = g_strdupv(c->trusted_ids);
    g_mutex_unlock(&c->trust_lock);
    in.trusted_ids = trusted;
    for (size_t w = 0; w < d->n_workspaces; w++) {
        bool unreachable;
        const crm_workspace *ws = workspace(c, d->workspaces[w], &unreachable);

        untrusted[w] = false;
        if (ws == NULL || crm_dropbox_trusted(ws, &in, why, sizeof why))
            continue;
        untrusted[w] = true;
        if (first[0] == '\0')
            g_strlcpy(first, why, sizeof first);
        set_status(req, w, CRM_DELIVERY_UNTRUSTED, why);
    }
    g_strfreev(trusted);
    if (first[0] == '\0' || !d->all_or_nothing)
        return;
    for (size_t w = 0; w < d->n_workspaces; w++) {
        if (!untrusted[w])
            set_status(req, w, CRM_DELIVERY_UNTRUSTED, first);
        untrusted[w] = true;
    }
}

/* The loop breaker over one workspace's group, before it is stored: a
 * mail whose sender is over the limit is throttled, and taken out of
 * the group with its companions. arrivals[i]: what to give back when
 * group item i is then not stored. */
static void break_loops(crm_committer *c, const char *ws_id, GArray *group, GArray *arrivals)
{
    guint n = group->len;
    const char **keys = g_new0(const char *, n);
    char **owned = g_new0(char *, n);
    int64_t *ids = g_new0(int64_t, n);
    unsigned *counts = g_new0(unsigned, n);
    unsigned limit = (unsigned)g_atomic_int_get(&c->loop_limit);
    unsigned window = (unsigned)g_atomic_int_get(&c->loop_window);
    char err[1024];

    for (guint i = 0; i < n; i++) {
        slot *s = &g_array_index(group, slot, i);
        if (!s->companion)
            keys[i] = owned[i] = crm_dropbox_sender(s->req->d->envelope_from, &s->req->d->msg->from);
    }
    if (crm_store_arrivals_take(c->store, ws_id, keys, n, window, limit, ids, counts,
                                err, sizeof err) < 0) {
        /* the count is a guard, not the mail: log it and store */
        crm_log(CRM_LOG_WARN, "loop breaker: %s", err);
        memset(ids, 0, n * sizeof *ids);
        memset(counts, 0, n * sizeof *counts);
    }
    g_array_set_size(arrivals, 0);
    for (guint i = 0, k = 0; i < n; i++, k++) {
        slot *s = &g_array_index(group, slot, k);
        bool drop = false;

        if (!s->companion && keys[i] != NULL && ids[i] == 0 && counts[i] > limit) {
            char why[CRM_DELIVERY_REASON];
            g_snprintf(why, sizeof why, "loop breaker: %s sent %u mails to the dropbox within "
                       "%u %s (limit %u)", keys[i], counts[i],
                       window % 60 == 0 ? window / 60 : window,
                       window % 60 == 0 ? "minutes" : "seconds", limit);
            set_status(s->req, s->ws_index, CRM_DELIVERY_THROTTLED, why);
            drop = true;
        } else if (s->companion) {
            /* a throttled mail's invitations go with it */
            drop = s->req->d->status[s->ws_index] == CRM_DELIVERY_THROTTLED;
        }
        if (drop) {
            g_free(s->label);
            crm_prepared_clear(&s->rows);
            g_array_remove_index(group, k);
            k--;
            continue;
        }
        g_array_append_val(arrivals, ids[i]);
    }
    for (guint i = 0; i < n; i++)
        g_free(owned[i]);
    g_free(owned);
    g_free(keys);
    g_free(ids);
    g_free(counts);
}

/* The slots of a workspace in this round, made on first use. */
static GArray *group_of(GHashTable *groups, const char *workspace_id)
{
    GArray *group = g_hash_table_lookup(groups, workspace_id);

    if (group == NULL) {
        group = g_array_new(FALSE, TRUE, sizeof(slot));
        g_hash_table_insert(groups, g_strdup(workspace_id), group);
    }
    return group;
}

/* Prepare every (mail, workspace) of the group and store them, one
 * transaction per workspace. */
static void process(crm_committer *c, GPtrArray *reqs)
{
    GHashTable *groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify)g_array_unref);
    GHashTableIter it;
    gpointer key, value;

    if (!connect_store(c)) {
        for (guint r = 0; r < reqs->len; r++) {
            pending *req = g_ptr_array_index(reqs, r);
            for (size_t w = 0; w < req->d->n_workspaces; w++)
                set_status(req, w, CRM_DELIVERY_TEMPFAIL, "database unreachable");
        }
        g_hash_table_destroy(groups);
        return;
    }
    bool lost = false;

    for (guint r = 0; r < reqs->len; r++) {
        pending *req = g_ptr_array_index(reqs, r);
        crm_delivery *d = req->d;
        char why[256];
        const char *skip = crm_prepare_skip_reason(d->msg, why, sizeof why);
        bool invitation = crm_meeting_mail_is_invitation(d->msg);
        bool *untrusted = g_new0(bool, d->n_workspaces);

        judge_sender(c, req, untrusted);
        for (size_t w = 0; w < d->n_workspaces; w++) {
            bool unreachable;
            const crm_workspace *ws = workspace(c, d->workspaces[w], &unreachable);
            slot s = { req, w, { 0 }, false, NULL };
            GArray *group;

            if (untrusted[w])
                continue;	/* judged: nothing of it is stored */
            if (ws == NULL) {
                set_status(req, w, unreachable ? CRM_DELIVERY_TEMPFAIL : CRM_DELIVERY_REJECTED,
                           unreachable ? "database unreachable" : "workspace no longer exists");
                lost = lost || unreachable;
                continue;
            }
            if (skip != NULL) {
                if (d->msg->auto_kind == CRM_AUTO_BOUNCE) {
                    const char *ds;
                    mark_bounces(c, ws, d->msg, crm_prepare_date(d->msg, d->receive_time, &ds));
                }
                set_status(req, w, CRM_DELIVERY_SKIPPED, skip);
                continue;
            }
            /* an invitation is one touchpoint, the meeting (meeting.h):
             * its first meeting answers for the mail, which is prepared
             * (attachments written) only when it gave no meeting */
            if (invitation) {
                GArray *meetings = g_array_new(FALSE, TRUE, sizeof(slot));
                const char *ds;

                add_invitations(meetings, req, w, ws,
                                crm_prepare_date(d->msg, d->receive_time, &ds));
                if (meetings->len > 0) {
                    slot *first = &g_array_index(meetings, slot, 0);
                    first->companion = false;
                    g_clear_pointer(&first->label, g_free);
                    group = group_of(groups, ws->id);
                    g_array_append_vals(group, meetings->data, meetings->len);
                    g_array_free(meetings, TRUE);
                    continue;
                }
                g_array_free(meetings, TRUE);
            }
            if (crm_prepare_rows(ws, c->storage_dir, d->source, CRM_CONTACTS_SENT_AND_RECEIVED,
                                 d->msg, d->ref, d->receive_time, &s.rows, why, sizeof why) < 0) {
                /* attachments could not be written: a local fault, retry */
                crm_log(CRM_LOG_WARN, "%s: %s", d->ref, why);
                set_status(req, w, CRM_DELIVERY_TEMPFAIL, why);
                continue;
            }
            if (s.rows.skip != NULL) {
                set_status(req, w, CRM_DELIVERY_SKIPPED, s.rows.skip);
                crm_prepared_clear(&s.rows);
                continue;
            }
            group = group_of(groups, ws->id);
            g_array_append_val(group, s);
            if (d->msg->n_calendar_parts > 0 && !invitation)
                add_invitations(group, req, w, ws, s.rows.interacted_at);
        }
        g_free(untrusted);
    }

    /* a dead connection: what was prepared gets a temporary failure
     * below, and the next group connects anew */
    if (lost) {
        crm_log(CRM_LOG_WARN, "database connection lost; reconnecting");
        drop_store(c);
    }
    g_hash_table_iter_init(&it, groups);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        GArray *group = value;
        GArray *arrivals = g_array_new(FALSE, TRUE, sizeof(int64_t));
        crm_store_item *items;
        bool docs = false;
        char err[1024] = "";
        int rc = 0;

        if (c->store != NULL)
            break_loops(c, key, group, arrivals);
        else
            g_array_set_size(arrivals, group->len);
        items = g_new0(crm_store_item, group->len);

        for (guint i = 0; i < group->len; i++) {
            slot *s = &g_array_index(group, slot, i);
            crm_prepared_item(&s->rows, s->req->d->source, &items[i]);
            docs = docs || s->rows.has_documents;
        }
        if (docs && crm_blob_sync(c->storage_dir, err, sizeof err) < 0)
            rc = -1;
        else if (c->store != NULL)
            rc = crm_store_interactions(c->store, key, g_atomic_int_get(&c->create_accounts), items,
                                        group->len, err, sizeof err);
        else
            rc = -1;
        if (rc < 0 && c->store != NULL) {
            crm_log(CRM_LOG_WARN, "storing %u mails: %s", group->len, err);
            drop_store(c);
        }
        for (guint i = 0; i < group->len; i++) {
            slot *s = &g_array_index(group, slot, i);
            crm_delivery_status st = CRM_DELIVERY_TEMPFAIL;

            if (s->companion) {
                if (rc == 0 && items[i].outcome == CRM_STORE_REJECTED)
                    crm_log(CRM_LOG_WARN, "%s: meeting %s not logged: %s", s->req->d->ref,
                            s->label, items[i].error);
                g_free(s->label);
                crm_prepared_clear(&s->rows);
                continue;
            }
            switch (rc < 0 ? CRM_STORE_PENDING : items[i].outcome) {
            case CRM_STORE_STORED: st = CRM_DELIVERY_STORED; break;
            case CRM_STORE_DUPLICATE: st = CRM_DELIVERY_DUPLICATE; break;
            case CRM_STORE_REJECTED: st = CRM_DELIVERY_REJECTED; break;
            case CRM_STORE_PENDING: st = CRM_DELIVERY_TEMPFAIL; break;
            }
            set_status(s->req, s->ws_index, st, st == CRM_DELIVERY_REJECTED ? items[i].error
                                            : st == CRM_DELIVERY_TEMPFAIL ? "database unreachable"
                                            : NULL);
            if (st == CRM_DELIVERY_STORED)
                g_array_index(arrivals, int64_t, i) = 0;	/* it counts */
            crm_prepared_clear(&s->rows);
        }
        for (guint i = 0; i < group->len; i++)
            if (g_array_index(group, slot, i).companion)
                g_array_index(arrivals, int64_t, i) = 0;
        /* what was counted but not stored (a duplicate) does not count */
        if (c->store != NULL &&
            crm_store_arrivals_give_back(c->store, key, (const int64_t *)(void *)arrivals->data,
                                         arrivals->len, err, sizeof err) < 0)
            crm_log(CRM_LOG_WARN, "loop breaker: %s", err);
        g_array_free(arrivals, TRUE);
        g_free(items);
    }
    g_hash_table_destroy(groups);
}

static gpointer run(gpointer data)
{
    crm_committer *c = data;
    GPtrArray *reqs = g_ptr_array_new();

    refresh_routes(c);
    for (;;) {
        pending *req = g_async_queue_timeout_pop(c->queue, G_USEC_PER_SEC / 20);

        if (g_atomic_int_compare_and_exchange(&c->reload, 1, 0)) {
            g_hash_table_remove_all(c->workspaces);
            c->routes_at = 0;
        }
        if (g_get_monotonic_time() - c->routes_at > CRM_ROUTE_REFRESH_S * G_USEC_PER_SEC)
            refresh_routes(c);
        if (req == NULL) {
            if (g_atomic_int_get(&c->stopping))
                break;
            continue;
        }
        g_ptr_array_set_size(reqs, 0);
        g_ptr_array_add(reqs, req);
        while (reqs->len < CRM_COMMIT_MAX_GROUP && (req = g_async_queue_try_pop(c->queue)) != NULL)
            g_ptr_array_add(reqs, req);
        process(c, reqs);
        for (guint r = 0; r < reqs->len; r++) {
            pending *p = g_ptr_array_index(reqs, r);
            g_mutex_lock(&p->lock);
            p->done = TRUE;
            g_cond_signal(&p->cond);
            g_mutex_unlock(&p->lock);
        }
    }
    g_ptr_array_free(reqs, TRUE);
    return NULL;
}

crm_committer *crm_committer_new(const crm_config *cfg)
{
    crm_committer *c = g_new0(crm_committer, 1);

    /* copy what the thread reads: the caller's config may be reloaded */
    c->cfg = *cfg;
    c->cfg.database_url = c->database_url = g_strdup(cfg->database_url);
    c->cfg.home = c->home = g_strdup(cfg->home);
    c->cfg.pg_bindir = c->pg_bindir = g_strdup(cfg->pg_bindir);
    c->cfg.storage_dir = c->storage_dir = g_strdup(cfg->storage_dir);
    c->cfg.log_level = NULL;
    c->cfg.source_file = NULL;
    c->cfg.source_flags = NULL;
    c->cfg.smtp_listen = c->cfg.lmtp_listen = c->cfg.hostname = NULL;
    c->cfg.tls_cert = c->cfg.tls_key = NULL;
    c->create_accounts = cfg->create_accounts;
    c->cfg.trusted_authserv_ids = NULL;
    g_mutex_init(&c->trust_lock);
    c->trusted_ids = crm_dropbox_trusted_ids(cfg->trusted_authserv_ids);
    c->loop_limit = (gint)MIN(cfg->dropbox_loop_limit, (unsigned)G_MAXINT);
    c->loop_window = (gint)MIN(cfg->dropbox_loop_window, (unsigned)G_MAXINT);
    c->queue = g_async_queue_new();
    c->workspaces = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_free);
    g_rw_lock_init(&c->routes_lock);
    c->thread = g_thread_new("crmgate-commit", run, c);
    return c;
}

void crm_committer_reconfigure(crm_committer *c, const crm_config *cfg)
{
    char **ids = crm_dropbox_trusted_ids(cfg->trusted_authserv_ids), **old;

    g_atomic_int_set(&c->create_accounts, cfg->create_accounts);
    g_atomic_int_set(&c->loop_limit, (gint)MIN(cfg->dropbox_loop_limit, (unsigned)G_MAXINT));
    g_atomic_int_set(&c->loop_window, (gint)MIN(cfg->dropbox_loop_window, (unsigned)G_MAXINT));
    g_mutex_lock(&c->trust_lock);
    old = c->trusted_ids;
    c->trusted_ids = ids;
    g_mutex_unlock(&c->trust_lock);
    g_strfreev(old);
    g_atomic_int_set(&c->reload, 1);
}

void crm_committer_deliver(crm_committer *c, crm_delivery *d)
{
    pending p = { .d = d };

    d->reason[0] = '\0';
    g_mutex_init(&p.lock);
    g_cond_init(&p.cond);
    g_async_queue_push(c->queue, &p);
    g_mutex_lock(&p.lock);
    while (!p.done)
        g_cond_wait(&p.cond, &p.lock);
    g_mutex_unlock(&p.lock);
    g_mutex_clear(&p.lock);
    g_cond_clear(&p.cond);
}

void crm_committer_free(crm_committer *c)
{
    if (c == NULL)
        return;
    g_atomic_int_set(&c->stopping, 1);
    g_thread_join(c->thread);
    crm_store_close(c->store);
    g_hash_table_destroy(c->workspaces);
    if (c->routes != NULL)
        g_hash_table_unref(c->routes);
    g_rw_lock_clear(&c->routes_lock);
    g_strfreev(c->trusted_ids);
    g_mutex_clear(&c->trust_lock);
    g_async_queue_unref(c->queue);
    g_free(c->database_url);
    g_free(c->home);
    g_free(c->pg_bindir);
    g_free(c->storage_dir);
    g_free(c);
}
