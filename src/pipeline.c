/*
 * NAME
 *	pipeline 3 - one raw message in, CRM rows out
 * DESCRIPTION
 *	See pipeline.h. This is the only place that knows both the parsed
 *	mail and the shape of the rows; it builds the JSON the store's SQL
 *	function takes (metadata, parties, documents) with jansson.
 */
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>

#include "blobstore.h"
#include "log.h"
#include "matcher.h"
#include "pipeline.h"

typedef struct queued {
    char *ref;
    char *dedup_key;
    char *content;
    char *metadata;
    char *parties;
    char *documents;
    char *embed_text;
    int64_t interacted_at;
} queued;

/* A batch being committed by the store thread. */
typedef struct batch {
    crm_pipeline *p;
    GArray *queue;		/* queued */
    crm_store_item *items;
    bool has_documents;		/* attachment files to make durable first */
    int rc;
    char err[1024];
} batch;

/* Parsing is CPU in this process, storing is CPU in the server: one
 * batch commits on a store thread while the next one is parsed, so both
 * cores work. At most one batch is in flight, and outcomes are reported
 * on the caller's thread only. */
struct crm_pipeline {
    crm_store *store;
    const crm_workspace *ws;
    crm_pipeline_opts opts;
    crm_outcome_fn report;
    void *ctx;
    GArray *queue;		/* queued, being filled */
    GThread *committer;		/* NULL when no batch is in flight */
    batch *in_flight;
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
    g_free(q->dedup_key);
    g_free(q->content);
    free(q->metadata);		/* json_dumps() allocates with malloc */
    free(q->parties);
    free(q->documents);
    g_free(q->embed_text);
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
    p->report = fn;
    p->ctx = ctx;
    p->queue = new_queue();
    return p;
}


void crm_pipeline_free(crm_pipeline *p)
{
    if (p == NULL)
        return;
    finish_in_flight(p);
    for (guint i = 0; i < p->queue->len; i++)
        queued_clear(&g_array_index(p->queue, queued, i));
    g_array_free(p->queue, TRUE);
    g_free(p);
}

void crm_pipeline_report_failure(crm_pipeline *p, const char *ref, const char *reason)
{
    p->report(p->ctx, ref, CRM_OUTCOME_FAILED, reason);
}

/* A JSON string, or null. The parser promises valid UTF-8; should a
 * string still be refused, it is repaired rather than lost. */
static json_t *jstr(const char *s)
{
    json_t *j;

    if (s == NULL)
        return json_null();
    j = json_string(s);
    if (j == NULL) {
        char *fixed = g_utf8_make_valid(s, -1);
        j = json_string(fixed);
        g_free(fixed);
    }
    return j != NULL ? j : json_null();
}

static json_t *address_array(const crm_address_list *list)
{
    json_t *a = json_array();

    for (size_t i = 0; i < list->count; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "email", jstr(list->items[i].email));
        json_object_set_new(o, "name", jstr(list->items[i].name));
        json_array_append_new(a, o);
    }
    return a;
}

static char *parties_json(const crm_match *m)
{
    json_t *a = json_array();
    char *out;

    for (size_t i = 0; i < m->n_parties; i++) {
        const crm_party *pt = &m->parties[i];
        json_t *o = json_object();

        json_object_set_new(o, "email", jstr(pt->email));
        json_object_set_new(o, "display_name", jstr(pt->display_name));
        json_object_set_new(o, "first_name", jstr(pt->first_name));
        json_object_set_new(o, "last_name", jstr(pt->last_name));
        json_object_set_new(o, "role", json_string(crm_role_name(pt->role)));
        json_object_set_new(o, "user_id", jstr(pt->user_id));
        json_object_set_new(o, "internal", json_boolean(pt->internal));
        json_object_set_new(o, "account_domain", jstr(pt->account_domain));
        json_object_set_new(o, "account_name", jstr(pt->account_name));
        json_object_set_new(o, "primary", json_boolean(pt->primary));
        json_object_set_new(o, "acting_user", json_boolean(pt->acting_user));
        json_array_append_new(a, o);
    }
    out = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return out;
}

/* Truncate to at most max bytes without cutting a UTF-8 sequence. */
static char *utf8_prefix(const char *s, size_t max)
{
    size_t len = strlen(s);

    if (len <= max)
        return g_strdup(s);
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return g_strndup(s, max);
}

