#!/usr/bin/env python3
"""attribution.py - runs the labelled attribution set (tests/attribution)
against crmgate and compares the database with the labels.

    attribution.py check LABELS   the labels themselves: parse, files, sizes
    attribution.py init LABELS    the "init" rows (before the dropbox server)
    attribution.py run LABELS     every other row, in order, then the scores

Prints "ok - ..." / "not ok - ..." lines and "# ..." diagnostics, which
t-attribution.sh turns into TAP. Environment: CRMGATE (the binary), DBURL
(the database), SMTP_PORT (crmgate serve's SMTP listener, for dropbox rows).
Only the standard library: psql and swaks do the talking.
"""

import json
import os
import re
import shlex
import subprocess
import sys

COLUMNS = ["scenario", "item", "entry", "path", "outcome", "direction", "user",
           "contact", "account", "creates", "checks"]


def parse_labels(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.split("|")]
            if len(cells) != len(COLUMNS):
                raise SystemExit("%s:%d: %d columns, expected %d" % (path, n, len(cells), len(COLUMNS)))
            row = dict(zip(COLUMNS, cells))
            row["line"] = n
            rows.append(row)
    return rows


def creates_of(row):
    """{email: domain or 'B2C'} from the creates column."""
    out = {}
    if row["creates"] in ("", "-"):
        return out
    for pair in row["creates"].split(","):
        email, _, acct = pair.strip().partition("=")
        out[email.strip().lower()] = acct.strip().lower()
    return out


def checks_of(row):
    out = []
    if row["checks"] in ("", "-"):
        return out
    for c in row["checks"].split(";"):
        k, _, v = c.strip().partition("=")
        out.append((k.strip(), v.strip()))
    return out


def item_key(base, path, as_meeting=False):
    """('mid', Message-ID) for a mail, ('uid', UID) for a calendar file or
    for the meeting an invitation mail carries (as_meeting)."""
    with open(os.path.join(base, path), encoding="utf-8", errors="replace") as f:
        text = f.read()
    if path.endswith(".ics") or as_meeting:
        m = re.search(r"^UID:(.*?)\r?$", text, re.M)
        return ("uid", m.group(1).strip()) if m else None
    head = re.split(r"\r?\n\r?\n", text, 1)[0]
    m = re.search(r"^Message-ID:\s*<([^>]+)>", head, re.M | re.I)
    return ("mid", m.group(1).strip()) if m else None


# ---- talking to the database --------------------------------------------

def q(s):
    return "'" + s.replace("'", "''") + "'"


