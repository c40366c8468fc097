/*
 * NAME
 *	prepare 3h - the rows one parsed mail becomes in one workspace
 * DESCRIPTION
 *	Between parsing and storing, shared by every source: match the
 *	parties against the workspace (matcher.h), date the mail (Date, else
 *	the top Received, else the time it reached us, when the others are
 *	missing, before 1990 or more than a day ahead), write its attachments
 *	(blobstore.h), and build the interaction's text, metadata, parties
 *	and documents as the store takes them. A mail sent to two workspaces
 *	is prepared once for each: they share nothing.
 * OWNERSHIP
 *	crm_prepared_clear() frees a crm_prepared; crm_prepared_item() fills
 *	a store item that borrows its strings.
 */
#ifndef CRM_PREPARE_H
#define CRM_PREPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mail_message.h"
#include "matcher.h"
#include "store.h"
#include "workspace.h"

typedef struct crm_prepared {
    char *dedup_key;		/* "mid:<Message-ID>" or "sha256:<hex>" */
    char *content;
    char *metadata;		/* JSON */
    char *parties;		/* JSON */
    char *documents;		/* JSON */
    char *embed_text;		/* NULL: the content itself; else what the mail
				 * adds (a reply without its quote), cut to
				 * CRM_MAX_EMBED_TEXT bytes */
    int64_t interacted_at;
    bool has_documents;		/* files to make durable before commit */
    const char *type;		/* interaction_type, static; NULL: "email" */
    bool replace;		/* a newer version replaces it: see store.h */
    int64_t revision;
    char *fingerprint;
    char *skip;			/* not to be stored, and why (the blocklist) */
} crm_prepared;

/* Why automatic mail is not logged, or NULL for a human's mail. */
const char *crm_prepare_skip_reason(const crm_message *msg, char *buf, size_t buflen);

/* When it happened; *source is "date", "received" or "ingest". */
int64_t crm_prepare_date(const crm_message *msg, int64_t receive_time, const char **source);

/* 0, or -1 with why (attachments could not be written). With 0, a
 * set out->skip means the mail is not to be stored (its external parties
 * are all blocked); nothing else of out is then filled. policy: who may
 * become a new contact (matcher.h). */
int crm_prepare_rows(const crm_workspace *ws, const char *storage_dir, const char *source,
                     crm_contact_policy policy, const crm_message *msg, const char *ref,
                     int64_t receive_time, crm_prepared *out, char *why, size_t whylen);

/* Why a match is not worth storing (every external party blocked), as a
 * g_malloc()ed reason, or NULL. */
char *crm_prepare_blocked_reason(const crm_match *m);

/* The parties as crmgate_store_interaction() takes them (JSON; g_malloc()ed,
 * which is malloc(), so crm_prepared_clear() frees it with the rest);
 * acting_user: a user to credit who is no party, or NULL. */
char *crm_prepare_parties_json(const crm_match *m, const char *acting_user);

/* item borrows p's strings; its embed_text is p's content itself (the
 * same pointer) when p has none of its own. */
void crm_prepared_item(const crm_prepared *p, const char *source, crm_store_item *item);
void crm_prepared_clear(crm_prepared *p);

#endif
