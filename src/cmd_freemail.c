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
    if (reg != NULL && g_ascii_strcasecmp(reg, arg) != 0)
        fprintf(stderr, "freemail: %s is taken as its registrable domain %s\n", arg, reg);
    g_free(n);
    g_free(probe);
    return reg;
}

static int apply_freemail(crm_store *st, const char *sub, const char *workspace,
                          const char *domain, GPtrArray **lines, char *err, size_t errlen)
{
    int rc;

    if (strcmp(sub, "list") == 0)
        return cli_store_status(crm_store_freemail_list(st, workspace, lines, err, errlen), err);
    if (strcmp(sub, "reset") == 0) {
        rc = crm_store_freemail_reset(st, workspace, domain, err, errlen);
        if (rc == CRM_STORE_NOT_FOUND && err[0] == '\0')
            g_snprintf(err, errlen, "%s has no correction in %s", domain, workspace);
        return cli_store_status(rc, err);
    }
    rc = crm_store_freemail_set(st, workspace, domain, strcmp(sub, "add") == 0, err, errlen);
    return cli_store_status(rc, err);
}

int cmd_freemail(crm_config *cfg, int argc, char **argv)
{
    static const char *const subs[] = { "add", "remove", "reset", "list", NULL };

    return cli_rule_command(cfg, argc, argv, "freemail", usage, subs, 0x7, freemail_domain,
                            "is not a mail domain", apply_freemail);
}
