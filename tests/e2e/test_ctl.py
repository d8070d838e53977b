"""End to end: heinzelctl against a real redis-server and a real heinzeld.

Every command, JSON parsed, exit codes, the messages a person reads, a
race of admins, and review driven through a pseudo-terminal.
"""

import hashlib
import json
import os
import re
import signal
import subprocess
import termios
import time

import pytest

from conftest import HEINZELCTL, SRCDIR, TAG, _wait
from ctl_helpers import (Pty, assert_state, ctl, ctl_args, ctl_env, ctl_json,
    ctl_ok, ctl_raw, insert, key, one_line_error, state, submit)
from helpers import HEX20
from lua_keys import KeysWatch, keys_only, script_source

COMMANDS = ["list", "show", "approve", "reject", "spam", "delete", "review",
    "stats", "purge", "rules check", "rules test", "rules stats",
    "rules replay"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def published(d, post="hello-world"):
    r = d.get("/v1/comments?post=" + post)
    assert r.status == 200, r
    return [c["id"] for c in r.data["comments"]]


# ---- help and usage ----

def test_help_names_every_command():
    r = ctl_raw(["help"])
    assert r.rc == 0, r
    for name in COMMANDS:
        assert re.search(r"^  %s\s+\S" % name, r.out, re.M), (name, r.out)
    assert ctl_raw(["--help"]).out == r.out


@pytest.mark.parametrize("name", COMMANDS)
def test_help_per_command(name):
    words = name.split()
    a = ctl_raw(["help"] + words)
    b = ctl_raw(words + ["--help"])
    assert a.rc == 0 and b.rc == 0, (a, b)
    assert a.out == b.out, (a, b)
    assert a.out.startswith("usage: heinzelctl %s" % name), a
    assert len(a.out.splitlines()) >= 3, a


def test_usage_errors_exit_2_with_one_line(daemon):
    r = ctl_raw([])
    assert r.rc == 2 and "usage: heinzelctl" in r.err, r
    one_line_error(ctl_raw(["frobnicate"]), 2, "frobnicate", "unknown command")
    one_line_error(ctl(daemon, "list", "--bogus"), 2, "--bogus")
    one_line_error(ctl(daemon, "list", "--status", "lost"), 2, "lost")
    one_line_error(ctl(daemon, "show"), 2, "id")
    one_line_error(ctl(daemon, "approve"), 2, "--all")
    one_line_error(ctl(daemon, "approve", "0123"), 2, "0123", "20 lowercase hex")
    one_line_error(ctl(daemon, "approve", "0123456789ABCDEF0123"), 2, "not a comment id")
    one_line_error(ctl(daemon, "approve", "--all", "0123456789abcdef0123"), 2)
    one_line_error(ctl(daemon, "approve", "--post", "x", "0123456789abcdef0123"),
        2, "--all")
    one_line_error(ctl(daemon, "delete", "--all", "--older-than", "soon"), 2,
        "soon")
    # stats is a monitoring plugin: a usage error is UNKNOWN (3).
    r = ctl(daemon, "stats", "--max-pending", "-1")
    one_line_error(r, 3, "--max-pending")
    assert r.out.startswith("HEINZEL UNKNOWN - --max-pending -1"), r
    one_line_error(ctl_raw(["rules"]), 2, "rules check")


def test_malformed_id_changes_nothing(daemon, rdb):
    good = submit(daemon)
    r = ctl(daemon, "approve", good, "nothex")
    one_line_error(r, 2, "nothex")
    assert_state(rdb, good, "pending")


# ---- list and show ----

def test_list_people_and_json(daemon, rdb):
    a = submit(daemon, body="Erster Kommentar,\n\tüber zwei Zeilen", ip="203.0.113.7")
    b = submit(daemon, body="plughhold bitte prüfen", author="Bert",
        email="bert@example.org")
    c = submit(daemon, body="Auf einem anderen Beitrag", post="other-post")
    s = submit(daemon, body="xyzzyspam kaufen")

    r = ctl_ok(daemon, "list")
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "AGE", "SCORE", "POST", "AUTHOR",
        "EXCERPT"], r
    ids = [line.split()[0] for line in lines[1:]]
    assert ids == [a, b, c], r          # pending, oldest first
    row = lines[1]
    assert re.match(r"^%s\s+\d+s\s+\S+\s+hello-world\s+Anna Beispi\S*\s+Erst" % a,
        row), r
    assert row.endswith("Erster Kommentar,\u2026"), r      # one line, cut
    assert all(len(line) <= 80 for line in lines), r       # not a terminal: 80
    assert "\x1b[" not in r.out, "colors on a pipe"

    # On a terminal: its width, and colors unless NO_COLOR is set.
    for env, colored in ((ctl_env(), True), (ctl_env(NO_COLOR="1"), False)):
        t = Pty(ctl_args(daemon, "list"), env=env, cols=132)
        try:
            assert t.wait() == 0
            out = t.buf.decode()
        finally:
            t.close()
        assert ("\x1b[" in out) == colored, out
        plain = ANSI.sub("", out).replace("\r", "")
        assert "Anna Beispiel  Erster Kommentar, über zwei Zeilen\n" in plain, plain

    data = ctl_json(daemon, "list")
    assert [x["id"] for x in data] == [a, b, c]
    x = data[0]
    assert x["email"] == "anna@example.org" and x["ip"] == "203.0.113.7", x
    assert x["status"] == "pending" and isinstance(x["score"], float), x
    assert isinstance(x["hits"], list) and isinstance(x["age_seconds"], int), x
    hb = data[1]
    assert {"rule": "TEST_HOLDWORD", "points": 4.0} in hb["hits"], hb
    assert hb["hold"] is True and hb["score"] >= 4, hb

    assert [x["id"] for x in ctl_json(daemon, "list", "--post", "other-post")] == [c]
    assert [x["id"] for x in ctl_json(daemon, "list", "--status", "spam")] == [s]
    assert [x["id"] for x in ctl_json(daemon, "list", "--status", "approved")] == []
    every = ctl_json(daemon, "list", "--status", "all")
    assert [x["id"] for x in every] == [s, c, b, a]        # newest first
    r = ctl_ok(daemon, "list", "--status", "all")
    assert r.out.splitlines()[0].split()[:4] == ["ID", "AGE", "STATUS", "SCORE"]
    assert re.match(r"^%s\s+\d+s\s+spam\s+10\s" % s, r.out.splitlines()[1]), r

    r = ctl_ok(daemon, "list", "--limit", "1")
    assert [line.split()[0] for line in r.out.splitlines()[1:]] == [a], r
    assert "2 more" in r.err, r
    r = ctl_ok(daemon, "list", "--status", "rejected")
    assert "No rejected comments" in r.out, r


