/*
 * NAME
 *	dropbox_trust 3 - whose mail may reach a workspace's BCC dropbox
 * DESCRIPTION
 *	See dropbox_trust.h.
 */
#include <string.h>
#include <glib.h>

#include "domains.h"
#include "dropbox_trust.h"
#include "matcher.h"

static const char *domain_of(const char *address)
{
    const char *at = strrchr(address, '@');

    return at != NULL ? at + 1 : address;
}

static bool trusted_id(const crm_trust_input *in, const char *id)
{
    for (size_t i = 0; in->trusted_ids != NULL && in->trusted_ids[i] != NULL; i++)
        if (*id != '\0' && strcmp(in->trusted_ids[i], id) == 0)
            return true;
    return false;
}

/* "@Sub.Example.COM", "joe@example.com", "example.com" -> lower-case domain */
static char *prop_domain(const char *value)
{
    char *d;

    if (value == NULL)
        return NULL;
    d = g_ascii_strdown(domain_of(value), -1);
    g_strstrip(d);
    if (*d == '\0') {
        g_free(d);
        return NULL;
    }
    return d;
}

/* Whether a domain's registrable part is reg (the From domain's). */
static bool has_registrable(const char *domain, const char *reg)
{
    char *r = crm_domain_registrable(domain);
    bool same = r != NULL && reg != NULL && strcmp(r, reg) == 0;

    g_free(r);
    return same;
}

/* Walks the results of the trusted Authentication-Results fields: the
 * next one after the cursor, or NULL; *at names its authserv-id. */
typedef struct trusted_cursor {
    size_t field, result;
} trusted_cursor;

static const crm_auth_result *next_trusted(const crm_trust_input *in, trusted_cursor *c,
                                           const char **at)
{
    for (; c->field < in->n_auth; c->field++, c->result = 0) {
        const crm_auth_results *ar = in->auth[c->field];
        if (ar == NULL || !trusted_id(in, ar->authserv_id) || c->result >= ar->n_results)
            continue;
        *at = ar->authserv_id;
        return &ar->results[c->result++];
    }
    return NULL;
}

/* What the trusted fields say of a From address: true authenticated;
 * *dmarc_failed: a trusted DMARC verdict for its domain was no pass
 * (*failed_at: where). */
static bool from_authenticated(const crm_trust_input *in, const char *address, bool *dmarc_failed,
                               const char **failed_at)
{
    const char *dom = domain_of(address), *at = NULL;
    char *reg = NULL;		/* dom's registrable part, when a DKIM pass needs it */
    trusted_cursor c = { 0, 0 };
    const crm_auth_result *r;
    bool ok = false;

    while (!ok && (r = next_trusted(in, &c, &at)) != NULL) {
        bool pass = strcmp(r->result, "pass") == 0;

        if (strcmp(r->method, "dmarc") == 0) {
            char *hf = prop_domain(crm_auth_result_prop(r, "header.from"));
            bool mine = hf != NULL && strcmp(hf, dom) == 0;
            g_free(hf);
            if (mine && pass)
                ok = true;
            else if (mine && !*dmarc_failed) {
                *dmarc_failed = true;
                *failed_at = at;
            }
        } else if (strcmp(r->method, "dkim") == 0 && pass) {
            const char *names[] = { "header.d", "header.i" };
            if (reg == NULL)
                reg = crm_domain_registrable(dom);
            for (size_t k = 0; k < G_N_ELEMENTS(names) && !ok; k++) {
                char *d = prop_domain(crm_auth_result_prop(r, names[k]));
                ok = d != NULL && has_registrable(d, reg);
                g_free(d);
            }
        }
    }
    g_free(reg);
    return ok;
}

