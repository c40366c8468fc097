/*
 * NAME
 *	cmd_status 3 - "crmgate status": what the CRM holds, per workspace
 */
#include <stdio.h>
#include <glib.h>

#include "commands.h"
#include "db.h"
#include "embed_store.h"
#include "log.h"

static const char usage[] =
    "usage: crmgate status\n"
    "Per workspace: users, contacts, accounts, interactions, and embedding\n"
    "jobs waiting or failed, and why embedding jobs failed.\n";

#define STATUS_FAILURE_REASONS	3	/* per workspace */

/* Why embedding jobs failed: the most frequent reasons per workspace. */
static int print_embed_failures(const crm_config *cfg)
{
    char err[1024];
    PGconn *conn = crm_db_connect(cfg, 0, err, sizeof err);
    crm_embed_store *es = conn != NULL ? crm_embed_store_open(conn, err, sizeof err) : NULL;
    GPtrArray *list = NULL;

    if (es == NULL || crm_embed_store_failures(es, STATUS_FAILURE_REASONS, &list,
                                               err, sizeof err) < 0) {
        crm_die_msg("status: %s", err);
        crm_embed_store_close(es);
        return -1;
    }
    if (list->len > 0)
        printf("\nfailed embedding jobs, by reason:\n");
    for (guint i = 0; i < list->len; i++) {
        crm_embed_failure *f = g_ptr_array_index(list, i);
        printf("  %-20s %6ld  %s (last %s)\n", f->workspace, f->count, f->reason, f->last_at);
    }
    g_ptr_array_unref(list);
    crm_embed_store_close(es);
    return 0;
}

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
    return print_embed_failures(cfg) < 0 ? CRM_EXIT_FAILED : CRM_EXIT_OK;
}