def test_show_people_and_json(daemon, rdb):
    cid = submit(daemon, body="plughhold und mehr\nzweite Zeile",
        url="https://anna.example.org/", ip="203.0.113.9", lang="de",
        user_agent="Mozilla/5.0 Test")
    r = ctl_ok(daemon, "show", cid)
    out = r.out
    assert out.splitlines()[0].startswith(cid + "  pending"), r
    for needle in ("anna@example.org", "203.0.113.9", "https://anna.example.org/",
            "Mozilla/5.0 Test", "hello-world", "Anna Beispiel", "written",
            "TEST_HOLDWORD", "+4", "test: hold", "    plughhold und mehr",
            "    zweite Zeile"):
        assert needle in out, (needle, r)
    assert re.search(r"^score\s+\d", out, re.M), r

    data = ctl_json(daemon, "show", cid)
    assert data["id"] == cid and data["email"] == "anna@example.org"
    assert data["ip"] == "203.0.113.9" and data["status"] == "pending"
    assert data["body"] == "plughhold und mehr\nzweite Zeile"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", data["created_at"]), data
    assert "moderated_by" not in data

    ctl_ok(daemon, "approve", cid, user="alice")
    data = ctl_json(daemon, "show", cid)
    assert data["status"] == "approved" and data["moderated_by"] == "alice@heinzelctl"
    assert re.match(r"^\d{4}-.*Z$", data["moderated_at"]), data
    assert "by alice@heinzelctl" in ctl_ok(daemon, "show", cid).out


def test_unknown_id_is_one_line_exit_1(daemon):
    ghost = "0123456789abcdef0123"
    for args in (["show", ghost], ["approve", ghost], ["delete", ghost]):
        r = ctl(daemon, *args)
        one_line_error(r, 1, ghost, "no such comment")
        assert r.out == "", r


# ---- moderation ----

def test_approve_publishes_and_records_who(daemon, rdb):
    cid = submit(daemon)
    assert cid not in published(daemon)
    r = ctl_ok(daemon, "approve", cid, user="alice")
    assert r.out.strip() == "%s: approved (was pending)" % cid, r
    assert published(daemon) == [cid]
    assert_state(rdb, cid, "approved")
    h = rdb.client.hgetall(key("comment", cid))
    assert h["moderated_by"] == "alice@heinzelctl"
    assert abs(int(h["moderated_at"]) - time.time() * 1000) < 10000, h
    # The author is known by the SHA1 of e-mail and name, not the address.
    known = rdb.client.smembers(key("known_authors"))
    assert hashlib.sha1(b"anna@example.org\nanna beispiel").hexdigest() \
        in known, known
    assert not any("@" in k for k in known)

    # SUDO_USER names the person behind sudo.
    other = submit(daemon)
    ctl_ok(daemon, "approve", other, env=ctl_env("root", SUDO_USER="carla"))
    assert rdb.client.hget(key("comment", other), "moderated_by") == "carla@heinzelctl"


