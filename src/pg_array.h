/*
 * NAME
 *	pg_array 3h - one-dimensional PostgreSQL arrays in binary form
 * DESCRIPTION
 *	A statement parameter sent in binary needs no escaping: a batch of
 *	mail text goes to the server as it is, which a text-format array
 *	literal (quotes and backslashes escaped) or COPY text would not
 *	allow. The builder appends elements in order; crm_pg_array_finish()
 *	returns the bytes of the parameter (its length in *len), to be sent
 *	with format 1 for a parameter of type text[] (CRM_PG_TEXT) or int8[]
 *	(CRM_PG_INT8). crm_pg_text_array_literal() writes a short array in
 *	the text format instead, quotes and backslashes escaped.
 *
 *	Text elements must be valid UTF-8 without NUL bytes: the server
 *	checks the encoding and refuses the whole statement otherwise.
 * OWNERSHIP
 *	finish() hands over the buffer (g_free() it) and frees the builder.
 */
#ifndef CRM_PG_ARRAY_H
#define CRM_PG_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#define CRM_PG_INT8	20u	/* pg_type OIDs */
#define CRM_PG_TEXT	25u

typedef struct crm_pg_array crm_pg_array;

crm_pg_array *crm_pg_array_new(uint32_t elem_oid, size_t reserve);
/* s NULL: an SQL NULL. */
void crm_pg_array_add_text(crm_pg_array *a, const char *s);
void crm_pg_array_add_int8(crm_pg_array *a, int64_t v);
/* NULL when the array would exceed the 2 GB a parameter may hold. */
char *crm_pg_array_finish(crm_pg_array *a, int *len);

/* The same as a text-format literal ("{\"a\",NULL}") for a small text[]
 * parameter: items[i] NULL (or items NULL) is a NULL element. g_free()
 * the result. */
char *crm_pg_text_array_literal(const char *const *items, size_t n);

#endif
