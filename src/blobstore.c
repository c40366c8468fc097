/*
 * NAME
 *	blobstore 3 - attachment bytes on disk, content-addressed
 * DESCRIPTION
 *	See blobstore.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "blobstore.h"
#include "log.h"

int crm_blob_sync(const char *storage_dir, char *err, size_t errlen)
{
    int fd = open(storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return crm_err_set(err, errlen, "cannot open %s: %s", storage_dir, g_strerror(errno));
    rc = syncfs(fd);
    close(fd);
    if (rc != 0)
        return crm_err_set(err, errlen, "syncing %s: %s", storage_dir, g_strerror(errno));
    return 0;
}

int crm_blob_put(const char *storage_dir, const char *workspace_id,
                 const char *sha256_hex, const unsigned char *data, size_t len,
                 char **path, char *err, size_t errlen)
{
    char prefix[3] = { sha256_hex[0], sha256_hex[1], '\0' };
    char *dir, *final, *tmp;
    int fd, rc = -1;
    size_t off = 0;

    *path = NULL;
    if (strlen(sha256_hex) != 64 || strspn(sha256_hex, "0123456789abcdef") != 64)
        return crm_err_set(err, errlen, "bad attachment hash");
    dir = g_build_filename(storage_dir, workspace_id, prefix, NULL);
    final = g_build_filename(dir, sha256_hex, NULL);
    if (g_file_test(final, G_FILE_TEST_EXISTS)) {
        *path = final;
        g_free(dir);
        return 0;
    }
    tmp = g_strdup_printf("%s.tmp.%ld", final, (long)getpid());
    /* The directory is there for all but the first file of its prefix:
     * create it only when the open says so. g_mkdir_with_parents() makes
     * a mkdir call per path component, each taking the parent's lock,
     * and cost almost as much as creating the file. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 && errno == ENOENT) {
        if (g_mkdir_with_parents(dir, 0750) != 0) {
            crm_err_set(err, errlen, "cannot create %s: %s", dir, g_strerror(errno));
            g_free(tmp);
            goto out;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    }
    if (fd < 0) {
        crm_err_set(err, errlen, "cannot create %s: %s", tmp, g_strerror(errno));
        g_free(tmp);
        goto out;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            crm_err_set(err, errlen, "writing %s: %s", tmp, g_strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    if (off == len)
        rc = 0;
    if (close(fd) != 0 && rc == 0)
        rc = crm_err_set(err, errlen, "closing %s: %s", tmp, g_strerror(errno));
    if (rc == 0 && rename(tmp, final) != 0)
        rc = crm_err_set(err, errlen, "rename to %s: %s", final, g_strerror(errno));
    if (rc != 0)
        g_unlink(tmp);
    g_free(tmp);
out:
    g_free(dir);
    if (rc == 0)
        *path = final;
    else
        g_free(final);
    return rc;
}