def test_spam_rescue_publishes(daemon, rdb):
    cid = submit(daemon, body="xyzzyspam aber eigentlich harmlos")
    assert_state(rdb, cid, "spam")
    data = ctl_json(daemon, "approve", cid)
    assert data == {"results": [{"id": cid, "ok": True, "from": "spam",
        "to": "approved", "error": None,
        "message": "%s: approved (was spam)" % cid}]}
    assert_state(rdb, cid, "approved")
    assert published(daemon) == [cid]


def test_reject_spam_delete_and_conflicts(daemon, rdb):
    a, b, c = submit(daemon), submit(daemon), submit(daemon)
    assert ctl_ok(daemon, "reject", a).out.strip() == "%s: rejected (was pending)" % a
    assert_state(rdb, a, "rejected")
    ctl_ok(daemon, "approve", b)
    assert published(daemon) == [b]
    # spam unpublishes an approved comment.
    ctl_ok(daemon, "spam", b)
    assert_state(rdb, b, "spam")
    assert published(daemon) == []
    # A rejected comment is not approved by accident ...
    r = ctl(daemon, "approve", a)
    one_line_error(r, 1, a, "already rejected", "--force")
    assert_state(rdb, a, "rejected")
    # ... but on purpose.
    ctl_ok(daemon, "approve", "--force", a)
    assert_state(rdb, a, "approved")
    # Approved cannot be rejected: that would be a second decision.
    one_line_error(ctl(daemon, "reject", a), 1, "already approved")
    # delete removes every trace, from any state.
    ctl_ok(daemon, "delete", a, b, c)
    for cid in (a, b, c):
        assert_state(rdb, cid, None)
        assert rdb.client.zscore(key("post", "hello-world"), cid) is None
    assert published(daemon) == []
    stats = rdb.client.hgetall(key("stats"))
    assert stats.get("deleted") == "3", stats


def test_several_ids_partial_failure(daemon, rdb):
    a, b = submit(daemon), submit(daemon)
    ghost = "0000000000000000abcd"
    r = ctl(daemon, "approve", a, ghost, b, "--json")
    assert r.rc == 1, r
    res = r.json["results"]
    assert [(x["id"], x["ok"], x["error"]) for x in res] == [
        (a, True, None), (ghost, False, "not_found"), (b, True, None)], res
    assert_state(rdb, a, "approved")
    assert_state(rdb, b, "approved")
    assert len(r.err_lines()) == 1 and "no such comment" in r.err, r


# ---- bulk ----

def test_bulk_needs_yes_without_terminal(daemon, rdb):
    ids = [submit(daemon) for _ in range(3)]
    r = ctl(daemon, "approve", "--all")
    one_line_error(r, 2, "3 pending comments", "--yes")
    for cid in ids:
        assert_state(rdb, cid, "pending")
    r = ctl_ok(daemon, "approve", "--all", "--yes")
    assert "Approved 3 comments." in r.out, r
    for cid in ids:
        assert_state(rdb, cid, "approved")
    assert sorted(published(daemon)) == sorted(ids)
    r = ctl_ok(daemon, "approve", "--all", "--yes")
    assert "No pending comments match." in r.out, r


