/*
 * NAME
 *	smtp_command 3 - read one SMTP or LMTP command line
 * DESCRIPTION
 *	See smtp_command.h.
 */
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "smtp_command.h"

static const struct {
    const char *name;
    crm_smtp_verb verb;
} verbs[] = {
    { "HELO", CRM_SMTP_HELO }, { "EHLO", CRM_SMTP_EHLO }, { "LHLO", CRM_SMTP_LHLO },
    { "MAIL", CRM_SMTP_MAIL }, { "RCPT", CRM_SMTP_RCPT }, { "DATA", CRM_SMTP_DATA },
    { "RSET", CRM_SMTP_RSET }, { "NOOP", CRM_SMTP_NOOP }, { "QUIT", CRM_SMTP_QUIT },
    { "VRFY", CRM_SMTP_VRFY }, { "EXPN", CRM_SMTP_EXPN }, { "HELP", CRM_SMTP_HELP },
    { "STARTTLS", CRM_SMTP_STARTTLS },
};

static crm_smtp_status refuse(crm_smtp_status st, char *err, size_t errlen, const char *why)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", why);
    return st;
}

void crm_smtp_command_clear(crm_smtp_command *cmd)
{
    g_free(cmd->domain);
    g_free(cmd->path);
    memset(cmd, 0, sizeof *cmd);
}

/* "<path>" at *p: the address inside, source route dropped. */
static crm_smtp_status parse_path(const char **p, const char *end, char **out,
                                  char *err, size_t errlen)
{
    const char *s = *p, *close, *addr;

    if (s >= end || *s != '<')
        return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: path must be <address>");
    close = memchr(s, '>', (size_t)(end - s));
    if (close == NULL)
        return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: missing '>'");
    addr = s + 1;
    /* RFC 5321 4.1.2: an A-d-l ("@relay,@relay:") is accepted and ignored */
    if (addr < close && *addr == '@') {
        const char *colon = memchr(addr, ':', (size_t)(close - addr));
        if (colon == NULL)
            return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: bad source route");
        addr = colon + 1;
    }
    if ((size_t)(close - addr) > CRM_SMTP_MAX_PATH)
        return refuse(CRM_SMTP_SYNTAX, err, errlen, "Path too long");
    for (const char *c = addr; c < close; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: control character or space in path");
    }
    if (close > addr && (memchr(addr, '@', (size_t)(close - addr)) == NULL))
        return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: address needs a domain");
    *out = g_strndup(addr, (gsize)(close - addr));
    *p = close + 1;
    return CRM_SMTP_OK;
}

static crm_smtp_status parse_params(const char *p, const char *end, crm_smtp_command *cmd,
                                    char *err, size_t errlen)
{
    while (p < end) {
        const char *word, *eq;
        size_t n;

        while (p < end && *p == ' ')
            p++;
        word = p;
        while (p < end && *p != ' ')
            p++;
        n = (size_t)(p - word);
        if (n == 0)
            break;
        eq = memchr(word, '=', n);
        if (cmd->verb == CRM_SMTP_MAIL && eq != NULL && eq - word == 4 &&
            g_ascii_strncasecmp(word, "SIZE", 4) == 0) {
            char num[24];
            char *stop;
            size_t digits = (size_t)(p - eq - 1);
            /* 19 digits fit in 64 bits; no real message is larger */
            if (digits == 0 || digits > 19)
                return refuse(CRM_SMTP_BAD_PARAMETER, err, errlen, "Bad SIZE parameter");
            memcpy(num, eq + 1, digits);
            num[digits] = '\0';
            if (strspn(num, "0123456789") != digits)
                return refuse(CRM_SMTP_BAD_PARAMETER, err, errlen, "Bad SIZE parameter");
            cmd->size = g_ascii_strtoull(num, &stop, 10);
            cmd->has_size = true;
        } else if (cmd->verb == CRM_SMTP_MAIL && eq != NULL && eq - word == 4 &&
                   g_ascii_strncasecmp(word, "BODY", 4) == 0) {
            size_t vn = (size_t)(p - eq - 1);
            if (vn == 8 && g_ascii_strncasecmp(eq + 1, "8BITMIME", 8) == 0)
                cmd->body_8bit = true;
            else if (!(vn == 4 && g_ascii_strncasecmp(eq + 1, "7BIT", 4) == 0))
                return refuse(CRM_SMTP_BAD_PARAMETER, err, errlen, "Bad BODY parameter");
        } else if (cmd->verb == CRM_SMTP_MAIL && n == 8 && g_ascii_strncasecmp(word, "SMTPUTF8", 8) == 0) {
            cmd->smtputf8 = true;
        } else {
            return refuse(CRM_SMTP_BAD_PARAMETER, err, errlen, "Unsupported parameter");
        }
    }
    return CRM_SMTP_OK;
}

