/*
 * NAME
 *	prepare 3 - the rows one parsed mail becomes in one workspace
 * DESCRIPTION
 *	See prepare.h. Writes the JSON that the store's SQL function takes
 *	(metadata, parties, documents) as text, member by member: building
 *	jansson objects for it, per mail, cost more than the rest of
 *	preparing the rows. The only place that knows both the parsed mail
 *	and the shape of the rows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>

#include "blobstore.h"
#include "forward.h"
#include "json_util.h"
#include "matcher.h"
#include "pipeline.h"
#include "prepare.h"

/* An array's element index opened as an object with its first member:
 * [,]{"key":value */
static void open_object(GString *o, size_t index, const char *key, const char *value)
{
    g_string_append_printf(o, "%s{\"%s\":", index > 0 ? "," : "", key);
    crm_json_append_string(o, value);
}

/* The members of an object after its first: ,"key":value */
static void member_string(GString *o, const char *key, const char *value)
{
    g_string_append_printf(o, ",\"%s\":", key);
    crm_json_append_string(o, value);
}

static void member_bool(GString *o, const char *key, bool value)
{
    g_string_append_printf(o, ",\"%s\":%s", key, value ? "true" : "false");
}

static void member_size(GString *o, const char *key, size_t value)
{
    g_string_append_printf(o, ",\"%s\":%zu", key, value);
}

static void member_addresses(GString *o, const char *key, const crm_address_list *list)
{
    g_string_append_printf(o, ",\"%s\":[", key);
    for (size_t i = 0; i < list->count; i++) {
        open_object(o, i, "email", list->items[i].email);
        member_string(o, "name", list->items[i].name);
        g_string_append_c(o, '}');
    }
    g_string_append_c(o, ']');
}

static void member_strings(GString *o, const char *key, char *const *items, size_t n)
{
    g_string_append_printf(o, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            g_string_append_c(o, ',');
        crm_json_append_string(o, items[i]);
    }
    g_string_append_c(o, ']');
}

/* acting_user: the user to credit when no party is one (the forwarder
 * of a forward): sent as an "acting_only" entry, which is no participant. */
