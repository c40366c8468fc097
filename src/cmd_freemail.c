/*
 * NAME
 *	cmd_freemail 3 - "crmgate freemail add|remove|reset|list": a
 *	workspace's corrections to the free-mail list
 * DESCRIPTION
 *	crmgate's built-in list (domains.c) says which domains are consumer
 *	mail, whose contacts stay B2C. A workspace corrects it: "add" makes
 *	a domain free-mail (a regional provider the list lacks), "remove"
 *	makes it a company's (a business on a provider's domain), "reset"
 *	goes back to the built-in answer. Domains are reduced to their
 *	registrable part, as the matcher sees them.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"
#include "domains.h"
#include "log.h"
#include "matcher.h"

static const char usage[] =
    "usage: crmgate freemail add --workspace NAME DOMAIN\n"
    "       crmgate freemail remove --workspace NAME DOMAIN\n"
    "       crmgate freemail reset --workspace NAME DOMAIN\n"
    "       crmgate freemail list --workspace NAME\n"
    "add: DOMAIN is consumer mail in this workspace (contacts stay B2C, no\n"
    "account). remove: DOMAIN is a company's, even if crmgate's built-in list\n"
    "says free-mail. reset: forget the correction. list: the corrections.\n";

/* The registrable domain of a user's argument, or NULL. */
static char *freemail_domain(const char *arg)
{
    char *probe = g_strconcat("x@", arg, NULL);
    char *n = crm_email_normalise(probe);
    char *reg = NULL;

    if (n != NULL && strchr(n, '.') != NULL)
        reg = crm_domain_registrable(strchr(n, '@') + 1);
    g_free(n);
    g_free(probe);
    return reg;
}

int cmd_freemail(crm_config *cfg, int argc, char **argv)
{
    static const char *const subs[] = { "add", "remove", "reset", "list", NULL };
    const char *sub, *workspace, *arg;
    char err[1024], *domain = NULL;
    crm_store *st;
    bool no_entry = false;
    int rc;

    err[0] = '\0';
    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    if (!cli_workspace_subcommand(argc, argv, subs, 0x7, &sub, &workspace, &arg))
        return cli_usage(usage);
    if (arg != NULL && (domain = freemail_domain(arg)) == NULL) {
        crm_die_msg("freemail %s: \"%s\" is not a mail domain", sub, arg);
        return CRM_EXIT_USAGE;
    }
    if (domain != NULL && g_ascii_strcasecmp(domain, arg) != 0)
        fprintf(stderr, "freemail %s: %s is taken as its registrable domain %s\n", sub, arg,
                domain);
    st = cli_open_store(cfg);
    if (st == NULL) {
        g_free(domain);
        return CRM_EXIT_FAILED;
    }
    if (strcmp(sub, "list") == 0) {
        GPtrArray *lines = NULL;
        rc = crm_store_freemail_list(st, workspace, &lines, err, sizeof err);
        for (guint i = 0; rc == 0 && i < lines->len; i++)
            printf("%s\n", (const char *)g_ptr_array_index(lines, i));
        if (lines != NULL)
            g_ptr_array_unref(lines);
    } else if (strcmp(sub, "reset") == 0) {
        rc = crm_store_freemail_reset(st, workspace, domain, err, sizeof err);
        no_entry = rc == CRM_STORE_NOT_FOUND && err[0] == '\0';
        if (no_entry)
            g_snprintf(err, sizeof err, "%s has no correction in %s", domain, workspace);
    } else {
        rc = crm_store_freemail_set(st, workspace, domain, strcmp(sub, "add") == 0,
                                    err, sizeof err);
    }
    crm_store_close(st);
    g_free(domain);
    if (rc != 0) {
        crm_die_msg("freemail %s: %s", sub, err);
        return rc == CRM_STORE_NOT_FOUND && !no_entry ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
    }
    return CRM_EXIT_OK;
}