crm_smtp_status crm_smtp_parse(const char *line, size_t len, crm_smtp_command *cmd,
                               char *err, size_t errlen)
{
    const char *end = line + len, *p = line, *arg;
    size_t vlen;
    crm_smtp_status st;

    memset(cmd, 0, sizeof *cmd);
    cmd->verb = CRM_SMTP_UNKNOWN;
    if (len > CRM_SMTP_MAX_COMMAND)
        return refuse(CRM_SMTP_TOO_LONG, err, errlen, "Line too long");
    if (memchr(line, '\0', len) != NULL)
        return refuse(CRM_SMTP_SYNTAX, err, errlen, "NUL byte in command");
    while (p < end && *p != ' ')
        p++;
    vlen = (size_t)(p - line);
    for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
        if (strlen(verbs[i].name) == vlen && g_ascii_strncasecmp(line, verbs[i].name, vlen) == 0) {
            cmd->verb = verbs[i].verb;
            break;
        }
    }
    if (cmd->verb == CRM_SMTP_UNKNOWN)
        return refuse(CRM_SMTP_UNRECOGNISED, err, errlen, "Command unrecognized");
    while (p < end && *p == ' ')
        p++;
    arg = p;

    switch (cmd->verb) {
    case CRM_SMTP_HELO:
    case CRM_SMTP_EHLO:
    case CRM_SMTP_LHLO: {
        const char *q = arg;
        while (q < end && *q != ' ')
            q++;
        if (q == arg)
            return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: HELO/EHLO needs a domain");
        cmd->domain = g_utf8_make_valid(arg, (gssize)(q - arg));
        return CRM_SMTP_OK;
    }
    case CRM_SMTP_MAIL:
    case CRM_SMTP_RCPT: {
        const char *keyword = cmd->verb == CRM_SMTP_MAIL ? "FROM:" : "TO:";
        size_t kn = strlen(keyword);
        if ((size_t)(end - arg) < kn || g_ascii_strncasecmp(arg, keyword, kn) != 0)
            return refuse(CRM_SMTP_SYNTAX, err, errlen, cmd->verb == CRM_SMTP_MAIL
                          ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
        p = arg + kn;
        while (p < end && *p == ' ')
            p++;
        if ((st = parse_path(&p, end, &cmd->path, err, errlen)) != CRM_SMTP_OK)
            return st;
        if (cmd->verb == CRM_SMTP_RCPT && cmd->path[0] == '\0') {
            crm_smtp_command_clear(cmd);	/* a refused command owns nothing */
            return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: empty recipient");
        }
        if (p < end && *p != ' ') {
            crm_smtp_command_clear(cmd);
            return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: junk after path");
        }
        if ((st = parse_params(p, end, cmd, err, errlen)) != CRM_SMTP_OK) {
            crm_smtp_command_clear(cmd);
            return st;
        }
        return CRM_SMTP_OK;
    }
    case CRM_SMTP_DATA:
    case CRM_SMTP_RSET:
    case CRM_SMTP_QUIT:
    case CRM_SMTP_STARTTLS:
        if (arg != end)
            return refuse(CRM_SMTP_SYNTAX, err, errlen, "Syntax: no arguments allowed");
        return CRM_SMTP_OK;
    default:
        return CRM_SMTP_OK;	/* NOOP, HELP, VRFY, EXPN: arguments ignored */
    }
}
