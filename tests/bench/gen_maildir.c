/*
 * NAME
 *	gen_maildir - write a deterministic Maildir of realistic mail
 * SYNOPSIS
 *	gen_maildir DIR COUNT [SEED]
 * DESCRIPTION
 *	For the ingestion benchmark: COUNT messages in DIR/cur, the same
 *	bytes for the same COUNT and SEED on every machine (xorshift PRNG,
 *	fixed tables). The mix imitates a sales team's mailbox: 1-8 parties
 *	from ~200 companies (some on subdomains), free-mail customers and the
 *	workspace's own domain bench.example (20 users, about half the mail
 *	outbound); threads with In-Reply-To/References; dates over the last
 *	24 months; bodies mostly 1-8 KB and some 30-200 KB; a fifth
 *	multipart/alternative with HTML, a tenth with a base64 attachment of
 *	5-100 KB, some quoted-printable ISO-8859-1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <glib.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static const char *const first_names[] = {
    "John", "Mary", "David", "Susan", "Wei", "Aisha", "Carlos", "Olga", "Kenji", "Fatima",
    "Liam", "Emma", "Noah", "Sofia", "Lukas", "Chloé", "Jörg", "Ana", "Ivan", "Priya"
};
static const char *const last_names[] = {
    "Smith", "Jones", "Chen", "Lee", "García", "Müller", "Rossi", "Kowalski", "Nguyen", "Khan",
    "Brown", "Silva", "Novak", "Tanaka", "Okafor", "Dubois", "Larsen", "Ivanova", "Patel", "Cohen"
};
static const char *const words[] = {
    "pricing", "contract", "renewal", "integration", "security", "review", "proposal",
    "timeline", "invoice", "meeting", "demo", "onboarding", "support", "licence", "seats",
    "budget", "quarter", "roadmap", "feedback", "deadline", "approval", "the", "our", "your",
    "we", "will", "can", "next", "week", "team", "please", "thanks", "update", "question"
};
static const char *const freemail[] = { "gmail.com", "outlook.com", "yahoo.com", "icloud.com" };
static const char *const tlds[] = { "com", "io", "de", "co.uk", "fr", "net" };

/* ~200 companies: "acme17.com"; every fifth mails from a subdomain */
static void party(GString *out, unsigned *internal_user, bool want_internal)
{
    unsigned f = pick(G_N_ELEMENTS(first_names)), l = pick(G_N_ELEMENTS(last_names));
    unsigned r = pick(100);

    *internal_user = 0;
    if (want_internal || r < 10) {
        unsigned u = pick(20) + 1;
        *internal_user = u;
        g_string_append_printf(out, "\"User %02u\" <user%02u@bench.example>", u, u);
    } else if (r < 40) {
        g_string_append_printf(out, "%s %s <customer%u@%s>", first_names[f], last_names[l],
                               pick(3000), freemail[pick(4)]);
    } else {
        unsigned c = pick(200);
        g_string_append_printf(out, "\"%s, %s\" <p%u@%scompany%u.%s>", last_names[l], first_names[f],
                               pick(40), c % 5 == 0 ? "eu.mail." : "", c, tlds[c % G_N_ELEMENTS(tlds)]);
    }
}

static void sentence(GString *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const char *w = words[pick(G_N_ELEMENTS(words))];
        g_string_append(out, w);
        g_string_append_c(out, i + 1 == n ? '.' : ' ');
    }
}

static void body_text(GString *out, size_t bytes)
{
    size_t start = out->len;

    while (out->len - start < bytes) {
        sentence(out, 6 + pick(12));
        g_string_append(out, pick(4) == 0 ? "\n\n" : " ");
    }
    g_string_append_c(out, '\n');
}

static void base64_lines(GString *out, size_t bytes)
{
    guchar *raw = g_malloc(bytes);
    gchar *b64;

    for (size_t i = 0; i < bytes; i++)
        raw[i] = (guchar)rnd();
    memcpy(raw, "%PDF-1.4\n", MIN(bytes, 9));
    b64 = g_base64_encode(raw, bytes);
    for (size_t i = 0, n = strlen(b64); i < n; i += 76) {
        g_string_append_len(out, b64 + i, (gssize)MIN((size_t)76, n - i));
        g_string_append_c(out, '\n');
    }
    g_free(b64);
    g_free(raw);
}