def test_bulk_filters(daemon, rdb):
    old = insert(rdb, age=3 * 86400)
    older = insert(rdb, age=9 * 86400, post="other-post")
    fresh = submit(daemon)
    other_post = submit(daemon, post="other-post")
    from_ip = submit(daemon, ip="198.51.100.77")
    held = submit(daemon, body="plughhold: Rabatt")
    spam1 = submit(daemon, body="xyzzyspam eins")
    spam2 = submit(daemon, body="xyzzyspam zwei", post="other-post")

    def selected(*args):
        r = ctl_ok(daemon, "delete", "--all", "--dry-run", *args)
        return sorted(line for line in r.out.splitlines() if HEX20.match(line))

    assert selected("--older-than", "2d") == sorted([old, older])
    assert selected("--older-than", "5d") == [older]
    assert selected("--post", "other-post") == sorted([older, other_post])
    assert selected("--ip", "198.51.100.77") == [from_ip]
    assert selected("--rule", "TEST_HOLDWORD") == [held]
    assert selected("--status", "spam") == sorted([spam1, spam2])
    assert selected("--status", "spam", "--post", "other-post") == [spam2]
    assert selected("--older-than", "2d", "--post", "hello-world") == [old]
    dry = ctl_json(daemon, "delete", "--all", "--dry-run", "--ip", "198.51.100.77")
    assert [x["id"] for x in dry] == [from_ip]
    assert_state(rdb, from_ip, "pending")       # a dry run changes nothing

    data = ctl_json(daemon, "spam", "--all", "--rule", "TEST_HOLDWORD", "--yes")
    assert [(x["id"], x["ok"], x["from"], x["to"]) for x in data["results"]] == [
        (held, True, "pending", "spam")]
    r = ctl_ok(daemon, "reject", "--all", "--older-than", "2d", "--yes")
    assert "Rejected 2 comments." in r.out, r
    assert_state(rdb, old, "rejected")
    assert_state(rdb, older, "rejected")
    ctl_ok(daemon, "approve", "--all", "--status", "spam", "--post", "other-post",
        "--yes")
    assert_state(rdb, spam2, "approved")
    assert published(daemon, "other-post") == [spam2]
    ctl_ok(daemon, "delete", "--all", "--ip", "198.51.100.77", "--yes")
    assert_state(rdb, from_ip, None)
    ctl_ok(daemon, "approve", "--all", "--post", "hello-world", "--yes")
    assert_state(rdb, fresh, "approved")
    assert_state(rdb, other_post, "pending")
    assert_state(rdb, spam1, "spam")
    # A queue the action does not leave is refused before anything happens.
    one_line_error(ctl(daemon, "reject", "--all", "--status", "approved",
        "--yes"), 2, "approved")


def test_bulk_asks_on_a_terminal(daemon, rdb):
    ids = [submit(daemon) for _ in range(2)]
    t = Pty(ctl_args(daemon, "reject", "--all"))
    try:
        t.read_until("Reject 2 pending comments? [y/N] ")
        t.send("n\r")
        assert t.wait() == 1
    finally:
        t.close()
    for cid in ids:
        assert_state(rdb, cid, "pending")
    t = Pty(ctl_args(daemon, "reject", "--all"))
    try:
        t.read_until("[y/N] ")
        t.send("y\r")
        t.read_until("Rejected 2 comments.")
        assert t.wait() == 0
    finally:
        t.close()
    for cid in ids:
        assert_state(rdb, cid, "rejected")


# ---- the race ----

def test_race_approve_against_reject(daemon, rdb):
    ids = [submit(daemon) for _ in range(20)]
    procs = []
    for cid in ids:
        for verb, user in (("approve", "alice"), ("reject", "bob")):
            procs.append((cid, verb, subprocess.Popen(
                ctl_args(daemon, verb, cid, "--json"), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=ctl_env(user))))
    outcome = {cid: {} for cid in ids}
    for cid, verb, p in procs:
        out, err = p.communicate(timeout=60)
        res = json.loads(out)["results"]
        assert len(res) == 1 and res[0]["id"] == cid, out
        assert p.returncode == (0 if res[0]["ok"] else 1), (out, err)
        if not res[0]["ok"]:
            assert err.count("\n") == 1 and "already" in err, err
        outcome[cid][verb] = res[0]

    pub = set(published(daemon))
    for cid in ids:
        st, queues = state(rdb, cid)
        assert st in ("approved", "rejected") and queues == [st], (cid, st, queues)
        won = [v for v, r in outcome[cid].items() if r["ok"]]
        assert len(won) == 1, (cid, outcome[cid])
        winner, loser = outcome[cid][won[0]], outcome[cid][
            "reject" if won[0] == "approve" else "approve"]
        assert winner["from"] == "pending" and winner["to"] == st, (cid, winner, st)
        assert loser["error"] == "conflict" and loser["from"] == st, (cid, loser)
        assert loser["message"] == "%s: already %s (someone else was faster)" % (
            cid, st), loser
        assert (cid in pub) == (st == "approved"), cid
        who = rdb.client.hget(key("comment", cid), "moderated_by")
        assert who == ("alice@heinzelctl" if st == "approved" else "bob@heinzelctl")


# ---- review ----

