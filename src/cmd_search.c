/*
 * NAME
 *	cmd_search 3 - "crmgate search": semantic search over interactions
 * DESCRIPTION
 *	Embeds the query with input_type "query" (voyage.h) and asks
 *	embed_store.h for the nearest interactions of the workspace in the
 *	date window; prints one block per match: date, type, contact,
 *	account, score, and a one-line snippet.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <glib.h>

#include "commands.h"
#include "db.h"
#include "embed.h"
#include "embed_store.h"
#include "log.h"
#include "voyage.h"

#define SEARCH_MAX_LIMIT	1000
#define SNIPPET_BYTES		160

static const char usage[] =
    "usage: crmgate search --workspace NAME [--since DATE] [--until DATE]\n"
    "                      [--type email|meeting] [--limit N] [--explain] QUERY\n"
    "The interactions nearest in meaning to QUERY, best first. DATE is\n"
    "YYYY-MM-DD (UTC); --until includes its day. --explain prints the query\n"
    "plan instead (which partitions are read).\n";

/* YYYY-MM-DD -> "YYYY-MM-DD 00:00:00+00", plus days; NULL when invalid. */
static char *day_bound(const char *s, int plus_days)
{
    unsigned y, m, d;
    char tail;
    GDate *g;
    char *out;

    if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
        !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
        return NULL;
    g = g_date_new_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y);
    g_date_add_days(g, (guint)plus_days);
    out = g_strdup_printf("%04u-%02u-%02u 00:00:00+00", g_date_get_year(g), g_date_get_month(g),
                          g_date_get_day(g));
    g_date_free(g);
    return out;
}

/* One line of at most SNIPPET_BYTES: whitespace runs become one space,
 * cut at a character boundary. */
static char *snippet(const char *text)
{
    GString *s = g_string_new(NULL);
    bool space = false;

    for (const char *p = text; *p && s->len < SNIPPET_BYTES + 8; p++) {
        if (g_ascii_isspace(*p)) {
            space = s->len > 0;
            continue;
        }
        if (space)
            g_string_append_c(s, ' ');
        space = false;
        g_string_append_c(s, *p);
    }
    if (s->len > SNIPPET_BYTES) {
        g_string_truncate(s, crm_voyage_utf8_prefix(s->str, s->len, SNIPPET_BYTES));
        g_string_append(s, "...");
    }
    return g_string_free(s, FALSE);
}

/* Embed the query: pgvector text in *vec, or -1 with why. */
static int embed_query(const crm_config *cfg, const char *query, char **vec, char *err,
                       size_t errlen)
{
    char *key = NULL;
    crm_voyage *v;
    float *out;
    crm_voyage_status st;
    const char *texts[1];
    size_t len = strlen(query);
    char *cut = g_strndup(query, crm_voyage_utf8_prefix(query, len, CRM_EMBED_MAX_TEXT_BYTES));

    if (crm_embed_api_key(cfg, &key, err, errlen) < 0) {
        g_free(cut);
        return -1;
    }
    crm_voyage_opts o = {
        cfg->voyage_base_url, key,
        cfg->embedding_model != NULL ? cfg->embedding_model : "voyage-3-large",
        cfg->embedding_dimension, cfg->embed_timeout, cfg->embed_max_retries,
        cfg->embed_backoff_ms, NULL, NULL, NULL
    };
    v = crm_voyage_new(&o);
    out = g_new(float, cfg->embedding_dimension);
    texts[0] = cut;
    st = crm_voyage_embed(v, texts, 1, "query", out, NULL, err, errlen);
    if (st == CRM_VOYAGE_OK)
        *vec = crm_embed_vector_text(out, cfg->embedding_dimension);
    crm_voyage_free(v);
    memset(key, 0, strlen(key));
    g_free(key);
    g_free(out);
    g_free(cut);
    return st == CRM_VOYAGE_OK ? 0 : -1;
}

