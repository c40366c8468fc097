/*
 * test_auth_results - Authentication-Results fields, and who may use a
 * workspace's dropbox
 *
 * Fields as Gmail, Microsoft 365, Fastmail and OpenDKIM/OpenDMARC write
 * them, malformed and hostile ones; then the dropbox's sender rules
 * (dropbox_trust.h) over a workspace snapshot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "auth_results.h"
#include "dropbox_trust.h"

static crm_auth_results *parse(const char *v)
{
    return crm_auth_results_parse(v, strlen(v));
}

static const crm_auth_result *method(const crm_auth_results *ar, const char *m)
{
    for (size_t i = 0; i < ar->n_results; i++)
        if (strcmp(ar->results[i].method, m) == 0)
            return &ar->results[i];
    return NULL;
}

static void gmail(void **state)
{
    (void)state;
    crm_auth_results *ar = parse(
        " mx.google.com;\r\n"
        "       dkim=pass header.i=@example.com header.s=20230601 header.b=AbCdEf12;\r\n"
        "       spf=pass (google.com: domain of alice@example.com designates 209.85.220.41 as "
        "permitted sender) smtp.mailfrom=alice@example.com;\r\n"
        "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com");
    assert_non_null(ar);
    assert_string_equal(ar->authserv_id, "mx.google.com");
    assert_int_equal(ar->n_results, 3);
    assert_string_equal(method(ar, "dkim")->result, "pass");
    assert_string_equal(crm_auth_result_prop(method(ar, "dkim"), "header.i"), "@example.com");
    assert_string_equal(crm_auth_result_prop(method(ar, "dkim"), "header.b"), "AbCdEf12");
    assert_string_equal(crm_auth_result_prop(method(ar, "spf"), "smtp.mailfrom"), "alice@example.com");
    assert_string_equal(crm_auth_result_prop(method(ar, "dmarc"), "header.from"), "example.com");
    assert_null(crm_auth_result_prop(method(ar, "dmarc"), "p"));	/* a comment, not a property */
    crm_auth_results_free(ar);
}

static void microsoft365(void **state)
{
    (void)state;
    /* no authserv-id at all, and no space after a ';' */
    crm_auth_results *ar = parse(
        " spf=pass (sender IP is 40.107.22.52)\r\n smtp.mailfrom=contoso.com; dkim=pass\r\n"
        " (signature was verified) header.d=contoso.com;dmarc=pass action=none\r\n"
        " header.from=contoso.com;compauth=pass reason=100");
    assert_non_null(ar);
    assert_string_equal(ar->authserv_id, "");
    assert_int_equal(ar->n_results, 4);
    assert_string_equal(crm_auth_result_prop(method(ar, "spf"), "smtp.mailfrom"), "contoso.com");
    assert_string_equal(crm_auth_result_prop(method(ar, "dkim"), "header.d"), "contoso.com");
    assert_string_equal(crm_auth_result_prop(method(ar, "dmarc"), "action"), "none");
    assert_string_equal(crm_auth_result_prop(method(ar, "dmarc"), "header.from"), "contoso.com");
    assert_string_equal(method(ar, "compauth")->reason, "100");
    crm_auth_results_free(ar);
}

static void fastmail(void **state)
{
    (void)state;
    crm_auth_results *ar = parse(
        " mx3.messagingengine.com;\n"
        "    dkim=pass (2048-bit rsa key sha256) header.d=example.com header.i=@example.com"
        " header.b=ZmFrZQ== header.a=rsa-sha256 header.s=fm1 x-bits=2048;\n"
        "    dmarc=pass policy.published-domain-policy=none (p=none,d=none,d.eval=none)"
        " policy.policy-from=p header.from=example.com;\n"
        "    iprev=pass smtp.remote-ip=1.2.3.4 (mail.example.com);\n"
        "    spf=pass smtp.mailfrom=bob@example.com smtp.helo=mail.example.com");
    assert_non_null(ar);
    assert_string_equal(ar->authserv_id, "mx3.messagingengine.com");
    assert_int_equal(ar->n_results, 4);
    assert_string_equal(crm_auth_result_prop(method(ar, "dkim"), "header.b"), "ZmFrZQ==");
    assert_string_equal(crm_auth_result_prop(method(ar, "dkim"), "x-bits"), "2048");
    assert_string_equal(crm_auth_result_prop(method(ar, "dmarc"), "header.from"), "example.com");
    assert_string_equal(crm_auth_result_prop(method(ar, "iprev"), "smtp.remote-ip"), "1.2.3.4");
    assert_string_equal(crm_auth_result_prop(method(ar, "spf"), "smtp.helo"), "mail.example.com");
    crm_auth_results_free(ar);
}