def test_review_on_a_terminal(daemon, rdb):
    ids = [submit(daemon, body="Zur Durchsicht Nr. %d" % i) for i in range(5)]
    t = Pty(ctl_args(daemon, "review"), cols=100)
    try:
        before = t.slave_attrs[3]     # as the terminal was before heinzelctl
        for i, key_ in enumerate("arsn"):
            shown = t.read_until("[q]uit?")
            assert ids[i] in shown and "Zur Durchsicht Nr. %d" % i in shown, shown
            assert "e-mail" in shown and "anna@example.org" in shown, shown
            # Raw while waiting for the key: no Enter needed, no echo.
            deadline = time.monotonic() + 5
            while t.lflag() & termios.ICANON and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not t.lflag() & (termios.ICANON | termios.ECHO)
            t.send(key_)
        shown = t.read_until("[q]uit?")
        assert ids[4] in shown, shown
        t.send("x")     # not a key it knows: asks again
        t.read_until("Press a to approve")
        t.read_until("[q]uit?")
        t.send("q")
        rest = t.read_until("skipped.")
        assert "1 approved, 1 rejected, 1 spam, 0 deleted, 1 skipped." in rest, rest
        assert t.wait() == 0
        after = t.lflag()
        assert after & termios.ICANON and after & termios.ECHO
        assert after == before, "terminal modes not restored"
    finally:
        t.close()
    assert_state(rdb, ids[0], "approved")
    assert_state(rdb, ids[1], "rejected")
    assert_state(rdb, ids[2], "spam")
    assert_state(rdb, ids[3], "pending")
    assert_state(rdb, ids[4], "pending")
    assert published(daemon) == [ids[0]]


def test_review_delete_asks_and_colors_on_terminal(daemon, rdb):
    cid = submit(daemon)
    t = Pty(ctl_args(daemon, "review"))
    try:
        shown = t.read_until("[q]uit?")
        assert "\x1b[" in shown, "no colors on a terminal"
        t.send("d")
        t.read_until("for good? [y/N] ")
        t.send("y")
        t.read_until("No more pending comments.")
        assert t.wait() == 0
    finally:
        t.close()
    assert_state(rdb, cid, None)


def test_review_restores_terminal_on_signal(daemon, rdb):
    submit(daemon)
    t = Pty(ctl_args(daemon, "review"))
    try:
        before = t.slave_attrs[3]     # as the terminal was before heinzelctl
        t.read_until("[q]uit?")
        deadline = time.monotonic() + 5
        while t.lflag() & termios.ICANON and time.monotonic() < deadline:
            time.sleep(0.02)
        t.proc.send_signal(signal.SIGTERM)
        assert t.wait() == -signal.SIGTERM
        assert t.lflag() == before, "terminal left in raw mode"
    finally:
        t.close()


def test_review_through_a_pipe(daemon, rdb):
    a = submit(daemon)
    b = submit(daemon)
    r = ctl(daemon, "review", input="n\ns\n")
    assert r.rc == 0, r
    assert "0 approved, 0 rejected, 1 spam, 0 deleted, 1 skipped." in r.out, r
    assert "\x1b[" not in r.out
    assert_state(rdb, a, "pending")
    assert_state(rdb, b, "spam")
    # End of input is quit.
    r = ctl(daemon, "review", input="")
    assert r.rc == 0 and a in r.out, r
    assert_state(rdb, a, "pending")


# ---- stats ----

def test_stats_and_thresholds(heinzeld_factory, rdb):
    # A daemon of its own, alone: the module's others may still write
    # counts of earlier tests' submissions (once a second, tally.c).
    heinzeld_factory.stop_running()
    rdb.client.flushall()
    daemon = heinzeld_factory(shared=False)
    insert(rdb, age=7200)
    submit(daemon)
    submit(daemon, body="xyzzyspam")
    a = submit(daemon)
    ctl_ok(daemon, "approve", a)

    # heinzeld writes the submissions' counters once a second (tally.c).
    assert _wait(lambda: ctl_json(daemon, "stats")["totals"].get(
        "submitted_pending") == 2, 5)
    data = ctl_json(daemon, "stats")
    assert data["queues"] == {"pending": 2, "approved": 1, "spam": 1, "rejected": 0}
    assert 7190 <= data["oldest_pending_age"] <= 7300, data
    assert data["totals"]["submitted_pending"] == 2, data
    assert data["totals"]["submitted_spam"] == 1, data
    assert data["totals"]["moderated_approved"] == 1, data
    assert data["known_authors"] == 1 and data["breaches"] == []

    r = ctl_ok(daemon, "stats")
    assert re.search(r"^pending\s+2\s+oldest 2h$", r.out, re.M), r
    assert re.search(r"^submitted_spam\s+1$", r.out, re.M), r

    # The older names of --crit-pending and --crit-age (heinzelctl(1)).
    ctl_ok(daemon, "stats", "--max-pending", "2", "--max-age", "8000")
    r = ctl(daemon, "stats", "--max-pending", "1")
    assert r.rc == 2 and r.out.startswith("HEINZEL CRITICAL - pending 2 "
        "(more than 1, critical)"), r
    r = ctl(daemon, "stats", "--max-age", "3600", "--json")
    assert r.rc == 2 and r.json["status"] == "CRITICAL", r
    assert r.json["breaches"] == ["oldest pending %ds (more than 3600s, "
        "critical)" % r.json["oldest_pending_age"]], r.json
    r = ctl(daemon, "stats", "--max-age", "60", "--max-pending", "0")
    assert r.rc == 2 and r.out.count("critical") == 2, r



