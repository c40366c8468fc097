/*
 * NAME
 *	cmd_status 3 - "crmgate status": what the CRM holds, per workspace
 */
#include <stdio.h>
#include <glib.h>

#include "commands.h"
#include "log.h"

static const char usage[] =
    "usage: crmgate status\n"
    "Per workspace: users, contacts, accounts, interactions, and embedding\n"
    "jobs waiting or failed.\n";

int cmd_status(crm_config *cfg, int argc, char **argv)
{
    GPtrArray *list;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (argc != 1)
        return cli_usage(usage);
    list = cli_workspace_summaries(cfg, "status");
    if (list == NULL)
        return CRM_EXIT_FAILED;
    printf("%-20s %6s %9s %9s %13s %13s %12s\n", "workspace", "users", "contacts",
           "accounts", "interactions", "embed-queued", "embed-failed");
    for (guint i = 0; i < list->len; i++) {
        crm_workspace_summary *s = g_ptr_array_index(list, i);
        printf("%-20s %6ld %9ld %9ld %13ld %13ld %12ld\n", s->name, s->users, s->contacts,
               s->accounts, s->interactions, s->jobs_pending, s->jobs_failed);
    }
    g_ptr_array_unref(list);
    return CRM_EXIT_OK;
}
