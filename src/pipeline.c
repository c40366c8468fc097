/*
 * NAME
 *	pipeline 3 - one raw message in, CRM rows out
 * DESCRIPTION
 *	See pipeline.h. Parsing and skipping are done here; the rows come
 *	from prepare.c; batching and the store thread are this file's job.
 */
#include <string.h>
#include <time.h>
#include <glib.h>

#include "blobstore.h"
#include "log.h"
#include "matcher.h"
#include "meeting.h"
#include "pipeline.h"
#include "prepare.h"

typedef struct queued {
    char *ref;
    crm_prepared rows;
} queued;

/* A batch being committed by a store thread. */
typedef struct batch {
    crm_pipeline *p;
    crm_store *store;		/* the connection it commits on */
    GThread *thread;
    bool plain;			/* mail only, no cursor: may commit beside another */
    GArray *queue;		/* queued */
    crm_store_item *items;
    crm_source_cursor *cursor;	/* NULL, or advanced with the batch */
    int rc;
    char err[1024];
} batch;

/* Parsing is CPU in this process, storing is CPU in the server: one
 * batch commits on a store thread while the next one is parsed, so both
 * cores work. With a second connection (crm_pipeline_add_store()), two
 * plain batches may commit at once, as the server's work per mail is
 * the larger part. Batches that carry a source's cursor, meetings or
 * replacements depend on the order of the batches before them: they
 * commit alone. Outcomes are reported on the caller's thread only, in
 * the order the messages came. */
#define MAX_IN_FLIGHT 2

/* The partitions of months the queue names, made ahead on the second
 * connection while no batch uses it. An import's first batch names most
 * of its months (a Maildir is in no date order); made by the batch, they
 * would wait until it is full, and the first commit with them. */
typedef struct month_maker {
    crm_store *store;
    GThread *thread;
    GArray *at;			/* int64_t: a time in each month */
    gint done;
} month_maker;

struct crm_pipeline {
    crm_store *store;
    crm_store *spare;		/* NULL, or the second connection */
    GThread *spare_opener;	/* NULL, or opening it */
    gint spare_open;		/* the opener has returned */
    crm_store_opener open_spare;
    void *open_spare_ctx;
    const crm_workspace *ws;
    crm_pipeline_opts opts;
    crm_outcome_fn report;
    void *ctx;
    GArray *queue;		/* queued, being filled */
    batch *in_flight[MAX_IN_FLIGHT];	/* oldest first */
    unsigned n_in_flight;
    GHashTable *months_seen;	/* month numbers the queue has named */
    GArray *months_waiting;	/* int64_t: new ones no maker has taken */
    month_maker *maker;		/* NULL, or making months on the spare */
};

static GArray *new_queue(void)
{
    return g_array_new(FALSE, TRUE, sizeof(queued));
}

static void finish_in_flight(crm_pipeline *p);
static int send_batch(crm_pipeline *p, char *err, size_t errlen);

static void queued_clear(queued *q)
{
    g_free(q->ref);
    crm_prepared_clear(&q->rows);
}

crm_pipeline *crm_pipeline_new(crm_store *st, const crm_workspace *ws,
                               const crm_pipeline_opts *opts,
                               crm_outcome_fn fn, void *ctx)
{
    crm_pipeline *p = g_new0(crm_pipeline, 1);

    p->store = st;
    p->ws = ws;
    p->opts = *opts;
    if (p->opts.batch_size == 0)
        p->opts.batch_size = 1;
    if (p->opts.cal_limits.max_bytes == 0)
        crm_cal_limits_default(&p->opts.cal_limits);
    p->report = fn;
    p->ctx = ctx;
    p->queue = new_queue();
    p->months_seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    p->months_waiting = g_array_new(FALSE, FALSE, sizeof(int64_t));
    return p;
}

static gpointer open_spare(gpointer data)
{
    crm_pipeline *p = data;
    crm_store *st = p->open_spare(p->open_spare_ctx);

    g_atomic_int_set(&p->spare_open, 1);
    return st;
}

/* Take the second connection up once it is open; with wait, wait for it. */
static void take_spare(crm_pipeline *p, bool wait)
{
    if (p->spare_opener == NULL || (!wait && !g_atomic_int_get(&p->spare_open)))
        return;
    p->spare = g_thread_join(p->spare_opener);
    p->spare_opener = NULL;
    if (p->spare != NULL) {
        crm_store_commit_people_first(p->store, true);
        crm_store_commit_people_first(p->spare, true);
    }
}

