/*
 * NAME
 *	matcher 3 - who took part in a mail or meeting, and who it is for
 * DESCRIPTION
 *	See matcher.h. Pure policy: no database, no I/O.
 */
#include <string.h>
#include <glib.h>

#include "domains.h"
#include "matcher.h"

const char *crm_role_name(crm_role role)
{
    static const char *const names[CRM_ROLE_COUNT] = {
        "from", "to", "cc", "bcc", "reply_to", "organizer", "attendee"
    };
    return role < CRM_ROLE_COUNT ? names[role] : "to";
}

const char *crm_direction_name(crm_direction dir)
{
    switch (dir) {
    case CRM_DIR_INBOUND: return "inbound";
    case CRM_DIR_OUTBOUND: return "outbound";
    default: return "internal";
    }
}

char *crm_email_normalise(const char *raw)
{
    char *s, *at;
    size_t len;

    if (raw == NULL)
        return NULL;
    s = g_strstrip(g_strdup(raw));
    len = strlen(s);
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        memmove(s, s + 1, len - 2);
        s[len - 2] = '\0';
        g_strstrip(s);
    }
    /* The mailbox part is case-sensitive by RFC 5321, but no real system
     * treats it so, and a CRM must see John@X and john@x as one person. */
    for (char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' ||
            *p == ',' || *p == ';') {
            g_free(s);
            return NULL;
        }
        *p = g_ascii_tolower(*p);
    }
    at = strrchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(s, '@') != at ||
        at[1] == '.' || s[strlen(s) - 1] == '.' || strlen(s) > 320) {
        g_free(s);
        return NULL;
    }
    return s;
}

void crm_name_split(const char *display, char **first, char **last)
{
    char *name, *comma, *space;

    *first = *last = NULL;
    if (display == NULL)
        return;
    name = g_strstrip(g_strdup(display));
    /* strip one pair of stray quotes some clients leave around names */
    if (name[0] == '"' || name[0] == '\'') {
        size_t n = strlen(name);
        if (n >= 2 && name[n - 1] == name[0]) {
            name[n - 1] = '\0';
            memmove(name, name + 1, n - 1);
            g_strstrip(name);
        }
    }
    if (*name == '\0' || strchr(name, '@') != NULL) {
        g_free(name);
        return;
    }
    comma = strchr(name, ',');
    if (comma != NULL) {
        /* "Smith, John" is the directory order used by Exchange */
        *comma = '\0';
        char *l = g_strstrip(g_strdup(name));
        char *f = g_strstrip(g_strdup(comma + 1));
        *last = *l ? l : (g_free(l), NULL);
        *first = *f ? f : (g_free(f), NULL);
    } else if ((space = strrchr(name, ' ')) != NULL) {
        *space = '\0';
        *first = g_strstrip(g_strdup(name));
        *last = g_strdup(space + 1);
    } else {
        *first = g_strdup(name);
    }
    g_free(name);
}

/* Mailboxes of a function or a machine, not of a person. Matched on the
 * whole local part (a +tag removed); the prefixes below also catch
 * "noreply-billing" and "bounces-1234". A short list on purpose: a
 * person named "Sales" exists, a person at "sales@" is a team. */
static const char *const role_local_parts[] = {
    "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
    "mailer-daemon", "mailerdaemon", "postmaster", "hostmaster", "webmaster", "abuse",
    "bounce", "bounces", "daemon", "root", "nobody",
    "info", "information", "support", "help", "helpdesk", "servicedesk", "service",
    "customerservice", "customer-service", "customercare", "care", "sales", "billing",
    "invoice", "invoices", "accounts", "accounting", "accountspayable", "payments",
    "orders", "order", "notifications", "notification", "notify", "alerts", "alert",
    "news", "newsletter", "newsletters", "marketing", "updates", "mailer", "mail",
    "hello", "hi", "contact", "contactus", "enquiries", "enquiry", "inquiries", "office",
    "admin", "administrator", "team", "hr", "jobs", "careers", "recruiting", "press",
    "media", "security", "privacy", "legal", "compliance", "feedback", "reply",
    "calendar-notification", "calendar-server", "automated", "system", "devnull",
    NULL
};
static const char *const role_prefixes[] = {
    "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
    "bounce", "mailer-daemon", NULL
};

bool crm_email_is_role_address(const char *email)
{
    const char *at = strrchr(email, '@');
    size_t n = at != NULL ? (size_t)(at - email) : strlen(email);
    const char *plus = memchr(email, '+', n);
    char local[65];

    if (plus != NULL)
        n = (size_t)(plus - email);
    if (n == 0 || n >= sizeof local)
        return false;
    memcpy(local, email, n);
    local[n] = '\0';
    for (size_t i = 0; role_local_parts[i] != NULL; i++)
        if (strcmp(local, role_local_parts[i]) == 0)
            return true;
    for (size_t i = 0; role_prefixes[i] != NULL; i++) {
        size_t k = strlen(role_prefixes[i]);
        if (strncmp(local, role_prefixes[i], k) == 0 &&
            (local[k] == '-' || local[k] == '_' || local[k] == '.' || g_ascii_isdigit(local[k])))
            return true;
    }
    return false;
}

