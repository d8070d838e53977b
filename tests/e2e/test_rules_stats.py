"""End to end: per-rule counts of moderators' decisions (heinzelctl rules
stats), kept by the transition script in {P}:rulestats and
{P}:rulestats:DAY; a change of decision moves a count, never doubles it,
also when several heinzelctl runs decide at once.
"""

import os
import subprocess
import time

import pytest

from conftest import TAG
from ctl_helpers import ctl, ctl_args, ctl_env, ctl_json, ctl_ok, insert, \
    key, one_line_error
from lua_keys import script_source

RULES = """\
rule STAT_LINK body /statlink/i score 4 "test: a link word"
rule STAT_WORD body /statword/i score 3 "test: a spam word"
rule STAT_HAM body /statham/i score -1 "test: a reader's word"
rule STAT_IDLE body /never-in-any-comment/ score 2 "test: never fires"
"""


@pytest.fixture
def d(heinzeld, tmp_path):
    """Config and a rule set of our own; no daemon needed for moderation."""
    dm = heinzeld(launch=False)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "10-stat.rules").write_text(RULES)
    dm.stat_rules = str(rules)
    return dm


def stats(d, *args):
    return ctl_json(d, "rules", "stats", "--rules", d.stat_rules, *args)


def by_rule(js):
    return {r["rule"]: r for r in js["rules"]}


def counts(js, rule):
    r = by_rule(js)[rule]
    return (r["published"], r["refused"], r["over_hold"], r["over_reject"])


