/*
 * NAME
 *	ingest 3 - the file source: .eml files, mbox files, Maildirs
 * DESCRIPTION
 *	See ingest.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <glib.h>

#include "calendar_event.h"
#include "ingest.h"
#include "log.h"
#include "mbox.h"

/* Directory recursion bound: a symlink loop must not hang an import. */
#define MAX_DIR_DEPTH 32
/* Files up to this size are read into one buffer reused for the whole
 * walk; larger ones (an mbox) are mapped. Mapping every small file costs
 * a page fault per page and, with the store thread running, an
 * inter-processor TLB flush per munmap: most of a Maildir import's
 * system time. */
#define READ_MAX_BYTES (1024 * 1024)

typedef struct walk {
    crm_pipeline *p;
    char *buf;			/* READ_MAX_BYTES, for small files */
} walk;

static int ingest_dir(walk *w, const char *dir, int depth, char *err, size_t errlen);

static int ingest_mbox(crm_pipeline *p, const char *path, const char *data, size_t len,
                       char *err, size_t errlen)
{
    crm_mbox_iter it;
    const char *msg;
    size_t msg_len, offset;

    crm_mbox_iter_init(&it, data, len);
    while (crm_mbox_next(&it, &msg, &msg_len, &offset)) {
        size_t plain_len;
        char *plain = crm_mbox_unescape(msg, msg_len, &plain_len);
        char *ref = g_strdup_printf("%s (mbox offset %zu)", path, offset);
        int rc = crm_pipeline_submit(p, plain, plain_len, ref, (int64_t)time(NULL), err, errlen);

        g_free(ref);
        g_free(plain);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int ingest_data(crm_pipeline *p, const char *path, const char *data, size_t len,
                       char *err, size_t errlen)
{
    if (len == 0) {
        crm_pipeline_report_failure(p, path, "empty file");
        return 0;
    }
    if (crm_calendar_sniff(data, len))
        return crm_pipeline_submit_calendar(p, data, len, path, (int64_t)time(NULL), err, errlen);
    if (crm_mbox_sniff(data, len))
        return ingest_mbox(p, path, data, len, err, errlen);
    return crm_pipeline_submit(p, data, len, path, (int64_t)time(NULL), err, errlen);
}

/* 1 and *len: the whole file is in buf; 0: it is larger (map it);
 * -1: unreadable, reported. */
static int read_small(walk *w, const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t got = 0;

    if (fd < 0) {
        crm_pipeline_report_failure(w->p, path, g_strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, w->buf + got, READ_MAX_BYTES - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            crm_pipeline_report_failure(w->p, path, g_strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == READ_MAX_BYTES) {
            close(fd);
            return 0;
        }
    }
    close(fd);
    *len = got;
    return 1;
}

static int ingest_file(walk *w, const char *path, off_t size, char *err, size_t errlen)
{
    GError *gerr = NULL;
    GMappedFile *map;
    size_t len;
    int rc;

    if (size < READ_MAX_BYTES) {
        rc = read_small(w, path, &len);
        if (rc < 0)
            return 0;
        if (rc > 0)
            return ingest_data(w->p, path, w->buf, len, err, errlen);
        /* it grew since stat(): map it */
    }
    map = g_mapped_file_new(path, FALSE, &gerr);
    if (map == NULL) {
        crm_pipeline_report_failure(w->p, path, gerr->message);
        g_error_free(gerr);
        return 0;
    }
    rc = ingest_data(w->p, path, g_mapped_file_get_contents(map),
                     g_mapped_file_get_length(map), err, errlen);
    g_mapped_file_unref(map);
    return rc;
}

static int ingest_any(walk *w, const char *path, int depth, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        crm_pipeline_report_failure(w->p, path, g_strerror(errno));
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return ingest_dir(w, path, depth + 1, err, errlen);
    if (S_ISREG(st.st_mode))
        return ingest_file(w, path, st.st_size, err, errlen);
    return 0;			/* sockets, fifos: not mail */
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *sorted_entries(const char *dir, GError **gerr)
{
    GDir *d = g_dir_open(dir, 0, gerr);
    GPtrArray *names;
    const char *name;

    if (d == NULL)
        return NULL;
    names = g_ptr_array_new_with_free_func(g_free);
    while ((name = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(name));
    g_dir_close(d);
    /* name order: deterministic, and Maildir names start with the time */
    g_ptr_array_sort(names, compare_names);
    return names;
}

static int ingest_dir(walk *w, const char *dir, int depth, char *err, size_t errlen)
{
    crm_pipeline *p = w->p;
    GError *gerr = NULL;
    GPtrArray *names;
    bool maildir;
    int rc = 0;

    if (depth > MAX_DIR_DEPTH) {
        crm_pipeline_report_failure(p, dir, "directories nested too deep (a link loop?)");
        return 0;
    }
    names = sorted_entries(dir, &gerr);
    if (names == NULL) {
        crm_pipeline_report_failure(p, dir, gerr->message);
        g_error_free(gerr);
        return 0;
    }
    {
        char *cur = g_build_filename(dir, "cur", NULL);
        char *new_ = g_build_filename(dir, "new", NULL);
        maildir = g_file_test(cur, G_FILE_TEST_IS_DIR) || g_file_test(new_, G_FILE_TEST_IS_DIR);
        g_free(cur);
        g_free(new_);
    }
    for (guint i = 0; i < names->len && rc == 0; i++) {
        const char *name = g_ptr_array_index(names, i);
        char *path;

        /* dot files are editor and notmuch droppings, except Maildir++
         * folders (.Sent) inside a Maildir */
        if (name[0] == '.' && !(maildir && name[1] != '\0' && name[1] != '.'))
            continue;
        if (maildir && strcmp(name, "tmp") == 0)
            continue;
        path = g_build_filename(dir, name, NULL);
        rc = ingest_any(w, path, depth, err, errlen);
        g_free(path);
    }
    g_ptr_array_unref(names);
    return rc;
}

int crm_ingest_path(crm_pipeline *p, const char *path, char *err, size_t errlen)
{
    walk w = { p, g_malloc(READ_MAX_BYTES) };
    int rc = ingest_any(&w, path, 0, err, errlen);

    g_free(w.buf);
    return rc;
}
