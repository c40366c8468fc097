/*
 * NAME
 *	cmd_account 3 - "crmgate account add|list": accounts and the mail
 *	domains they own
 * DESCRIPTION
 *	crmgate creates an account per registrable domain it meets (unless
 *	create_accounts is off). A company with several domains (acme.com,
 *	acme.de, acme-labs.io) is one account: "account add" names it and
 *	gives it its domains before mail arrives, so contacts of every one
 *	of them link to it. A domain owned by another account is refused,
 *	not moved: moving would re-attribute that account's history.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"
#include "domains.h"
#include "log.h"
#include "matcher.h"

static const char usage[] =
    "usage: crmgate account add --workspace NAME --name ACCOUNT --domain DOMAIN...\n"
    "       crmgate account list --workspace NAME\n"
    "add: the account named ACCOUNT (created when the workspace has none of\n"
    "that name) owns each DOMAIN (its registrable part: eu.acme.co.uk is\n"
    "acme.co.uk); mail from any of them links contacts to it.\n"
    "list: name, id, domains and number of contacts of every account.\n";

static int account_add(crm_store *st, int argc, char **argv)
{
    static const struct option opts[] = {
        { "workspace", required_argument, NULL, 'w' },
        { "name", required_argument, NULL, 'n' },
        { "domain", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 }
    };
    GPtrArray *domains = g_ptr_array_new_with_free_func(g_free);
    const char *workspace = NULL, *name = NULL;
    char err[1024], *id = NULL;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'w') {
            workspace = optarg;
        } else if (c == 'n') {
            name = optarg;
        } else if (c == 'd') {
            char *probe = g_strconcat("x@", optarg, NULL);
            char *n = crm_email_normalise(probe);

            g_free(probe);
            if (n == NULL || strchr(n, '.') == NULL) {
                crm_die_msg("account add: \"%s\" is not a mail domain", optarg);
                g_free(n);
                g_ptr_array_unref(domains);
                return CRM_EXIT_USAGE;
            }
            g_ptr_array_add(domains, crm_domain_registrable(strchr(n, '@') + 1));
            g_free(n);
        } else {
            g_ptr_array_unref(domains);
            return cli_usage(usage);
        }
    }
    if (optind != argc || workspace == NULL || name == NULL || *name == '\0' ||
        domains->len == 0) {
        g_ptr_array_unref(domains);
        return cli_usage(usage);
    }
    rc = crm_store_account_add(st, workspace, name, (char *const *)domains->pdata, domains->len,
                               &id, err, sizeof err);
    g_ptr_array_unref(domains);
    if (rc != 0) {
        crm_die_msg("account add: %s", err);
        return cli_store_status(rc, err);
    }
    printf("%s\n", id);
    g_free(id);
    return CRM_EXIT_OK;
}

static int apply_account_list(crm_store *st, const char *sub, const char *workspace,
                              const char *arg, GPtrArray **lines, char *err, size_t errlen)
{
    (void)sub;
    (void)arg;
    return cli_store_status(crm_store_account_list(st, workspace, lines, err, errlen), err);
}

static char *no_argument_taken(const char *arg)
{
    (void)arg;
    return NULL;
}

int cmd_account(crm_config *cfg, int argc, char **argv)
{
    static const char *const subs[] = { "list", NULL };
    crm_store *st;
    int rc;

    if (argc >= 2 && strcmp(argv[1], "add") == 0 && !cli_wants_help(argc, argv, usage)) {
        st = cli_open_store(cfg);
        if (st == NULL)
            return CRM_EXIT_FAILED;
        rc = account_add(st, argc - 1, argv + 1);
        crm_store_close(st);
        return rc;
    }
    return cli_rule_command(cfg, argc, argv, "account", usage, subs, 0, no_argument_taken,
                            "is not taken", apply_account_list);
}
