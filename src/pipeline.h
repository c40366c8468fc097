/*
 * NAME
 *	pipeline 3h - one raw message in, CRM rows out
 * DESCRIPTION
 *	Every source (files, SMTP, IMAP) hands raw messages to a pipeline:
 *	parse (parsers/) -> skip automatic mail (auto-replies; bounces, which
 *	mark the bounced contact) -> match participants (matcher) -> write
 *	attachment bytes (blobstore) -> queue the interaction row for the
 *	store. A mail's text/calendar parts are queued as meetings
 *	(meeting.h), each reported as "REF (invitation UID)"; an iTIP
 *	invitation mail (METHOD REQUEST, CANCEL, REPLY, ...) is one
 *	touchpoint, its meetings only, and is stored as mail only when no
 *	meeting could be read from it; an event file attached without a
 *	METHOD is a meeting besides the mail.
 *	Calendar files take the same way from crm_pipeline_submit_calendar(). Queued rows are stored in batches of batch_size in one
 *	transaction each; crm_pipeline_flush() stores what is queued.
 *
 *	The outcome of every message is reported exactly once through the
 *	callback, with the caller's reference (a file name, a queue id):
 *	ingested, duplicate, skipped (with why) or failed (with why). An
 *	ingested outcome is reported only after its transaction committed.
 * DIAGNOSTICS
 *	submit/flush return -1 with err set when the database is unreachable:
 *	messages of the failed batch are then reported neither way, and the
 *	caller decides (SMTP: 4xx; ingest: stop).
 */
#ifndef CRM_PIPELINE_H
#define CRM_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar_event.h"
#include "mail_message.h"
#include "matcher.h"
#include "store.h"
#include "workspace.h"

typedef enum crm_outcome {
    CRM_OUTCOME_INGESTED,
    CRM_OUTCOME_DUPLICATE,
    CRM_OUTCOME_SKIPPED,
    CRM_OUTCOME_FAILED
} crm_outcome;

typedef void (*crm_outcome_fn)(void *ctx, const char *ref, crm_outcome outcome,
                               const char *reason);

typedef struct crm_pipeline_opts {
    const char *source;		/* "file", "smtp", ... recorded in metadata */
    bool create_accounts;
    crm_parse_limits limits;
    crm_cal_limits cal_limits;	/* max_bytes 0: crm_cal_limits_default() */
    const char *storage_dir;
    unsigned batch_size;
    crm_contact_policy contacts;	/* who may become a new contact */
    const char *calendar_owner;	/* whose calendar submit_calendar() reads, or NULL */
} crm_pipeline_opts;

typedef struct crm_pipeline crm_pipeline;

crm_pipeline *crm_pipeline_new(crm_store *st, const crm_workspace *ws,
                               const crm_pipeline_opts *opts,
                               crm_outcome_fn fn, void *ctx);

/* A second connection to the same database, which the pipeline uses
 * but does not own: plain mail batches then commit two at a time. The
 * rows are those of one connection, except for what depends on which of
 * two neighbouring batches commits first: the earliest mail linked to a
 * contact that a later one created, or the name a contact is given
 * first. Each batch then commits its new contacts and accounts before
 * the rest of it (crm_store_commit_people_first()), so that its
 * neighbour does not wait for it; if the rest fails they stay. For bulk
 * imports (crmgate ingest).
 *
 * open(ctx) makes it on a thread of its own, so that parsing starts at
 * once; it may return NULL (then one connection does). The pipeline
 * takes it up when open. crm_pipeline_spare() waits for the batches in
 * flight and for the opener, and gives the connection (or NULL) to the
 * caller, who closes it after crm_pipeline_free(). */
typedef crm_store *(*crm_store_opener)(void *ctx);
void crm_pipeline_add_store(crm_pipeline *p, crm_store_opener open, void *ctx);
crm_store *crm_pipeline_spare(crm_pipeline *p);

/* receive_time: when the message reached us (unix seconds); the date of
 * last resort for mail without a sane Date or Received header. */
int crm_pipeline_submit(crm_pipeline *p, const char *raw, size_t len, const char *ref,
                        int64_t receive_time, char *err, size_t errlen);

/* An iCalendar object (an .ics file): every occurrence of its events is
 * a meeting, reported as "REF (UID at START)"; an event the parser
 * dropped is reported failed with its reason, a calendar with nothing
 * in the expansion window skipped. */
int crm_pipeline_submit_calendar(crm_pipeline *p, const char *data, size_t len, const char *ref,
                                 int64_t receive_time, char *err, size_t errlen);

/* Report a message the source could not even read. */
void crm_pipeline_report_failure(crm_pipeline *p, const char *ref, const char *reason);

int crm_pipeline_flush(crm_pipeline *p, char *err, size_t errlen);
/* Flush, and advance a source's cursor in the transaction of the last
 * batch (even an empty one): everything submitted before is covered. */
int crm_pipeline_flush_at(crm_pipeline *p, const crm_source_cursor *cursor,
                          char *err, size_t errlen);
/* The same, without waiting for that batch's commit (at most one batch
 * is in flight: this waits for the previous one). Outcomes are reported
 * by the next submit, send or flush. */
int crm_pipeline_send_at(crm_pipeline *p, const crm_source_cursor *cursor,
                         char *err, size_t errlen);
void crm_pipeline_free(crm_pipeline *p);

/* Earliest Date we believe; anything older is a broken clock. */
#define CRM_MIN_SANE_DATE	631152000	/* 1990-01-01T00:00:00Z */
/* How far in the future a Date may be before we distrust it. */
#define CRM_MAX_CLOCK_SKEW	86400
/* Text handed to the embedding queue when it is not the content itself
 * (a reply cut from its quotes), bytes. */
#define CRM_MAX_EMBED_TEXT	(96 * 1024)

#endif
