/*
 * NAME
 *	imap_sync 3h - keep one connected mailbox in step with the CRM
 * DESCRIPTION
 *	A source of kind "imap" names a mailbox and the folders to follow.
 *	crm_imap_sync_run() holds the source's lease in PostgreSQL (so that
 *	of several gateways on one database only one syncs it), connects
 *	(imap_client.h), and for each folder stores the mail after the
 *	folder's cursor through the ingestion pipeline (pipeline.h): in
 *	chunks, each chunk's cursor (UIDVALIDITY, last UID) advancing in the
 *	transaction of the chunk's rows. The first sync of a folder, or the
 *	first after its UIDVALIDITY changed, takes only mail that arrived
 *	since the source's "since" date; dedup keys make a re-sync store
 *	nothing twice. Then it waits in IDLE on the first folder (new mail
 *	is stored within seconds; the other folders are checked every
 *	source_poll seconds), or polls every source_poll seconds when the
 *	server has no IDLE.
 *
 *	Errors (network, server restarts, throttling, the database away)
 *	are shown on the source (crmgate source list) and retried after an
 *	exponential backoff with jitter, up to source_backoff_max seconds;
 *	the sync resumes at the cursor. A message that cannot be logged
 *	(unparsable, too big) is recorded with its UID and reason, and the
 *	sync goes past it.
 *
 *	Mail is logged for the workspace of the source; the mailbox's owner
 *	is one of its users, so the Sent folder's mail is outbound.
 */
#ifndef CRM_IMAP_SYNC_H
#define CRM_IMAP_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "config.h"
#include "imap_client.h"

/* What "crmgate source add imap" records (sources.settings, JSON). */
typedef struct crm_imap_settings {
    char *host;
    unsigned port;		/* 0: by security */
    crm_imap_security security;
    char *user;
    char *owner;		/* the mailbox owner's address */
    bool xoauth2;
    char *secret_file;		/* password or OAuth2 token: read at connect */
    char **folders;		/* NULL-terminated */
    int64_t since;		/* unix seconds: first sync window */
    char *ca_file;		/* NULL: system trust store */
} crm_imap_settings;

int crm_imap_settings_parse(const char *json, crm_imap_settings *s, char *err, size_t errlen);
/* g_free() the result. */
char *crm_imap_settings_json(const crm_imap_settings *s);
void crm_imap_settings_clear(crm_imap_settings *s);

/* Sync the source until *stop becomes non-zero, the source is removed,
 * or another gateway holds its lease. holder names this gateway in the
 * lease. Blocks: run it on a thread of its own. */
void crm_imap_sync_run(const crm_config *cfg, int64_t source_id, const char *holder,
                       volatile gint *stop);

#endif