int cmd_search(crm_config *cfg, int argc, char **argv)
{
    const char *ws_name = NULL, *since = NULL, *until = NULL, *type = NULL, *query = NULL;
    char *since_b = NULL, *until_b = NULL, *vec = NULL, *conninfo = NULL;
    unsigned long limit = 10;
    bool explain = false;
    char err[2048];
    crm_embed_store *es = NULL;
    crm_store *st;
    crm_workspace *ws;
    int rc = CRM_EXIT_FAILED, status;

    if (cli_wants_help(argc, argv, usage))
        return CRM_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--workspace") == 0 && has) ws_name = argv[++i];
        else if (strcmp(a, "--since") == 0 && has) since = argv[++i];
        else if (strcmp(a, "--until") == 0 && has) until = argv[++i];
        else if (strcmp(a, "--type") == 0 && has) type = argv[++i];
        else if (strcmp(a, "--limit") == 0 && has) {
            char *end;
            limit = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || limit == 0 || limit > SEARCH_MAX_LIMIT) {
                crm_die_msg("search: --limit takes 1 to %d", SEARCH_MAX_LIMIT);
                return CRM_EXIT_USAGE;
            }
        } else if (strcmp(a, "--explain") == 0) explain = true;
        else if (a[0] == '-' && a[1] != '\0') return cli_usage(usage);
        else if (query == NULL) query = a;
        else return cli_usage(usage);
    }
    if (ws_name == NULL || query == NULL || *query == '\0')
        return cli_usage(usage);
    if (type != NULL && strcmp(type, "email") != 0 && strcmp(type, "meeting") != 0) {
        crm_die_msg("search: --type is email or meeting");
        return CRM_EXIT_USAGE;
    }
    if ((since != NULL && (since_b = day_bound(since, 0)) == NULL) ||
        (until != NULL && (until_b = day_bound(until, 1)) == NULL)) {
        crm_die_msg("search: dates are YYYY-MM-DD");
        g_free(since_b);
        return CRM_EXIT_USAGE;
    }

    st = cli_open_store(cfg);
    if (st == NULL)
        goto out;
    ws = cli_load_workspace(st, ws_name, &status);
    crm_store_close(st);
    if (ws == NULL) {
        rc = status;
        goto out;
    }
    status = crm_embed_check(cfg, &conninfo, err, sizeof err);
    if (status != 0) {
        crm_die_msg("search: %s", err);
        rc = status > 0 ? CRM_EXIT_USAGE : CRM_EXIT_FAILED;
        crm_workspace_free(ws);
        goto out;
    }
    if (embed_query(cfg, query, &vec, err, sizeof err) < 0) {
        crm_die_msg("search: embedding the query: %s", err);
        crm_workspace_free(ws);
        goto out;
    }
    es = crm_embed_store_connect(conninfo, err, sizeof err);
    if (es == NULL) {
        crm_die_msg("search: %s", err);
        crm_workspace_free(ws);
        goto out;
    }
    crm_search_query q = { ws->id, since_b, until_b, type, (unsigned)limit, cfg->search_ef, vec };
    if (explain) {
        char *plan = NULL;
        if (crm_embed_store_search_plan(es, &q, &plan, err, sizeof err) < 0) {
            crm_die_msg("search: %s", err);
        } else {
            /* the query vector is a thousand numbers: not worth reading */
            GRegex *re = g_regex_new("'\\[[^']*\\]'::vector", 0, 0, NULL);
            char *shown = g_regex_replace_literal(re, plan, -1, 0, "'[...]'::vector", 0, NULL);
            fputs(shown != NULL ? shown : plan, stdout);
            g_free(shown);
            g_regex_unref(re);
            g_free(plan);
            rc = CRM_EXIT_OK;
        }
    } else {
        GPtrArray *hits = NULL;
        if (crm_embed_store_search(es, &q, &hits, err, sizeof err) < 0) {
            crm_die_msg("search: %s", err);
        } else {
            for (guint i = 0; i < hits->len; i++) {
                crm_search_hit *h = g_ptr_array_index(hits, i);
                char *snip = snippet(h->text);
                printf("%s  %-7s  %.3f  %s%s%s\n    %s\n", h->at, h->type, h->score,
                       *h->contact ? h->contact : "-", *h->account ? "  " : "",
                       h->account, snip);
                g_free(snip);
            }
            if (hits->len == 0)
                fprintf(stderr, "crmgate: search: no embedded interaction matches\n");
            g_ptr_array_unref(hits);
            rc = CRM_EXIT_OK;
        }
    }
    crm_workspace_free(ws);
out:
    crm_embed_store_close(es);
    g_free(since_b);
    g_free(until_b);
    g_free(vec);
    g_free(conninfo);
    return rc;
}