def sql_json(query):
    """Runs a query returning one json value; None when it gives NULL."""
    r = subprocess.run(["psql", "-X", "-A", "-t", "-q", os.environ["DBURL"], "-c", query],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("psql: " + r.stderr.strip())
    out = r.stdout.strip()
    return json.loads(out) if out else None


def ws_clause(ws):
    return "(SELECT id FROM workspaces WHERE name = %s)" % q(ws)


def contacts_query(ws):
    return """
        SELECT coalesce(json_agg(json_build_object('email', lower(c.email),
               'account', c.account_id,
               'domains', (SELECT json_agg(d.domain ORDER BY d.domain) FROM account_domains d
                            WHERE d.account_id = c.account_id))), '[]'::json)
          FROM contacts c WHERE c.workspace_id = %s""" % ws_clause(ws)


def contacts_of(ws, rows=None):
    """{email: sorted list of the domains its account owns, or None (B2C)}"""
    if rows is None:
        rows = sql_json(contacts_query(ws)) or []
    out = {}
    for r in rows:
        if r["account"] is None:
            out[r["email"]] = None
        else:
            out[r["email"]] = r["domains"] or ["(account without domain)"]
    return out


def snapshot(ws, key):
    """(contacts, interactions of the item) in one round trip: psql is
    the slow part of this test."""
    both = sql_json("SELECT json_build_object('c', (%s), 'i', (%s))"
                    % (contacts_query(ws), interactions_query(ws, key)))
    return contacts_of(ws, both["c"] or []), both["i"] or []


def interactions_query(ws, key):
    kind, value = key
    if kind == "mid":
        where = ("i.type = 'email' AND (i.metadata->>'message_id' = %s"
                 " OR i.metadata->'forwarded'->>'message_id' = %s)" % (q(value), q(value)))
    else:
        where = "i.type = 'meeting' AND i.metadata->>'uid' = %s" % q(value)
    return """
        SELECT coalesce(json_agg(json_build_object(
               'direction', i.metadata->>'direction',
               'user', (SELECT lower(u.email) FROM users u WHERE u.id = i.user_id),
               'contact', (SELECT lower(c.email) FROM contacts c WHERE c.id = i.contact_id),
               'account', i.account_id,
               'account_domains', (SELECT json_agg(d.domain ORDER BY d.domain) FROM account_domains d
                                    WHERE d.account_id = i.account_id),
               'metadata', i.metadata,
               'participants', (SELECT json_agg(json_build_object('email', lower(p.email),
                                       'user', (SELECT lower(u.email) FROM users u WHERE u.id = p.user_id)))
                                  FROM interaction_participants p WHERE p.interaction_id = i.id))
               ORDER BY i.interacted_at), '[]'::json)
          FROM interactions i WHERE i.workspace_id = %s AND %s""" % (ws_clause(ws), where)


def mails_with_mid(ws, mid):
    return sql_json("SELECT count(*) FROM interactions WHERE workspace_id = %s AND type = 'email'"
                    " AND metadata->>'message_id' = %s" % (ws_clause(ws), q(mid)))


def meetings_with_uid(ws, uid):
    return sql_json("SELECT count(*) FROM interactions WHERE workspace_id = %s AND type = 'meeting'"
                    " AND metadata->>'uid' = %s" % (ws_clause(ws), q(uid)))


# ---- running one row ----------------------------------------------------

def crmgate(args):
    r = subprocess.run([os.environ["CRMGATE"]] + args, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def run_ingest(base, row):
    _, _, policy = row["entry"].partition(":")
    args = ["ingest", "--workspace", row["scenario"]]
    if policy:
        args += ["--contacts", policy]
    rc, out, err = crmgate(args + [os.path.join(base, row["path"])])
    last = out.strip().splitlines()[-1] if out.strip() else ""
    m = re.match(r"ingested (\d+), duplicates (\d+), skipped (\d+), failed (\d+)", last)
    counts = tuple(int(x) for x in m.groups()) if m else None
    said = (last + " " + err.strip()).strip()
    return rc, counts, said, out + err


def run_dropbox(base, row):
    _, sender, rcpt = row["entry"].split(":", 2)
    r = subprocess.run(["swaks", "--server", "127.0.0.1:" + os.environ.get("SMTP_PORT", "25"),
                        "--from", sender, "--to", rcpt, "--data", os.path.join(base, row["path"])],
                       capture_output=True, text=True)
    replies = re.findall(r"^<[-*~ ]+(\d{3}[ -].*)$", r.stdout + r.stderr, re.M)
    return replies


def describe(v):
    return "-" if v is None else str(v)


def compare_item(base, row, before, after, state):
    """The differences between the labels and what crmgate did, as text."""
    ws, diffs = row["scenario"], []
    want = row["outcome"]
    got_rows = state["interactions"]
    got = state["outcome"]
    if got != want:
        diffs.append("outcome: expected %s, got %s (%s)" % (want, got, state["said"]))
    if want == "kept" and got_rows:
        it = got_rows[-1]
        if row["direction"] != "*" and describe(it["direction"]) != row["direction"]:
            diffs.append("direction: expected %s, got %s" % (row["direction"], describe(it["direction"])))
        if row["user"] != "*" and describe(it["user"]) != row["user"].lower():
            diffs.append("user: expected %s, got %s" % (row["user"], describe(it["user"])))
        if row["contact"] != "*" and describe(it["contact"]) != row["contact"].lower():
            diffs.append("contact: expected %s, got %s" % (row["contact"], describe(it["contact"])))
        if row["account"] != "*":
            doms = it["account_domains"] or ([] if it["account"] is None else ["(account without domain)"])
            if row["account"] == "-":
                if it["account"] is not None:
                    diffs.append("account: expected none, got %s" % ",".join(doms))
            elif row["account"].lower() not in doms:
                diffs.append("account: expected %s, got %s" % (row["account"],
                             ",".join(doms) if it["account"] is not None else "none"))
    # the contacts this item created, and their accounts
    new = {e: a for e, a in after.items() if e not in before}
    expect = creates_of(row)
    for e, a in sorted(expect.items()):
        if e not in new:
            diffs.append("contact %s not created" % e)
        elif a == "b2c" and new[e] is not None:
            diffs.append("contact %s: expected B2C, got account %s" % (e, ",".join(new[e])))
        elif a != "b2c" and (new[e] is None or a not in new[e]):
            diffs.append("contact %s: expected account %s, got %s" % (e, a, "B2C" if new[e] is None else ",".join(new[e])))
    for e in sorted(set(new) - set(expect)):
        diffs.append("contact %s created (%s), not expected" % (e, "B2C" if new[e] is None else ",".join(new[e])))
    if want != "kept" and got_rows:
        diffs.append("%d interaction(s) stored for a %s item" % (len(got_rows), want))
    # the extra checks
    it = got_rows[-1] if got_rows else None
    parts = {p["email"]: p["user"] for p in (it["participants"] or [])} if it else {}
    for k, v in checks_of(row):
        if k == "has":
            if it is not None and v.lower() not in parts:
                diffs.append("participant %s missing" % v)
        elif k == "lacks":
            if v.lower() in parts:
                diffs.append("participant %s present" % v)
            if v.lower() in after:
                diffs.append("%s is a contact" % v)
        elif k == "users":
            if it is not None:
                have = {u for u in parts.values() if u}
                for u in v.split(","):
                    if u.lower() not in have:
                        diffs.append("user %s not a participant" % u)
        elif k.startswith("meta."):
            if it is not None:
                m = (it["metadata"] or {}).get(k[5:])
                m = json.dumps(m) if isinstance(m, bool) or m is None else str(m)
                if m != v:
                    diffs.append("metadata %s: expected %s, got %s" % (k[5:], v, m))
        elif k == "count":
            if len(got_rows) != int(v):
                diffs.append("expected %s interaction(s) for the item, got %d" % (v, len(got_rows)))
        elif k == "uid_count":
            uid, _, n = v.rpartition(":")
            c = meetings_with_uid(ws, uid)
            if c != int(n):
                diffs.append("expected %s meeting(s) with UID %s, got %s" % (n, uid, c))
        elif k == "as":
            pass		# the item's key: see item_key()
        elif k == "mails":
            c = mails_with_mid(ws, item_key(base, row["path"])[1])
            if c != int(v):
                diffs.append("expected %s email interaction(s) for the Message-ID, got %s" % (v, c))
        elif k == "reason":
            if not re.search(v, state["output"], re.I):
                diffs.append("the reason does not name /%s/ (%s)" % (v, state["said"]))
        else:
            diffs.append("unknown check %s" % k)
    return diffs


def outcome_of_ingest(rc, counts, rows):
    if counts is None or rc != 0:
        return "failed"
    if counts[3] > 0:
        return "failed"
    if rows:
        return "kept"
    if counts[2] > 0:
        return "skipped"
    return "lost"		# reported stored, but not found by its key


def outcome_of_dropbox(replies, rows):
    if any(r.startswith("5") for r in replies):
        return "refused"
    if rows:
        return "kept"
    return "skipped"


# ---- the commands -------------------------------------------------------

def cmd_check(base, rows):
    items = [r for r in rows if r["entry"] not in ("init", "setup")]
    mails = [r for r in items if r["path"].endswith(".eml")]
    events = [r for r in items if r["path"].endswith(".ics")]
    print("# %d items: %d messages, %d events, %d scenarios" %
          (len(items), len(mails), len(events), len({r["scenario"] for r in items})))
    print(("ok" if len(mails) >= 60 else "not ok") + " - the set has at least 60 messages (%d)" % len(mails))
    print(("ok" if len(events) >= 15 else "not ok") + " - the set has at least 15 events (%d)" % len(events))
    bad = [r["item"] for r in items if not os.path.isfile(os.path.join(base, r["path"]))
           or item_key(base, r["path"]) is None]
    print(("ok" if not bad else "not ok") + " - every labelled file exists and has a Message-ID or UID"
          + ("" if not bad else " (not: %s)" % ", ".join(bad)))
    on_disk = set()
    for d, _, files in os.walk(base):
        for f in files:
            if f.endswith((".eml", ".ics")):
                on_disk.add(os.path.relpath(os.path.join(d, f), base))
    unlabelled = sorted(on_disk - {r["path"] for r in items})
    print(("ok" if not unlabelled else "not ok") + " - every message and event file is labelled"
          + ("" if not unlabelled else " (not: %s)" % ", ".join(unlabelled)))
    ids = [r["item"] for r in items]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    print(("ok" if not dup else "not ok") + " - item names are unique" + ("" if not dup else " (%s)" % ", ".join(dup)))


def run_command(row):
    rc, out, err = crmgate(shlex.split(row["path"]))
    ok = rc == 0
    print(("ok" if ok else "not ok") + " - %s %s: crmgate %s" % (row["scenario"], row["entry"], row["path"]))
    if not ok:
        print("#   exit %d: %s" % (rc, (err or out).strip().replace("\n", " ")[:300]))


def ratio(a, b):
    return "%.3f" % (a / b) if b else "n/a"


def cmd_run(base, rows):
    expected_contacts = {}	# (ws, email) -> domain or 'b2c'
    scenarios = []
    known = {}			# ws -> its contacts after the last item
    for row in rows:
        ws = row["scenario"]
        if ws not in scenarios:
            scenarios.append(ws)
        if row["entry"] == "init":
            continue
        if row["entry"] == "setup":
            run_command(row)
            known.pop(ws, None)
            continue
        for e, a in creates_of(row).items():
            expected_contacts[(ws, e)] = a
        key = item_key(base, row["path"], ("as", "meeting") in checks_of(row))
        if ws not in known:
            known[ws] = contacts_of(ws)
        before = known[ws]
        if row["entry"].startswith("dropbox:"):
            replies = run_dropbox(base, row)
            after, rows_now = snapshot(ws, key)
            state = {"outcome": outcome_of_dropbox(replies, rows_now),
                     "said": "SMTP: " + (" / ".join(replies[-2:]) if replies else "no reply"),
                     "output": "\n".join(replies)}
        else:
            rc, counts, said, output = run_ingest(base, row)
            after, rows_now = snapshot(ws, key)
            state = {"outcome": outcome_of_ingest(rc, counts, rows_now),
                     "said": "exit %d: %s" % (rc, said[:240].replace("\n", " ")), "output": output}
        state["interactions"] = rows_now
        known[ws] = after
        diffs = compare_item(base, row, before, after, state)
        what = "%s %s (%s): %s" % (row["item"], row["path"], row["entry"].split(":")[0], row["outcome"])
        if row["outcome"] == "kept":
            what += " %s, user %s, contact %s, account %s" % (row["direction"], row["user"],
                                                              row["contact"], row["account"])
        print(("ok" if not diffs else "not ok") + " - " + what)
        for d in diffs:
            print("#   %s: %s" % (row["item"], d))

    # precision and recall over the whole set, from the final state
    actual = {}
    for ws in scenarios:
        for e, doms in contacts_of(ws).items():
            actual[(ws, e)] = doms
    tp = len(set(actual) & set(expected_contacts))
    fp = sorted(set(actual) - set(expected_contacts))
    fn = sorted(set(expected_contacts) - set(actual))
    print("# contact creation: precision %s recall %s (tp %d, fp %d, fn %d)" %
          (ratio(tp, tp + len(fp)), ratio(tp, tp + len(fn)), tp, len(fp), len(fn)))
    for ws, e in fp[:20]:
        print("#   unexpected contact %s in %s" % (e, ws))
    for ws, e in fn[:20]:
        print("#   missing contact %s in %s" % (e, ws))

    want_links = {(ws, e): a for (ws, e), a in expected_contacts.items() if a != "b2c"}
    ltp, lfp, lfn = 0, [], []
    for (ws, e), doms in sorted(actual.items()):
        if doms is None:
            continue
        if (ws, e) in want_links and want_links[(ws, e)] in doms:
            ltp += 1
        else:
            lfp.append((ws, e, ",".join(doms)))
    for (ws, e), a in sorted(want_links.items()):
        doms = actual.get((ws, e))
        if not doms or a not in doms:
            lfn.append((ws, e, a))
    print("# account links: precision %s recall %s (tp %d, fp %d, fn %d)" %
          (ratio(ltp, ltp + len(lfp)), ratio(ltp, ltp + len(lfn)), ltp, len(lfp), len(lfn)))
    for ws, e, d in lfp[:20]:
        print("#   wrong link %s -> %s in %s" % (e, d, ws))
    for ws, e, d in lfn[:20]:
        print("#   missing link %s -> %s in %s" % (e, d, ws))
    for name, t, f, n in (("contact creation", tp, len(fp), len(fn)), ("account links", ltp, len(lfp), len(lfn))):
        print(("ok" if t > 0 and f == 0 else "not ok") + " - %s precision is 1.000 (%s)" % (name, ratio(t, t + f)))
        print(("ok" if t > 0 and n == 0 else "not ok") + " - %s recall is 1.000 (%s)" % (name, ratio(t, t + n)))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "init", "run"):
        raise SystemExit(__doc__)
    labels = sys.argv[2]
    base = os.path.dirname(os.path.abspath(labels))
    rows = parse_labels(labels)
    if sys.argv[1] == "check":
        cmd_check(base, rows)
    elif sys.argv[1] == "init":
        for row in rows:
            if row["entry"] == "init":
                run_command(row)
    else:
        cmd_run(base, rows)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
