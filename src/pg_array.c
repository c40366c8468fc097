/*
 * NAME
 *	pg_array 3 - one-dimensional PostgreSQL arrays in binary form
 * DESCRIPTION
 *	See pg_array.h. The wire form (array_send in PostgreSQL's
 *	arrayfuncs.c): int32 ndim, int32 has-nulls, uint32 element type,
 *	per dimension int32 size and int32 lower bound, then per element
 *	int32 length (-1: NULL) and its bytes; all integers big-endian.
 */
#include <stdbool.h>
#include <string.h>
#include <glib.h>

#include "pg_array.h"

#define HEADER_1D	20	/* ndim, flags, type, size, lower bound */
#define HEADER_EMPTY	12	/* ndim 0: no dimension */

struct crm_pg_array {
    GByteArray *buf;		/* HEADER_1D reserved bytes, then the elements */
    uint32_t elem_oid;
    uint32_t n;
    bool has_null;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void append32(GByteArray *b, uint32_t v)
{
    uint8_t w[4];

    put32(w, v);
    g_byte_array_append(b, w, sizeof w);
}

crm_pg_array *crm_pg_array_new(uint32_t elem_oid, size_t reserve)
{
    crm_pg_array *a = g_new0(crm_pg_array, 1);
    static const uint8_t zero[HEADER_1D];

    a->buf = g_byte_array_sized_new((guint)MIN(reserve + HEADER_1D, G_MAXUINT));
    g_byte_array_append(a->buf, zero, sizeof zero);
    a->elem_oid = elem_oid;
    return a;
}

void crm_pg_array_add_text(crm_pg_array *a, const char *s)
{
    a->n++;
    if (s == NULL) {
        a->has_null = true;
        append32(a->buf, UINT32_MAX);	/* -1 */
        return;
    }
    size_t len = strlen(s);
    append32(a->buf, (uint32_t)len);
    g_byte_array_append(a->buf, (const guint8 *)s, (guint)len);
}

void crm_pg_array_add_int8(crm_pg_array *a, int64_t v)
{
    uint64_t u = (uint64_t)v;

    a->n++;
    append32(a->buf, 8);
    append32(a->buf, (uint32_t)(u >> 32));
    append32(a->buf, (uint32_t)u);
}

char *crm_pg_array_finish(crm_pg_array *a, int *len)
{
    uint8_t *p = a->buf->data;
    char *out;

    if (a->buf->len > G_MAXINT) {
        /* a parameter's length is an int */
        g_byte_array_free(a->buf, TRUE);
        g_free(a);
        return NULL;
    }
    if (a->n == 0) {
        /* an empty array has no dimension */
        put32(p, 0);
        put32(p + 4, 0);
        put32(p + 8, a->elem_oid);
        g_byte_array_set_size(a->buf, HEADER_EMPTY);
    } else {
        put32(p, 1);
        put32(p + 4, a->has_null ? 1 : 0);
        put32(p + 8, a->elem_oid);
        put32(p + 12, a->n);
        put32(p + 16, 1);
    }
    *len = (int)a->buf->len;
    out = (char *)g_byte_array_free(a->buf, FALSE);
    g_free(a);
    return out;
}

char *crm_pg_text_array_literal(const char *const *items, size_t n)
{
    GString *a = g_string_new("{");

    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            g_string_append_c(a, ',');
        if (items == NULL || items[i] == NULL) {
            g_string_append(a, "NULL");
            continue;
        }
        g_string_append_c(a, '"');
        for (const char *p = items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                g_string_append_c(a, '\\');
            g_string_append_c(a, *p);
        }
        g_string_append_c(a, '"');
    }
    g_string_append_c(a, '}');
    return g_string_free(a, FALSE);
}
