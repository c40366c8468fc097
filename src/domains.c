/*
 * NAME
 *	domains 3 - what a mail domain says about its owner
 * DESCRIPTION
 *	See domains.h. The free-mail list holds exact domains and "yahoo.*"
 *	style families (any public suffix after the label), because the big
 *	providers register one label under many country suffixes.
 */
#include <string.h>
#include <glib.h>
#include <libpsl.h>

#include "domains.h"

/* Consumer mailbox providers: whole registrable domains. */
static const char *const freemail_exact[] = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",
    "msn.com", "passport.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "aim.com", "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
    "tutanota.com", "tutanota.de", "tuta.io", "zoho.com", "zohomail.com",
    "yandex.com", "yandex.ru", "ya.ru", "mail.ru", "bk.ru", "inbox.ru",
    "list.ru", "rambler.ru", "gmx.net", "gmx.com", "web.de", "t-online.de",
    "freenet.de", "posteo.de", "mailbox.org", "fastmail.com", "fastmail.fm",
    "hey.com", "qq.com", "163.com", "126.com", "yeah.net", "sina.com",
    "naver.com", "daum.net", "hanmail.net", "rediffmail.com", "laposte.net",
    "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "libero.it", "virgilio.it",
    "tiscali.it", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
    "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net",
    "cox.net", "charter.net", "earthlink.net", "btinternet.com", "sky.com",
    "virginmedia.com", "ntlworld.com", "shaw.ca", "rogers.com", "sympatico.ca",
    "bigpond.com", "optusnet.com.au", "uol.com.br", "bol.com.br", "terra.com.br",
    "mail.com", "email.com", "usa.com", "inbox.com", "hushmail.com",
    "duck.com", "skiff.com", "yopmail.com", "mailinator.com", "guerrillamail.com",
    NULL
};

/* Providers that use one label under many suffixes: yahoo.co.uk, gmx.at. */
static const char *const freemail_families[] = {
    "yahoo", "ymail", "rocketmail", "hotmail", "outlook", "live", "msn",
    "gmx", "aol", "yandex", "orange", NULL
};

static const psl_ctx_t *psl(void)
{
    static gsize once;
    static const psl_ctx_t *ctx;

    if (g_once_init_enter(&once)) {
        /* Debian's publicsuffix package is fresher than the built-in copy. */
        const psl_ctx_t *c = psl_latest(NULL);
        if (c == NULL)
            c = psl_builtin();
        ctx = c;
        g_once_init_leave(&once, 1);
    }
    return ctx;
}

char *crm_domain_registrable(const char *domain)
{
    const psl_ctx_t *ctx = psl();
    const char *reg = NULL;

    if (domain == NULL || *domain == '\0')
        return NULL;
    if (ctx != NULL)
        reg = psl_registrable_domain(ctx, domain);
    /* No registrable part (a bare public suffix or a single label like
     * "localhost"): keep the domain as written. */
    return g_strdup(reg != NULL ? reg : domain);
}

bool crm_domain_registrable_is_freemail(const char *reg)
{
    bool hit = false;

    for (size_t i = 0; freemail_exact[i] != NULL && !hit; i++)
        hit = strcmp(reg, freemail_exact[i]) == 0;
    for (size_t i = 0; freemail_families[i] != NULL && !hit; i++) {
        size_t n = strlen(freemail_families[i]);
        /* reg is one label plus a public suffix, so "yahoo." as its
         * start means yahoo under some suffix: yahoo.co.uk, yahoo.fr */
        hit = strncmp(reg, freemail_families[i], n) == 0 && reg[n] == '.';
    }
    return hit;
}

bool crm_domain_is_freemail(const char *domain)
{
    char *reg;
    bool hit;

    if (domain == NULL)
        return false;
    reg = crm_domain_registrable(domain);
    hit = crm_domain_registrable_is_freemail(reg);
    g_free(reg);
    return hit;
}

char *crm_domain_account_name(const char *registrable)
{
    const char *dot;
    char *name;

    if (registrable == NULL || *registrable == '\0')
        return NULL;
    dot = strchr(registrable, '.');
    name = dot != NULL ? g_strndup(registrable, (gsize)(dot - registrable))
                       : g_strdup(registrable);
    /* Only ASCII is capitalised: an IDN label is kept as written. */
    name[0] = g_ascii_toupper(name[0]);
    return name;
}
