/*
 * test_matcher - who becomes a contact, which account, which user
 *
 * The matching policy of ARCHITECTURE.md rule 5, checked without a
 * database: the workspace snapshot is built by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <jansson.h>

#include "domains.h"
#include "matcher.h"
#include "prepare.h"

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

static void role_addresses_are_no_people_but_name_the_account(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { "MegaCorp Billing", "billing@megacorp.com" } };
    crm_address t[] = { { "Rep", "rep@vendor.example" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 1);
    crm_match m;

    (void)state;
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.direction, CRM_DIR_INBOUND);
    assert_true(m.primary->role_address);
    assert_false(m.primary->create_contact);
    assert_string_equal(m.primary->account_domain, "megacorp.com");
    crm_match_clear(&m);

    assert_true(crm_email_is_role_address("noreply@x.example"));
    assert_true(crm_email_is_role_address("no-reply@x.example"));
    assert_true(crm_email_is_role_address("noreply-billing@x.example"));
    assert_true(crm_email_is_role_address("bounces+12345@x.example"));
    assert_true(crm_email_is_role_address("support+ticket77@x.example"));
    assert_true(crm_email_is_role_address("mailer-daemon@x.example"));
    assert_true(crm_email_is_role_address("postmaster@x.example"));
    assert_true(crm_email_is_role_address("info@x.example"));
    assert_true(crm_email_is_role_address("donotreply@x.example"));
    assert_false(crm_email_is_role_address("john@x.example"));
    assert_false(crm_email_is_role_address("information.officer.smith@x.example"));
    assert_false(crm_email_is_role_address("salesforce.admin.jane@x.example"));
    assert_false(crm_email_is_role_address("noreplyjohn@x.example"));
    crm_workspace_free(ws);
}

static void a_person_is_primary_before_a_role_address(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { "Rep", "rep@vendor.example" } };
    crm_address t[] = { { NULL, "support@megacorp.com" }, { "Mary Jones", "mary@megacorp.com" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 2);
    crm_match m;

    (void)state;
    match(ws, &from, &to, NULL, &m);
    assert_int_equal(m.direction, CRM_DIR_OUTBOUND);
    assert_string_equal(m.primary->email, "mary@megacorp.com");
    assert_true(party(&m, "support@megacorp.com", CRM_ROLE_TO) != NULL);
    assert_false(party(&m, "support@megacorp.com", CRM_ROLE_TO)->create_contact);
    assert_true(party(&m, "mary@megacorp.com", CRM_ROLE_TO)->create_contact);
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void contact_policy_sent_creates_only_people_written_to(void **state)
{
    crm_workspace *ws = vendor();
    crm_address rep[] = { { "Rep", "rep@vendor.example" } };
    crm_address john[] = { { "John Smith", "john@megacorp.com" } };
    crm_address mary[] = { { "Mary Jones", "mary@megacorp.com" } };
    crm_address_list r = list_of(rep, 1), j = list_of(john, 1), c = list_of(mary, 1);
    crm_match m;

    (void)state;
    /* outbound: the recipients may be created, under sent too */
    match(ws, &r, &j, &c, &m);
    crm_match_apply_policy(&m, CRM_CONTACTS_SENT);
    assert_true(party(&m, "john@megacorp.com", CRM_ROLE_TO)->create_contact);
    assert_true(party(&m, "mary@megacorp.com", CRM_ROLE_CC)->create_contact);
    crm_match_clear(&m);
    /* inbound: nobody new under sent, everybody under sent_and_received */
    match(ws, &j, &r, &c, &m);
    crm_match_apply_policy(&m, CRM_CONTACTS_SENT);
    assert_false(party(&m, "john@megacorp.com", CRM_ROLE_FROM)->create_contact);
    assert_false(party(&m, "mary@megacorp.com", CRM_ROLE_CC)->create_contact);
    /* the account is still known: an existing one is linked */
    assert_string_equal(m.primary->account_domain, "megacorp.com");
    crm_match_clear(&m);
    match(ws, &j, &r, &c, &m);
    crm_match_apply_policy(&m, CRM_CONTACTS_SENT_AND_RECEIVED);
    assert_true(party(&m, "john@megacorp.com", CRM_ROLE_FROM)->create_contact);
    assert_true(party(&m, "mary@megacorp.com", CRM_ROLE_CC)->create_contact);
    crm_match_clear(&m);
    /* none: nobody, whichever way */
    match(ws, &r, &j, NULL, &m);
    crm_match_apply_policy(&m, CRM_CONTACTS_NONE);
    assert_false(party(&m, "john@megacorp.com", CRM_ROLE_TO)->create_contact);
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void contact_policy_names_round_trip(void **state)
{
    crm_contact_policy p;

    (void)state;
    assert_true(crm_contact_policy_parse("none", &p));
    assert_int_equal(p, CRM_CONTACTS_NONE);
    assert_true(crm_contact_policy_parse("sent", &p));
    assert_int_equal(p, CRM_CONTACTS_SENT);
    assert_true(crm_contact_policy_parse("sent_and_received", &p));
    assert_int_equal(p, CRM_CONTACTS_SENT_AND_RECEIVED);
    assert_false(crm_contact_policy_parse("everyone", &p));
    assert_false(crm_contact_policy_parse(NULL, &p));
    assert_string_equal(crm_contact_policy_name(CRM_CONTACTS_SENT), "sent");
}

