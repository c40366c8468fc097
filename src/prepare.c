/*
 * NAME
 *	prepare 3 - the rows one parsed mail becomes in one workspace
 * DESCRIPTION
 *	See prepare.h. Builds the JSON that the store's SQL function takes
 *	(metadata, parties, documents) with jansson; the only place that
 *	knows both the parsed mail and the shape of the rows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <jansson.h>

#include "blobstore.h"
#include "forward.h"
#include "json_util.h"
#include "matcher.h"
#include "pipeline.h"
#include "prepare.h"

static json_t *address_array(const crm_address_list *list)
{
    json_t *a = json_array();

    for (size_t i = 0; i < list->count; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "email", crm_json_string(list->items[i].email));
        json_object_set_new(o, "name", crm_json_string(list->items[i].name));
        json_array_append_new(a, o);
    }
    return a;
}

/* acting_user: the user to credit when no party is one (the forwarder
 * of a forward): sent as an "acting_only" entry, which is no participant. */
/* Written as text: jansson's objects, one per party with eleven members,
 * cost more than the rest of preparing a mail's rows. */
static void member_string(GString *o, const char *key, const char *value)
{
    g_string_append_printf(o, ",\"%s\":", key);
    crm_json_append_string(o, value);
}

static void member_bool(GString *o, const char *key, bool value)
{
    g_string_append_printf(o, ",\"%s\":%s", key, value ? "true" : "false");
}

char *crm_prepare_parties_json(const crm_match *m, const char *acting_user)
{
    GString *o = g_string_sized_new(256 * (m->n_parties + 1));
    bool have_acting = false;

    g_string_append_c(o, '[');
    for (size_t i = 0; i < m->n_parties; i++) {
        const crm_party *pt = &m->parties[i];

        if (o->len > 1)
            g_string_append_c(o, ',');
        g_string_append(o, "{\"email\":");
        crm_json_append_string(o, pt->email);
        member_string(o, "display_name", pt->display_name);
        member_string(o, "first_name", pt->first_name);
        member_string(o, "last_name", pt->last_name);
        member_string(o, "role", crm_role_name(pt->role));
        member_string(o, "user_id", pt->user_id);
        member_bool(o, "internal", pt->internal);
        member_string(o, "account_domain", pt->account_domain);
        member_string(o, "account_name", pt->account_name);
        member_bool(o, "primary", pt->primary);
        member_bool(o, "acting_user", pt->acting_user);
        if (!pt->internal) {
            member_bool(o, "person", !pt->role_address);
            member_bool(o, "create", pt->create_contact);
        }
        g_string_append_c(o, '}');
        have_acting = have_acting || pt->acting_user;
    }
    if (!have_acting && acting_user != NULL) {
        if (o->len > 1)
            g_string_append_c(o, ',');
        g_string_append(o, "{\"acting_only\":true,\"acting_user\":true");
        member_string(o, "user_id", acting_user);
        g_string_append_c(o, '}');
    }
    g_string_append_c(o, ']');
    return g_string_free(o, FALSE);
}

char *crm_prepare_embed_text(const char *content, char *text)
{
    size_t len = strlen(text), max = CRM_MAX_EMBED_TEXT;
    char *cut;

    /* a long mail's own text was once cut here and so stored a second
     * time, as the job's input_text: 60 MB for 600 mails of 100-185 kB */
    if (len <= max || strcmp(text, content) == 0)
        return text;
    while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80)
        max--;
    cut = g_strndup(text, max);
    g_free(text);
    return cut;
}

static bool sane_date(int64_t t, int64_t now)
{
    return t >= CRM_MIN_SANE_DATE && t <= now + CRM_MAX_CLOCK_SKEW;
}

static int write_attachments(const char *storage_dir, const crm_workspace *ws,
                             const crm_message *msg, json_t *meta_list,
                             char **documents, char *err, size_t errlen)
{
    json_t *docs = json_array();

    for (size_t i = 0; i < msg->n_attachments; i++) {
        const crm_attachment *a = &msg->attachments[i];
        char *path = NULL;
        json_t *d, *m;

        if (crm_blob_put(storage_dir, ws->id, a->sha256_hex, a->data, a->size,
                         &path, err, errlen) < 0) {
            json_decref(docs);
            return -1;
        }
        d = json_object();
        json_object_set_new(d, "file_name", crm_json_string(a->filename ? a->filename : "attachment"));
        json_object_set_new(d, "file_path", crm_json_string(path));
        json_object_set_new(d, "mime_type", crm_json_string(a->content_type));
        json_object_set_new(d, "size", json_integer((json_int_t)a->size));
        json_array_append_new(docs, d);

        m = json_object();
        json_object_set_new(m, "file_name", crm_json_string(a->filename));
        json_object_set_new(m, "mime_type", crm_json_string(a->content_type));
        json_object_set_new(m, "size", json_integer((json_int_t)a->size));
        json_object_set_new(m, "sha256", json_string(a->sha256_hex));
        json_array_append_new(meta_list, m);
        g_free(path);
    }
    *documents = json_dumps(docs, JSON_COMPACT);
    json_decref(docs);
    return 0;
}