def day_key():
    return key("rulestats", str(int(time.time() * 1000) // 86400000))


def test_decisions_count_per_rule_and_move(d, rdb):
    # hold_score 3, reject_score 6 (the test configuration).
    a = insert(rdb, hits="STAT_LINK=4 STAT_WORD=3", score="7")
    b = insert(rdb, hits="STAT_LINK=4", score="4")
    c = insert(rdb, hits="STAT_LINK=4 STAT_WORD=3", score="7")
    # A 403 spam at submission, rescued by a moderator later.
    s = insert(rdb, status="spam", hits="STAT_WORD=3 STAT_HAM=-1", score="2")

    js = stats(d)
    assert js["published"] == 0 and js["refused"] == 0, js
    assert by_rule(js)["STAT_LINK"]["hits"] == 0, js

    ctl_ok(d, "spam", a)
    ctl_ok(d, "approve", b, c, s)
    js = stats(d)
    assert (js["published"], js["refused"]) == (3, 1), js
    # LINK: published on b (alone over hold) and c (alone over reject:
    # 7 - 4 < 6), refused on a.
    assert counts(js, "STAT_LINK") == (2, 1, 1, 1), js
    # WORD: published on c (over reject: 7 - 3 < 6) and s, refused on a.
    assert counts(js, "STAT_WORD") == (2, 1, 0, 1), js
    assert counts(js, "STAT_HAM") == (1, 0, 0, 0), js
    link = by_rule(js)["STAT_LINK"]
    assert link["hits"] == 3 and abs(link["precision"] - 1 / 3) < 1e-9, link
    assert by_rule(js)["STAT_IDLE"]["flags"] == ["never_fires"], js
    assert by_rule(js)["STAT_IDLE"]["in_rule_set"] is True, js

    # A change of decision moves the counts: b to spam, c unpublished.
    ctl_ok(d, "spam", b)
    ctl_ok(d, "unpublish", c)
    js = stats(d)
    assert (js["published"], js["refused"]) == (1, 3), js
    assert counts(js, "STAT_LINK") == (0, 3, 0, 0), js
    assert counts(js, "STAT_WORD") == (1, 2, 0, 0), js
    # Refused to refused (spam to rejected) changes nothing; nor does
    # deleting a decided comment: the decision was made.
    ctl_ok(d, "reject", a)
    ctl_ok(d, "delete", b)
    assert stats(d) == js
    # And back: approving c again counts it published once, judged anew.
    ctl_ok(d, "approve", "--force", c)
    js = stats(d)
    assert counts(js, "STAT_LINK") == (1, 2, 0, 1), js
    assert counts(js, "STAT_WORD") == (2, 1, 0, 1), js

    # The same counts in today's bucket, which expires.
    assert stats(d, "--since", "1d") == dict(js, since_days=1)
    assert 0 < rdb.client.ttl(day_key()) <= 400 * 86400
    assert rdb.client.hget(key("comment", c), "counted").startswith(
        "published ")


def test_since_reads_day_buckets(d, rdb):
    a = insert(rdb, hits="STAT_LINK=4", score="4")
    ctl_ok(d, "spam", a)
    # A decision of 10 days ago, as its bucket holds it.
    old = int(time.time() * 1000) // 86400000 - 10
    rdb.client.hset(key("rulestats", str(old)), mapping={
        "published": "5", "published STAT_LINK": "5",
        "over_hold STAT_LINK": "2"})
    rdb.client.hset(key("rulestats"), mapping={
        "published": "5", "published STAT_LINK": "5",
        "over_hold STAT_LINK": "2"})
    assert counts(stats(d, "--since", "7d"), "STAT_LINK") == (0, 1, 0, 0)
    assert counts(stats(d, "--since", "11d"), "STAT_LINK") == (5, 1, 2, 0)
    assert counts(stats(d), "STAT_LINK") == (5, 1, 2, 0)
    # 5 published of 6 hits, at least --min-hits: it hurts.
    js = stats(d, "--min-hits", "6")
    assert by_rule(js)["STAT_LINK"]["flags"] == ["hurts"], js
    js = stats(d, "--min-hits", "7")
    assert by_rule(js)["STAT_LINK"]["flags"] == [], js
    # A rule with negative points is not said to hurt.
    for i in range(3):
        ctl_ok(d, "approve", insert(rdb, hits="STAT_HAM=-1", score="-1"))
    js = stats(d, "--min-hits", "1")
    assert by_rule(js)["STAT_HAM"]["flags"] == [], js


def test_text_output_and_usage(d, rdb):
    a = insert(rdb, hits="STAT_LINK=4 STAT_WORD=3", score="7")
    b = insert(rdb, hits="STAT_LINK=4", score="4")
    ctl_ok(d, "spam", a)
    ctl_ok(d, "approve", b)
    r = ctl_ok(d, "rules", "stats", "--rules", d.stat_rules, "--min-hits",
        "2")
    lines = r.out.splitlines()
    assert lines[0] == "decisions: 1 published, 1 refused", r
    assert lines[1].split() == ["RULE", "HITS", "PUBLISHED", "REFUSED",
        "PRECISION", "OVER_HOLD", "OVER_REJECT", "FLAGS"], r
    rows = {line.split()[0]: line for line in lines[2:]}
    assert rows["STAT_LINK"].split() == ["STAT_LINK", "2", "1", "1", "50%",
        "1", "0"], r
    assert rows["STAT_WORD"].split() == ["STAT_WORD", "1", "0", "1", "100%",
        "0", "0"], r
    assert rows["STAT_IDLE"].split()[1:5] == ["0", "0", "0", "-"], r
    assert rows["STAT_IDLE"].endswith("never fires"), r
    assert lines[2].startswith("STAT_LINK"), r   # most hits first
    r = ctl_ok(d, "rules", "stats", "--rules", d.stat_rules, "--since", "30d")
    assert r.out.startswith("decisions of the last 30 days: "), r

    one_line_error(ctl(d, "rules", "stats", "--since", "0s"), 2, "--since")
    one_line_error(ctl(d, "rules", "stats", "--since", "401d"), 2, "400d")
    one_line_error(ctl(d, "rules", "stats", "--min-hits", "x"), 2,
        "--min-hits")
    one_line_error(ctl(d, "rules", "stats", "extra"), 2, "extra")
    r = ctl(d, "rules", "stats", "--rules", "/nonexistent/rules")
    assert r.rc == 1 and "rules not loaded" in r.err, r


def test_concurrent_heinzelctl_runs_count_exactly(d, rdb):
    ids = [insert(rdb, hits="STAT_LINK=4 STAT_WORD=3", score="7")
           for _ in range(40)]
    for rnd in range(2):
        procs = []
        for verb in (["approve"], ["spam"], ["approve", "--force"],
                     ["unpublish"], ["spam", "--force"], ["reject"]):
            order = ids if len(procs) % 2 == 0 else ids[::-1]
            procs.append(subprocess.Popen(ctl_args(d, *verb, *order),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=ctl_env()))
        for p in procs:
            assert p.wait(timeout=60) in (0, 1)
        status = [rdb.client.hget(key("comment", i), "status") for i in ids]
        pub = status.count("approved")
        ref = status.count("spam") + status.count("rejected")
        assert pub + ref == len(ids), status
        js = stats(d)
        assert (js["published"], js["refused"]) == (pub, ref), (rnd, js)
        assert counts(js, "STAT_LINK") == (pub, ref, 0, pub), (rnd, js)
        assert counts(js, "STAT_WORD") == (pub, ref, 0, pub), (rnd, js)
        assert stats(d, "--since", "1d") == dict(js, since_days=1)


def test_metrics_carry_decided_counts(daemon, rdb):
    from helpers import assert_error
    from test_ops import scrape
    d = daemon
    # Refused at submission (403), then rescued by a moderator.
    spam = assert_error(d.submit(body="Kauft xyzzyspam jetzt"), 403,
        "spam")["id"]
    hold = d.submit(body="Ein plughhold Kommentar zum Cache").data["id"]
    assert rdb.client.hget(key("comment", hold), "status") == "pending"
    m = scrape(d)
    assert "heinzel_rule_decided_comments" in m.families
    assert m.families["heinzel_rule_decided_comments"].samples == []
    ctl_ok(d, "approve", spam)
    ctl_ok(d, "spam", hold)
    m = scrape(d)
    assert m.value("heinzel_rule_decided_comments", rule="TEST_SPAMWORD",
        decision="published") == 1
    assert m.value("heinzel_rule_decided_comments", rule="TEST_HOLDWORD",
        decision="refused") == 1
    assert len(m.families["heinzel_rule_decided_comments"].samples) == 2
    # A second thought moves the count in the metrics too.
    ctl_ok(d, "spam", spam)
    m = scrape(d)
    assert m.value("heinzel_rule_decided_comments", rule="TEST_SPAMWORD",
        decision="refused") == 1
    assert len(m.families["heinzel_rule_decided_comments"].samples) == 2


def test_transition_touches_only_keys_in_keys(d, rdb):
    """Every key the script touches is passed in; a comment changed since
    the caller read it (a key missing) is a retry that writes nothing."""
    import hashlib
    c = rdb.client
    cid = insert(rdb, status="pending", email="Dora@Example.org",
        hits="STAT_LINK=4", score="4")
    now = int(time.time() * 1000)
    email = key("email", hashlib.sha1(b"dora@example.org").hexdigest())
    fixed = [key("comment", cid), key("stats")] + [key("queue", s) for s in
        ("pending", "approved", "spam", "rejected")] + [key("privacy:refused"),
        key("known_authors"), key("outbox"), key("rulestats"), day_key()]
    argv = ["approve", "test", str(now), TAG + ":", "", "3", "6",
        str(400 * 86400)]
    script = script_source("transition")
    before = {k: c.dump(k) for k in c.keys("*")}
    # The post's keys and the address's index are missing: nothing changes.
    assert c.eval(script, len(fixed), *(fixed + argv)) == ["retry"]
    assert c.eval(script, len(fixed) + 2, *(fixed + [key("post", "hello-world"),
        key("published", "hello-world")] + argv)) == ["retry"]
    assert {k: c.dump(k) for k in c.keys("*")} == before
    # With them the change is made, and touches no key it was not given.
    keys = fixed + [key("post", "hello-world"), key("published", "hello-world"),
        email]
    assert c.eval(script, len(keys), *(keys + argv)) == ["done", "pending",
        "approved"]
    assert c.hget(key("comment", cid), "status") == "approved"
    assert set(c.keys("*")) <= set(keys), set(c.keys("*")) - set(keys)
    # heinzelctl reads first and names them all, and the day counted on.
    ctl_ok(d, "spam", cid)
    assert c.hget(key("comment", cid), "status") == "spam"