static void opendkim_opendmarc(void **state)
{
    (void)state;
    crm_auth_results *ar = parse(" MX.Acme.Example; DKIM=Pass (2048-bit key; unprotected)"
                                 " header.d=acme.example header.i=@acme.example"
                                 " header.a=rsa-sha256 header.s=mail header.b=\"Xy/z+1ab\"");
    assert_non_null(ar);
    assert_string_equal(ar->authserv_id, "mx.acme.example");
    assert_string_equal(ar->results[0].method, "dkim");
    assert_string_equal(ar->results[0].result, "pass");
    assert_string_equal(crm_auth_result_prop(&ar->results[0], "header.b"), "Xy/z+1ab");
    crm_auth_results_free(ar);

    ar = parse(" mx.acme.example; dmarc=fail (p=reject dis=none) header.from=acme.example");
    assert_string_equal(ar->results[0].result, "fail");
    crm_auth_results_free(ar);

    /* a version after the authserv-id, a method version, "none" */
    ar = parse("mx.acme.example 1; spf=softfail smtp.mailfrom=alice@acme.example;"
               " dkim/2=pass header.d=acme.example");
    assert_string_equal(ar->authserv_id, "mx.acme.example");
    assert_int_equal(ar->n_results, 2);
    assert_string_equal(ar->results[0].result, "softfail");
    assert_string_equal(ar->results[1].method, "dkim");
    crm_auth_results_free(ar);
    ar = parse("mx.acme.example; none");
    assert_non_null(ar);
    assert_int_equal(ar->n_results, 0);
    crm_auth_results_free(ar);
    ar = parse("\"quoted.example\" (comment (nested)) ; spf=pass smtp.mailfrom=\"j d\"@x.example");
    assert_string_equal(ar->authserv_id, "quoted.example");
    assert_string_equal(crm_auth_result_prop(&ar->results[0], "smtp.mailfrom"), "j d@x.example");
    crm_auth_results_free(ar);
}

static void malformed(void **state)
{
    (void)state;
    static const char *const junk[] = {
        ";;;", "(unterminated comment", "mx; =pass", "mx; dkim=", "\"unterminated quote",
        "mx; dkim=pass header.d", "mx; dkim=pass =x ) ( header.d=y", "mx; ((((((((((",
        "mx; spf=pass smtp.mailfrom=\"a\\", "mx spf=pass", ")", "=", "mx; ;; dkim=pass;;",
        "mx; dkim=pass header.d==x.example",
    };
    char *big, bin[256];
    crm_auth_results *ar;

    for (size_t i = 0; i < G_N_ELEMENTS(junk); i++)
        crm_auth_results_free(parse(junk[i]));	/* must not crash */
    assert_null(parse(""));
    assert_null(parse("   "));
    assert_null(crm_auth_results_parse(NULL, 0));
    ar = parse("mx; dkim=");
    assert_int_equal(ar->n_results, 0);
    crm_auth_results_free(ar);
    ar = parse("mx; ;; dkim=pass;;");
    assert_int_equal(ar->n_results, 1);
    crm_auth_results_free(ar);

    /* every byte value, NULs included: what is kept is printable ASCII */
    for (int i = 0; i < 256; i++)
        bin[i] = (char)(255 - i);
    ar = crm_auth_results_parse(bin, sizeof bin);
    if (ar != NULL) {
        for (const char *p = ar->authserv_id; *p; p++)
            assert_true(*p > 0x20 && *p < 0x7f);
        crm_auth_results_free(ar);
    }
    static const char ctl[] = "mx; spf=pass smtp.mailfrom=a\001\n\377b@x";
    ar = crm_auth_results_parse(ctl, sizeof ctl - 1);
    assert_string_equal(crm_auth_result_prop(&ar->results[0], "smtp.mailfrom"), "a?");
    crm_auth_results_free(ar);

    /* bounded: too long a value is not read, too many results are cut */
    big = g_strnfill(CRM_AUTH_MAX_VALUE + 1, 'a');
    assert_null(parse(big));
    g_free(big);
    GString *many = g_string_new("mx");
    for (int i = 0; i < 200; i++)
        g_string_append_printf(many, "; m%d=pass", i);
    for (int i = 0; i < 100; i++)
        g_string_append_printf(many, " p.x%d=v", i);
    ar = parse(many->str);
    assert_int_equal(ar->n_results, CRM_AUTH_MAX_RESULTS);
    crm_auth_results_free(ar);
    g_string_free(many, TRUE);
    many = g_string_new("mx; dkim=pass");
    for (int i = 0; i < 100; i++)
        g_string_append_printf(many, " p.x%d=v", i);
    ar = parse(many->str);
    assert_int_equal(ar->results[0].n_props, CRM_AUTH_MAX_PROPS);
    crm_auth_results_free(ar);
    g_string_free(many, TRUE);
}

