/*
 * NAME
 *	bench_parse - parse-only rate over a Maildir: the ingest ceiling
 * SYNOPSIS
 *	bench_parse MAILDIR
 * DESCRIPTION
 *	Reads every file of MAILDIR/cur and MAILDIR/new into memory first
 *	(not timed), then times crm_message_parse + crm_message_free over
 *	all of them and prints "parse: N messages in S s = R msg/s".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <glib.h>

#include "mail_message.h"

static void load(GPtrArray *files, const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    if (d == NULL)
        return;
    while ((name = g_dir_read_name(d)) != NULL) {
        char *path = g_build_filename(dir, name, NULL);
        GBytes *b = NULL;
        char *data;
        gsize len;

        if (g_file_get_contents(path, &data, &len, NULL))
            b = g_bytes_new_take(data, len);
        if (b != NULL)
            g_ptr_array_add(files, b);
        g_free(path);
    }
    g_dir_close(d);
}

int main(int argc, char **argv)
{
    GPtrArray *files = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    struct timespec t0, t1;
    unsigned failed = 0;
    double secs;

    if (argc != 2) {
        fprintf(stderr, "usage: bench_parse MAILDIR\n");
        return 2;
    }
    for (int i = 0; i < 2; i++) {
        char *dir = g_build_filename(argv[1], i ? "new" : "cur", NULL);
        load(files, dir);
        g_free(dir);
    }
    crm_parsers_init();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (guint i = 0; i < files->len; i++) {
        gsize len;
        const char *data = g_bytes_get_data(g_ptr_array_index(files, i), &len);
        crm_message *m = NULL;
        char err[256];

        if (crm_message_parse(data, len, NULL, &m, err, sizeof err) != CRM_PARSE_OK)
            failed++;
        crm_message_free(m);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("parse: %u messages in %.2f s = %.0f msg/s (%u failed)\n", files->len, secs,
           files->len / secs, failed);
    g_ptr_array_unref(files);
    return failed ? 1 : 0;
}