char *crm_prepare_parties_json(const crm_match *m, const char *acting_user)
{
    GString *o = g_string_sized_new(256 * (m->n_parties + 1));
    bool have_acting = false;

    g_string_append_c(o, '[');
    for (size_t i = 0; i < m->n_parties; i++) {
        const crm_party *pt = &m->parties[i];

        open_object(o, i, "email", pt->email);
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

/* text cut, in place, to at most max bytes on a UTF-8 boundary. */
static char *cut_to(char *text, size_t max)
{
    if (strlen(text) > max) {
        while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80)
            max--;
        text[max] = '\0';
    }
    return text;
}

static bool sane_date(int64_t t, int64_t now)
{
    return t >= CRM_MIN_SANE_DATE && t <= now + CRM_MAX_CLOCK_SKEW;
}

static int write_attachments(const char *storage_dir, const crm_workspace *ws,
                             const crm_message *msg, char **documents, char *err, size_t errlen)
{
    GString *docs = g_string_new("[");

    for (size_t i = 0; i < msg->n_attachments; i++) {
        const crm_attachment *a = &msg->attachments[i];
        char *path = NULL;

        if (crm_blob_put(storage_dir, ws->id, a->sha256_hex, a->data, a->size,
                         &path, err, errlen) < 0) {
            g_string_free(docs, TRUE);
            return -1;
        }
        open_object(docs, i, "file_name", a->filename ? a->filename : "attachment");
        member_string(docs, "file_path", path);
        member_string(docs, "mime_type", a->content_type);
        member_size(docs, "size", a->size);
        g_string_append_c(docs, '}');
        g_free(path);
    }
    g_string_append_c(docs, ']');
    *documents = g_string_free(docs, FALSE);
    return 0;
}

typedef struct forwarded {
    const crm_forward *fwd;	/* NULL: not a forward */
    const crm_message *outer;	/* the forwarding mail */
    const char *by;		/* the forwarder's address */
} forwarded;

/* msg: the mail the interaction is about; outer: the one that came,
 * whose attachments were stored. */
static char *metadata_json(const char *source, const crm_message *msg, const crm_message *outer,
                           const crm_match *m, const char *ref, const char *date_source,
                           const forwarded *fw)
{
    GString *o = g_string_sized_new(1024);

    g_string_append(o, "{\"message_id\":");
    crm_json_append_string(o, msg->message_id);
    member_string(o, "in_reply_to", msg->in_reply_to);
    member_strings(o, "references", msg->references, msg->n_references);
    member_string(o, "subject", msg->subject);
    member_string(o, "direction", crm_direction_name(m->direction));
    member_addresses(o, "from", &msg->from);
    member_addresses(o, "to", &msg->to);
    member_addresses(o, "cc", &msg->cc);
    member_addresses(o, "bcc", &msg->bcc);
    member_addresses(o, "reply_to", &msg->reply_to);
    g_string_append(o, ",\"attachments\":[");
    for (size_t i = 0; i < outer->n_attachments; i++) {
        const crm_attachment *a = &outer->attachments[i];
        open_object(o, i, "file_name", a->filename);
        member_string(o, "mime_type", a->content_type);
        member_size(o, "size", a->size);
        member_string(o, "sha256", a->sha256_hex);
        g_string_append_c(o, '}');
    }
    g_string_append_c(o, ']');
    member_string(o, "date_source", date_source);
    member_string(o, "source", source);
    member_string(o, "source_ref", ref);
    if (msg->raw_sha256_hex[0] != '\0')
        member_string(o, "raw_sha256", msg->raw_sha256_hex);
    if (msg->list_id != NULL)
        member_string(o, "list_id", msg->list_id);
    if (msg->body_from_html)
        member_bool(o, "body_from_html", true);
    if (msg->body_truncated)
        member_bool(o, "body_truncated", true);
    if (m->n_invalid > 0)
        member_strings(o, "invalid_addresses", m->invalid, m->n_invalid);
    if (fw->fwd != NULL) {
        g_string_append(o, ",\"forwarded\":{\"by\":");
        crm_json_append_string(o, fw->by);
        member_string(o, "format", fw->fwd->format);
        member_string(o, "note", fw->fwd->note);
        member_string(o, "message_id", fw->outer->message_id);
        member_string(o, "subject", fw->outer->subject);
        g_string_append_c(o, '}');
    }
    g_string_append_c(o, '}');
    return g_string_free(o, FALSE);
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
    crm_match m;
    char *by = NULL;
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
        crm_match_clear(&m);
        crm_forward_free(fwd);
        g_free(by);
        return 0;
    }
    if (fwd != NULL && m.user_id == NULL)
        m.user_id = crm_workspace_user(ws, by);
    if (write_attachments(storage_dir, ws, msg, &out->documents, why, whylen) < 0) {
        crm_match_clear(&m);
        crm_forward_free(fwd);
        g_free(by);
        return -1;
    }
    /* an attached original has its own Message-ID: the same mail seen
     * in a synced mailbox is then the same interaction */
    if (fwd != NULL && strcmp(fwd->format, "attached") == 0 && crm_message_has_id(eff))
        out->dedup_key = g_strconcat("mid:", eff->message_id, NULL);
    else
        out->dedup_key = crm_message_has_id(msg)
                       ? g_strconcat("mid:", msg->message_id, NULL)
                       : g_strconcat("sha256:", msg->raw_sha256_hex, NULL);
    out->content = subject_and(eff, eff->body_text);
    /* The AI reads what this mail adds, not the thread it quotes. Most
     * mail quotes nothing: its content is the text, queued as itself
     * however long (the worker cuts it to the model's context and says
     * so), so that the store keeps no second copy. */
    if (eff->body_new_text != eff->body_text)
        out->embed_text = cut_to(subject_and(eff, eff->body_new_text), CRM_MAX_EMBED_TEXT);
    out->metadata = metadata_json(source, eff, msg, &m, ref, date_source, &fw);
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
    item->embed_text = p->embed_text != NULL ? p->embed_text : p->content;
    item->replace = p->replace;
    item->revision = p->revision;
    item->fingerprint = p->fingerprint;
}

void crm_prepared_clear(crm_prepared *p)
{
    g_free(p->dedup_key);
    g_free(p->content);
    free(p->metadata);		/* g_malloc() is malloc(), as json_dumps() */
    free(p->parties);
    free(p->documents);
    g_free(p->embed_text);
    g_free(p->fingerprint);
    g_free(p->skip);
    memset(p, 0, sizeof *p);
}
