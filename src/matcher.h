/*
 * NAME
 *	matcher 3h - who took part in a mail or meeting, and who it is for
 * DESCRIPTION
 *	The matcher classifies every address of an interaction against a
 *	workspace snapshot (workspace.h), without touching the database:
 *	- an address of a workspace user, or of one of the workspace's own
 *	  domains (subdomains included), is internal: it may set the
 *	  interaction's user and never becomes a contact;
 *	- any other address is external: it becomes (or is linked to) a
 *	  contact; its registrable domain names the account it belongs to,
 *	  unless the domain is free-mail (the contact stays B2C; the
 *	  workspace may correct the free-mail list);
 *	- a role or system address (noreply@, info@, support@, ...) is no
 *	  person: it stays a participant but never becomes a contact; its
 *	  domain still names the account;
 *	- an address on the workspace's blocklist is left out altogether
 *	  (listed in blocked[]).
 *	It then decides the direction (inbound, outbound, internal), the
 *	primary external party (inbound: the sender; outbound: the first
 *	external To, else Cc, else Bcc) and the acting user (outbound: the
 *	sending user; inbound: the first user among To, Cc, Bcc).
 *
 *	crm_match_apply_policy() then marks which external people may become
 *	new contacts under a source's contact policy; existing contacts are
 *	linked whatever it says (the store decides, it knows them).
 *
 *	Addresses are normalised (trimmed, <> removed, lower-cased) and
 *	checked for a sane addr-spec; the rest are listed in invalid[].
 *	Dropbox addresses are left out: they are crmgate, not people.
 * OWNERSHIP
 *	crm_match_clear() frees what a crm_match holds; user_id pointers
 *	are borrowed from the workspace and live as long as it does.
 */
#ifndef CRM_MATCHER_H
#define CRM_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "mail_message.h"
#include "workspace.h"

typedef enum crm_role {
    CRM_ROLE_FROM, CRM_ROLE_TO, CRM_ROLE_CC, CRM_ROLE_BCC, CRM_ROLE_REPLY_TO,
    CRM_ROLE_ORGANIZER, CRM_ROLE_ATTENDEE, CRM_ROLE_COUNT
} crm_role;

typedef enum crm_direction {
    CRM_DIR_INBOUND, CRM_DIR_OUTBOUND, CRM_DIR_INTERNAL
} crm_direction;

/* Which unknown external people become contacts. */
typedef enum crm_contact_policy {
    CRM_CONTACTS_SENT_AND_RECEIVED = 0,	/* everyone mail or meetings name */
    CRM_CONTACTS_SENT,			/* people a user wrote to or invited */
    CRM_CONTACTS_NONE			/* nobody: only existing contacts are linked */
} crm_contact_policy;

typedef struct crm_party {
    char *email;		/* normalised */
    char *display_name;		/* or NULL */
    char *first_name;		/* from the display name, or NULL */
    char *last_name;
    crm_role role;
    const char *user_id;	/* a workspace user, or NULL */
    bool internal;
    char *account_domain;	/* registrable corporate domain, or NULL */
    char *account_name;		/* suggested name for a new account */
    bool primary;		/* the main external party */
    bool acting_user;		/* its user_id is the interaction's user */
    bool role_address;		/* noreply@, info@, ...: never a contact */
    bool create_contact;	/* may become a new contact (external people) */
} crm_party;

typedef struct crm_match {
    crm_party *parties;
    size_t n_parties;
    crm_direction direction;
    const char *user_id;	/* the acting user, or NULL */
    const crm_party *primary;	/* points into parties, or NULL */
    char **invalid;		/* addresses that are no addr-spec */
    size_t n_invalid;
    char **blocked;		/* addresses left out by the blocklist */
    size_t n_blocked;
} crm_match;

const char *crm_role_name(crm_role role);
const char *crm_direction_name(crm_direction dir);

/* Normalise one address: g_malloc()ed lower-case addr-spec, or NULL when
 * it is not one (no '@', empty local part or domain, spaces, controls). */
char *crm_email_normalise(const char *raw);

/* Split a display name into first and last: "John Smith" -> John/Smith,
 * "Smith, John" -> John/Smith, "Cher" -> Cher/NULL. A name that is an
 * address gives nothing. Outputs are g_malloc()ed or NULL. */
void crm_name_split(const char *display, char **first, char **last);

/* Classify addresses given per role (NULL lists are skipped). */
void crm_match_addresses(const crm_workspace *ws,
                         const crm_address_list *const by_role[CRM_ROLE_COUNT],
                         crm_match *out);

/* The same for a parsed mail: From, To, Cc, Bcc, Reply-To. */
void crm_match_message(const crm_workspace *ws, const crm_message *msg,
                       crm_match *out);

/* Restrict contact creation to what the policy allows. */
void crm_match_apply_policy(crm_match *m, crm_contact_policy policy);

/* True when the blocklist removed every external party: nothing is left
 * that the workspace wants to hear about. */
bool crm_match_only_blocked(const crm_match *m);

/* "none", "sent", "sent_and_received" <-> the policy; false if unknown. */
bool crm_contact_policy_parse(const char *name, crm_contact_policy *out);
const char *crm_contact_policy_name(crm_contact_policy policy);

/* Whether a normalised address is a role or system mailbox (its local
 * part, without a +tag, is on crmgate's list: noreply, info, ...). */
bool crm_email_is_role_address(const char *email);

void crm_match_clear(crm_match *m);

#endif
