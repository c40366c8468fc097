/*
 * NAME
 *	cmd_blocklist 3 - "crmgate blocklist add|list|remove": parties a
 *	workspace never logs
 * DESCRIPTION
 *	An entry is one address or "@domain" (the domain and every host
 *	under it). The matcher leaves blocked parties out (matcher.h); a
 *	mail or meeting with no other external party is skipped. What is
 *	already stored is not touched.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"
#include "log.h"
#include "matcher.h"

static const char usage[] =
    "usage: crmgate blocklist add --workspace NAME ADDRESS|@DOMAIN\n"
    "       crmgate blocklist remove --workspace NAME ADDRESS|@DOMAIN\n"
    "       crmgate blocklist list --workspace NAME\n"
    "A blocked address, or any address of a blocked domain or its subdomains,\n"
    "creates no contact and no account and is left out of participants. Mail\n"
    "or a meeting whose only external parties are blocked is skipped.\n";

/* The entry as stored ("bob@x.example", "@x.example"), or NULL. */
static char *blocklist_entry(const char *arg)
{
    char *probe, *n;

    if (arg[0] != '@')
        return crm_email_normalise(arg);
    probe = g_strconcat("x", arg, NULL);
    n = crm_email_normalise(probe);
    g_free(probe);
    if (n == NULL || strchr(n, '.') == NULL) {
        g_free(n);
        return NULL;
    }
    memmove(n, n + 1, strlen(n));	/* drop the probe's "x" */
    return n;
}

static int apply_blocklist(crm_store *st, const char *sub, const char *workspace,
                           const char *entry, GPtrArray **lines, char *err, size_t errlen)
{
    int rc;

    if (strcmp(sub, "list") == 0)
        return cli_store_status(crm_store_blocklist_list(st, workspace, lines, err, errlen), err);
    if (strcmp(sub, "add") == 0) {
        rc = crm_store_blocklist_add(st, workspace, entry, err, errlen);
        if (rc == CRM_STORE_EXISTS) {
            fprintf(stderr, "blocklist add: %s is already on %s's blocklist\n", entry, workspace);
            rc = 0;
        }
        return cli_store_status(rc, err);
    }
    rc = crm_store_blocklist_remove(st, workspace, entry, err, errlen);
    if (rc == CRM_STORE_NOT_FOUND && err[0] == '\0')
        g_snprintf(err, errlen, "%s is not on %s's blocklist", entry, workspace);
    return cli_store_status(rc, err);
}

int cmd_blocklist(crm_config *cfg, int argc, char **argv)
{
    static const char *const subs[] = { "add", "remove", "list", NULL };

    return cli_rule_command(cfg, argc, argv, "blocklist", usage, subs, 0x3, blocklist_entry,
                            "is neither an address nor @domain", apply_blocklist);
}