static void fields_of_a_message(void **state)
{
    (void)state;
    static const char raw[] =
        "From alice@acme.example Mon May  6 10:00:00 2024\n"
        "Authentication-Results: mx.acme.example;\r\n"
        "\tdmarc=pass header.from=acme.example\r\n"
        "Received: from x by y\r\n"
        "authentication-results : other.example; spf=fail\r\n"
        "Authentication-Results-Original: mx.evil.example; dmarc=pass\r\n"
        "X-Authentication-Results: mx.evil.example; dmarc=pass\r\n"
        "Subject: hi\r\n"
        "\r\n"
        "Authentication-Results: body.example; dmarc=pass\r\n";
    GPtrArray *f = crm_auth_results_fields(raw, sizeof raw - 1);

    assert_int_equal(f->len, 2);
    assert_string_equal(f->pdata[0], " mx.acme.example;\tdmarc=pass header.from=acme.example");
    assert_string_equal(f->pdata[1], " other.example; spf=fail");
    g_ptr_array_free(f, TRUE);

    /* an endless folded field is dropped, the count of fields bounded */
    GString *g = g_string_new("Authentication-Results: mx;\n");
    for (int i = 0; i < 2000; i++)
        g_string_append(g, " dkim=pass header.d=acme.example;\n");
    for (int i = 0; i < 200; i++)
        g_string_append(g, "Authentication-Results: mx; none\n");
    f = crm_auth_results_fields(g->str, g->len);
    assert_int_equal(f->len, CRM_AUTH_MAX_FIELDS);
    g_ptr_array_free(f, TRUE);
    g_string_free(g, TRUE);
    f = crm_auth_results_fields("", 0);
    assert_int_equal(f->len, 0);
    g_ptr_array_free(f, TRUE);
}

/* ---- the dropbox's sender rules ----------------------------------------- */

typedef struct fixture {
    crm_workspace *ws;
    crm_address from_items[2];
    crm_address_list from;
    GPtrArray *auth;
    char **trusted;
    char why[256];
} fixture;

static fixture *fx_new(const char *from, const char *trusted)
{
    fixture *f = g_new0(fixture, 1);

    f->ws = crm_workspace_new("00000000-0000-0000-0000-000000000001", "acme");
    crm_workspace_add_domain(f->ws, "acme.example");
    crm_workspace_add_user(f->ws, "alice@acme.example", "u1");
    if (from != NULL) {
        f->from_items[0].email = (char *)from;
        f->from.items = f->from_items;
        f->from.count = 1;
    }
    f->auth = g_ptr_array_new_with_free_func((GDestroyNotify)crm_auth_results_free);
    f->trusted = crm_dropbox_trusted_ids(trusted);
    return f;
}

static void fx_ar(fixture *f, const char *value)
{
    g_ptr_array_add(f->auth, parse(value));
}

