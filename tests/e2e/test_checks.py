"""Built-in checks end to end: honeypot, too many links, flood control and
duplicates, the last two shared by two heinzeld processes on one Redis."""

import json

from conftest import TAG
from helpers import assert_error, assert_json, request

FLOOD = {"checks": {"flood_ip_limit": "3", "flood_ip_window": "60",
                    "flood_email_limit": "2", "flood_email_window": "60"}}


def hits_of(rdb, cid):
    return rdb.client.hget("%s:comment:%s" % (TAG, cid), "hits")


def test_honeypot_makes_spam(daemon, rdb):
    r = daemon.submit(honeypot="http://cheap.example")
    assert_error(r, 403, "spam")
    cid = assert_json(r)["id"]
    assert "HONEYPOT=10" in hits_of(rdb, cid).split()
    assert rdb.client.zscore("%s:queue:spam" % TAG, cid) is not None


def test_too_many_links_scores(heinzeld, rdb):
    d = heinzeld({"checks": {"max_links": "2", "max_links_score": "1"}})
    body = "siehe http://a.example und www.b.example, auch https://c.example"
    r = d.submit(body=body)
    assert r.status == 202, r.text
    cid = assert_json(r)["id"]
    assert "TOO_MANY_LINKS=1" in hits_of(rdb, cid).split()


def test_flood_per_email_across_two_daemons(heinzeld, rdb):
    a = heinzeld(FLOOD, shared=False)
    b = heinzeld(FLOOD, shared=False)
    assert a.socket != b.socket
    assert a.submit(email="flood@example.org").status == 202
    assert b.submit(email="FLOOD@example.org").status == 202
    # The third from the same address, on either daemon, is refused.
    for d in (a, b):
        r = d.submit(email="flood@example.org")
        assert_error(r, 429, "rate_limited")
        retry = int(r.header("Retry-After"))
        assert 1 <= retry <= 60, retry
    # A refused submission spends no captcha: it is not marked used, and
    # another address is still welcome with it.
    c = a.captcha()
    assert_error(a.submit(c, email="flood@example.org"), 429, "rate_limited")
    assert rdb.client.exists("%s:captcha:%s" % (TAG, c["id"])) == 0
    assert a.submit(c, email="other@example.org").status == 202
    assert rdb.client.exists("%s:captcha:%s" % (TAG, c["id"])) == 1
    m = a.get("/metrics").text
    assert 'heinzel_submissions_total{outcome="rate_limited"} 2' in m, m
    assert 'heinzel_rule_hits_total{rule="FLOOD_EMAIL"} 2' in m


def test_flood_per_ip_from_proxy(heinzeld, rdb):
    d = heinzeld(FLOOD, shared=False)
    codes = []
    for i in range(5):
        f = d.fields(email="reader%d@example.org" % i)
        r = request(d.socket, "POST", "/v1/comments",
            body=json.dumps(f).encode(),
            headers={"Content-Type": "application/json",
                     "X-Real-IP": "198.51.100.23"})
        codes.append(r.status)
    assert codes == [202, 202, 202, 429, 429], codes
    # Other readers behind the same proxy are not punished.
    f = d.fields(email="reader9@example.org", ip="198.51.100.24")
    assert d.post_json("/v1/comments", f).status == 202


def test_duplicate_across_two_daemons(heinzeld, rdb):
    a = heinzeld({}, shared=False)
    b = heinzeld({}, shared=False)
    body = "Derselbe Text, zweimal geschickt."
    assert a.submit(body=body).status == 202
    assert_error(b.submit(body=body), 409, "duplicate")


def test_heinzeld_purges_old_spam(heinzeld, rdb):
    import time
    # A prefix of its own: the module's other daemons, still running on
    # this Redis, would otherwise hold the janitor's once-per-period lock
    # ({P}:lock:janitor) and this daemon would leave the purge to them.
    own = "{purgeown}"
    d = heinzeld({"moderation": {"spam_keep_days": "14"},
                  "redis": {"prefix": "purgeown"}}, shared=False)
    old = d.submit(body="alt xyzzyspam")
    new = d.submit(body="neu xyzzyspam")
    assert_error(old, 403, "spam")
    assert_error(new, 403, "spam")
    old_id, new_id = assert_json(old)["id"], assert_json(new)["id"]
    # Backdate one of them to three weeks ago.
    then = int((time.time() - 21 * 86400) * 1000)
    rdb.client.hset("%s:comment:%s" % (own, old_id), "created_at", then)
    rdb.client.zadd("%s:queue:spam" % own, {old_id: then})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and \
            rdb.client.exists("%s:comment:%s" % (own, old_id)):
        time.sleep(0.2)
    assert not rdb.client.exists("%s:comment:%s" % (own, old_id)), \
        "heinzeld's janitor did not purge spam older than spam_keep_days"
    assert rdb.client.zscore("%s:queue:spam" % own, old_id) is None
    assert rdb.client.exists("%s:comment:%s" % (own, new_id))
