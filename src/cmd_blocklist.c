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

int cmd_blocklist(crm_config *cfg, int argc, char **argv)
{
    static const char *const subs[] = { "add", "remove", "list", NULL };
    const char *sub, *workspace, *arg;
    char err[1024], *entry = NULL;
    crm_store *st;
    bool no_entry = false;
    int rc;

    err[0] = '\0';
    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (!cli_workspace_subcommand(argc, argv, subs, 0x3, &sub, &workspace, &arg))
        return cli_usage(usage);
    if (arg != NULL && (entry = blocklist_entry(arg)) == NULL) {
        crm_die_msg("blocklist %s: \"%s\" is neither an address nor @domain", sub, arg);
        return CRM_EXIT_USAGE;
    }
    st = cli_open_store(cfg);
    if (st == NULL) {
        g_free(entry);
        return CRM_EXIT_FAILED;
    }
    if (strcmp(sub, "list") == 0) {
        GPtrArray *lines = NULL;
        rc = crm_store_blocklist_list(st, workspace, &lines, err, sizeof err);
        for (guint i = 0; rc == 0 && i < lines->len; i++)
            printf("%s\n", (const char *)g_ptr_array_index(lines, i));
        if (lines != NULL)
            g_ptr_array_unref(lines);
    } else if (strcmp(sub, "add") == 0) {
        rc = crm_store_blocklist_add(st, workspace, entry, err, sizeof err);
        if (rc == CRM_STORE_EXISTS) {
            fprintf(stderr, "blocklist add: %s is already on %s's blocklist\n", entry, workspace);
            rc = 0;
        }
    } else {
        rc = crm_store_blocklist_remove(st, workspace, entry, err, sizeof err);
        no_entry = rc == CRM_STORE_NOT_FOUND && err[0] == '\0';
        if (no_entry)
            g_snprintf(err, sizeof err, "%s is not on %s's blocklist", entry, workspace);
    }
    crm_store_close(st);
    g_free(entry);
    if (rc != 0) {
        crm_die_msg("blocklist %s: %s", sub, err);
        return rc == CRM_STORE_NOT_FOUND && !no_entry ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
    }
    return CRM_EXIT_OK;
}