static void party_clear(crm_party *p)
{
    g_free(p->email);
    g_free(p->display_name);
    g_free(p->first_name);
    g_free(p->last_name);
    g_free(p->account_domain);
    g_free(p->account_name);
}

static bool has_party(GArray *parties, const char *email, crm_role role)
{
    for (guint i = 0; i < parties->len; i++) {
        crm_party *p = &g_array_index(parties, crm_party, i);
        if (p->role == role && strcmp(p->email, email) == 0)
            return true;
    }
    return false;
}

static void classify(const crm_workspace *ws, crm_party *p)
{
    const char *domain = strrchr(p->email, '@') + 1;

    char *reg;

    p->user_id = crm_workspace_user(ws, p->email);
    p->internal = p->user_id != NULL || crm_workspace_owns_domain(ws, domain);
    if (p->internal)
        return;
    p->role_address = crm_email_is_role_address(p->email);
    p->create_contact = !p->role_address;
    reg = crm_domain_registrable(domain);
    if (crm_workspace_is_freemail(ws, reg)) {
        g_free(reg);
        return;
    }
    p->account_domain = reg;
    p->account_name = crm_domain_account_name(p->account_domain);
}

/* First party of the given role matching want_internal, or -1. */
static int find_party(GArray *parties, crm_role role, bool want_internal, bool need_user)
{
    for (guint i = 0; i < parties->len; i++) {
        crm_party *p = &g_array_index(parties, crm_party, i);
        if (p->role != role || p->internal != want_internal)
            continue;
        if (need_user && p->user_id == NULL)
            continue;
        return (int)i;
    }
    return -1;
}

/* The main external party: a person of the first role in roles[] that
 * has one, else a role address (it still names the account). */
static int find_primary(GArray *parties, const crm_role *roles, size_t n_roles)
{
    int role_addr = -1;

    for (size_t k = 0; k < n_roles; k++) {
        for (guint i = 0; i < parties->len; i++) {
            crm_party *p = &g_array_index(parties, crm_party, i);
            if (p->role != roles[k] || p->internal)
                continue;
            if (!p->role_address)
                return (int)i;
            if (role_addr < 0)
                role_addr = (int)i;
        }
    }
    return role_addr;
}