void crm_pipeline_add_store(crm_pipeline *p, crm_store_opener open, void *ctx)
{
    finish_in_flight(p);
    take_spare(p, true);
    p->open_spare = open;
    p->open_spare_ctx = ctx;
    g_atomic_int_set(&p->spare_open, 0);
    p->spare_opener = g_thread_new("crmgate-connect", open_spare, p);
}

crm_store *crm_pipeline_spare(crm_pipeline *p)
{
    finish_in_flight(p);
    take_spare(p, true);
    return p->spare;
}

void crm_pipeline_free(crm_pipeline *p)
{
    if (p == NULL)
        return;
    finish_in_flight(p);
    take_spare(p, true);
    crm_store_commit_people_first(p->store, false);
    g_hash_table_destroy(p->months_seen);
    g_array_free(p->months_waiting, TRUE);
    for (guint i = 0; i < p->queue->len; i++)
        queued_clear(&g_array_index(p->queue, queued, i));
    g_array_free(p->queue, TRUE);
    g_free(p);
}

void crm_pipeline_report_failure(crm_pipeline *p, const char *ref, const char *reason)
{
    p->report(p->ctx, ref, CRM_OUTCOME_FAILED, reason);
}

static gpointer make_months(gpointer data)
{
    month_maker *m = data;
    char err[256];

    /* best effort: a batch on this connection makes what is missing and
     * reports why it could not */
    (void)crm_store_ensure_months(m->store, (const int64_t *)(void *)m->at->data, m->at->len,
                                  err, sizeof err);
    g_atomic_int_set(&m->done, 1);
    return NULL;
}

static void join_maker(crm_pipeline *p)
{
    if (p->maker == NULL)
        return;
    g_thread_join(p->maker->thread);
    g_array_free(p->maker->at, TRUE);
    g_free(p->maker);
    p->maker = NULL;
}

/* A row for time at was queued. */
static void note_month(crm_pipeline *p, int64_t at)
{
    int month;

    take_spare(p, false);
    if (p->spare == NULL && p->spare_opener == NULL)
        return;		/* one connection: each batch makes its own */
    month = crm_store_month(at);
    if (g_hash_table_contains(p->months_seen, GINT_TO_POINTER(month)))
        return;
    g_hash_table_add(p->months_seen, GINT_TO_POINTER(month));
    g_array_append_val(p->months_waiting, at);
    if (p->spare == NULL)
        return;		/* still opening: a later row starts the maker */
    if (p->maker != NULL) {
        if (!g_atomic_int_get(&p->maker->done))
            return;		/* the next row's turn */
        join_maker(p);
    }
    for (unsigned i = 0; i < p->n_in_flight; i++)
        if (p->in_flight[i]->store == p->spare)
            return;		/* the batches make their own */
    p->maker = g_new0(month_maker, 1);
    p->maker->store = p->spare;
    p->maker->at = p->months_waiting;
    p->months_waiting = g_array_new(FALSE, FALSE, sizeof(int64_t));
    p->maker->thread = g_thread_new("crmgate-months", make_months, p->maker);
}

/* Mark bounced addresses; their contacts may sit in the queue, so the
 * queue is committed first. */
