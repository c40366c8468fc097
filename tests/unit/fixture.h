/*
 * fixture.h - a test data file's bytes, for the cmocka unit tests
 *
 * Include after <cmocka.h>. TEST_DATA_DIR comes from the build.
 */
#ifndef CRM_TEST_FIXTURE_H
#define CRM_TEST_FIXTURE_H

#include <glib.h>

/* tests/data/DIR/NAME, g_free() it; the test fails when it is missing. */
static inline char *test_fixture(const char *dir, const char *name, size_t *len)
{
    char *path = g_build_filename(TEST_DATA_DIR, dir, name, NULL);
    char *data = NULL;
    gsize n = 0;

    if (!g_file_get_contents(path, &data, &n, NULL))
        fail_msg("cannot read %s", path);
    g_free(path);
    *len = n;
    return data;
}

#endif