void crm_match_addresses(const crm_workspace *ws,
                         const crm_address_list *const by_role[CRM_ROLE_COUNT],
                         crm_match *out)
{
    GArray *parties = g_array_new(FALSE, TRUE, sizeof(crm_party));
    GPtrArray *invalid = g_ptr_array_new();
    GPtrArray *blocked = g_ptr_array_new();
    static const crm_role recipient_roles[] = { CRM_ROLE_TO, CRM_ROLE_CC, CRM_ROLE_BCC,
                                                CRM_ROLE_ATTENDEE };
    bool any_external = false, sender_internal = false, have_sender = false;
    int primary = -1, acting = -1;

    memset(out, 0, sizeof *out);
    for (int r = 0; r < CRM_ROLE_COUNT; r++) {
        const crm_address_list *list = by_role[r];
        if (list == NULL)
            continue;
        for (size_t i = 0; i < list->count; i++) {
            char *email = crm_email_normalise(list->items[i].email);
            crm_party p = { 0 };

            if (email == NULL) {
                g_ptr_array_add(invalid, g_strdup(list->items[i].email));
                continue;
            }
            if (has_party(parties, email, (crm_role)r) || crm_workspace_is_dropbox(ws, email)) {
                g_free(email);
                continue;
            }
            if (crm_workspace_blocked_by(ws, email) != NULL) {
                if (!g_ptr_array_find_with_equal_func(blocked, email, g_str_equal, NULL))
                    g_ptr_array_add(blocked, email);
                else
                    g_free(email);
                continue;
            }
            p.email = email;
            p.role = (crm_role)r;
            if (list->items[i].name != NULL && *list->items[i].name != '\0')
                p.display_name = g_strdup(list->items[i].name);
            crm_name_split(p.display_name, &p.first_name, &p.last_name);
            classify(ws, &p);
            g_array_append_val(parties, p);
        }
    }

    /* Direction counts only the parties that carried the mail: a
     * Reply-To alone does not make an internal memo a conversation. */
    for (guint i = 0; i < parties->len; i++) {
        crm_party *p = &g_array_index(parties, crm_party, i);
        if (p->role == CRM_ROLE_REPLY_TO)
            continue;
        if (!p->internal)
            any_external = true;
        if (p->role == CRM_ROLE_FROM || p->role == CRM_ROLE_ORGANIZER) {
            if (!have_sender)
                sender_internal = p->internal;
            have_sender = true;
        }
    }

    if (!any_external) {
        out->direction = CRM_DIR_INTERNAL;
    } else if (have_sender && sender_internal) {
        out->direction = CRM_DIR_OUTBOUND;
        primary = find_primary(parties, recipient_roles, G_N_ELEMENTS(recipient_roles));
    } else {
        static const crm_role inbound_roles[] = { CRM_ROLE_FROM, CRM_ROLE_ORGANIZER };
        out->direction = CRM_DIR_INBOUND;
        /* the sender, even a role address: its domain names the account */
        primary = find_primary(parties, inbound_roles, G_N_ELEMENTS(inbound_roles));
        if (primary < 0)
            primary = find_primary(parties, recipient_roles, G_N_ELEMENTS(recipient_roles));
    }

    /* The acting user: whoever of ours sent it, else who received it. */
    acting = find_party(parties, CRM_ROLE_FROM, true, true);
    if (acting < 0)
        acting = find_party(parties, CRM_ROLE_ORGANIZER, true, true);
    for (size_t k = 0; k < G_N_ELEMENTS(recipient_roles) && acting < 0; k++)
        acting = find_party(parties, recipient_roles[k], true, true);

    out->n_parties = parties->len;
    out->parties = (crm_party *)g_array_free(parties, FALSE);
    if (primary >= 0) {
        out->parties[primary].primary = true;
        out->primary = &out->parties[primary];
    }
    if (acting >= 0) {
        out->parties[acting].acting_user = true;
        out->user_id = out->parties[acting].user_id;
    }
    out->n_invalid = invalid->len;
    out->invalid = (char **)g_ptr_array_free(invalid, FALSE);
    out->n_blocked = blocked->len;
    out->blocked = (char **)g_ptr_array_free(blocked, FALSE);
}

void crm_match_apply_policy(crm_match *m, crm_contact_policy policy)
{
    for (size_t i = 0; i < m->n_parties; i++) {
        crm_party *p = &m->parties[i];
        bool written_to = p->role == CRM_ROLE_TO || p->role == CRM_ROLE_CC ||
                          p->role == CRM_ROLE_BCC || p->role == CRM_ROLE_ATTENDEE;

        if (policy == CRM_CONTACTS_NONE ||
            (policy == CRM_CONTACTS_SENT && !(m->direction == CRM_DIR_OUTBOUND && written_to)))
            p->create_contact = false;
    }
}

bool crm_match_only_blocked(const crm_match *m)
{
    if (m->n_blocked == 0)
        return false;
    for (size_t i = 0; i < m->n_parties; i++)
        if (!m->parties[i].internal)
            return false;
    return true;
}

bool crm_contact_policy_parse(const char *name, crm_contact_policy *out)
{
    for (int p = CRM_CONTACTS_SENT_AND_RECEIVED; p <= CRM_CONTACTS_NONE; p++) {
        if (name != NULL && strcmp(name, crm_contact_policy_name((crm_contact_policy)p)) == 0) {
            *out = (crm_contact_policy)p;
            return true;
        }
    }
    return false;
}

const char *crm_contact_policy_name(crm_contact_policy policy)
{
    switch (policy) {
    case CRM_CONTACTS_SENT: return "sent";
    case CRM_CONTACTS_NONE: return "none";
    default: return "sent_and_received";
    }
}

void crm_match_message(const crm_workspace *ws, const crm_message *msg, crm_match *out)
{
    const crm_address_list *by_role[CRM_ROLE_COUNT] = { 0 };

    by_role[CRM_ROLE_FROM] = &msg->from;
    by_role[CRM_ROLE_TO] = &msg->to;
    by_role[CRM_ROLE_CC] = &msg->cc;
    by_role[CRM_ROLE_BCC] = &msg->bcc;
    by_role[CRM_ROLE_REPLY_TO] = &msg->reply_to;
    crm_match_addresses(ws, by_role, out);
}

void crm_match_clear(crm_match *m)
{
    for (size_t i = 0; i < m->n_parties; i++)
        party_clear(&m->parties[i]);
    g_free(m->parties);
    for (size_t i = 0; i < m->n_invalid; i++)
        g_free(m->invalid[i]);
    g_free(m->invalid);
    for (size_t i = 0; i < m->n_blocked; i++)
        g_free(m->blocked[i]);
    g_free(m->blocked);
    memset(m, 0, sizeof *m);
}
