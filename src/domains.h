/*
 * NAME
 *	domains 3h - what a mail domain says about its owner
 * DESCRIPTION
 *	crm_domain_is_freemail() tells a consumer mailbox provider (gmail.com,
 *	outlook.com, yahoo.*, ...) from a company: free-mail contacts stay
 *	B2C and never create accounts. The list is maintained in domains.c.
 *
 *	crm_domain_registrable() reduces a host name to the domain a company
 *	registers, with the Public Suffix List (libpsl):
 *	eu.mail.megacorp.co.uk -> megacorp.co.uk.
 *
 *	crm_domain_account_name() suggests a company name for a domain when
 *	an account must be created: "megacorp.co.uk" -> "Megacorp".
 * OWNERSHIP
 *	Returned strings are g_malloc()ed; the caller g_free()s them.
 */
#ifndef CRM_DOMAINS_H
#define CRM_DOMAINS_H

#include <stdbool.h>

bool crm_domain_is_freemail(const char *domain);
/* The same for a domain already reduced by crm_domain_registrable(). */
bool crm_domain_registrable_is_freemail(const char *registrable);
char *crm_domain_registrable(const char *domain);
char *crm_domain_account_name(const char *registrable);

#endif