def test_outcome_counters_reach_the_totals(heinzeld_factory, rdb):
    """Every outcome of a submission is counted in the totals within a
    second, and what a heinzeld counted before SIGTERM is written before
    it exits."""
    heinzeld_factory.stop_running()     # their late counts, as above
    rdb.client.flushall()
    d = heinzeld_factory({"checks": {"flood_email_limit": "2"}},
        shared=False)
    submit(d)
    submit(d, body="xyzzyspam")
    twice = d.fields(email="zwei@example.org")
    assert d.post_json("/v1/comments", twice).status == 202
    again = dict(twice, **{k: v for k, v in d.fields().items()
        if k.startswith("captcha_")})
    assert d.post_json("/v1/comments", again).status == 409
    assert d.submit(captcha={"id": d.captcha()["id"], "answer": -1},
        email="falsch@example.org").status == 403
    for _ in range(2):
        d.submit(email="oft@example.org")
    assert d.submit(email="oft@example.org").status == 429
    want = {"submitted_pending": 4, "submitted_spam": 1, "duplicate": 1,
            "captcha_wrong": 1, "rate_limited_email": 1}
    assert _wait(lambda: rdb.client.hgetall(key("stats")) == {
        k: str(v) for k, v in want.items()}, 5), rdb.client.hgetall(key("stats"))
    # Counted and stopped at once: written on the way out.
    submit(d, email="spaet@example.org")
    assert d.stop() == 0
    assert rdb.client.hget(key("stats"), "submitted_pending") == "5"


def test_outcome_counts_outlast_a_read_only_redis(heinzeld_factory, rdb):
    """Counted while Redis turns replica (as in a failover): the count is
    kept, or refused with READONLY and added back, and written once when
    Redis takes writes again."""
    heinzeld_factory.stop_running()
    rdb.client.flushall()
    d = heinzeld_factory({}, shared=False)
    c = rdb.client
    submit(d)
    c.execute_command("REPLICAOF", "127.0.0.1", "1")
    try:
        time.sleep(2.5)         # at least two of the once-a-second writes
        assert c.hget(key("stats"), "submitted_pending") is None
    finally:
        c.execute_command("REPLICAOF", "NO", "ONE")
    assert _wait(lambda: c.hget(key("stats"), "submitted_pending") == "1",
        15), d.log()
    time.sleep(1.5)
    assert c.hgetall(key("stats")) == {"submitted_pending": "1"}

def test_stats_on_empty_store(daemon, rdb):
    data = ctl_json(daemon, "stats", "--max-pending", "0", "--max-age", "0")
    assert data["queues"]["pending"] == 0 and data["oldest_pending_age"] is None


# ---- purge ----

def test_purge_keeps_recent_spam(daemon, rdb):
    old = insert(rdb, status="spam", age=20 * 86400)
    new = insert(rdb, status="spam", age=2 * 86400)
    # Written long ago, moved to spam yesterday: kept for the full time.
    moved = insert(rdb, status="spam", age=30 * 86400, moderated_age=86400)
    pend = insert(rdb, status="pending", age=40 * 86400)
    r = ctl_ok(daemon, "purge")     # spam_keep_days = 14 by default
    assert r.out.strip() == "Purged 1 spam comment older than 14 days.", r
    assert_state(rdb, old, None)
    assert rdb.client.zscore(key("post", "hello-world"), old) is None
    for cid, st in ((new, "spam"), (moved, "spam"), (pend, "pending")):
        assert_state(rdb, cid, st)
    assert ctl_json(daemon, "purge", "--days", "1") == {"purged": 2, "days": 1}
    assert_state(rdb, pend, "pending")
    assert rdb.client.hget(key("stats"), "purged") == "3"


def test_purge_off_when_keep_days_is_0(heinzeld, rdb):
    d = heinzeld({"moderation": {"spam_keep_days": "0"}}, launch=False)
    # Younger than the default spam_keep_days: the janitors of the
    # module's running daemons leave it alone.
    old = insert(rdb, status="spam", age=2 * 86400)
    r = ctl_ok(d, "purge")
    assert r.out.startswith("Nothing purged"), r
    assert ctl_json(d, "purge") == {"purged": 0, "days": None}
    assert_state(rdb, old, "spam")
    assert ctl_json(d, "purge", "--days", "0") == {"purged": 1, "days": 0}
    assert_state(rdb, old, None)