static bool fx_trusted(fixture *f, const char *envelope)
{
    crm_trust_input in = { envelope, &f->from, (crm_auth_results *const *)f->auth->pdata,
                           f->auth->len, f->trusted };
    return crm_dropbox_trusted(f->ws, &in, f->why, sizeof f->why);
}

static void fx_free(fixture *f)
{
    crm_workspace_free(f->ws);
    g_ptr_array_free(f->auth, TRUE);
    g_strfreev(f->trusted);
    g_free(f);
}

static void users_without_authentication_results(void **state)
{
    (void)state;
    fixture *f = fx_new("Alice@Acme.Example", "mx.acme.example");
    assert_true(fx_trusted(f, "alice@acme.example"));
    assert_true(fx_trusted(f, "bounces@esp.example"));	/* From a user is enough */
    fx_free(f);

    f = fx_new("bob@evil.example", "mx.acme.example");
    assert_true(fx_trusted(f, "alice@acme.example"));	/* the envelope is enough */
    assert_false(fx_trusted(f, "bob@evil.example"));
    assert_string_equal(f->why, "sender bob@evil.example is not a user of workspace acme "
                        "(dropbox senders: users)");
    assert_false(fx_trusted(f, ""));
    f->ws->dropbox_anyone = true;
    assert_true(fx_trusted(f, "bob@evil.example"));
    fx_free(f);

    /* a forward is judged by the rep forwarding it: the outer From */
    f = fx_new(NULL, NULL);
    assert_false(fx_trusted(f, ""));
    assert_string_equal(f->why, "sender <> is not a user of workspace acme (dropbox senders: users)");
    fx_free(f);
}

/* The verdict on one mail to acme (user alice): its From, the trusted
 * authserv-ids, up to two Authentication-Results fields (NULL: fewer)
 * and the envelope sender; the reason in why when it is not NULL. */
static bool judge(const char *from, const char *trusted, const char *ar1, const char *ar2,
                  const char *envelope, char why[256])
{
    fixture *f = fx_new(from, trusted);
    bool ok;

    if (ar1 != NULL)
        fx_ar(f, ar1);
    if (ar2 != NULL)
        fx_ar(f, ar2);
    ok = fx_trusted(f, envelope);
    if (why != NULL)
        g_strlcpy(why, f->why, 256);
    fx_free(f);
    return ok;
}

/* The verdict on a mail from bob@acme.co.uk, a user of acme too. */
static bool judge_bob(const char *ar)
{
    fixture *f = fx_new("bob@acme.co.uk", "mx.acme.example");
    bool ok;

    crm_workspace_add_user(f->ws, "bob@acme.co.uk", "u2");
    fx_ar(f, ar);
    ok = fx_trusted(f, "x@y.example");
    fx_free(f);
    return ok;
}

