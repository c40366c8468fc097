/*
 * NAME
 *	workspace 3 - what the matcher knows of one workspace
 * DESCRIPTION
 *	See workspace.h.
 */
#include <string.h>

#include "domains.h"
#include "workspace.h"

crm_workspace *crm_workspace_new(const char *id, const char *name)
{
    crm_workspace *ws = g_new0(crm_workspace, 1);

    ws->id = g_strdup(id);
    ws->name = g_strdup(name);
    ws->domains = g_ptr_array_new_with_free_func(g_free);
    ws->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ws->dropboxes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ws->blocked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    ws->freemail = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return ws;
}

void crm_workspace_add_domain(crm_workspace *ws, const char *domain)
{
    g_ptr_array_add(ws->domains, g_ascii_strdown(domain, -1));
}

void crm_workspace_add_user(crm_workspace *ws, const char *email, const char *user_id)
{
    g_hash_table_replace(ws->users, g_ascii_strdown(email, -1), g_strdup(user_id));
}

void crm_workspace_free(crm_workspace *ws)
{
    if (ws == NULL)
        return;
    g_free(ws->id);
    g_free(ws->name);
    g_ptr_array_free(ws->domains, TRUE);
    g_hash_table_destroy(ws->users);
    g_hash_table_destroy(ws->dropboxes);
    g_hash_table_destroy(ws->blocked);
    g_hash_table_destroy(ws->freemail);
    g_free(ws);
}

const char *crm_workspace_user(const crm_workspace *ws, const char *email)
{
    return g_hash_table_lookup(ws->users, email);
}

bool crm_workspace_owns_domain(const crm_workspace *ws, const char *domain)
{
    size_t dlen = strlen(domain);

    for (guint i = 0; i < ws->domains->len; i++) {
        const char *own = g_ptr_array_index(ws->domains, i);
        size_t olen = strlen(own);

        if (dlen == olen && strcmp(domain, own) == 0)
            return true;
        /* a subdomain: "x.own", never "xown" */
        if (dlen > olen && domain[dlen - olen - 1] == '.' &&
            strcmp(domain + dlen - olen, own) == 0)
            return true;
    }
    return false;
}

void crm_workspace_add_dropbox(crm_workspace *ws, const char *address)
{
    g_hash_table_add(ws->dropboxes, g_ascii_strdown(address, -1));
}

bool crm_workspace_is_dropbox(const crm_workspace *ws, const char *email)
{
    return g_hash_table_contains(ws->dropboxes, email);
}

void crm_workspace_block(crm_workspace *ws, const char *entry)
{
    g_hash_table_add(ws->blocked, g_ascii_strdown(entry, -1));
}

const char *crm_workspace_blocked_by(const crm_workspace *ws, const char *email)
{
    const char *at = strrchr(email, '@');
    gpointer key;

    if (g_hash_table_size(ws->blocked) == 0)
        return NULL;	/* the usual case: no allocation per address */
    if (g_hash_table_lookup_extended(ws->blocked, email, &key, NULL))
        return key;
    /* "@x.example" blocks x.example and every host under it: walk the
     * domain label by label, "@mail.x.example", "@x.example", "@example" */
    for (const char *d = at; d != NULL && d[1] != '\0'; d = strchr(d + 1, '.')) {
        char *entry = g_strconcat("@", d + 1, NULL);
        bool hit = g_hash_table_lookup_extended(ws->blocked, entry, &key, NULL);

        g_free(entry);
        if (hit)
            return key;
    }
    return NULL;
}

void crm_workspace_set_freemail(crm_workspace *ws, const char *domain, bool freemail)
{
    g_hash_table_replace(ws->freemail, g_ascii_strdown(domain, -1), GINT_TO_POINTER(freemail ? 1 : 2));
}

bool crm_workspace_is_freemail(const crm_workspace *ws, const char *registrable)
{
    int v = GPOINTER_TO_INT(g_hash_table_lookup(ws->freemail, registrable));

    if (v != 0)
        return v == 1;
    return crm_domain_registrable_is_freemail(registrable);
}

bool crm_workspace_is_internal(const crm_workspace *ws, const char *email)
{
    const char *at = strrchr(email, '@');

    return crm_workspace_user(ws, email) != NULL ||
           (at != NULL && crm_workspace_owns_domain(ws, at + 1));
}
