"""Learning end to end: moderation trains the Bayes classifier through
heinzelctl, heinzeld then scores similar comments with BAYES_* rules."""

import json

from conftest import TAG
from ctl_helpers import ctl, ctl_json, ctl_ok
from helpers import assert_json

BAYES = {"bayes": {"min_spam": "5", "min_ham": "5"}}

SPAM = ["Billige Uhren Replica Rabatt jetzt bestellen Luxus Shop Nr %d",
        "Replica Luxus Uhren billig kaufen, Rabatt im Shop %d",
        "Luxus Replica Uhren mit Rabatt, billig im Shop bestellen %d"]
HAM = ["Danke für den Artikel über Tomaten im Frühling, bei mir wachsen sie %d",
       "Im Garten pflanze ich Tomaten erst nach den Eisheiligen, Beet %d",
       "Schöner Artikel, meine Tomaten im Garten danken es dir %d"]


def hits(rdb, cid):
    h = rdb.client.hgetall("%s:comment:%s" % (TAG, cid))
    return {t.split("=")[0]: float(t.split("=")[1]) for t in h["hits"].split()}, \
        float(h["score"])


def submit(d, body):
    r = d.submit(body=body)
    assert r.status == 202, r.text
    return assert_json(r)["id"]


def test_moderation_trains_and_bayes_scores(heinzeld, rdb):
    d = heinzeld(BAYES, shared=False)
    spam_ids = [submit(d, SPAM[i % 3] % i) for i in range(6)]
    ham_ids = [submit(d, HAM[i % 3] % i) for i in range(6)]
    before = hits(rdb, submit(d, "Replica Uhren billig, Luxus Rabatt im Shop 99"))
    assert not any(k.startswith("BAYES_") for k in before[0]), before

    ctl_ok(d, "spam", *spam_ids)
    ctl_ok(d, "approve", *ham_ids)
    st = ctl_json(d, "learn", "--stats")
    assert st["spam"] == 6 and st["ham"] == 6 and st["ready"] is True, st
    for cid in spam_ids[:1] + ham_ids[:1]:
        learned = rdb.client.hget("%s:comment:%s" % (TAG, cid), "learned")
        assert learned in ("spam", "ham"), learned

    # A fresh daemon asks the classifier at once (a running one re-checks
    # readiness every few seconds).
    d2 = heinzeld(BAYES, shared=False)
    spammy = hits(rdb, submit(d2, "Luxus Replica Uhren, Rabatt, billig im Shop 100"))
    hammy = hits(rdb, submit(d2, "Meine Tomaten im Garten wachsen, danke für den Artikel 101"))
    spam_rules = [k for k in spammy[0] if k.startswith("BAYES_")]
    ham_rules = [k for k in hammy[0] if k.startswith("BAYES_")]
    assert spam_rules and spammy[0][spam_rules[0]] > 0, spammy
    assert spammy[1] > before[1], (spammy, before)
    assert not ham_rules or hammy[0][ham_rules[0]] < 0, hammy

    # A rescue from spam untrains the spam and trains ham.
    ctl_ok(d, "approve", spam_ids[0])
    st = ctl_json(d, "learn", "--stats")
    assert (st["spam"], st["ham"]) == (5, 7), st
    assert rdb.client.hget("%s:comment:%s" % (TAG, spam_ids[0]), "learned") == "ham"


def test_learn_bulk_import(heinzeld, rdb, tmp_path):
    d = heinzeld(BAYES, shared=False)
    f = tmp_path / "spam.jsonl"
    f.write_text("\n".join(json.dumps({"body": SPAM[i % 3] % i}) for i in range(4))
                 + "\n" + "not json\n", encoding="utf-8")
    r = ctl(d, "learn", "--spam", str(f), "--json")
    assert r.rc == 1 and r.json == {"learned": 4, "skipped": 1}, r
    assert ":5: skipped" in r.err, r
    st = ctl_json(d, "learn", "--stats")
    assert st["spam"] == 4 and st["ham"] == 0 and st["ready"] is False, st
    assert st["tokens"] > 10, st
