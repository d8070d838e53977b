"""The security review's findings (SECURITY.md), one regression test each.

Each test here failed on the code the review looked at and passes now.
"""

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
        for k in ("post", "author", "email", "url", "body", "ip",
                  "user_agent", "referrer", "parent", "request_id"):
            assert h[k] == f[k], k
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