static void message(GString *m, unsigned n, int64_t now)
{
    unsigned user, nparties = 1 + pick(8), to_n, i;
    bool outbound = pick(2) == 0, html = pick(5) == 0, attach = pick(10) == 0;
    bool latin1 = !html && pick(8) == 0;
    size_t size = pick(20) == 0 ? 30000 + pick(170000) : 1000 + pick(7000);
    int64_t when = now - (int64_t)pick(730 * 86400);
    GDateTime *dt = g_date_time_new_from_unix_utc(when);
    char *date = g_date_time_format(dt, "%a, %d %b %Y %H:%M:%S +0000");
    GString *body = g_string_new(NULL);

    g_date_time_unref(dt);
    g_string_append_printf(m, "Return-Path: <bounce-%u@bench.example>\n", n);
    g_string_append_printf(m, "Received: from mx%u.relay.example (mx%u.relay.example [192.0.2.%u])\n"
                              "\tby mx.bench.example with ESMTPS id B%08X; %s\n", n % 7, n % 7, n % 250, n, date);
    g_string_append_printf(m, "Received: from client.internal by mx%u.relay.example; %s\n", n % 7, date);
    g_string_append_printf(m, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=relay.example; s=s1;\n"
                              "\th=from:to:subject:date; bh=%016llx%016llx=;\n\tb=%016llx%016llx%016llx\n",
                           (unsigned long long)rnd(), (unsigned long long)rnd(), (unsigned long long)rnd(),
                           (unsigned long long)rnd(), (unsigned long long)rnd());
    g_string_append(m, "From: ");
    party(m, &user, outbound);
    g_string_append(m, "\nTo: ");
    to_n = nparties > 3 ? 1 + pick(3) : nparties;
    for (i = 0; i < to_n; i++) {
        if (i)
            g_string_append(m, ", ");
        party(m, &user, !outbound && i == 0);
    }
    if (nparties > to_n) {
        g_string_append(m, "\nCc: ");
        for (i = to_n; i < nparties; i++) {
            if (i > to_n)
                g_string_append(m, ", ");
            party(m, &user, false);
        }
    }
    g_string_append(m, "\nSubject: ");
    if (n > 10 && pick(3) == 0)
        g_string_append(m, "Re: ");
    sentence(m, 3 + pick(5));
    g_string_append_printf(m, "\nDate: %s\nMessage-ID: <%u.%08x@bench.example>\n", date, n, (unsigned)rnd());
    if (n > 10 && pick(3) == 0) {
        unsigned parent = pick(n);
        g_string_append_printf(m, "In-Reply-To: <%u.thread@bench.example>\nReferences: <%u.thread@bench.example>\n",
                               parent, parent);
    }
    g_string_append(m, "MIME-Version: 1.0\n");
    body_text(body, size);

    if (attach)
        g_string_append_printf(m, "Content-Type: multipart/mixed; boundary=\"mix%u\"\n\n--mix%u\n", n, n);
    if (html) {
        g_string_append_printf(m, "Content-Type: multipart/alternative; boundary=\"alt%u\"\n\n--alt%u\n"
                                  "Content-Type: text/plain; charset=utf-8\n\n%s\n--alt%u\n"
                                  "Content-Type: text/html; charset=utf-8\n\n<html><body><div>",
                               n, n, body->str, n);
        gchar **paras = g_strsplit(body->str, "\n\n", -1);
        for (gchar **q = paras; *q; q++)
            g_string_append_printf(m, "<p>%s</p>", *q);
        g_strfreev(paras);
        g_string_append_printf(m, "</div></body></html>\n--alt%u--\n", n);
    } else if (latin1) {
        g_string_append(m, "Content-Type: text/plain; charset=iso-8859-1\n"
                           "Content-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe aus M=FCnchen,\n");
        g_string_append(m, body->str);
    } else {
        g_string_append(m, "Content-Type: text/plain; charset=utf-8\n\n");
        g_string_append(m, body->str);
    }
    if (attach) {
        g_string_append_printf(m, "--mix%u\nContent-Type: application/pdf; name=\"offer-%u.pdf\"\n"
                                  "Content-Disposition: attachment; filename=\"offer-%u.pdf\"\n"
                                  "Content-Transfer-Encoding: base64\n\n", n, n, n);
        base64_lines(m, 5000 + pick(95000));
        g_string_append_printf(m, "--mix%u--\n", n);
    }
    g_string_free(body, TRUE);
    g_free(date);
}

int main(int argc, char **argv)
{
    unsigned count, seed = 20261124;
    /* a fixed "now" keeps the output identical from day to day */
    const int64_t now = 1764000000;	/* 2025-11-24 */
    GString *m = g_string_sized_new(1 << 16);
    char *cur, *dirs[3];

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: gen_maildir DIR COUNT [SEED]\n");
        return 2;
    }
    count = (unsigned)strtoul(argv[2], NULL, 10);
    if (argc == 4)
        seed = (unsigned)strtoul(argv[3], NULL, 10);
    rng_state = 0x9E3779B97F4A7C15ULL ^ seed;
    dirs[0] = g_build_filename(argv[1], "cur", NULL);
    dirs[1] = g_build_filename(argv[1], "new", NULL);
    dirs[2] = g_build_filename(argv[1], "tmp", NULL);
    for (int i = 0; i < 3; i++) {
        if (g_mkdir_with_parents(dirs[i], 0755) != 0) {
            fprintf(stderr, "gen_maildir: %s: %s\n", dirs[i], g_strerror(errno));
            return 1;
        }
    }
    cur = dirs[0];
    for (unsigned n = 0; n < count; n++) {
        char name[64];
        char *path;
        FILE *f;

        g_string_truncate(m, 0);
        message(m, n, now);
        snprintf(name, sizeof name, "%u.M%uP1.bench:2,S", 1700000000u + n, n);
        path = g_build_filename(cur, name, NULL);
        /* plain stdio: no fsync per file, this is test data */
        f = fopen(path, "w");
        if (f == NULL || fwrite(m->str, 1, m->len, f) != m->len || fclose(f) != 0) {
            fprintf(stderr, "gen_maildir: %s: %s\n", path, g_strerror(errno));
            return 1;
        }
        g_free(path);
    }
    for (int i = 0; i < 3; i++)
        g_free(dirs[i]);
    g_string_free(m, TRUE);
    return 0;
}
