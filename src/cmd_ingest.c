/*
 * NAME
 *	cmd_ingest 3 - "crmgate ingest": import mail and calendar files
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
#include "db.h"
#include "ingest.h"
#include "log.h"
#include "matcher.h"

static const char usage[] =
    "usage: crmgate ingest --workspace NAME [--contacts POLICY]\n"
    "                      [--calendar-from DATE] [--calendar-to DATE] PATH...\n"
    "Import mail and meetings: each PATH is an .eml file, an mbox file, a\n"
    "Maildir, an iCalendar (.ics) file, or a folder of such files, told apart\n"
    "by content. Mail already stored is counted as a duplicate; auto-replies\n"
    "and bounces are skipped. Every occurrence of a meeting counts once;\n"
    "recurring meetings are expanded from --calendar-from to --calendar-to\n"
    "(YYYY-MM-DD, UTC; default 90 days ago to 30 days ahead). A meeting\n"
    "changed since (higher SEQUENCE, or new content) updates its interaction.\n"
    "--contacts: who becomes a new contact: sent_and_received (default),\n"
    "sent (only people a user wrote to or invited) or none; existing\n"
    "contacts are always linked.\n"
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
    case CRM_OUTCOME_SKIPPED:
        c->skipped++;
        /* not an error, but the user chose these files: say why */
        crm_log(CRM_LOG_INFO, "ingest: %s: skipped: %s", ref, reason ? reason : "not logged");
        break;
    case CRM_OUTCOME_FAILED:
        c->failed++;
        crm_die_msg("ingest: %s: %s", ref, reason ? reason : "failed");
        break;
    }
}

/* "YYYY-MM-DD" as 00:00 UTC of that day. */
static bool parse_day(const char *s, int64_t *out)
{
    GDateTime *dt;
    int y, m, d;
    char extra;

    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3)
        return false;
    dt = g_date_time_new_utc(y, m, d, 0, 0, 0);
    if (dt == NULL)
        return false;
    *out = g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return *out != 0;
}

/* A second connection lets two batches commit at once (pipeline.h); it
 * is a speed-up, so the import goes on without it when the server
 * will not give one. */
static crm_store *open_spare_store(void *ctx)
{
    const crm_config *cfg = ctx;
    char err[1024];
    PGconn *conn = crm_db_connect(cfg, 0, err, sizeof err);
    crm_store *st = conn != NULL ? crm_store_open(conn, err, sizeof err) : NULL;

    if (st == NULL)
        crm_log(CRM_LOG_INFO, "ingest: storing over one connection: %s", err);
    else
        crm_store_leave_statistics(st);
    return st;
}

int cmd_ingest(crm_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        { "workspace", required_argument, NULL, 'w' },
        { "calendar-from", required_argument, NULL, 'F' },
        { "calendar-to", required_argument, NULL, 'T' },
        { "contacts", required_argument, NULL, 'K' },
        { NULL, 0, NULL, 0 }
    };
    int64_t cal_from = 0, cal_to = 0;
    crm_contact_policy contacts = CRM_CONTACTS_SENT_AND_RECEIVED;
    const char *wsname = NULL;
    char err[2048];
    counts n = { 0 };
    crm_pipeline_opts popts;
    crm_pipeline *p;
    crm_workspace *ws;
    crm_store *st, *spare;
    int c, rc = 0, status;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:", opts, NULL)) != -1) {
        switch (c) {
        case 'w': wsname = optarg; break;
        case 'F':
        case 'T':
            if (!parse_day(optarg, c == 'F' ? &cal_from : &cal_to)) {
                crm_die_msg("ingest: %s: not a date (YYYY-MM-DD)", optarg);
                return CRM_EXIT_USAGE;
            }
            break;
        case 'K':
            if (!crm_contact_policy_parse(optarg, &contacts)) {
                crm_die_msg("ingest: --contacts %s: not none, sent or sent_and_received", optarg);
                return CRM_EXIT_USAGE;
            }
            break;
        default: return cli_usage(usage);
        }
    }
    if (wsname == NULL || optind >= argc)
        return cli_usage(usage);
    if ((cal_from != 0 || cal_to != 0) && (cal_from == 0 || cal_to == 0 || cal_to <= cal_from)) {
        crm_die_msg("ingest: --calendar-from and --calendar-to go together, in that order");
        return CRM_EXIT_USAGE;
    }
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
        .batch_size = cfg->batch_size, .contacts = contacts,
    };
    crm_cal_limits_default(&popts.cal_limits);
    popts.cal_limits.window_start = cal_from;
    popts.cal_limits.window_end = cal_to;
    p = crm_pipeline_new(st, ws, &popts, on_outcome, &n);
    crm_pipeline_add_store(p, open_spare_store, cfg);
    for (int i = optind; i < argc && rc == 0; i++)
        rc = crm_ingest_path(p, argv[i], err, sizeof err);
    if (rc == 0)
        rc = crm_pipeline_flush(p, err, sizeof err);
    spare = crm_pipeline_spare(p);
    if (rc < 0)
        crm_die_msg("ingest: stopped: %s", err);
    {
        crm_store *stores[] = { st, spare };
        const char *why = NULL, *last;
        unsigned refused = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(stores) && stores[i] != NULL; i++) {
            unsigned r = crm_store_set_refusals(stores[i], &last);
            if (r > 0) {
                refused += r;
                why = last;
            }
        }
        if (refused > 0)
            crm_log(CRM_LOG_WARN, "ingest: %u batches were refused as a whole and stored "
                    "one message at a time; the last because: %s", refused, why);
    }
    printf("ingested %lu, duplicates %lu, skipped %lu, failed %lu\n",
           n.ingested, n.duplicates, n.skipped, n.failed);
    crm_pipeline_free(p);
    crm_workspace_free(ws);
    if (spare != NULL)
        crm_store_close(spare);
    crm_store_close(st);
    return rc < 0 || n.failed > 0 ? CRM_EXIT_FAILED : CRM_EXIT_OK;
}