def test_purge_in_batches(heinzeld, rdb):
    # No heinzeld of its own, and spam younger than the default
    # spam_keep_days: the janitors of the module's running daemons would
    # purge older spam at the same moment.
    daemon = heinzeld(launch=False)
    c = rdb.client
    t = int(time.time() * 1000) - 2 * 86400 * 1000
    pipe = c.pipeline(transaction=False)
    for i in range(2500):
        cid = "%012x%08x" % (t + i, i)
        pipe.hset(key("comment", cid), mapping={"id": cid, "post": "p",
            "status": "spam", "created_at": str(t + i)})
        pipe.zadd(key("queue", "spam"), {cid: t + i})
        pipe.zadd(key("post", "p"), {cid: t + i})
    pipe.execute()
    assert ctl_json(daemon, "purge", "--days", "1")["purged"] == 2500
    assert c.zcard(key("queue", "spam")) == 0 and c.zcard(key("post", "p")) == 0



def test_purge_touches_only_keys_in_keys(heinzeld, rdb):
    """The purge script reads and writes no key it was not given: it names
    the comments, then their posts and addresses, and writes nothing until
    it has them all; a comment changed in between is asked about again."""
    daemon = heinzeld(launch=False)
    c = rdb.client
    a = insert(rdb, status="spam", age=2 * 86400, email="Ada@Example.org")
    b = insert(rdb, status="spam", age=2 * 86400, post="other", email="")
    gone = "%012x%08x" % (int(time.time() * 1000) - 3 * 86400000, 7)
    c.zadd(key("queue", "spam"), {gone: 1})
    c.sadd(key("email", hashlib.sha1(b"ada@example.org").hexdigest()),
        "c:" + a)
    script = script_source("purge")
    fixed = [key("queue", "spam"), key("stats"), key("privacy:refused")]
    argv = [str(int(time.time() * 1000) - 86400000), "10", TAG + ":"]

    def run(extra):
        keys = fixed + extra
        return keys_only(rdb, keys).eval(script, len(keys), *(keys + argv))
    before = {k: c.dump(k) for k in c.keys("*")}
    need = run([])
    assert need[0] == "need" and sorted(need[1:]) == sorted([
        key("comment", gone), key("comment", a), key("comment", b)])
    need = run(need[1:])
    ada = key("email", hashlib.sha1(b"ada@example.org").hexdigest())
    assert sorted(need[1:]) == sorted([key("comment", gone),
        key("comment", a), key("comment", b), key("post", "hello-world"),
        key("published", "hello-world"), ada, key("post", "other"),
        key("published", "other")])
    assert {k: c.dump(k) for k in c.keys("*")} == before
    # The address changed since: asked again, nothing written.
    c.hset(key("comment", a), "email", "bea@example.org")
    bea = key("email", hashlib.sha1(b"bea@example.org").hexdigest())
    again = run(need[1:])
    assert again[0] == "need" and bea in again and ada not in again
    c.hset(key("comment", a), "email", "Ada@Example.org")
    assert run(need[1:]) == 2
    assert c.keys("*") == [key("stats")] and c.hget(key("stats"),
        "purged") == "2"
    # heinzelctl asks until it has them all, each run within its KEYS.
    d = insert(rdb, status="spam", age=2 * 86400, email="dora@example.org")
    with KeysWatch(rdb, "purge") as w:
        assert ctl_json(daemon, "purge", "--days", "1") == {"purged": 1,
            "days": 1}
    assert w.runs == 3 and w.outside == [], w.outside
    assert_state(rdb, d, None)

# ---- rules ----

def test_rules_check(heinzeld, tmp_path):
    d = heinzeld(launch=False)
    r = ctl_ok(d, "rules", "check")
    n = int(re.match(r"^(\d+) rules OK", r.out).group(1))
    assert n >= 2, r
    bad = tmp_path / "rules"
    bad.mkdir()
    (bad / "10-bad.rules").write_text(
        "rule GOOD body /fine/ score 1\n"
        "rule BROKEN body /(unclosed/ score 2\n"
        "rule ODD nowhere /x/ score 1\n")
    r = ctl(d, "rules", "check", str(bad))
    assert r.rc == 1, r
    assert re.search(r"10-bad\.rules:2:\d+: ", r.err), r
    assert re.search(r"10-bad\.rules:3:\d+: ", r.err), r
    assert r.out == "", r