static bool sane_date(int64_t t, int64_t now)
{
    return t >= CRM_MIN_SANE_DATE && t <= now + CRM_MAX_CLOCK_SKEW;
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

static int write_attachments(crm_pipeline *p, const crm_message *msg, json_t *meta_list,
                             char **documents, char *err, size_t errlen)
{
    json_t *docs = json_array();

    for (size_t i = 0; i < msg->n_attachments; i++) {
        const crm_attachment *a = &msg->attachments[i];
        char *path = NULL;
        json_t *d, *m;

        if (crm_blob_put(p->opts.storage_dir, p->ws->id, a->sha256_hex, a->data, a->size,
                         &path, err, errlen) < 0) {
            json_decref(docs);
            return -1;
        }
        d = json_object();
        json_object_set_new(d, "file_name", jstr(a->filename ? a->filename : "attachment"));
        json_object_set_new(d, "file_path", jstr(path));
        json_object_set_new(d, "mime_type", jstr(a->content_type));
        json_object_set_new(d, "size", json_integer((json_int_t)a->size));
        json_array_append_new(docs, d);

        m = json_object();
        json_object_set_new(m, "file_name", jstr(a->filename));
        json_object_set_new(m, "mime_type", jstr(a->content_type));
        json_object_set_new(m, "size", json_integer((json_int_t)a->size));
        json_object_set_new(m, "sha256", json_string(a->sha256_hex));
        json_array_append_new(meta_list, m);
        g_free(path);
    }
    *documents = json_dumps(docs, JSON_COMPACT);
    json_decref(docs);
    return 0;
}

static char *metadata_json(const crm_pipeline *p, const crm_message *msg, const crm_match *m,
                           const char *ref, const char *date_source, json_t *attachments)
{
    json_t *o = json_object(), *refs = json_array();
    char *out;

    for (size_t i = 0; i < msg->n_references; i++)
        json_array_append_new(refs, jstr(msg->references[i]));
    json_object_set_new(o, "message_id", jstr(msg->message_id));
    json_object_set_new(o, "in_reply_to", jstr(msg->in_reply_to));
    json_object_set_new(o, "references", refs);
    json_object_set_new(o, "subject", jstr(msg->subject));
    json_object_set_new(o, "direction", json_string(crm_direction_name(m->direction)));
    json_object_set_new(o, "from", address_array(&msg->from));
    json_object_set_new(o, "to", address_array(&msg->to));
    json_object_set_new(o, "cc", address_array(&msg->cc));
    json_object_set_new(o, "bcc", address_array(&msg->bcc));
    json_object_set_new(o, "reply_to", address_array(&msg->reply_to));
    json_object_set_new(o, "attachments", attachments);
    json_object_set_new(o, "date_source", json_string(date_source));
    json_object_set_new(o, "source", jstr(p->opts.source));
    json_object_set_new(o, "source_ref", jstr(ref));
    json_object_set_new(o, "raw_sha256", json_string(msg->raw_sha256_hex));
    if (msg->list_id != NULL)
        json_object_set_new(o, "list_id", jstr(msg->list_id));
    if (msg->body_from_html)
        json_object_set_new(o, "body_from_html", json_true());
    if (msg->body_truncated)
        json_object_set_new(o, "body_truncated", json_true());
    if (m->n_invalid > 0) {
        json_t *bad = json_array();
        for (size_t i = 0; i < m->n_invalid; i++)
            json_array_append_new(bad, jstr(m->invalid[i]));
        json_object_set_new(o, "invalid_addresses", bad);
    }
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

int crm_pipeline_submit(crm_pipeline *p, const char *raw, size_t len, const char *ref,
                        int64_t receive_time, char *err, size_t errlen)
{
    crm_message *msg = NULL;
    char why[512];
    crm_parse_status st;
    crm_match m;
    queued q = { 0 };
    const char *date_source;
    json_t *attachments;
    char *text;
    int64_t now = (int64_t)time(NULL);

    st = crm_message_parse(raw, len, &p->opts.limits, &msg, why, sizeof why);
    if (st != CRM_PARSE_OK) {
        p->report(p->ctx, ref, CRM_OUTCOME_FAILED, why[0] ? why : crm_parse_status_str(st));
        return 0;
    }

    if (msg->has_date && sane_date(msg->date, now)) {
        q.interacted_at = msg->date;
        date_source = "date";
    } else if (msg->has_received_date && sane_date(msg->received_date, now)) {
        q.interacted_at = msg->received_date;
        date_source = "received";
    } else {
        q.interacted_at = receive_time;
        date_source = "ingest";
    }

    if (msg->auto_kind == CRM_AUTO_BOUNCE) {
        int rc = handle_bounce(p, msg, q.interacted_at, err, errlen);
        crm_message_free(msg);
        if (rc < 0)
            return -1;
        p->report(p->ctx, ref, CRM_OUTCOME_SKIPPED, "delivery status notification (bounce)");
        return 0;
    }
    if (msg->auto_kind == CRM_AUTO_REPLY) {
        g_snprintf(why, sizeof why, "automatic reply (%s)",
                   msg->auto_reason ? msg->auto_reason : "auto-submitted");
        crm_message_free(msg);
        p->report(p->ctx, ref, CRM_OUTCOME_SKIPPED, why);
        return 0;
    }

    crm_match_message(p->ws, msg, &m);
    attachments = json_array();
    if (write_attachments(p, msg, attachments, &q.documents, why, sizeof why) < 0) {
        json_decref(attachments);
        crm_match_clear(&m);
        crm_message_free(msg);
        p->report(p->ctx, ref, CRM_OUTCOME_FAILED, why);
        return 0;
    }

    q.ref = g_strdup(ref);
    q.dedup_key = msg->message_id != NULL && *msg->message_id
                ? g_strconcat("mid:", msg->message_id, NULL)
                : g_strconcat("sha256:", msg->raw_sha256_hex, NULL);
    text = msg->subject != NULL && *msg->subject
         ? g_strconcat(msg->subject, "\n\n", msg->body_text, NULL)
         : g_strdup(msg->body_text);
    q.content = text;
    q.embed_text = utf8_prefix(text, CRM_MAX_EMBED_TEXT);
    q.metadata = metadata_json(p, msg, &m, ref, date_source, attachments);
    q.parties = parties_json(&m);
    crm_match_clear(&m);
    crm_message_free(msg);

    g_array_append_val(p->queue, q);
    if (p->queue->len >= p->opts.batch_size)
        return send_batch(p, err, errlen);
    return 0;
}

static gpointer commit_batch(gpointer data)
{
    batch *b = data;
    crm_pipeline *p = b->p;
    guint n = b->queue->len;

    b->items = g_new0(crm_store_item, n);
    for (guint i = 0; i < n; i++) {
        queued *q = &g_array_index(b->queue, queued, i);
        b->items[i].dedup_key = q->dedup_key;
        b->items[i].source = p->opts.source;
        b->items[i].type = "email";
        b->items[i].interacted_at = q->interacted_at;
        b->items[i].content = q->content;
        b->items[i].metadata_json = q->metadata;
        b->items[i].parties_json = q->parties;
        b->items[i].documents_json = q->documents;
        b->items[i].embed_text = q->embed_text;
    }
    if (b->has_documents && crm_blob_sync(p->opts.storage_dir, b->err, sizeof b->err) < 0) {
        /* files not durable: store nothing that points at them */
        for (guint i = 0; i < n; i++) {
            b->items[i].outcome = CRM_STORE_REJECTED;
            g_strlcpy(b->items[i].error, b->err, sizeof b->items[i].error);
        }
        b->rc = 0;
        return NULL;
    }
    b->rc = crm_store_interactions(p->store, p->ws->id, p->opts.create_accounts, b->items, n,
                                   b->err, sizeof b->err);
    return NULL;
}

/* Wait for the batch in flight, report its outcomes, free it. Returns
 * its store status (-1: database unreachable, b->err says why). */
static int collect(crm_pipeline *p, char *err, size_t errlen)
{
    batch *b = p->in_flight;
    int rc;

    if (b == NULL)
        return 0;
    g_thread_join(p->committer);
    p->committer = NULL;
    p->in_flight = NULL;
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
    g_free(b);
    return rc;
}

static void finish_in_flight(crm_pipeline *p)
{
    char err[16];

    (void)collect(p, err, sizeof err);
}

/* Hand the filled queue to the store thread, after the previous batch. */
static int send_batch(crm_pipeline *p, char *err, size_t errlen)
{
    batch *b;

    if (collect(p, err, errlen) < 0)
        return -1;
    if (p->queue->len == 0)
        return 0;
    b = g_new0(batch, 1);
    b->p = p;
    b->queue = p->queue;
    for (guint i = 0; i < b->queue->len && !b->has_documents; i++)
        b->has_documents = strcmp(g_array_index(b->queue, queued, i).documents, "[]") != 0;
    p->queue = new_queue();
    p->in_flight = b;
    p->committer = g_thread_new("crmgate-store", commit_batch, b);
    return 0;
}

int crm_pipeline_flush(crm_pipeline *p, char *err, size_t errlen)
{
    if (send_batch(p, err, errlen) < 0)
        return -1;
    return collect(p, err, errlen) < 0 ? -1 : 0;
}