typedef struct forwarded {
    const crm_forward *fwd;	/* NULL: not a forward */
    const crm_message *outer;	/* the forwarding mail */
    const char *by;		/* the forwarder's address */
} forwarded;

static char *metadata_json(const char *source, const crm_message *msg, const crm_match *m,
                           const char *ref, const char *date_source, json_t *attachments,
                           const forwarded *fw)
{
    json_t *o = json_object(), *refs = json_array();
    char *out;

    for (size_t i = 0; i < msg->n_references; i++)
        json_array_append_new(refs, crm_json_string(msg->references[i]));
    json_object_set_new(o, "message_id", crm_json_string(msg->message_id));
    json_object_set_new(o, "in_reply_to", crm_json_string(msg->in_reply_to));
    json_object_set_new(o, "references", refs);
    json_object_set_new(o, "subject", crm_json_string(msg->subject));
    json_object_set_new(o, "direction", json_string(crm_direction_name(m->direction)));
    json_object_set_new(o, "from", address_array(&msg->from));
    json_object_set_new(o, "to", address_array(&msg->to));
    json_object_set_new(o, "cc", address_array(&msg->cc));
    json_object_set_new(o, "bcc", address_array(&msg->bcc));
    json_object_set_new(o, "reply_to", address_array(&msg->reply_to));
    json_object_set_new(o, "attachments", attachments);
    json_object_set_new(o, "date_source", json_string(date_source));
    json_object_set_new(o, "source", crm_json_string(source));
    json_object_set_new(o, "source_ref", crm_json_string(ref));
    json_object_set_new(o, "raw_sha256", json_string(msg->raw_sha256_hex));
    if (msg->list_id != NULL)
        json_object_set_new(o, "list_id", crm_json_string(msg->list_id));
    if (msg->body_from_html)
        json_object_set_new(o, "body_from_html", json_true());
    if (msg->body_truncated)
        json_object_set_new(o, "body_truncated", json_true());
    if (m->n_invalid > 0) {
        json_t *bad = json_array();
        for (size_t i = 0; i < m->n_invalid; i++)
            json_array_append_new(bad, crm_json_string(m->invalid[i]));
        json_object_set_new(o, "invalid_addresses", bad);
    }
    if (fw->fwd != NULL) {
        json_t *f = json_object();
        json_object_set_new(f, "by", crm_json_string(fw->by));
        json_object_set_new(f, "format", crm_json_string(fw->fwd->format));
        json_object_set_new(f, "note", crm_json_string(fw->fwd->note));
        json_object_set_new(f, "message_id", crm_json_string(fw->outer->message_id));
        json_object_set_new(f, "subject", crm_json_string(fw->outer->subject));
        json_object_set_new(o, "forwarded", f);
    }
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

const char *crm_prepare_skip_reason(const crm_message *msg, char *buf, size_t buflen)
{
    if (msg->auto_kind == CRM_AUTO_BOUNCE)
        return "delivery status notification (bounce)";
    if (msg->auto_kind == CRM_AUTO_REPLY) {
        g_snprintf(buf, buflen, "automatic reply (%s)",
                   msg->auto_reason ? msg->auto_reason : "auto-submitted");
        return buf;
    }
    return NULL;
}

int64_t crm_prepare_date(const crm_message *msg, int64_t receive_time, const char **source)
{
    int64_t now = (int64_t)time(NULL);

    if (msg->has_date && sane_date(msg->date, now)) {
        *source = "date";
        return msg->date;
    }
    if (msg->has_received_date && sane_date(msg->received_date, now)) {
        *source = "received";
        return msg->received_date;
    }
    *source = "ingest";
    return receive_time;
}

/* The forwarder, when the mail is a forward by one of the workspace's
 * own people; a customer forwarding something to the dropbox is logged
 * as what it is. */
static crm_forward *internal_forward(const crm_workspace *ws, const crm_message *msg,
                                     char **by)
{
    char *from;
    crm_forward *f = NULL;

    *by = NULL;
    if (msg->from.count == 0 || (from = crm_email_normalise(msg->from.items[0].email)) == NULL)
        return NULL;
    if (crm_workspace_is_internal(ws, from))
        f = crm_forward_detect(msg, NULL);
    if (f != NULL)
        *by = from;
    else
        g_free(from);
    return f;
}

/* "Subject\n\nbody", or the body alone; g_free() it. */
static char *subject_and(const crm_message *msg, const char *body)
{
    return msg->subject != NULL && *msg->subject ? g_strconcat(msg->subject, "\n\n", body, NULL)
                                                  : g_strdup(body);
}

char *crm_prepare_blocked_reason(const crm_match *m)
{
    GString *s;

    if (!crm_match_only_blocked(m))
        return NULL;
    s = g_string_new("every external party is on the workspace's blocklist:");
    for (size_t i = 0; i < m->n_blocked && i < 5; i++)
        g_string_append_printf(s, "%s %s", i > 0 ? "," : "", m->blocked[i]);
    if (m->n_blocked > 5)
        g_string_append_printf(s, " and %zu more", m->n_blocked - 5);
    return g_string_free(s, FALSE);
}

int crm_prepare_rows(const crm_workspace *ws, const char *storage_dir, const char *source,
                     crm_contact_policy policy, const crm_message *msg, const char *ref,
                     int64_t receive_time, crm_prepared *out, char *why, size_t whylen)
{
    const char *date_source;
    json_t *attachments = json_array();
    crm_match m;
    char *text, *by = NULL;
    forwarded fw = { NULL, msg, NULL };
    crm_forward *fwd = internal_forward(ws, msg, &by);
    const crm_message *eff = msg;	/* the mail the interaction is about */

    memset(out, 0, sizeof *out);
    if (fwd != NULL) {
        fw.fwd = fwd;
        fw.by = by;
        eff = fwd->original;
    }
    /* an original without a usable date happened when it was forwarded */
    out->interacted_at = crm_prepare_date(eff, crm_prepare_date(msg, receive_time, &date_source),
                                          &date_source);
    crm_match_message(ws, eff, &m);
    crm_match_apply_policy(&m, policy);
    out->skip = crm_prepare_blocked_reason(&m);
    if (out->skip != NULL) {
        json_decref(attachments);
        crm_match_clear(&m);
        crm_forward_free(fwd);
        g_free(by);
        return 0;
    }
    if (fwd != NULL && m.user_id == NULL)
        m.user_id = crm_workspace_user(ws, by);
    if (write_attachments(storage_dir, ws, msg, attachments, &out->documents, why, whylen) < 0) {
        json_decref(attachments);
        crm_match_clear(&m);
        crm_forward_free(fwd);
        g_free(by);
        return -1;
    }
    /* an attached original has its own Message-ID: the same mail seen
     * in a synced mailbox is then the same interaction */
    if (fwd != NULL && strcmp(fwd->format, "attached") == 0 && eff->message_id != NULL)
        out->dedup_key = g_strconcat("mid:", eff->message_id, NULL);
    else
        out->dedup_key = msg->message_id != NULL && *msg->message_id
                       ? g_strconcat("mid:", msg->message_id, NULL)
                       : g_strconcat("sha256:", msg->raw_sha256_hex, NULL);
    out->content = subject_and(eff, eff->body_text);
    /* the AI reads what this mail adds, not the thread it quotes */
    text = subject_and(eff, eff->body_new_text != NULL ? eff->body_new_text : eff->body_text);
    out->embed_text = crm_prepare_embed_text(out->content, text);
    out->metadata = metadata_json(source, eff, &m, ref, date_source, attachments, &fw);
    out->parties = crm_prepare_parties_json(&m, m.user_id);
    out->has_documents = msg->n_attachments > 0;
    crm_match_clear(&m);
    crm_forward_free(fwd);
    g_free(by);
    return 0;
}

void crm_prepared_item(const crm_prepared *p, const char *source, crm_store_item *item)
{
    memset(item, 0, sizeof *item);
    item->dedup_key = p->dedup_key;
    item->source = source;
    item->type = p->type != NULL ? p->type : "email";
    item->interacted_at = p->interacted_at;
    item->content = p->content;
    item->metadata_json = p->metadata;
    item->parties_json = p->parties;
    item->documents_json = p->documents;
    item->embed_text = p->embed_text;
    item->replace = p->replace;
    item->revision = p->revision;
    item->fingerprint = p->fingerprint;
}

void crm_prepared_clear(crm_prepared *p)
{
    g_free(p->dedup_key);
    g_free(p->content);
    free(p->metadata);		/* json_dumps() allocates with malloc */
    free(p->parties);
    free(p->documents);
    g_free(p->embed_text);
    g_free(p->fingerprint);
    g_free(p->skip);
    memset(p, 0, sizeof *p);
}
