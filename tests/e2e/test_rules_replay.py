"""End to end: heinzelctl rules replay rescores the decided comments of a
prepared queue with candidate rules, reports new false positives and new
misses against the moderators' decisions, and exits 2 when a published
comment would now be rejected.
"""

import random
import time

import pytest

from ctl_helpers import ctl, ctl_json, ctl_ok, insert, key, one_line_error

DAY = 86400


def rules_dir(tmp_path, name, text):
    d = tmp_path / name
    d.mkdir()
    (d / "10-candidate.rules").write_text(text)
    return str(d)


@pytest.fixture
def d(heinzeld):
    # hold_score 3, reject_score 6 (the test configuration).
    return heinzeld(launch=False)


@pytest.fixture
def queue(rdb):
    """Decided comments as heinzeld and the moderators left them."""
    q = {
        "thanks": insert(rdb, status="approved",
            body="Danke für das Tutorial, hat mir sehr geholfen!"),
        "casino": insert(rdb, status="approved",
            body="Guter Artikel über die Mathematik hinter dem Casino."),
        "watch_spam": insert(rdb, status="spam", score="7",
            hits="OLD_WATCH=7", body="Cheap replicawatch deals here"),
        "watch_rej": insert(rdb, status="rejected", score="4",
            hits="OLD_WATCH=4", body="Buy a replicawatch now"),
        # Its honeypot value is not stored: the stored hit stands for it.
        "honeypot": insert(rdb, status="spam", score="10",
            hits="HONEYPOT=10", body="Ein ganz normaler Satz"),
        "pending": insert(rdb, status="pending",
            body="Casino casino replicawatch, undecided"),
    }
    return q


def test_candidate_without_harm_exits_0(d, queue, tmp_path):
    cand = rules_dir(tmp_path, "a",
        'rule REPL_WATCH body /replicawatch/i score 7 "replica watches"\n')
    r = ctl(d, "rules", "replay", "--rules", cand, "--no-bayes")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0] == ("replayed 5 decided comments (2 published, 3 refused)"
        " with %s, hold_score 3, reject_score 6" % cand), r
    rows = {l[:24].strip(): l[24:].split() for l in lines[2:6]}
    assert rows == {"published over hold": ["0", "0"],
        "published over reject": ["0", "0"],
        "refused under hold": ["0", "0"],
        "refused at reject": ["2", "3"]}, r
    assert lines[6] == ("new false positives: 0 at reject, 0 at hold; "
        "new misses: 0"), r
    assert len(lines) == 7 and r.err == "", r


def test_false_positive_at_reject_exits_2_and_names_it(d, queue, tmp_path):
    cand = rules_dir(tmp_path, "b",
        'rule REPL_WATCH body /replicawatch/i score 7 "replica watches"\n'
        'rule REPL_CASINO body /casino/i score 6 "casino"\n')
    r = ctl(d, "rules", "replay", "--rules", cand, "--no-bayes")
    assert r.rc == 2, r
    assert ("new false positive at reject: %s (approved, post hello-world):"
        " score 0 -> 6: REPL_CASINO=6" % queue["casino"]) in r.out, r
    assert "new false positives: 1 at reject, 0 at hold" in r.out, r
    err = r.err_lines()
    assert len(err) == 1 and queue["casino"] in err[0], r
    assert "would refuse 1 published comment" in err[0], r
    js = ctl(d, "rules", "replay", "--rules", cand, "--no-bayes", "--json")
    assert js.rc == 2, js
    js = js.json
    assert js["new_false_positives_at_reject"] == 1, js
    assert js["after"]["published_over_reject"] == 1, js
    assert [(c["change"], c["id"]) for c in js["changes"]] == [
        ("new false positive at reject", queue["casino"])], js
    assert js["changes"][0]["hits"] == "REPL_CASINO=6", js


def test_false_positive_at_hold_and_misses(d, queue, tmp_path):
    cand = rules_dir(tmp_path, "c",
        'rule REPL_TUT body /tutorial/i score 3 "too eager"\n'
        'rule REPL_WATCH body /replicawatch/i score 2 "too weak"\n')
    js = ctl_json(d, "rules", "replay", "--rules", cand, "--no-bayes")
    changes = {c["id"]: c["change"] for c in js["changes"]}
    assert changes == {queue["thanks"]: "new false positive at hold",
        queue["watch_spam"]: "new miss", queue["watch_rej"]: "new miss"}, js
    assert (js["new_false_positives_at_hold"], js["new_misses"]) == (1, 2)
    assert js["before"] == {"published_over_hold": 0,
        "published_over_reject": 0, "refused_under_hold": 0,
        "refused_at_reject": 2}, js
    assert js["after"] == {"published_over_hold": 1,
        "published_over_reject": 0, "refused_under_hold": 2,
        "refused_at_reject": 1}, js


def test_since_and_many_comments_in_batches(d, rdb, tmp_path):
    cand = rules_dir(tmp_path, "d",
        'rule REPL_CASINO body /casino/i score 6 "casino"\n')
    old = insert(rdb, status="approved", age=40 * DAY,
        body="Alter Artikel über ein Casino")
    # More than a batch (200) in one millisecond and more around it: the
    # cursor must read each exactly once.
    c = rdb.client
    now = int(time.time() * 1000) - 5000
    p = c.pipeline(transaction=False)
    for i in range(650):
        created = now + (0 if i < 450 else i)
        cid = "%012x%08x" % (created, random.getrandbits(32))
        p.hset(key("comment", cid), mapping={"id": cid, "post": "p",
            "body": "Kommentar %d" % i, "status": "approved", "score": "0",
            "hits": "", "hold": "0", "created_at": str(created)})
        p.zadd(key("queue", "approved"), {cid: created})
    p.execute()
    js = ctl(d, "rules", "replay", "--rules", cand, "--no-bayes", "--json")
    assert js.rc == 2, js
    assert js.json["published"] == 651, js
    assert [x["id"] for x in js.json["changes"]] == [old]
    js = ctl_json(d, "rules", "replay", "--rules", cand, "--no-bayes",
        "--since", "30d")
    assert js["published"] == 650 and js["changes"] == [], js


def test_default_rules_and_classifier(d, queue):
    # The configured rules and the (untrained) classifier from Redis.
    # Nothing in them knows the old OLD_WATCH rule: two new misses, told
    # one by one before the summary.
    r = ctl(d, "rules", "replay")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].startswith("new miss: ") and lines[2].startswith(
        "new miss: "), r
    assert lines[1] in ("  Buy a replicawatch now",
        "  Cheap replicawatch deals here"), r
    assert lines[4].startswith("replayed 5 decided comments"), r
    assert lines[-1] == ("new false positives: 0 at reject, 0 at hold; "
        "new misses: 2"), r


def test_usage(d, rdb):
    one_line_error(ctl(d, "rules", "replay", "--since", "0s"), 2, "--since")
    one_line_error(ctl(d, "rules", "replay", "--since", "soon"), 2, "soon")
    one_line_error(ctl(d, "rules", "replay", "extra"), 2, "extra")
    r = ctl(d, "rules", "replay", "--rules", "/nonexistent/rules")
    assert r.rc == 1 and "rules not loaded" in r.err, r
