/*
 * caldav_client - drive src/caldav.c from a shell test (t-caldav.sh)
 *
 *	caldav_client URL USER PASSWORD discover
 *	caldav_client URL USER PASSWORD sync CALENDAR-URL [TOKEN]
 *	caldav_client URL USER PASSWORD list CALENDAR-URL
 *	caldav_client URL USER PASSWORD get CALENDAR-URL HREF...
 *
 * One line per result, words separated by one space; "get" writes each
 * body to $DUMP_DIR/<last path segment> when DUMP_DIR is set. Exit 0, or
 * 1 with "error: why" on stderr.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "caldav.h"

static int fail(const char *err)
{
    fprintf(stderr, "error: %s\n", err);
    return 1;
}

int main(int argc, char **argv)
{
    crm_caldav_opts o = { 0 };
    crm_caldav *dav;
    char err[1024];
    int rc = 0;

    if (argc < 5)
        return fail("usage: caldav_client URL USER PASSWORD COMMAND [ARGS]");
    o.url = argv[1];
    o.user = argv[2];
    o.password = argv[3];
    o.timeout_s = 30;
    if ((dav = crm_caldav_new(&o, err, sizeof err)) == NULL)
        return fail(err);

    if (strcmp(argv[4], "discover") == 0) {
        crm_caldav_calendar *cals;
        size_t n;
        if (crm_caldav_discover(dav, &cals, &n, err, sizeof err) < 0) {
            rc = fail(err);
        } else {
            for (size_t i = 0; i < n; i++)
                printf("calendar %s %s %s\n", cals[i].url, cals[i].name ? cals[i].name : "-",
                       cals[i].sync_token ? "sync-token" : "no-sync-token");
            crm_caldav_calendars_free(cals, n);
        }
    } else if (strcmp(argv[4], "sync") == 0 && argc >= 6) {
        crm_caldav_changes ch;
        int st = crm_caldav_sync(dav, argv[5], argc > 6 ? argv[6] : NULL, &ch, err, sizeof err);
        if (st < 0) {
            rc = fail(err);
        } else if (st == CRM_CALDAV_UNSUPPORTED) {
            printf("unsupported\n");
        } else if (ch.token_invalid) {
            printf("token-invalid\n");
        } else {
            for (size_t i = 0; i < ch.n_changed; i++)
                printf("changed %s %s\n", ch.changed[i].href, ch.changed[i].etag);
            for (size_t i = 0; i < ch.n_removed; i++)
                printf("removed %s\n", ch.removed[i]);
            printf("token %s\n", ch.sync_token);
            crm_caldav_changes_clear(&ch);
        }
    } else if (strcmp(argv[4], "list") == 0 && argc >= 6) {
        crm_caldav_item *items;
        char *ctag;
        size_t n;
        if (crm_caldav_list(dav, argv[5], &ctag, &items, &n, err, sizeof err) < 0) {
            rc = fail(err);
        } else {
            printf("ctag %s\n", ctag ? ctag : "-");
            for (size_t i = 0; i < n; i++)
                printf("item %s %s\n", items[i].href, items[i].etag);
            g_free(ctag);
            crm_caldav_items_free(items, n);
        }
    } else if (strcmp(argv[4], "get") == 0 && argc >= 7) {
        crm_caldav_item *items;
        size_t n;
        const char *dump = g_getenv("DUMP_DIR");
        if (crm_caldav_multiget(dav, argv[5], (const char *const *)argv + 6, (size_t)argc - 6,
                                &items, &n, err, sizeof err) < 0) {
            rc = fail(err);
        } else {
            for (size_t i = 0; i < n; i++) {
                printf("item %s %s %s\n", items[i].href, items[i].etag,
                       strstr(items[i].data, "BEGIN:VCALENDAR") ? "icalendar" : "other");
                if (dump != NULL) {
                    char *base = g_path_get_basename(items[i].href);
                    char *path = g_build_filename(dump, base, NULL);
                    if (!g_file_set_contents(path, items[i].data, (gssize)items[i].len, NULL))
                        rc = fail(path);
                    g_free(path);
                    g_free(base);
                }
            }
            crm_caldav_items_free(items, n);
        }
    } else {
        rc = fail("unknown command");
    }
    crm_caldav_free(dav);
    return rc;
}