def test_rules_test(heinzeld, tmp_path):
    d = heinzeld(launch=False)
    comment = ('{"post": "p", "author": "A", "email": "a@example.org", '
               '"body": "xyzzyspam und plughhold"}')
    r = ctl_ok(d, "rules", "test", input=comment)
    assert r.out.startswith("score 14: spam"), r
    assert re.search(r"^\s+TEST_SPAMWORD\s+\+10\s+test: always spam$", r.out, re.M), r
    assert re.search(r"^\s+TEST_HOLDWORD\s+\+4\s+test: hold$", r.out, re.M), r

    f = tmp_path / "c.json"
    f.write_text(comment.replace("xyzzyspam", "nett"))
    data = ctl_json(d, "rules", "test", str(f))
    assert data["verdict"] == "hold" and data["total"] == 4, data
    assert [(h["rule"], h["points"]) for h in data["hits"]] == [("TEST_HOLDWORD", 4)]
    assert data["hits"][0]["description"] == "test: hold"
    data = ctl_json(d, "rules", "test", "-", input='{"body": "ganz harmlos"}')
    assert data["verdict"] == "clean" and data["hits"] == [], data

    one_line_error(ctl(d, "rules", "test", input="{kaputt"), 1, "JSON")
    one_line_error(ctl(d, "rules", "test", str(tmp_path / "none.json")), 1,
        "none.json")


# ---- Redis down ----

def test_redis_down_is_one_line(daemon, rdb, tmp_path):
    conf = tmp_path / "down.conf"
    sock = tmp_path / "no-redis.sock"
    conf.write_text("[redis]\naddress = unix:%s\nprefix = test\n" % sock)
    for args in (["list"], ["stats"], ["approve", "0123456789abcdef0123"],
            ["review"]):
        r = ctl(str(conf), *args)
        # stats is a monitoring plugin: UNKNOWN (3) and a status line.
        one_line_error(r, 3 if args == ["stats"] else 1,
            "cannot reach Redis at unix:%s" % sock,
            "is redis-server running?", str(conf))
        assert r.out == ("" if args != ["stats"] else
            "HEINZEL UNKNOWN - " + r.err_lines()[0][len("heinzelctl: "):]
            + "\n"), r
    r = ctl_raw(["--redis", "redis://127.0.0.1:1/0", "list"])
    one_line_error(r, 1, "redis://127.0.0.1:1/0", "Connection refused", "--redis")


def test_redis_and_prefix_options_without_config(daemon, rdb):
    cid = submit(daemon)
    base = ["--redis", "unix:" + rdb.socket, "--prefix", "test"]
    data = ctl_raw(base + ["list", "--json"]).json
    assert [x["id"] for x in data] == [cid]
    assert ctl_raw(["--redis", "unix:" + rdb.socket, "--prefix", "other",
        "list", "--json"]).json == []
    r = ctl_raw(base + ["approve", cid])
    assert r.rc == 0, r
    assert_state(rdb, cid, "approved")
    # HEINZEL_CONF stands in for -c.
    r = ctl_raw(["list", "--status", "approved", "--json"],
        env=ctl_env(HEINZEL_CONF=daemon.conf))
    assert [x["id"] for x in r.json] == [cid], r


def test_redis_stopped(daemon, rdb):
    cid = submit(daemon)
    rdb.stop()
    try:
        r = ctl(daemon, "approve", cid)
        one_line_error(r, 1, "cannot reach Redis", daemon.conf)
    finally:
        rdb.start()
    assert_state(rdb, cid, "pending")


# ---- auto_approve = known_author ----

def _daemon_sets_known_author():
    try:
        with open(os.path.join(SRCDIR, "daemon", "server.c")) as f:
            return "approve_known_author" in f.read()
    except OSError:
        return False


def test_known_author_is_auto_approved(heinzeld, rdb):
    if not _daemon_sets_known_author():
        pytest.skip("heinzeld does not set store_submit.approve_known_author yet")
    d = heinzeld({"moderation": {"auto_approve": "known_author"}})
    first = d.submit(email="Known@Example.org")
    assert first.status == 202 and first.data["status"] == "pending", first
    # Known once approved, whatever the case of the address.
    ctl_ok(d, "approve", first.data["id"])
    r = d.submit(email="known@example.ORG")
    assert r.status == 202 and r.data["status"] == "approved", r
    assert r.data["id"] in published(d)
    h = rdb.client.hgetall(key("comment", r.data["id"]))
    assert h["status"] == "approved" and "known_author" in h["moderated_by"], h
    # Held comments and strangers still wait.
    r = d.submit(email="known@example.org", body="plughhold")
    assert r.data["status"] == "pending", r
    r = d.submit(email="stranger@example.org")
    assert r.data["status"] == "pending", r


def test_known_author_policy_off_by_default(daemon, rdb):
    a = submit(daemon)
    ctl_ok(daemon, "approve", a)
    r = daemon.submit()
    assert r.status == 202 and r.data["status"] == "pending", r
