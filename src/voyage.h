/*
 * NAME
 *	voyage 3h - client of Voyage AI's embeddings endpoint
 * DESCRIPTION
 *	POST {base_url}/v1/embeddings with {"model", "input": [...],
 *	"input_type", "output_dimension", "truncation": true} and the key as
 *	a Bearer token; the answer's data[].embedding are put back in input
 *	order by data[].index, and their count and dimension checked. No
 *	database, no logging: the caller decides what a failure means.
 *
 *	429, 5xx, timeouts and connection failures are retried here with
 *	exponential backoff and jitter (uniform in [d/2, d], d = backoff_ms
 *	doubling per retry up to
 *	CRM_VOYAGE_MAX_BACKOFF_MS), a Retry-After header overriding the
 *	computed delay; a malformed answer (not the documented shape) counts
 *	as transient too. After max_retries retries the call fails with
 *	CRM_VOYAGE_TRANSIENT (the service is unavailable), or
 *	CRM_VOYAGE_BAD_ANSWER when the last answer was malformed. Other 4xx are not retried: CRM_VOYAGE_REJECTED,
 *	with Voyage's "detail" in err; 401 and 403 are CRM_VOYAGE_AUTH (the
 *	key, not the texts, is wrong).
 *
 *	Limits of voyage-3-large (docs.voyageai.com, "Embeddings"): at most
 *	1000 texts and 120K tokens per request, 32K tokens of context per
 *	text. Tokens cannot be counted without Voyage's tokenizer, so the
 *	caller estimates them with crm_voyage_estimate_tokens(): one token
 *	per CRM_VOYAGE_BYTES_PER_TOKEN bytes of UTF-8, rounded up (English
 *	runs about 4-5 bytes a token, so this overestimates it), plus one.
 * OWNERSHIP
 *	crm_voyage_new() copies the options; crm_voyage_free() frees all.
 *	The object is not thread-safe: one per thread.
 */
#ifndef CRM_VOYAGE_H
#define CRM_VOYAGE_H

#include <stdbool.h>
#include <stddef.h>

#define CRM_VOYAGE_MAX_TEXTS		1000
#define CRM_VOYAGE_MAX_TOKENS		120000	/* per request, voyage-3-large */
#define CRM_VOYAGE_CONTEXT_TOKENS	32000	/* per text, voyage-3-large */
#define CRM_VOYAGE_BYTES_PER_TOKEN	3
#define CRM_VOYAGE_MAX_BACKOFF_MS	30000
#define CRM_VOYAGE_MAX_RETRY_AFTER_S	120	/* a longer Retry-After is capped */
#define CRM_VOYAGE_MAX_RESPONSE		(256u * 1024 * 1024)

typedef enum crm_voyage_status {
    CRM_VOYAGE_OK = 0,
    CRM_VOYAGE_TRANSIENT,	/* retries exhausted (429, 5xx, timeout, no connection) */
    CRM_VOYAGE_BAD_ANSWER,	/* retries exhausted, the last answer malformed */
    CRM_VOYAGE_REJECTED,	/* 4xx: the request itself is refused */
    CRM_VOYAGE_AUTH,		/* 401/403: the key is refused */
    CRM_VOYAGE_STOPPED		/* *stop was set while waiting to retry */
} crm_voyage_status;

typedef struct crm_voyage_opts {
    const char *base_url;	/* e.g. "https://api.voyageai.com" */
    const char *api_key;
    const char *model;		/* "voyage-3-large" */
    unsigned dimension;		/* output_dimension, 1024 */
    unsigned timeout_s;		/* whole request */
    unsigned max_retries;
    unsigned backoff_ms;	/* first retry delay before jitter */
    const int *stop;		/* may be NULL; read atomically */
    /* called before each retry's wait (may be NULL): for logging */
    void (*on_retry)(void *ctx, const char *why, unsigned delay_ms);
    void *ctx;
} crm_voyage_opts;

typedef struct crm_voyage crm_voyage;

crm_voyage *crm_voyage_new(const crm_voyage_opts *opts);
void crm_voyage_free(crm_voyage *v);

/* Embed texts[0..n) (n <= CRM_VOYAGE_MAX_TEXTS, each non-empty UTF-8)
 * with input_type "document" or "query". On CRM_VOYAGE_OK, out (the
 * caller's, n * dimension floats) holds vector i at out[i * dimension]
 * and *tokens (may be NULL) Voyage's usage.total_tokens. */
crm_voyage_status crm_voyage_embed(crm_voyage *v, const char *const *texts, size_t n,
                                   const char *input_type, float *out, long *tokens,
                                   char *err, size_t errlen);

/* Estimated tokens of a text of len bytes (see above). */
size_t crm_voyage_estimate_tokens(size_t len);

/* The longest prefix of s[0..len) that is at most max bytes and ends on
 * a UTF-8 character boundary: its length. */
size_t crm_voyage_utf8_prefix(const char *s, size_t len, size_t max);

#endif
