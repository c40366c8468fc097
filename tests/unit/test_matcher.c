/*
 * test_matcher - who becomes a contact, which account, which user
 *
 * The matching policy of ARCHITECTURE.md rule 5, checked without a
 * database: the workspace snapshot is built by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "domains.h"
#include "matcher.h"

static crm_workspace *vendor(void)
{
    crm_workspace *ws = crm_workspace_new("00000000-0000-0000-0000-000000000001", "Vendor");
    crm_workspace_add_domain(ws, "vendor.example");
    crm_workspace_add_user(ws, "rep@vendor.example", "user-rep");
    crm_workspace_add_user(ws, "boss@vendor.example", "user-boss");
    return ws;
}

static crm_address_list list_of(crm_address *items, size_t n)
{
    return (crm_address_list){ .items = items, .count = n };
}

static const crm_party *party(const crm_match *m, const char *email, crm_role role)
{
    for (size_t i = 0; i < m->n_parties; i++)
        if (strcmp(m->parties[i].email, email) == 0 && m->parties[i].role == role)
            return &m->parties[i];
    return NULL;
}

static void match(const crm_workspace *ws, crm_address_list *from, crm_address_list *to,
                  crm_address_list *cc, crm_match *m)
{
    const crm_address_list *by_role[CRM_ROLE_COUNT] = { 0 };
    by_role[CRM_ROLE_FROM] = from;
    by_role[CRM_ROLE_TO] = to;
    by_role[CRM_ROLE_CC] = cc;
    crm_match_addresses(ws, by_role, m);
}

static void inbound_b2b_mail_links_sender_to_company_account(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { "John Smith", "John.Smith@MegaCorp.com" } };
    crm_address t[] = { { "Rep", "rep@vendor.example" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 1);
    crm_match m;
    const crm_party *john, *rep;

    (void)state;
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.direction, CRM_DIR_INBOUND);
    john = party(&m, "john.smith@megacorp.com", CRM_ROLE_FROM);
    assert_non_null(john);
    assert_false(john->internal);
    assert_true(john->primary);
    assert_string_equal(john->account_domain, "megacorp.com");
    assert_string_equal(john->account_name, "Megacorp");
    assert_string_equal(john->first_name, "John");
    assert_string_equal(john->last_name, "Smith");
    rep = party(&m, "rep@vendor.example", CRM_ROLE_TO);
    assert_true(rep->internal);
    assert_true(rep->acting_user);
    assert_string_equal(m.user_id, "user-rep");
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void outbound_mail_to_gmail_is_b2c_with_no_account(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { NULL, "rep@vendor.example" } };
    crm_address t[] = { { "Jane Doe", "jane.doe@gmail.com" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 1);
    crm_match m;
    const crm_party *jane;

    (void)state;
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.direction, CRM_DIR_OUTBOUND);
    jane = party(&m, "jane.doe@gmail.com", CRM_ROLE_TO);
    assert_true(jane->primary);
    assert_null(jane->account_domain);
    assert_string_equal(m.user_id, "user-rep");
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void outbound_primary_is_first_external_to_then_cc(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { NULL, "rep@vendor.example" } };
    crm_address t[] = { { NULL, "boss@vendor.example" } };
    crm_address c[] = { { NULL, "mary@megacorp.com" }, { NULL, "susan@megacorp.com" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 1), cc = list_of(c, 2);
    crm_match m;

    (void)state;
    match(ws, &from, &to, &cc, &m);
    assert_int_equal(m.direction, CRM_DIR_OUTBOUND);
    assert_non_null(m.primary);
    assert_string_equal(m.primary->email, "mary@megacorp.com");
    assert_false(party(&m, "susan@megacorp.com", CRM_ROLE_CC)->primary);
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void colleagues_only_mail_is_internal_without_contacts(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { NULL, "rep@vendor.example" } };
    crm_address t[] = { { NULL, "someone.new@mail.vendor.example" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 1);
    crm_match m;

    (void)state;
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.direction, CRM_DIR_INTERNAL);
    assert_null(m.primary);
    /* a subdomain of the workspace's domain is internal though no user */
    assert_true(party(&m, "someone.new@mail.vendor.example", CRM_ROLE_TO)->internal);
    assert_null(party(&m, "someone.new@mail.vendor.example", CRM_ROLE_TO)->user_id);
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void subdomain_of_company_belongs_to_registrable_domain(void **state)
{
    char *reg = crm_domain_registrable("eu.mail.megacorp.co.uk");

    (void)state;
    assert_string_equal(reg, "megacorp.co.uk");
    g_free(reg);
    reg = crm_domain_account_name("megacorp.co.uk");
    assert_string_equal(reg, "Megacorp");
    g_free(reg);
}

