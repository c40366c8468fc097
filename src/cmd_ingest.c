/*
 * NAME
 *	cmd_ingest 3 - "crmgate ingest": import mail files
 * DESCRIPTION
 *	Drives the file source (ingest.c) into the pipeline and tells the
 *	user what happened: one stderr line per message that failed, then
 *	"ingested N, duplicates N, skipped N, failed N".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <glib.h>

#include "commands.h"
#include "ingest.h"
#include "log.h"

static const char usage[] =
    "usage: crmgate ingest --workspace NAME PATH...\n"
    "Import mail: each PATH is an .eml file, an mbox file, a Maildir, or a\n"
    "folder of such files, told apart by content. Mail already stored is\n"
    "counted as a duplicate; auto-replies and bounces are skipped.\n"
    "Exit status: 0 all stored, 1 some messages failed (the rest are\n"
    "stored), 2 usage or configuration error.\n";

typedef struct counts {
    unsigned long ingested, duplicates, skipped, failed;
} counts;

static void on_outcome(void *ctx, const char *ref, crm_outcome outcome, const char *reason)
{
    counts *c = ctx;

    switch (outcome) {
    case CRM_OUTCOME_INGESTED: c->ingested++; break;
    case CRM_OUTCOME_DUPLICATE: c->duplicates++; break;
    case CRM_OUTCOME_SKIPPED: c->skipped++; break;
    case CRM_OUTCOME_FAILED:
        c->failed++;
        crm_die_msg("ingest: %s: %s", ref, reason ? reason : "failed");
        break;
    }
}

int cmd_ingest(crm_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "workspace", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 }
    };
    const char *wsname = NULL;
    char err[2048];
    counts n = { 0 };
    crm_pipeline_opts popts;
    crm_pipeline *p;
    crm_workspace *ws;
    crm_store *st;
    int c, rc = 0, status;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:", opts, NULL)) != -1) {
        if (c != 'w')
            return cli_usage(usage);
        wsname = optarg;
    }
    if (wsname == NULL || optind >= argc)
        return cli_usage(usage);
    for (int i = optind; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            crm_die_msg("ingest: %s: %s", argv[i], g_strerror(errno));
            return CRM_EXIT_USAGE;
        }
    }

    st = cli_open_store(cfg);
    if (st == NULL)
        return CRM_EXIT_FAILED;
    ws = cli_load_workspace(st, wsname, &status);
    if (ws == NULL) {
        crm_store_close(st);
        return status;
    }
    popts = (crm_pipeline_opts){
        .source = "file", .create_accounts = cfg->create_accounts,
        .limits = cfg->limits, .storage_dir = cfg->storage_dir,
        .batch_size = cfg->batch_size,
    };
    p = crm_pipeline_new(st, ws, &popts, on_outcome, &n);
    for (int i = optind; i < argc && rc == 0; i++)
        rc = crm_ingest_path(p, argv[i], err, sizeof err);
    if (rc == 0)
        rc = crm_pipeline_flush(p, err, sizeof err);
    if (rc < 0)
        crm_die_msg("ingest: stopped: %s", err);
    printf("ingested %lu, duplicates %lu, skipped %lu, failed %lu\n",
           n.ingested, n.duplicates, n.skipped, n.failed);
    crm_pipeline_free(p);
    crm_workspace_free(ws);
    crm_store_close(st);
    return rc < 0 || n.failed > 0 ? CRM_EXIT_FAILED : CRM_EXIT_OK;
}