static bool envelope_authenticated(const crm_trust_input *in, const char *address)
{
    trusted_cursor c = { 0, 0 };
    const crm_auth_result *r;
    const char *at;

    while ((r = next_trusted(in, &c, &at)) != NULL) {
        const char *mf = crm_auth_result_prop(r, "smtp.mailfrom");
        if (strcmp(r->method, "spf") != 0 || strcmp(r->result, "pass") != 0 || mf == NULL)
            continue;
        /* smtp.mailfrom is the whole address, or (Microsoft) its domain */
        if (g_ascii_strcasecmp(mf, address) == 0 ||
            (strchr(mf, '@') == NULL && g_ascii_strcasecmp(mf, domain_of(address)) == 0))
            return true;
    }
    return false;
}

static const char *first_trusted(const crm_trust_input *in)
{
    for (size_t f = 0; f < in->n_auth; f++)
        if (in->auth[f] != NULL && trusted_id(in, in->auth[f]->authserv_id))
            return in->auth[f]->authserv_id;
    return NULL;
}

/* The reason goes into an SMTP reply: printable ASCII only. */
static void set_why(char *why, size_t whylen, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (whylen == 0)
        return;
    va_start(ap, fmt);
    g_vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    for (char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
}

bool crm_dropbox_trusted(const crm_workspace *ws, const crm_trust_input *in,
                         char *why, size_t whylen)
{
    const char *checker;
    char *env;
    char *named = NULL;		/* a user address that was not authenticated */
    bool any_user = false, dmarc_failed = false, ok = false;
    const char *failed_at = NULL;

    if (whylen > 0)
        why[0] = '\0';
    if (ws->dropbox_anyone)
        return true;
    checker = first_trusted(in);
    env = crm_email_normalise(in->envelope_from);
    for (size_t i = 0; in->from != NULL && i < in->from->count && !ok; i++) {
        char *a = crm_email_normalise(in->from->items[i].email);
        if (a != NULL && crm_workspace_user(ws, a) != NULL) {
            any_user = true;
            ok = checker == NULL || from_authenticated(in, a, &dmarc_failed, &failed_at);
            if (!ok && named == NULL)
                named = g_strdup(a);
        }
        g_free(a);
    }
    if (!ok && env != NULL && crm_workspace_user(ws, env) != NULL) {
        any_user = true;
        ok = checker == NULL || envelope_authenticated(in, env);
        if (!ok && named == NULL)
            named = g_strdup(env);
    }
    if (!ok && !any_user) {
        char *sender = crm_dropbox_sender(in->envelope_from, in->from);
        set_why(why, whylen, "sender %s is not a user of workspace %s (dropbox senders: users)",
                sender != NULL ? sender : "<>", ws->name);
        g_free(sender);
    } else if (!ok && dmarc_failed) {
        set_why(why, whylen, "sender %s of workspace %s failed DMARC at %s", named, ws->name,
                failed_at);
    } else if (!ok) {
        set_why(why, whylen, "sender %s of workspace %s is not authenticated at %s "
                "(no DMARC or aligned DKIM pass for its From, no SPF pass for its envelope)",
                named, ws->name, checker);
    }
    g_free(named);
    g_free(env);
    return ok;
}

char *crm_dropbox_sender(const char *envelope_from, const crm_address_list *from)
{
    for (size_t i = 0; from != NULL && i < from->count; i++) {
        char *a = crm_email_normalise(from->items[i].email);
        if (a != NULL)
            return a;
    }
    return crm_email_normalise(envelope_from);
}

char **crm_dropbox_trusted_ids(const char *list)
{
    GPtrArray *ids;
    char **parts;

    if (list == NULL || *list == '\0')
        return NULL;
    ids = g_ptr_array_new();
    parts = g_strsplit_set(list, ", \t", -1);
    for (size_t i = 0; parts[i] != NULL; i++)
        if (*parts[i] != '\0')
            g_ptr_array_add(ids, g_ascii_strdown(parts[i], -1));
    g_strfreev(parts);
    if (ids->len == 0) {
        g_ptr_array_free(ids, TRUE);
        return NULL;
    }
    g_ptr_array_add(ids, NULL);
    return (char **)g_ptr_array_free(ids, FALSE);
}