static void trusted_verdicts(void **state)
{
    (void)state;
    char why[256];

    assert_true(judge("alice@acme.example", "mx.acme.example, mx2.acme.example",
                      "mx.acme.example; spf=none; dmarc=pass (p=reject) header.from=acme.example",
                      NULL, "alice@acme.example", NULL));
    assert_false(judge("alice@acme.example", "mx.acme.example",
                       "mx.acme.example; dkim=none; dmarc=fail (p=reject) header.from=acme.example",
                       NULL, "alice@acme.example", why));
    assert_string_equal(why, "sender alice@acme.example of workspace acme failed DMARC at "
                        "mx.acme.example");

    /* DKIM aligned by registrable domain, by header.d or header.i */
    assert_true(judge("alice@acme.example", "mx.acme.example",
                      "mx.acme.example; dkim=pass header.d=mail.acme.example", NULL,
                      "x@y.example", NULL));
    assert_true(judge("alice@acme.example", "mx.acme.example",
                      "mx.acme.example; dkim=pass header.i=@Acme.Example", NULL,
                      "x@y.example", NULL));
    assert_false(judge("alice@acme.example", "mx.acme.example",
                       "mx.acme.example; dkim=pass header.d=esp.example; dkim=fail header.d=acme.example",
                       NULL, "x@y.example", why));
    assert_non_null(strstr(why, "is not authenticated at mx.acme.example"));

    /* a pass for another domain says nothing of the user's */
    assert_false(judge("alice@acme.example", "mx.acme.example",
                       "mx.acme.example; dmarc=pass header.from=evil.example; dkim=pass header.d=evil.example",
                       NULL, "alice@acme.example", NULL));
    /* alignment is by registrable domain (public suffix list): two
     * companies under co.uk are not aligned */
    assert_false(judge_bob("mx.acme.example; dkim=pass header.d=evil.co.uk"));
    assert_true(judge_bob("mx.acme.example; dkim=pass header.d=mail.acme.co.uk"));

    /* SPF speaks for the envelope sender: the address or its domain */
    assert_true(judge("bob@evil.example", "mx.acme.example",
                      "mx.acme.example; spf=pass smtp.mailfrom=alice@acme.example", NULL,
                      "alice@acme.example", NULL));
    assert_true(judge("bob@evil.example", "mx.acme.example",
                      "spf=pass smtp.mailfrom=acme.example",	/* no authserv-id: never trusted */
                      "mx.acme.example; spf=pass smtp.mailfrom=acme.example",
                      "alice@acme.example", NULL));
    assert_false(judge("bob@evil.example", "mx.acme.example",
                       "mx.acme.example; spf=softfail smtp.mailfrom=alice@acme.example", NULL,
                       "alice@acme.example", NULL));
    assert_false(judge("bob@evil.example", "mx.acme.example",
                       "mx.acme.example; spf=pass smtp.mailfrom=alice@acme.example.evil.example",
                       NULL, "alice@acme.example", NULL));
}

static void forged_fields_are_ignored(void **state)
{
    (void)state;
    char why[256];

    /* a pass from an authserv-id nobody configured proves nothing */
    assert_false(judge("bob@evil.example", "mx.acme.example",
                       "mx.evil.example; dmarc=pass header.from=evil.example; spf=pass smtp.mailfrom=bob@evil.example",
                       NULL, "bob@evil.example", why));
    assert_non_null(strstr(why, "is not a user of workspace acme"));

    /* and a fail from it does not spoil a user: no trusted field, the
     * user check alone decides */
    assert_true(judge("alice@acme.example", "mx.acme.example",
                      "mx.evil.example; dmarc=fail header.from=acme.example", NULL,
                      "alice@acme.example", NULL));

    /* nothing configured: every field is ignored */
    assert_true(judge("alice@acme.example", "",
                      "mx.acme.example; dmarc=fail header.from=acme.example", NULL,
                      "alice@acme.example", NULL));
}

static void loop_breaker_sender(void **state)
{
    (void)state;
    crm_address a = { (char *)"Bob", (char *)"Bob@Evil.Example" };
    crm_address_list from = { &a, 1 }, none = { NULL, 0 };
    char *s, **ids;

    s = crm_dropbox_sender("alice@acme.example", &from);
    assert_string_equal(s, "bob@evil.example");
    g_free(s);
    s = crm_dropbox_sender("Alice@Acme.Example", &none);
    assert_string_equal(s, "alice@acme.example");
    g_free(s);
    assert_null(crm_dropbox_sender("", &none));
    assert_null(crm_dropbox_sender(NULL, NULL));

    ids = crm_dropbox_trusted_ids(" MX.A.example, ,mx.b ");
    assert_int_equal(g_strv_length(ids), 2);
    assert_string_equal(ids[0], "mx.a.example");
    assert_string_equal(ids[1], "mx.b");
    g_strfreev(ids);
    assert_null(crm_dropbox_trusted_ids(" , "));
    assert_null(crm_dropbox_trusted_ids(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gmail),
        cmocka_unit_test(microsoft365),
        cmocka_unit_test(fastmail),
        cmocka_unit_test(opendkim_opendmarc),
        cmocka_unit_test(malformed),
        cmocka_unit_test(fields_of_a_message),
        cmocka_unit_test(users_without_authentication_results),
        cmocka_unit_test(trusted_verdicts),
        cmocka_unit_test(forged_fields_are_ignored),
        cmocka_unit_test(loop_breaker_sender),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
