/*
 * NAME
 *	digest 3 - SHA-256 through GnuTLS
 * DESCRIPTION
 *	See digest.h.
 */
#include <glib.h>
#include <gnutls/crypto.h>

#include "digest.h"

struct crm_sha256 {
    gnutls_hash_hd_t h;
};

crm_sha256 *crm_sha256_begin(void)
{
    crm_sha256 *d = g_new(crm_sha256, 1);
    int rc = gnutls_hash_init(&d->h, GNUTLS_DIG_SHA256);

    if (rc < 0)
        g_error("SHA-256: %s", gnutls_strerror(rc));
    return d;
}

void crm_sha256_add(crm_sha256 *d, const void *data, size_t len)
{
    /* GnuTLS hashes whatever it is given; its return is for algorithms
     * that can refuse input, which SHA-256 never does */
    (void)gnutls_hash(d->h, data, len);
}

void crm_sha256_end_hex(crm_sha256 *d, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];

    gnutls_hash_deinit(d->h, md);
    g_free(d);
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[64] = '\0';
}

void crm_sha256_hex(const void *data, size_t len, char out[65])
{
    crm_sha256 *d = crm_sha256_begin();

    crm_sha256_add(d, data, len);
    crm_sha256_end_hex(d, out);
}
