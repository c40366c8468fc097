/*
 * NAME
 *	embed 3h - the embedding worker
 * DESCRIPTION
 *	Threads that drain the embedding_jobs queue: claim a batch
 *	(embed_store.h: SKIP LOCKED under a lease), cut each request to
 *	Voyage's limits (voyage.h), embed with input_type "document", write
 *	each vector into its target row and mark the job done. Run by
 *	"crmgate embed" and inside "crmgate serve".
 *
 *	Policies:
 *	- A text longer than the model's context is cut, at a UTF-8
 *	  character boundary, to CRM_EMBED_MAX_TEXT_BYTES (32K tokens at the
 *	  estimate of voyage.h); the job's last_error says so and a log line
 *	  names the job. Nothing is dropped silently.
 *	- A request carries at most CRM_VOYAGE_MAX_TEXTS texts and
 *	  CRM_EMBED_REQUEST_TOKENS estimated tokens (a sixth under Voyage's
 *	  120K, for texts that tokenize denser than the estimate).
 *	- 429, 5xx, timeouts, malformed answers: retried by voyage.c. When
 *	  the retries run out the jobs go back to pending with the reason in
 *	  last_error. After 429/5xx/timeouts (Voyage unavailable) the claim
 *	  does not count as an attempt, so an outage fails no job; the worker
 *	  waits (embed_poll, doubling up to CRM_EMBED_OUTAGE_PAUSE_S) before it
 *	  claims again, and crmgate embed --once stops (exit 1). After a
 *	  malformed answer it counts: texts that always get one fail in the
 *	  end.
 *	- Other 4xx: the request is split in halves until the text Voyage
 *	  refuses is alone; that job fails with Voyage's reason, the rest
 *	  are embedded. 401/403 fail no job: the jobs go back, the worker
 *	  waits (crmgate embed --once stops) and says the key is refused.
 *	- A job claimed embed_max_attempts times fails ("gave up").
 *	- A job whose row is gone (or has no text) is done, with a note.
 * OWNERSHIP
 *	The worker copies what it needs of the configuration.
 */
#ifndef CRM_EMBED_H
#define CRM_EMBED_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CRM_EMBED_MAX_TEXT_BYTES	(32000u * 3)
#define CRM_EMBED_REQUEST_TOKENS	100000
#define CRM_EMBED_AUTH_PAUSE_S		60	/* wait after 401/403 (daemon) */
#define CRM_EMBED_DB_PAUSE_S		5	/* wait after a database failure */
#define CRM_EMBED_OUTAGE_PAUSE_S	300	/* longest wait for Voyage to come back */

typedef struct crm_embed_stats {
    long embedded;	/* vectors written */
    long failed;	/* jobs failed for good */
    long retried;	/* jobs given back to the queue */
    long truncated;	/* texts cut to the context */
    long empty;		/* jobs with nothing to embed */
    long requests;	/* Voyage requests that succeeded */
} crm_embed_stats;

/* The Voyage API key: the voyage_api_key_file's first line when that key
 * is set, else $VOYAGE_API_KEY. 0 and *key (g_free), or -1 with why. */
int crm_embed_api_key(const crm_config *cfg, char **key, char *err, size_t errlen);

/* Connect, check that interactions.embedding is vector(dimension) (1 and
 * the mismatch in err when not; -1 other errors): *conninfo g_free(). */
int crm_embed_check(const crm_config *cfg, char **conninfo, char *err, size_t errlen);

typedef struct crm_embed_worker crm_embed_worker;

/* Check the key and the schema, then start cfg->embed_workers threads.
 * once: a thread ends when it finds no job to claim (and on a database
 * failure or a refused key); otherwise it runs until stopped. NULL with
 * why in err; *usage (may be NULL) tells a configuration error. */
crm_embed_worker *crm_embed_worker_start(const crm_config *cfg, bool once, bool *usage,
                                         char *err, size_t errlen);
/* True when every thread has ended (once mode). */
bool crm_embed_worker_done(crm_embed_worker *w);
/* Tell the threads to stop (a batch in flight gives its jobs back),
 * wait for them, sum their stats into *stats (may be NULL) and free.
 * Returns 0, or -1 when a thread ended on an error (the first in err). */
int crm_embed_worker_stop(crm_embed_worker *w, crm_embed_stats *stats, char *err, size_t errlen);

#endif