static int handle_bounce(crm_pipeline *p, const crm_message *msg, int64_t at,
                         char *err, size_t errlen)
{
    if (msg->n_bounces > 0 && crm_pipeline_flush(p, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < msg->n_bounces; i++) {
        const crm_bounce_recipient *b = &msg->bounces[i];
        char *email = crm_email_normalise(b->email);
        bool marked = false;

        /* "delayed" or "relayed" is no verdict on the address */
        if (email != NULL && (b->action == NULL || strcmp(b->action, "failed") == 0) &&
            crm_store_mark_bounce(p->store, p->ws->id, email, b->status, b->diagnostic, at,
                                  &marked, err, errlen) < 0) {
            g_free(email);
            return -1;
        }
        g_free(email);
    }
    return 0;
}

/* Queue a meeting row per occurrence; mail: the mail that carried it;
 * owner: whose calendar it is, or NULL. *n counts the occurrences dealt
 * with (queued, or skipped for the blocklist). */
static int queue_calendar(crm_pipeline *p, const crm_calendar *cal, const char *ref,
                          const crm_message *mail, const char *owner, const char *what,
                          int64_t receive_time, size_t *n, char *err, size_t errlen)
{
    for (size_t i = 0; i < cal->n_problems; i++)
        p->report(p->ctx, ref, CRM_OUTCOME_FAILED, cal->problems[i]);
    if (cal->n_dropped > cal->n_problems) {
        char more[128];
        g_snprintf(more, sizeof more, "%zu more events dropped",
                   cal->n_dropped - cal->n_problems);
        p->report(p->ctx, ref, CRM_OUTCOME_FAILED, more);
    }
    for (size_t i = 0; i < cal->n_events; i++) {
        queued q = { 0 };
        char *label = crm_meeting_label(&cal->events[i]);

        crm_meeting_rows(p->ws, p->opts.source, owner, p->opts.contacts, cal, &cal->events[i],
                         ref, mail, receive_time, &q.rows);
        q.ref = g_strdup_printf("%s (%s%s)", ref, what, label);
        g_free(label);
        if (q.rows.skip != NULL) {
            /* dealt with: an invitation of a blocked sender is no mail either */
            p->report(p->ctx, q.ref, CRM_OUTCOME_SKIPPED, q.rows.skip);
            crm_prepared_clear(&q.rows);
            g_free(q.ref);
            (*n)++;
            continue;
        }
        g_array_append_val(p->queue, q);
        note_month(p, q.rows.interacted_at);
        (*n)++;
        if (p->queue->len >= p->opts.batch_size && send_batch(p, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* A mail's invitations as meetings; *n counts them. An invitation that
 * cannot be read is reported failed. */
static int queue_invitations(crm_pipeline *p, const crm_message *msg, const char *ref,
                             int64_t mail_at, int64_t receive_time, size_t *n,
                             char *err, size_t errlen)
{
    crm_cal_limits lim;

    crm_meeting_invitation_limits(&p->opts.cal_limits, mail_at, &lim);
    for (size_t i = 0; i < msg->n_calendar_parts; i++) {
        const crm_calendar_part *part = &msg->calendar_parts[i];
        crm_calendar *cal = NULL;
        char why[512], *inv_ref;

        if (!crm_meeting_invitation_wanted(part->method))
            continue;
        inv_ref = g_strdup_printf("%s (invitation)", ref);
        if (crm_calendar_parse(part->data, part->len, &lim, &cal, why, sizeof why) != CRM_CAL_OK) {
            p->report(p->ctx, inv_ref, CRM_OUTCOME_FAILED, why);
            g_free(inv_ref);
            continue;
        }
        if (crm_meeting_invitation_wanted(cal->method) &&
            queue_calendar(p, cal, ref, msg, NULL, "invitation ", receive_time, n,
                           err, errlen) < 0) {
            crm_calendar_free(cal);
            g_free(inv_ref);
            return -1;
        }
        crm_calendar_free(cal);
        g_free(inv_ref);
    }
    return 0;
}

int crm_pipeline_submit(crm_pipeline *p, const char *raw, size_t len, const char *ref,
                        int64_t receive_time, char *err, size_t errlen)
{
    crm_message *msg = NULL;
    char why[512];
    const char *skip;
    crm_parse_status st;
    queued q = { 0 };
    int64_t mail_at;
    size_t n = 0;
    bool invitation;

    st = crm_message_parse(raw, len, &p->opts.limits, &msg, why, sizeof why);
    if (st != CRM_PARSE_OK) {
        p->report(p->ctx, ref, CRM_OUTCOME_FAILED, why[0] ? why : crm_parse_status_str(st));
        return 0;
    }
    skip = crm_prepare_skip_reason(msg, why, sizeof why);
    if (skip != NULL) {
        int rc = 0;
        if (msg->auto_kind == CRM_AUTO_BOUNCE) {
            const char *ds;
            rc = handle_bounce(p, msg, crm_prepare_date(msg, receive_time, &ds), err, errlen);
        }
        if (rc == 0)
            p->report(p->ctx, ref, CRM_OUTCOME_SKIPPED, skip);
        crm_message_free(msg);
        return rc;
    }
    /* an invitation is one touchpoint, the meeting (meeting.h); stored
     * as mail only when it gave no meeting */
    invitation = crm_meeting_mail_is_invitation(msg);
    if (invitation) {
        const char *ds;
        int rc = queue_invitations(p, msg, ref, crm_prepare_date(msg, receive_time, &ds),
                                   receive_time, &n, err, errlen);
        if (rc < 0 || n > 0) {
            crm_message_free(msg);
            return rc;
        }
    }
    if (crm_prepare_rows(p->ws, p->opts.storage_dir, p->opts.source, p->opts.contacts, msg, ref,
                         receive_time, &q.rows, why, sizeof why) < 0) {
        crm_message_free(msg);
        p->report(p->ctx, ref, CRM_OUTCOME_FAILED, why);
        return 0;
    }
    if (q.rows.skip != NULL) {
        p->report(p->ctx, ref, CRM_OUTCOME_SKIPPED, q.rows.skip);
        crm_prepared_clear(&q.rows);
        crm_message_free(msg);
        return 0;
    }
    mail_at = q.rows.interacted_at;
    q.ref = g_strdup(ref);
    g_array_append_val(p->queue, q);
    note_month(p, mail_at);
    if (p->queue->len >= p->opts.batch_size && send_batch(p, err, errlen) < 0) {
        crm_message_free(msg);
        return -1;
    }
    if (msg->n_calendar_parts > 0 && !invitation &&
        queue_invitations(p, msg, ref, mail_at, receive_time, &n, err, errlen) < 0) {
        crm_message_free(msg);
        return -1;
    }
    crm_message_free(msg);
    return 0;
}

int crm_pipeline_submit_calendar(crm_pipeline *p, const char *data, size_t len, const char *ref,
                                 int64_t receive_time, char *err, size_t errlen)
{
    crm_calendar *cal = NULL;
    char why[512];
    crm_cal_status st;
    size_t n = 0;
    int rc;

    st = crm_calendar_parse(data, len, &p->opts.cal_limits, &cal, why, sizeof why);
    if (st != CRM_CAL_OK) {
        p->report(p->ctx, ref, CRM_OUTCOME_FAILED, why[0] ? why : crm_cal_status_str(st));
        return 0;
    }
    if (cal->n_events == 0 && cal->n_dropped == 0) {
        p->report(p->ctx, ref, CRM_OUTCOME_SKIPPED, "no event in the expansion window");
        crm_calendar_free(cal);
        return 0;
    }
    rc = queue_calendar(p, cal, ref, NULL, p->opts.calendar_owner, "", receive_time, &n,
                        err, errlen);
    crm_calendar_free(cal);
    return rc;
}

/* The store's barrier: synced while the server works on the batch, the
 * wait holds up neither it nor the parsing of the next batch. */
static int sync_attachments(void *ctx, char *err, size_t errlen)
{
    const crm_pipeline *p = ctx;

    return crm_blob_sync(p->opts.storage_dir, err, errlen);
}

static gpointer commit_batch(gpointer data)
{
    batch *b = data;
    crm_pipeline *p = b->p;
    guint n = b->queue->len;
    bool has_documents = false;

    b->items = g_new0(crm_store_item, n);
    for (guint i = 0; i < n; i++) {
        const crm_prepared *rows = &g_array_index(b->queue, queued, i).rows;

        crm_prepared_item(rows, p->opts.source, &b->items[i]);
        has_documents = has_documents || rows->has_documents;
    }
    /* The attachment files must be durable before the rows pointing at
     * them commit; if they cannot be, nothing of the batch is stored. */
    b->rc = crm_store_interactions_at(b->store, p->ws->id, p->opts.create_accounts, b->items, n,
                                      b->cursor, has_documents ? sync_attachments : NULL, p,
                                      b->err, sizeof b->err);
    return NULL;
}

/* Wait for the oldest batch in flight, report its outcomes, free it.
 * Returns its store status (-1: database unreachable, b->err says why). */
static int collect(crm_pipeline *p, char *err, size_t errlen)
{
    batch *b = p->in_flight[0];
    int rc;

    if (b == NULL)
        return 0;
    g_thread_join(b->thread);
    for (unsigned i = 1; i < p->n_in_flight; i++)
        p->in_flight[i - 1] = p->in_flight[i];
    p->in_flight[--p->n_in_flight] = NULL;
    for (guint i = 0; i < b->queue->len; i++) {
        queued *q = &g_array_index(b->queue, queued, i);
        switch (b->items[i].outcome) {
        case CRM_STORE_STORED:
            p->report(p->ctx, q->ref, CRM_OUTCOME_INGESTED, NULL);
            break;
        case CRM_STORE_DUPLICATE:
            p->report(p->ctx, q->ref, CRM_OUTCOME_DUPLICATE, NULL);
            break;
        case CRM_STORE_REJECTED:
            p->report(p->ctx, q->ref, CRM_OUTCOME_FAILED, b->items[i].error);
            break;
        case CRM_STORE_PENDING:
            break;		/* unreachable database: the caller decides */
        }
        queued_clear(q);
    }
    rc = b->rc;
    if (rc < 0 && err != NULL)
        g_strlcpy(err, b->err, errlen);
    g_array_free(b->queue, TRUE);
    g_free(b->items);
    if (b->cursor != NULL) {
        g_free((char *)b->cursor->folder);
        g_free((char *)b->cursor->state_json);
        g_free((char *)b->cursor->failures_json);
        g_free(b->cursor);
    }
    g_free(b);
    return rc;
}

/* Every batch in flight collected; -1 if one found the database
 * unreachable (the first such error in err). */
static int collect_all(crm_pipeline *p, char *err, size_t errlen)
{
    int rc = 0;

    while (p->n_in_flight > 0)
        if (collect(p, rc < 0 ? NULL : err, errlen) < 0)
            rc = -1;
    join_maker(p);
    return rc;
}

static void finish_in_flight(crm_pipeline *p)
{
    (void)collect_all(p, NULL, 0);
}

/* Only mail, nothing that replaces: such batches give the same rows
 * whichever commits first (dedup keys and contacts are unique). */
static bool is_plain(const GArray *queue)
{
    for (guint i = 0; i < queue->len; i++) {
        const crm_prepared *r = &g_array_index(queue, queued, i).rows;
        if (r->type != NULL || r->replace)
            return false;
    }
    return true;
}

/* Hand the filled queue to a store thread: beside the batch in flight
 * when both are plain and there is a second connection, else after
 * every batch before it. */
static int send_batch_at(crm_pipeline *p, const crm_source_cursor *cursor,
                         char *err, size_t errlen)
{
    batch *b;
    bool plain;

    take_spare(p, true);
    plain = p->spare != NULL && cursor == NULL && is_plain(p->queue);
    if (!plain || (p->n_in_flight > 0 && !p->in_flight[p->n_in_flight - 1]->plain)) {
        if (collect_all(p, err, errlen) < 0)
            return -1;
    }
    while (p->n_in_flight >= MAX_IN_FLIGHT)
        if (collect(p, err, errlen) < 0)
            return -1;
    if (p->queue->len == 0 && cursor == NULL)
        return 0;
    b = g_new0(batch, 1);
    b->plain = plain;
    b->store = p->n_in_flight > 0 && p->in_flight[0]->store == p->store ? p->spare : p->store;
    if (p->maker != NULL && p->maker->store == b->store)
        join_maker(p);
    if (cursor != NULL) {
        b->cursor = g_new0(crm_source_cursor, 1);
        b->cursor->source_id = cursor->source_id;
        b->cursor->folder = g_strdup(cursor->folder);
        b->cursor->state_json = g_strdup(cursor->state_json);
        b->cursor->failures_json = g_strdup(cursor->failures_json);
    }
    b->p = p;
    b->queue = p->queue;
    p->queue = new_queue();
    p->in_flight[p->n_in_flight++] = b;
    b->thread = g_thread_new("crmgate-store", commit_batch, b);
    return 0;
}

static int send_batch(crm_pipeline *p, char *err, size_t errlen)
{
    return send_batch_at(p, NULL, err, errlen);
}

int crm_pipeline_flush(crm_pipeline *p, char *err, size_t errlen)
{
    return crm_pipeline_flush_at(p, NULL, err, errlen);
}

int crm_pipeline_send_at(crm_pipeline *p, const crm_source_cursor *cursor,
                         char *err, size_t errlen)
{
    return send_batch_at(p, cursor, err, errlen);
}

int crm_pipeline_flush_at(crm_pipeline *p, const crm_source_cursor *cursor,
                          char *err, size_t errlen)
{
    if (send_batch_at(p, cursor, err, errlen) < 0)
        return -1;
    return collect_all(p, err, errlen) < 0 ? -1 : 0;
}