static void blocked_parties_are_left_out(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { "Spammer", "deals@spam.example" } };
    crm_address t[] = { { "Rep", "rep@vendor.example" } };
    crm_address c[] = { { "Eve", "eve@mail.rival.example" }, { "John", "john@megacorp.com" } };
    crm_address_list from = list_of(f, 1), to = list_of(t, 1), cc = list_of(c, 1), cc2 = list_of(c, 2);
    crm_match m;

    (void)state;
    crm_workspace_block(ws, "@spam.example");
    crm_workspace_block(ws, "@rival.example");	/* subdomains too */
    assert_non_null(crm_workspace_blocked_by(ws, "x@spam.example"));
    assert_string_equal(crm_workspace_blocked_by(ws, "eve@mail.rival.example"), "@rival.example");
    assert_null(crm_workspace_blocked_by(ws, "x@notspam.example"));
    crm_workspace_block(ws, "Bob@Single.example");
    assert_non_null(crm_workspace_blocked_by(ws, "bob@single.example"));
    assert_null(crm_workspace_blocked_by(ws, "alice@single.example"));

    match(ws, &from, &to, &cc, &m);
    assert_int_equal(m.n_blocked, 2);
    assert_null(party(&m, "deals@spam.example", CRM_ROLE_FROM));
    assert_true(crm_match_only_blocked(&m));
    crm_match_clear(&m);
    /* one real external party left: kept, without the blocked ones */
    match(ws, &from, &to, &cc2, &m);
    assert_false(crm_match_only_blocked(&m));
    assert_string_equal(m.primary->email, "john@megacorp.com");
    crm_match_clear(&m);
    crm_workspace_free(ws);
}

static void workspace_corrects_the_freemail_list(void **state)
{
    crm_workspace *ws = vendor();
    crm_address f[] = { { "Ann", "ann@gmail.com" } };
    crm_address g[] = { { "Pat", "pat@smallisp.example" } };
    crm_address t[] = { { "Rep", "rep@vendor.example" } };
    crm_address_list ann = list_of(f, 1), pat = list_of(g, 1), to = list_of(t, 1);
    crm_match m;

    (void)state;
    crm_workspace_set_freemail(ws, "gmail.com", false);	/* a business on gmail */
    crm_workspace_set_freemail(ws, "smallisp.example", true);
    match(ws, &ann, &to, NULL, &m);
    assert_string_equal(m.primary->account_domain, "gmail.com");
    crm_match_clear(&m);
    match(ws, &pat, &to, NULL, &m);
    assert_null(m.primary->account_domain);
    crm_match_clear(&m);
    assert_true(crm_workspace_is_freemail(ws, "yahoo.co.uk"));	/* the list still holds */
    crm_workspace_free(ws);
}

