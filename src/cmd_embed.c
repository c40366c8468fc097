/*
 * NAME
 *	cmd_embed 3 - "crmgate embed": drain the embedding queue
 * DESCRIPTION
 *	Runs the embedding worker (embed.h) in the foreground: until SIGTERM
 *	or SIGINT, or with --once until no job is left to claim. Ends with
 *	"embedded N, failed N, requeued N, truncated N, empty N".
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "commands.h"
#include "embed.h"
#include "log.h"

static const char usage[] =
    "usage: crmgate embed [--once]\n"
    "Embed queued texts with Voyage (voyage_base_url, embedding_model,\n"
    "embedding_dimension; key from voyage_api_key_file or $VOYAGE_API_KEY)\n"
    "and write the vectors into their rows. Runs until SIGTERM; --once stops\n"
    "when no job is left to claim.\n";

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
}

int cmd_embed(crm_config *cfg, int argc, char **argv)
{
    bool once = false, usage_error = false;
    char err[2048];
    crm_embed_worker *w;
    crm_embed_stats st;
    struct sigaction sa;
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            once = true;
        else
            return cli_usage(usage);
    }
    w = crm_embed_worker_start(cfg, once, &usage_error, err, sizeof err);
    if (w == NULL) {
        crm_die_msg("embed: %s", err);
        return usage_error ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!got_signal && !crm_embed_worker_done(w))
        g_usleep(100000);
    rc = crm_embed_worker_stop(w, &st, err, sizeof err);
    printf("embedded %ld, failed %ld, requeued %ld, truncated %ld, empty %ld\n", st.embedded,
           st.failed, st.retried, st.truncated, st.empty);
    if (rc < 0) {
        crm_die_msg("embed: %s", err);
        return CRM_EXIT_FAILED;
    }
    return st.failed > 0 ? CRM_EXIT_FAILED : CRM_EXIT_OK;
}
