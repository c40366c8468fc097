/*
 * NAME
 *	imap_client 3h - the IMAP conversation with one mailbox (libetpan)
 * DESCRIPTION
 *	Connects (implicit TLS, STARTTLS or, when asked, plain), checks the
 *	server's certificate chain against the system's trust store or a
 *	given CA file and the host name, before any credential is sent, and
 *	authenticates with LOGIN or XOAUTH2. Then: select a folder, list the
 *	UIDs after a given one (optionally only mail that arrived since a
 *	date), read message sizes, fetch whole messages, and wait in IDLE.
 *	No database: the sync (imap_sync.h) decides what to do with it all.
 *
 *	Every network wait is bounded by the account's timeout; a server
 *	that stops answering is an error, not a hang. A server that sends a
 *	literal (a message body) larger than max_literal has the connection
 *	cut under it, so it cannot make crmgate buffer without end.
 * DIAGNOSTICS
 *	Functions return 0 or -1 with the reason in err (including the
 *	server's own words where it gave any). After -1 the connection is
 *	not to be trusted: close it and connect anew.
 */
#ifndef CRM_IMAP_CLIENT_H
#define CRM_IMAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

typedef enum crm_imap_security {
    CRM_IMAP_TLS,		/* implicit TLS, port 993 */
    CRM_IMAP_STARTTLS,		/* port 143, upgraded before login */
    CRM_IMAP_PLAIN		/* no TLS at all: loopback and tests only */
} crm_imap_security;

typedef struct crm_imap_account {
    const char *host;
    uint16_t port;		/* 0: 993 or 143 by security */
    crm_imap_security security;
    const char *user;
    bool xoauth2;		/* secret is an OAuth2 access token */
    const char *secret;		/* password or token; never logged */
    const char *ca_file;	/* NULL: the system's trust store */
    int timeout_s;
    size_t max_literal;		/* bytes one server literal may carry; 0: no cap */
} crm_imap_account;

typedef struct crm_imap crm_imap;

typedef struct crm_imap_folder {
    uint32_t uidvalidity;
    uint32_t uidnext;		/* 0 when the server did not say */
    uint32_t exists;
} crm_imap_folder;

crm_imap *crm_imap_connect(const crm_imap_account *a, char *err, size_t errlen);
/* LOGOUT (best effort) and free. NULL is fine. */
void crm_imap_close(crm_imap *c);

bool crm_imap_has_idle(crm_imap *c);

int crm_imap_select(crm_imap *c, const char *folder, crm_imap_folder *info,
                    char *err, size_t errlen);

/* UIDs greater than after_uid in the selected folder, ascending; with
 * since > 0 (unix seconds) only mail whose arrival date is on or after
 * that day. *uids: GArray of uint32_t. */
int crm_imap_uids_after(crm_imap *c, uint32_t after_uid, int64_t since, GArray **uids,
                        char *err, size_t errlen);

/* RFC822.SIZE of each UID: sizes[i] for uids[i] (0 when the server
 * gave none, e.g. the message was expunged meanwhile). */
int crm_imap_sizes(crm_imap *c, const uint32_t *uids, size_t n, uint32_t *sizes,
                   char *err, size_t errlen);

/* Fetch whole messages, without setting \Seen. fn gets each one the
 * server returned; the bytes are valid during the call only. */
typedef void (*crm_imap_message_fn)(void *ctx, uint32_t uid, const char *raw, size_t len);
int crm_imap_fetch(crm_imap *c, const uint32_t *uids, size_t n, crm_imap_message_fn fn,
                   void *ctx, char *err, size_t errlen);

/* IDLE (RFC 2177) on the selected folder. idle_wait returns 1 when the
 * server said something (new mail, probably), 0 after wait_ms of
 * silence, -1 on error. Between idle_start and idle_done only
 * idle_wait may be called. */
int crm_imap_idle_start(crm_imap *c, char *err, size_t errlen);
int crm_imap_idle_wait(crm_imap *c, int wait_ms, char *err, size_t errlen);
int crm_imap_idle_done(crm_imap *c, char *err, size_t errlen);

#endif
