"""The security review's findings (SECURITY.md), one regression test each.

Each test here failed on the code the review looked at and passes now.
"""

import ipaddress

import pytest

from ctl_helpers import key
from helpers import assert_error, assert_json

# The longest value of each optional field that validation accepts
# (lib/comment.c), made of four-byte UTF-8 where the field takes text, so
# the request is as large in bytes as it can be.
EMOJI = "\U0001F600"


def every_field_at_max(d, captcha, body_chars):
    email = "a" * 64 + "@" + ".".join(["b" * 63] * 2 + ["c" * 58]) + ".de"
    assert len(email) == 254
    return d.fields(captcha,
        post="p" * 200,
        author=EMOJI * 100,
        email=email,
        url="https://example.org/" + "u" * 480,
        body=("Danke für den Beitrag " + EMOJI) * (body_chars // 23)
             + "x" * (body_chars % 23),
        ip="2001:0db8:0000:0000:0000:ff00:0042:8329",
        user_agent="Mozilla/5.0 " + "m" * 500,
        referrer="https://example.org/" + "r" * 1980,
        lang="de-" + "-".join(["abcdefgh"] * 3) + "-abcde",
        parent="0" * 20,
        request_id="r" * 128)


def test_every_field_at_max_length_is_answered(daemon, rdb):
    """Finding 1: all eleven stored fields once made heinzeld exit."""
    f = every_field_at_max(daemon, None, 10000)
    assert len(f["lang"]) == 35
    r = daemon.post_json("/v1/comments", f)
    assert r.status in (202, 403), r
    data = assert_json(r)
    if r.status == 202:
        h = rdb.client.hgetall(key("comment", data["id"]))
        for k in ("post", "author", "email", "url", "body",
                  "user_agent", "referrer", "parent", "request_id"):
            assert h[k] == f[k], k
        # Stored in its canonical spelling (finding 6).
        assert h["ip"] == str(ipaddress.ip_address(f["ip"]))
    else:
        assert data["error"] == "spam", data
    assert daemon.alive()
    # The same request again: the request_id answers the same id.
    r2 = daemon.post_json("/v1/comments", f)
    assert daemon.alive()
    if r.status == 202:
        assert r2.status == 202, r2
        assert assert_json(r2)["id"] == data["id"]


def test_every_field_with_an_unknown_captcha(daemon):
    """Finding 1 as reported: every field set and a captcha of 32 zeros."""
    captcha = {"id": "0" * 32, "answer": 7}
    f = every_field_at_max(daemon, captcha, 2000)
    f["request_id"] = "s" * 128
    assert_error(daemon.post_json("/v1/comments", f), 403, "captcha")
    assert daemon.alive()
    assert daemon.get("/v1/health").status == 200


@pytest.mark.parametrize("how", ["json", "form"])
def test_every_field_is_answered_as_form_and_json(daemon, how):
    """Both parsers, every field (the honeypot left empty)."""
    f = every_field_at_max(daemon, None, 500)
    f["request_id"] = "t" * 100 + how
    f["honeypot"] = ""
    if how == "json":
        r = daemon.post_json("/v1/comments", f)
    else:
        r = daemon.post_form("/v1/comments", f)
    assert r.status in (202, 403), r
    assert daemon.alive()


# ---- finding 2: flood counters and the captcha ----

def test_failed_captchas_do_not_lock_out_an_address(heinzeld, rdb):
    """Finding 2: six posts with a victim's address and a wrong captcha
    made the victim's own correct submission a 429."""
    d = heinzeld({"checks": {"flood_email_limit": "2",
                             "flood_email_window": "600"}}, shared=False)
    victim = "victim@example.org"
    for i in range(6):
        c = d.captcha()
        c["answer"] = c["answer"] + 1
        r = d.submit(c, email=victim, ip="203.0.113.%d" % (i + 1))
        assert_error(r, 403, "captcha", "captcha_answer")
    assert_error(d.submit({"id": "0" * 32, "answer": 7}, email=victim),
        403, "captcha")
    r = d.submit(email=victim, ip="198.51.100.7")
    assert r.status == 202, r
    # Submissions that passed the captcha still count: the third is refused,
    # before its captcha is spent.
    assert d.submit(email=victim).status == 202
    c = d.captcha()
    assert_error(d.submit(c, email=victim), 429, "rate_limited")
    assert rdb.client.exists(key("captcha", c["id"])) == 1


# ---- finding 4: known_author ----

def test_known_author_needs_name_and_address(heinzeld, rdb):
    """Finding 4: knowing an approved author's e-mail published at once."""
    from ctl_helpers import ctl_ok
    d = heinzeld({"moderation": {"auto_approve": "known_author"}},
        shared=False)
    first = d.submit(author="Anna Beispiel", email="anna@example.org")
    assert first.status == 202 and first.data["status"] == "pending", first
    ctl_ok(d, "approve", first.data["id"])
    # Someone else with her address (any letter case) waits for review.
    r = d.submit(author="Mallory", email="ANNA@example.org")
    assert r.status == 202 and r.data["status"] == "pending", r
    # She herself is still known, name and address compared without case.
    r = d.submit(author="anna beispiel", email="Anna@Example.org")
    assert r.status == 202 and r.data["status"] == "approved", r


# ---- finding 6: one address, one counter ----

def test_ipv6_spellings_share_one_flood_counter(heinzeld, rdb):
    """Finding 6: the same IPv6 address written four ways made four counters."""
    d = heinzeld({"checks": {"flood_ip_limit": "2"}}, shared=False)
    spellings = ["2001:db8::1", "2001:DB8::1", "2001:0db8:0:0::0001",
                 "2001:db8:0000:0000:0000:0000:0000:0001"]
    codes = [d.submit(ip=ip, email="r%d@example.org" % i).status
             for i, ip in enumerate(spellings)]
    assert codes == [202, 202, 429, 429], codes
    # Stored in one spelling.
    ids = rdb.client.zrange(key("queue", "pending"), 0, -1)
    assert {rdb.client.hget(key("comment", i), "ip") for i in ids} == \
        {"2001:db8::1"}


def test_ipv6_flood_counts_per_64(heinzeld, rdb):
    """Finding 6: one /64 is one reader by default; the prefix is a key."""
    d = heinzeld({"checks": {"flood_ip_limit": "2"}}, shared=False)
    codes = [d.submit(ip=ip, email="s%d@example.org" % i).status
             for i, ip in enumerate(["2001:db8:1:2::1", "2001:db8:1:2::2",
                                     "2001:db8:1:2:ffff:1:2:3",
                                     "2001:db8:1:3::1"])]
    assert codes == [202, 202, 429, 202], codes
    # IPv4-mapped IPv6 is the IPv4 address.
    codes = [d.submit(ip=ip, email="t%d@example.org" % i).status
             for i, ip in enumerate(["192.0.2.9", "::ffff:192.0.2.9",
                                     "::FFFF:c000:209"])]
    assert codes == [202, 202, 429], codes
    e = heinzeld({"checks": {"flood_ip_limit": "2",
                             "flood_ipv6_prefix": "128"}}, shared=False)
    rdb.client.flushall()
    codes = [e.submit(ip="2001:db8:1:2::%d" % (i + 1),
                      email="u%d@example.org" % i).status for i in range(3)]
    assert codes == [202, 202, 202], codes


# ---- also fixed: duplicates per author ----

def test_same_words_from_two_readers_are_no_duplicate(daemon):
    """Also fix: two readers writing "Danke!" under one post got a 409."""
    words = "Danke! " + helpers_unique()
    a = daemon.submit(body=words, email="a@example.org", ip="192.0.2.1")
    b = daemon.submit(body=words, email="b@example.org", ip="192.0.2.2")
    assert a.status == 202 and b.status == 202, (a, b)
    # The same reader again, by address or by IP, is a duplicate.
    assert_error(daemon.submit(body=words, email="A@example.org",
        ip="192.0.2.3"), 409, "duplicate")
    assert_error(daemon.submit(body=words, email="c@example.org",
        ip="192.0.2.2"), 409, "duplicate")
    # Another post is another conversation.
    assert daemon.submit(body=words, email="a@example.org",
        post="another-post").status == 202


def helpers_unique():
    from helpers import unique_body
    return unique_body()


# ---- also fixed: request_id ----

@pytest.mark.parametrize("rid", ["1", "retry", "0123456789abcde"])
def test_short_request_id_is_refused(daemon, rid):
    """Also fix: request_ids are one namespace, a short one is refused."""
    assert_error(daemon.submit(request_id=rid), 422, "invalid", "request_id")
    assert daemon.submit(request_id=rid + "x" * (16 - len(rid))).status == 202
