/*
 * NAME
 *	workspace 3h - what the matcher knows of one workspace
 * DESCRIPTION
 *	A crm_workspace is a read-only snapshot of a tenant: its id and
 *	name, its own mail domains, its users' addresses, its blocklist
 *	and its corrections to the free-mail list. The store fills
 *	it (crm_store_workspace_load); the matcher only reads it, so matching
 *	is pure and unit-testable without a database.
 * OWNERSHIP
 *	crm_workspace_free() frees everything; strings are copied in.
 */
#ifndef CRM_WORKSPACE_H
#define CRM_WORKSPACE_H

#include <stdbool.h>
#include <glib.h>

typedef struct crm_workspace {
    char *id;			/* UUID text */
    char *name;
    GPtrArray *domains;		/* char*, lower case */
    GHashTable *users;		/* lower-case email -> user UUID text */
    GHashTable *dropboxes;	/* dropbox addresses: never a party */
    GHashTable *blocked;	/* "a@b" and "@domain" entries */
    GHashTable *freemail;	/* domain -> GINT_TO_POINTER(1 free-mail, 2 not) */
    bool dropbox_anyone;	/* dropbox senders: anyone (else users only) */
} crm_workspace;

crm_workspace *crm_workspace_new(const char *id, const char *name);
void crm_workspace_add_domain(crm_workspace *ws, const char *domain);
void crm_workspace_add_user(crm_workspace *ws, const char *email, const char *user_id);
/* A BCC-to-CRM dropbox address (of any workspace): mail forwarded to it
 * names it in To or Cc, but it is no person and no party. */
void crm_workspace_add_dropbox(crm_workspace *ws, const char *address);
bool crm_workspace_is_dropbox(const crm_workspace *ws, const char *email);
void crm_workspace_free(crm_workspace *ws);

/* Blocklist entries: "bob@x.example" (one address) or "@x.example"
 * (the domain and its subdomains). */
void crm_workspace_block(crm_workspace *ws, const char *entry);
/* The entry blocking this lower-case address, or NULL. */
const char *crm_workspace_blocked_by(const crm_workspace *ws, const char *email);

/* The workspace's correction to the built-in free-mail list for a
 * registrable domain. */
void crm_workspace_set_freemail(crm_workspace *ws, const char *domain, bool freemail);
/* Whether the lower-case registrable domain is consumer mail here: the
 * workspace's correction, else the built-in list (domains.h). */
bool crm_workspace_is_freemail(const crm_workspace *ws, const char *registrable);

/* The user id owning this lower-case address, or NULL. */
const char *crm_workspace_user(const crm_workspace *ws, const char *email);

/* True when the lower-case domain is one of the workspace's domains or a
 * subdomain of one (mail.acme.example belongs to acme.example). */
bool crm_workspace_owns_domain(const crm_workspace *ws, const char *domain);

/* True when the lower-case address is one of ours: a user's, or in one
 * of the workspace's domains (never a contact). */
bool crm_workspace_is_internal(const crm_workspace *ws, const char *email);

#endif
