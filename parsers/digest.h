/*
 * NAME
 *	digest 3h - SHA-256 of message and attachment bytes
 * DESCRIPTION
 *	Every message is hashed whole (its dedup fallback and metadata),
 *	and every attachment again: at glib's portable 250 MB/s that was a
 *	tenth of parsing. GnuTLS, already linked for TLS, uses the CPU's
 *	SHA instructions where it has them.
 *	crm_sha256_begin() starts a digest; crm_sha256_add() feeds it;
 *	crm_sha256_end_hex() writes 64 lowercase hex digits and a NUL and
 *	releases it. crm_sha256_hex() does all three for one buffer.
 * ERRORS
 *	None returned: GnuTLS fails to start a SHA-256 digest only when
 *	out of memory, which aborts here as it does in glib.
 */
#ifndef CRM_DIGEST_H
#define CRM_DIGEST_H

#include <stddef.h>

typedef struct crm_sha256 crm_sha256;

crm_sha256 *crm_sha256_begin(void);
void crm_sha256_add(crm_sha256 *d, const void *data, size_t len);
void crm_sha256_end_hex(crm_sha256 *d, char out[65]);
void crm_sha256_hex(const void *data, size_t len, char out[65]);

#endif