static void freemail_families_are_recognised(void **state)
{
    (void)state;
    assert_true(crm_domain_is_freemail("gmail.com"));
    assert_true(crm_domain_is_freemail("yahoo.co.uk"));
    assert_true(crm_domain_is_freemail("yahoo.fr"));
    assert_true(crm_domain_is_freemail("hotmail.de"));
    assert_true(crm_domain_is_freemail("icloud.com"));
    assert_false(crm_domain_is_freemail("megacorp.com"));
    /* a company whose name merely starts like a provider */
    assert_false(crm_domain_is_freemail("gmailer.com"));
    assert_false(crm_domain_is_freemail("yahoogroups-consulting.com"));
}

static void addresses_are_normalised_and_junk_refused(void **state)
{
    char *e;

    (void)state;
    e = crm_email_normalise("  <John.Smith@MEGACORP.com> ");
    assert_string_equal(e, "john.smith@megacorp.com");
    g_free(e);
    assert_null(crm_email_normalise("undisclosed-recipients"));
    assert_null(crm_email_normalise("@megacorp.com"));
    assert_null(crm_email_normalise("john@"));
    assert_null(crm_email_normalise("jo hn@megacorp.com"));
    assert_null(crm_email_normalise("a@b@c.com"));
}

static void display_names_split_into_first_and_last(void **state)
{
    char *f, *l;

    (void)state;
    crm_name_split("\"Smith, John\"", &f, &l);
    assert_string_equal(f, "John");
    assert_string_equal(l, "Smith");
    g_free(f); g_free(l);
    crm_name_split("Mary Ann Jones", &f, &l);
    assert_string_equal(f, "Mary Ann");
    assert_string_equal(l, "Jones");
    g_free(f); g_free(l);
    crm_name_split("Cher", &f, &l);
    assert_string_equal(f, "Cher");
    assert_null(l);
    g_free(f);
    crm_name_split("john@megacorp.com", &f, &l);
    assert_null(f);
    assert_null(l);
}

static void invalid_addresses_are_listed_not_matched(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { "Broken", "not-an-address" } };
    crm_address t[] = { { NULL, "rep@vendor.example" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 1);
    crm_match m;

    (void)state;
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.n_invalid, 1);
    assert_string_equal(m.invalid[0], "not-an-address");
    assert_int_equal(m.n_parties, 1);
    assert_int_equal(m.direction, CRM_DIR_INTERNAL);
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void same_address_twice_in_a_role_is_one_party(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { NULL, "john@megacorp.com" } };
    crm_address t[] = { { NULL, "rep@vendor.example" }, { "Rep", "REP@vendor.example" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 2);
    crm_match m;

    (void)state;
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.n_parties, 2);
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void a_dropbox_address_is_no_party(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { NULL, "rep@vendor.example" } };
    crm_address t[] = { { NULL, "Log+Vendor@in.example.com" }, { NULL, "john@megacorp.com" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 2);
    crm_match m;

    (void)state;
    crm_workspace_add_dropbox(ws, "log+vendor@in.example.com");
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.n_parties, 2);
    assert_null(party(&m, "log+vendor@in.example.com", CRM_ROLE_TO));
    assert_string_equal(m.primary->email, "john@megacorp.com");
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inbound_b2b_mail_links_sender_to_company_account),
        cmocka_unit_test(outbound_mail_to_gmail_is_b2c_with_no_account),
        cmocka_unit_test(outbound_primary_is_first_external_to_then_cc),
        cmocka_unit_test(colleagues_only_mail_is_internal_without_contacts),
        cmocka_unit_test(subdomain_of_company_belongs_to_registrable_domain),
        cmocka_unit_test(freemail_families_are_recognised),
        cmocka_unit_test(addresses_are_normalised_and_junk_refused),
        cmocka_unit_test(display_names_split_into_first_and_last),
        cmocka_unit_test(invalid_addresses_are_listed_not_matched),
        cmocka_unit_test(same_address_twice_in_a_role_is_one_party),
        cmocka_unit_test(a_dropbox_address_is_no_party),
    };
    return cmocka_run_group_tests_name("matcher", tests, NULL, NULL);
}