/* The parties JSON is written as text: whatever a display name holds,
 * a JSON parser reads back the same values. */
static void parties_json_reads_back_whatever_the_names_hold(void **state)
{
    crm_party pt[2] = {
        { .email = "o'brien@megacorp.example", .display_name = "Sean \"The Deal\" O'Brien \\ CEO",
          .first_name = "Sean\t\x01", .last_name = "Br\xc3\xbcgger \xe2\x80\xaf\n", .role = CRM_ROLE_FROM,
          .account_domain = "megacorp.example", .account_name = "Megacorp", .primary = true,
          .create_contact = true },
        { .email = "rep@acme.example", .display_name = "bad \xff utf-8", .role = CRM_ROLE_TO,
          .user_id = "00000000-0000-0000-0000-000000000001", .internal = true, .acting_user = true },
    };
    crm_match m = { .parties = pt, .n_parties = 2 };
    char *text = crm_prepare_parties_json(&m, "00000000-0000-0000-0000-000000000001");
    json_error_t jerr;
    json_t *a = json_loads(text, 0, &jerr), *o;

    (void)state;
    assert_non_null(a);
    assert_int_equal(json_array_size(a), 2);	/* the acting user is a party: no extra entry */
    o = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(o, "email")), pt[0].email);
    assert_string_equal(json_string_value(json_object_get(o, "display_name")), pt[0].display_name);
    assert_string_equal(json_string_value(json_object_get(o, "first_name")), pt[0].first_name);
    assert_string_equal(json_string_value(json_object_get(o, "last_name")), pt[0].last_name);
    assert_string_equal(json_string_value(json_object_get(o, "role")), "from");
    assert_true(json_is_null(json_object_get(o, "user_id")));
    assert_true(json_is_true(json_object_get(o, "primary")));
    assert_true(json_is_true(json_object_get(o, "person")));
    assert_true(json_is_true(json_object_get(o, "create")));
    o = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(o, "display_name")), "bad \xef\xbf\xbd utf-8");
    assert_true(json_is_true(json_object_get(o, "internal")));
    assert_null(json_object_get(o, "person"));	/* said of external parties only */
    json_decref(a);
    free(text);

    /* an acting user who is no party gets an entry of its own */
    m.n_parties = 0;
    text = crm_prepare_parties_json(&m, "00000000-0000-0000-0000-000000000002");
    a = json_loads(text, 0, &jerr);
    assert_non_null(a);
    assert_int_equal(json_array_size(a), 1);
    o = json_array_get(a, 0);
    assert_true(json_is_true(json_object_get(o, "acting_only")));
    assert_string_equal(json_string_value(json_object_get(o, "user_id")), "00000000-0000-0000-0000-000000000002");
    json_decref(a);
    free(text);
    text = crm_prepare_parties_json(&m, NULL);
    assert_string_equal(text, "[]");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inbound_b2b_mail_links_sender_to_company_account),
        cmocka_unit_test(parties_json_reads_back_whatever_the_names_hold),
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
        cmocka_unit_test(role_addresses_are_no_people_but_name_the_account),
        cmocka_unit_test(a_person_is_primary_before_a_role_address),
        cmocka_unit_test(contact_policy_sent_creates_only_people_written_to),
        cmocka_unit_test(contact_policy_names_round_trip),
        cmocka_unit_test(blocked_parties_are_left_out),
        cmocka_unit_test(workspace_corrects_the_freemail_list),
    };
    return cmocka_run_group_tests_name("matcher", tests, NULL, NULL);
}
