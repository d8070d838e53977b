"""Blog comments are not YouTube comments: the default rules on comments
written for a blog (tests/e2e/data/blog_comments.json, 32 genuine and 30
spam, German and English, written for these tests).

Every comment is scored by `heinzelctl rules test --no-bayes --json` with the
default rule set and checks, so the numbers do not depend on what Bayes has
learnt.  hold_score is 3, reject_score 6.

- Genuine comments (short thanks, questions, disagreement, a correction
  with a link to the docs, a mover or locksmith mentioned by a reader):
  none held, so none rejected.  Measured: highest score 1.5.
- Blog spam (essay writing, SEO, support hotlines, casinos, loans,
  locksmiths, movers; keyword in the name or website field, fluent prose):
  every one at or above hold, and at least SPAM_AT_REJECT of them at reject.
  Measured on the first 20: before the rules for trade keywords in the
  name and website fields, service offers and sales calls, 16 at hold and
  6 at reject; with them, 20 and 20.  The last 10 were written after those
  rules and scored unseen: 8 at hold, 2 at reject; after a second round of
  general patterns (plumbers, assignments, betting; prices and call-out
  fees), 10 and 7.  All 30: 30 at hold, 27 at reject.
"""

import json
import os

import pytest

from conftest import SRCDIR
from ctl_helpers import ctl

DATA = os.path.join(SRCDIR, "tests", "e2e", "data", "blog_comments.json")
HOLD = 3.0
REJECT = 6.0
SPAM_AT_REJECT = 27


def _comments():
    with open(DATA, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def scores(heinzeld_factory):
    d = heinzeld_factory(launch=False)
    out = []
    for c in _comments():
        fields = {k: c[k] for k in ("author", "email", "url", "body")}
        r = ctl(d, "rules", "test", "--no-bayes", "--json",
                input=json.dumps(fields))
        assert r.rc == 0, r
        data = r.json
        out.append((c, float(data["total"]),
                    sorted(h["rule"] for h in data["hits"])))
    return out


def test_data_has_both_kinds_in_both_languages():
    cs = _comments()
    for kind in ("ham", "spam"):
        for lang in ("de", "en"):
            assert sum(1 for c in cs if c["kind"] == kind
                       and c["lang"] == lang) >= 8, (kind, lang)


def test_genuine_blog_comments_are_published(scores):
    held = [(s, hits, c["body"]) for c, s, hits in scores
            if c["kind"] == "ham" and s >= HOLD]
    assert not held, held
    assert all(s < REJECT for c, s, hits in scores if c["kind"] == "ham")


def test_blog_spam_is_held_and_mostly_rejected(scores):
    spam = [(s, hits, c["author"]) for c, s, hits in scores
            if c["kind"] == "spam"]
    missed = [x for x in spam if x[0] < HOLD]
    assert not missed, missed
    rejected = [x for x in spam if x[0] >= REJECT]
    assert len(rejected) >= SPAM_AT_REJECT, sorted(spam)

