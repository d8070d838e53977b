"""End to end: real redis-server, real heinzeld, HTTP over its Unix socket.

The core pipeline: captcha, submission, rules, storage in Redis, the
public listing, error answers, a Redis outage, startup checks.
"""

import datetime
import hashlib
import hmac
import json
import os
import signal
import socket
import stat
import time
import urllib.parse

import pytest

from conftest import TAG
from helpers import (HEX20, HEX32, ISO_UTC, QUESTION_RE, UnixHTTPConnection,
    assert_error, assert_json, de_words, en_words, question_texts, request,
    solve, unique_body)

LIMITS = {"server": {"max_body": "2k"}, "comments": {"body_max_chars": "100"}}
COMMENT_FIELDS = ("id post author email url body ip user_agent referrer lang "
    "parent status score hits created_at request_id").split()
PUBLIC_FIELDS = {"id", "post", "parent", "author", "url", "body", "created_at"}


def key(kind, name=None):
    return "%s:%s" % (TAG, kind) if name is None else "%s:%s:%s" % (TAG, kind, name)


def now_ms():
    return int(time.time() * 1000)


def parse_hits(hits):
    """"A=1 B=-2" -> {"A": 1.0, "B": -2.0}."""
    out = {}
    for tok in hits.split():
        name, sep, pts = tok.partition("=")
        assert sep and name, "malformed hits %r" % hits
        out[name] = float(pts)
    return out


def accepted(r, status="pending"):
    assert r.status == 202, "expected 202, got %d %r" % (r.status, r.text[:500])
    data = assert_json(r)
    assert data.get("status") == status, data
    assert HEX20.match(data.get("id", "")), data
    return data["id"]


def wait_for(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


# ---- HTTP basics ----

def test_health_ok(daemon):
    r = daemon.get("/v1/health")
    assert r.status == 200, r
    assert assert_json(r) == {"status": "ok", "redis": "up"}


def test_keep_alive_serves_two_requests_on_one_connection(daemon):
    conn = UnixHTTPConnection(daemon.socket)
    try:
        r1 = request(daemon.socket, "GET", "/v1/health", conn=conn)
        first = conn.sock
        r2 = request(daemon.socket, "GET", "/v1/captcha", conn=conn)
        assert r1.status == 200 and r2.status == 200, (r1, r2)
        assert first is not None and conn.sock is first, \
            "the server closed the connection after one request"
    finally:
        conn.close()


def test_unknown_path_is_404(daemon):
    assert_error(daemon.get("/v1/nothing-here"), 404, "not_found")
    assert_error(daemon.get("/"), 404, "not_found")


def test_wrong_method_is_405(daemon):
    assert_error(daemon.request("DELETE", "/v1/comments"), 405,
        "method_not_allowed")
    assert_error(daemon.post_json("/v1/captcha", {}), 405,
        "method_not_allowed")


def test_garbage_request_does_not_hurt(daemon):
    r = daemon.raw(b"\x16\x03\x01\x02\x00garbage garbage\r\n\r\n")
    assert r is None or 400 <= r.status < 500, r
    r = daemon.raw(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    assert r is None or 400 <= r.status < 500, r
    assert daemon.get("/v1/health").status == 200
    assert daemon.alive()


# ---- captcha ----

def captcha_mac(secret, what, raw):
    return hmac.new(secret.encode(), what + raw, hashlib.sha1).digest()


def seal(secret, answer, issued_ms):
    """A captcha id as heinzeld makes one (lib/captcha.h)."""
    raw = os.urandom(4) + issued_ms.to_bytes(6, "big")
    raw += bytes([answer ^ captcha_mac(secret, b"a", raw)[0]])
    return (raw + captcha_mac(secret, b"m", raw)[:5]).hex()


def test_captcha_german_by_default_and_sealed(heinzeld, rdb):
    # A daemon of its own: it read the secret after this test's flush.
    daemon = heinzeld(shared=False)
    t0 = now_ms()
    r = daemon.get("/v1/captcha")
    t1 = now_ms()
    assert r.status == 200, r
    c = assert_json(r)
    assert set(c) >= {"id", "question", "question_text", "expires_in"}, c
    assert HEX32.match(c["id"]), c
    assert QUESTION_RE.match(c["question"]), c
    assert c["question_text"] in question_texts(c["question"], "de"), c
    assert c["expires_in"] == 600, c

    # Nothing kept in Redis: the id seals answer and time under the
    # site's secret.
    assert rdb.client.exists(key("captcha", c["id"])) == 0
    secret = rdb.client.get(key("secret"))
    assert secret and len(secret) == 64, secret
    raw = bytes.fromhex(c["id"])
    assert captcha_mac(secret, b"m", raw[:11])[:5] == raw[11:]
    answer = solve(c["question"])[3]
    assert raw[10] ^ captcha_mac(secret, b"a", raw[:10])[0] == answer
    assert t0 - 5 <= int.from_bytes(raw[4:10], "big") <= t1 + 5


def test_captcha_english(daemon):
    r = daemon.get("/v1/captcha?lang=en")
    assert r.status == 200, r
    c = assert_json(r)
    assert c["question_text"] in question_texts(c["question"], "en"), c
    r = daemon.get("/v1/captcha?lang=de")
    c = assert_json(r)
    assert c["question_text"] in question_texts(c["question"], "de"), c


def test_captchas_are_fresh_and_answers_small(daemon):
    ids = set()
    for _ in range(25):
        c = daemon.captcha()
        ids.add(c["id"])
        assert 0 <= c["answer"] <= 100, c
    assert len(ids) == 25


# ---- submission ----

def test_submit_stores_pending_comment(daemon, rdb):
    c = daemon.captcha()
    f = daemon.fields(c, url="https://anna.example.org/", ip="203.0.113.7",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        referrer="https://blog.example.org/hello-world", lang="de",
        request_id="req-full-1-0123456789")
    t0 = now_ms()
    r = daemon.post_json("/v1/comments", f)
    t1 = now_ms()
    cid = accepted(r)

    h = rdb.client.hgetall(key("comment", cid))
    # parent was not sent: it may be left out or empty.
    missing = [k for k in COMMENT_FIELDS if k not in h and k != "parent"]
    assert not missing, "comment hash lacks %s: %r" % (missing, h)
    for k in ("post", "author", "email", "url", "body", "ip", "user_agent",
            "referrer", "lang", "request_id"):
        assert h[k] == f[k], (k, h[k], f[k])
    assert h["id"] == cid
    assert h.get("parent", "") == "", h
    assert h["status"] == "pending"
    assert t0 - 5 <= int(h["created_at"]) <= t1 + 5, (h["created_at"], t0, t1)
    hits = parse_hits(h["hits"])
    assert float(h["score"]) == pytest.approx(sum(hits.values())), h
    assert float(h["score"]) < 3, "a plain comment was scored %s: %s" % (
        h["score"], h["hits"])

    created = int(h["created_at"])
    assert rdb.client.zscore(key("queue:pending"), cid) == created
    for q in ("approved", "spam", "rejected"):
        assert rdb.client.zscore(key("queue:" + q), cid) is None, q
    assert rdb.client.zscore(key("post", "hello-world"), cid) is not None
    assert rdb.client.zcard(key("published", "hello-world")) == 0
    assert rdb.client.get(key("request", "req-full-1-0123456789")) == cid
    # The captcha is marked used until it would have expired.
    assert rdb.client.exists(key("captcha", c["id"])) == 1, \
        "the captcha was not marked used"
    assert 590000 <= rdb.client.pttl(key("captcha", c["id"])) <= 600000

    # heinzeld writes the submissions' counters once a second.
    stats = wait_for(lambda: rdb.client.hgetall(key("stats")), 5)
    assert stats, "no %s counters after a submission" % key("stats")
    for k, v in stats.items():
        assert v.lstrip("-").isdigit(), (k, v)

    # A reply keeps its parent.
    reply = accepted(daemon.submit(parent=cid, author="Bert",
        email="bert@example.org"))
    assert rdb.client.hget(key("comment", reply), "parent") == cid
    assert rdb.client.zcard(key("post", "hello-world")) == 2

    bad = [k for k in rdb.client.keys("*") if not k.startswith(TAG + ":")]
    assert not bad, "keys outside %s: %r" % (TAG, bad)


@pytest.mark.parametrize("form", ["digits", "json_int", "german", "english",
    "german_mixed_case", "spaces"])
def test_captcha_answer_forms(daemon, rdb, form):
    for _ in range(20):
        c = daemon.captcha()
        if c["answer"] < 100:
            break
    n = c["answer"]
    value = {
        "digits": str(n),
        "json_int": n,
        "german": sorted(de_words(n))[0],
        "english": sorted(en_words(n))[0],
        "german_mixed_case": sorted(de_words(n))[0].capitalize(),
        "spaces": " %d " % n,
    }[form]
    r = daemon.submit(c, captcha_answer=value)
    cid = accepted(r)
    assert rdb.client.hget(key("comment", cid), "status") == "pending"


def test_proxy_x_real_ip_wins_over_ip_field(daemon, rdb):
    # nginx in front of a browser's form: the form's "ip" is the reader's
    # word, the proxy's X-Real-IP header is the truth.
    f = daemon.fields(daemon.captcha(), ip="198.51.100.1")
    r = request(daemon.socket, "POST", "/v1/comments",
        body=json.dumps(f).encode(),
        headers={"Content-Type": "application/json",
                 "X-Real-IP": "203.0.113.9"})
    cid = accepted(r)
    assert rdb.client.hget(key("comment", cid), "ip") == "203.0.113.9"

    # A header that is no IP address is ignored.
    f = daemon.fields(daemon.captcha(), ip="198.51.100.1")
    r = request(daemon.socket, "POST", "/v1/comments",
        body=json.dumps(f).encode(),
        headers={"Content-Type": "application/json", "X-Real-IP": "nonsense"})
    cid = accepted(r)
    assert rdb.client.hget(key("comment", cid), "ip") == "198.51.100.1"


def test_form_submission_decodes_utf8(daemon, rdb):
    c = daemon.captcha()
    form = ("post=hello-world&author=J%C3%BCrgen+M%C3%BCller"
        "&email=juergen%40example.org&body=Gr%C3%BC%C3%9Fe+aus+K%C3%B6ln"
        "&captcha_id=" + c["id"] + "&captcha_answer=" + str(c["answer"]))
    r = daemon.post_form("/v1/comments", form)
    cid = accepted(r)
    h = rdb.client.hgetall(key("comment", cid))
    assert h["body"] == "Grüße aus Köln", h
    assert h["author"] == "Jürgen Müller", h
    assert h["email"] == "juergen@example.org", h


def test_form_return_to_redirects(daemon, rdb):
    page = "https://blog.example.org/2026/hello-world"
    f = daemon.fields(return_to=page)
    r = daemon.post_form("/v1/comments", f)
    assert r.status == 303, r
    loc = r.header("Location") or ""
    assert loc.startswith(page), loc
    assert "comment=pending" in loc, loc
    assert rdb.client.zcard(key("queue:pending")) == 1

    f = daemon.fields(return_to=page, email="kein-at-zeichen")
    r = daemon.post_form("/v1/comments", f)
    assert r.status == 303, r
    loc = r.header("Location") or ""
    assert loc.startswith(page), loc
    assert "comment=error" in loc and "field=email" in loc, loc
    assert rdb.client.zcard(key("queue:pending")) == 1


def test_form_return_to_foreign_origin_is_400(daemon, rdb):
    f = daemon.fields(return_to="https://evil.example.net/phish")
    r = daemon.post_form("/v1/comments", f)
    assert_error(r, 400, "bad_request")
    assert r.header("Location") is None
    assert rdb.client.zcard(key("queue:pending")) == 0


# ---- captcha failures ----

def test_wrong_captcha_answer_consumes_it(daemon, rdb):
    c = daemon.captcha()
    r = daemon.submit(c, captcha_answer=str(c["answer"] + 1))
    assert_error(r, 403, "captcha")
    r = daemon.submit(c)
    assert_error(r, 403, "captcha")
    assert rdb.client.zcard(key("queue:pending")) == 0
    assert not rdb.client.keys(key("comment", "*"))


def test_unknown_captcha_id(daemon, rdb):
    c = daemon.captcha()
    r = daemon.submit(c, captcha_id="0" * 32)
    assert_error(r, 403, "captcha")
    assert rdb.client.zcard(key("queue:pending")) == 0


def test_captcha_used_once_even_after_right_answer(daemon, rdb):
    c = daemon.captcha()
    accepted(daemon.submit(c))
    r = daemon.submit(c, body=unique_body())
    assert_error(r, 403, "captcha")
    assert rdb.client.zcard(key("queue:pending")) == 1


def test_expired_captcha(heinzeld, rdb):
    daemon = heinzeld(shared=False)
    secret = rdb.client.get(key("secret"))
    # Sealed with the site's secret: good while young, unknown once expired.
    c = {"id": seal(secret, 7, now_ms() - 601000), "answer": 7}
    assert_error(daemon.submit(c), 403, "captcha", "captcha_id")
    assert rdb.client.exists(key("captcha", c["id"])) == 0
    assert rdb.client.zcard(key("queue:pending")) == 0
    accepted(daemon.submit({"id": seal(secret, 7, now_ms() - 599000),
        "answer": 7}))
    # One the secret did not seal is unknown, however well formed.
    c = {"id": seal("another site", 7, now_ms() - 5000), "answer": 7}
    assert_error(daemon.submit(c), 403, "captcha", "captcha_id")


def test_too_fast_answer_counts_as_bot(heinzeld, rdb):
    d = heinzeld({"captcha": {"min_solve_seconds": "2"}})
    c = d.captcha()
    assert_error(d.submit(c), 403, "captcha")
    c = d.captcha()
    time.sleep(2.1)
    accepted(d.submit(c))


# ---- rules ----

def test_spam_rule_rejects_and_keeps_in_spam(daemon, rdb):
    r = daemon.submit(body="Kauft xyzzyspam jetzt")
    data = assert_error(r, 403, "spam")
    cid = data.get("id", "")
    assert HEX20.match(cid), data
    h = rdb.client.hgetall(key("comment", cid))
    assert h.get("status") == "spam", h
    hits = parse_hits(h["hits"])
    assert hits.get("TEST_SPAMWORD") == 10, h
    assert float(h["score"]) == pytest.approx(sum(hits.values())), h
    assert rdb.client.zscore(key("queue:spam"), cid) is not None
    assert rdb.client.zscore(key("queue:pending"), cid) is None
    assert rdb.client.zcard(key("published", "hello-world")) == 0
    assert daemon.get("/v1/comments?post=hello-world").data["comments"] == []


def test_hold_rule_scores_and_stays_pending(daemon, rdb):
    cid = accepted(daemon.submit(body="Ein plughhold Kommentar"))
    h = rdb.client.hgetall(key("comment", cid))
    assert h["status"] == "pending", h
    hits = parse_hits(h["hits"])
    assert hits.get("TEST_HOLDWORD") == 4, h
    assert float(h["score"]) == pytest.approx(sum(hits.values())), h
    assert float(h["score"]) >= 3, h
    assert rdb.client.zscore(key("queue:pending"), cid) is not None


# ---- malformed requests ----

def _json_with(daemon, text_template):
    c = daemon.captcha()
    return text_template.replace("CID", c["id"]).replace(
        "ANS", str(c["answer"]))


@pytest.mark.parametrize("kind", ["not_json", "array", "author_number",
    "duplicate_key", "truncated"])
def test_bad_request(daemon, rdb, kind):
    body = {
        "not_json": "post=hello-world&author=Anna",
        "array": '[{"post": "hello-world"}]',
        "author_number": '{"post": "hello-world", "author": 42, '
            '"email": "anna@example.org", "body": "Hallo", '
            '"captcha_id": "CID", "captcha_answer": "ANS"}',
        "duplicate_key": '{"post": "hello-world", "author": "Anna", '
            '"author": "Bert", "email": "anna@example.org", "body": "Hallo", '
            '"captcha_id": "CID", "captcha_answer": "ANS"}',
        "truncated": '{"post": "hello-world", "author": "Anna", ',
    }[kind]
    body = _json_with(daemon, body).encode("utf-8")
    r = daemon.post_bytes("/v1/comments", body, "application/json")
    assert_error(r, 400, "bad_request")
    assert rdb.client.zcard(key("queue:pending")) == 0


def test_unsupported_media_type(daemon, rdb):
    body = json.dumps(daemon.fields()).encode()
    r = daemon.post_bytes("/v1/comments", body, "text/plain")
    assert_error(r, 415, "unsupported_media_type")
    assert rdb.client.zcard(key("queue:pending")) == 0


@pytest.mark.parametrize("field,change", [
    ("post", {"post": None}),
    ("author", {"author": None}),
    ("email", {"email": None}),
    ("body", {"body": None}),
    ("author", {"author": "   "}),
    ("email", {"email": "anna.example.org"}),
    ("email", {"email": "anna@"}),
    ("url", {"url": "javascript:alert(1)"}),
    ("url", {"url": "ftp://example.org/"}),
    ("author", {"author": "Anna\u0001"}),
    ("author", {"author": "Anna\nBeispiel"}),
])
def test_invalid_field(daemon, rdb, field, change):
    r = daemon.submit(**change)
    assert_error(r, 422, "invalid", field)
    assert rdb.client.zcard(key("queue:pending")) == 0


def test_invalid_utf8_in_json_string(daemon, rdb):
    c = daemon.captcha()
    body = ('{"post": "hello-world", "author": "Anna", '
        '"email": "anna@example.org", "body": "Gr\u00fc\u00dfe ').encode() + \
        b"\xff\xfe" + ('", "captcha_id": "%s", "captcha_answer": "%d"}'
        % (c["id"], c["answer"])).encode()
    r = daemon.post_bytes("/v1/comments", body, "application/json")
    assert_error(r, 422, "invalid", "body")
    assert rdb.client.zcard(key("queue:pending")) == 0


def test_invalid_utf8_in_form_field(daemon, rdb):
    f = daemon.fields(body="PLACEHOLDER")
    form = urllib.parse.urlencode(f).replace("PLACEHOLDER", "Gr%FC%DFe")
    r = daemon.post_form("/v1/comments", form)
    assert_error(r, 422, "invalid", "body")
    assert rdb.client.zcard(key("queue:pending")) == 0


def test_body_length_counts_characters(heinzeld, rdb):
    d = heinzeld(LIMITS)
    assert_error(d.submit(body="\u00e4" * 101), 422, "invalid", "body")
    # 100 characters, 200 bytes: within the limit.
    cid = accepted(d.submit(body="\u00e4" * 100))
    assert rdb.client.hget(key("comment", cid), "body") == "\u00e4" * 100


def test_body_over_max_body_is_413(heinzeld, rdb):
    d = heinzeld(LIMITS)
    f = d.fields(body="")
    base = len(json.dumps(f).encode())
    f["body"] = "a" * (3000 - base)
    body = json.dumps(f).encode()
    assert len(body) == 3000
    r = d.post_bytes("/v1/comments", body, "application/json")
    assert_error(r, 413, "too_large")
    assert rdb.client.zcard(key("queue:pending")) == 0
    # The daemon still serves the next request.
    assert d.get("/v1/health").status == 200


# ---- idempotency and duplicates ----

def test_request_id_stores_one_comment(daemon, rdb):
    f = daemon.fields(request_id="7f1c0d2e-retry-0123456789")
    first = accepted(daemon.post_json("/v1/comments", f))
    # The captcha is used up by now; the same request must still succeed.
    second = accepted(daemon.post_json("/v1/comments", f))
    assert first == second
    assert rdb.client.keys(key("comment", "*")) == [key("comment", first)]
    assert rdb.client.zcard(key("queue:pending")) == 1
    assert rdb.client.get(key("request", "7f1c0d2e-retry-0123456789")) == first


def test_same_text_twice_is_duplicate(daemon, rdb):
    text = "Genau derselbe Text, zweimal abgeschickt."
    accepted(daemon.submit(body=text))
    assert_error(daemon.submit(body=text), 409, "duplicate")
    assert rdb.client.zcard(key("post", "hello-world")) == 1
    # The same words under another post are a comment of their own.
    accepted(daemon.submit(body=text, post="another-post"))


# ---- public listing ----

def test_list_shows_approved_comments_only(daemon, rdb, approve):
    def sub(**kw):
        cid = accepted(daemon.submit(**kw))
        time.sleep(0.01)
        return cid

    a = sub(body="Erster!", url="https://anna.example.org/", ip="203.0.113.7")
    b = sub(body="Noch nicht freigegeben", author="Bert",
        email="bert@example.org")
    c = sub(body="Antwort auf den ersten", author="Carla",
        email="carla@example.org", parent=a, ip="198.51.100.9")
    assert_error(daemon.submit(body="xyzzyspam hier"), 403, "spam")
    o = sub(body="Woanders", post="other-post")
    approve(daemon, c)
    approve(daemon, a)
    approve(daemon, o)

    r = daemon.get("/v1/comments?post=hello-world")
    assert r.status == 200, r
    data = assert_json(r)
    assert data.get("post") == "hello-world", data
    got = data["comments"]
    assert [x["id"] for x in got] == [a, c], (data, "pending " + b)
    for x in got:
        assert set(x) == PUBLIC_FIELDS, x
        assert x["post"] == "hello-world"
        assert ISO_UTC.match(x["created_at"]), x
        ms = int(rdb.client.hget(key("comment", x["id"]), "created_at"))
        when = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
        assert x["created_at"][:19] == when.strftime("%Y-%m-%dT%H:%M:%S"), x
    ga, gc = got
    assert ga["author"] == "Anna Beispiel" and ga["body"] == "Erster!", ga
    assert ga["url"] == "https://anna.example.org/", ga
    assert ga["parent"] in (None, ""), ga
    assert gc["author"] == "Carla" and gc["parent"] == a, gc
    assert gc["url"] in (None, ""), gc
    for secret in ("anna@example.org", "carla@example.org", "203.0.113.7",
            "198.51.100.9", "Noch nicht freigegeben", "xyzzyspam"):
        assert secret not in r.text, secret

    r = daemon.get("/v1/comments?post=other-post")
    assert [x["id"] for x in assert_json(r)["comments"]] == [o]


def test_list_unknown_post_is_empty(daemon):
    r = daemon.get("/v1/comments?post=" + urllib.parse.quote("no-such-post"))
    assert r.status == 200, r
    assert assert_json(r) == {"post": "no-such-post", "comments": [],
                              "next": None}


def test_list_without_post_is_422(daemon):
    assert_error(daemon.get("/v1/comments"), 422, "invalid", "post")


# ---- Redis outage ----

def test_redis_outage_and_recovery(daemon, rdb):
    c = daemon.captcha()
    rdb.stop()

    r = wait_for(lambda: (lambda x: x if x.status == 503 else None)(
        daemon.get("/v1/health")), 10)
    assert r, "health still 200 10 s after Redis stopped"
    assert assert_json(r) == {"status": "unavailable", "redis": "down"}

    r = daemon.submit(c)
    assert_error(r, 503, "unavailable")
    ra = r.header("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) > 0, r.headers
    assert_error(daemon.get("/v1/captcha"), 503, "unavailable")

    rdb.start()
    r = wait_for(lambda: daemon.get("/v1/health").status == 200, 10)
    assert r, "health not 200 within 10 s of Redis coming back"
    assert not rdb.client.keys(key("comment", "*")), \
        "a comment was stored while Redis was down"
    cid = accepted(daemon.submit())
    assert rdb.client.hget(key("comment", cid), "status") == "pending"


# ---- startup ----

def test_config_check_ok(heinzeld):
    d = heinzeld(launch=False)
    rc, out = d.check("-t")
    assert rc == 0, out
    assert "configuration OK" in out, out


def test_bad_rule_refused_with_file_and_line(heinzeld):
    bad = "# a broken rule on line 3\n\nrule BAD body /(unclosed/ score 1\n"
    d = heinzeld(rules={"50-bad.rules": bad}, launch=False)
    rc, out = d.check("-t")
    assert rc != 0, out
    assert "50-bad.rules:3:" in out, out

    d.start(wait=False)
    try:
        rc = d.proc.wait(5)
    except Exception:
        pytest.fail("heinzeld kept running with a bad rule file")
    assert rc != 0
    assert "50-bad.rules:3:" in d.log(), d.log()


def test_unknown_config_key_names_its_line(heinzeld):
    d = heinzeld({"server": {"frobnicate": "yes"}}, launch=False)
    line = d.text.splitlines().index("frobnicate = yes") + 1
    rc, out = d.check("-t")
    assert rc != 0, out
    assert "heinzel.conf:%d:" % line in out, out
    assert "configuration OK" not in out, out

    d.start(wait=False)
    try:
        rc = d.proc.wait(5)
    except Exception:
        pytest.fail("heinzeld started with an unknown config key")
    assert rc != 0


def test_socket_mode_as_configured(daemon):
    st = os.stat(daemon.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)


def test_socket_group_as_configured(heinzeld):
    import grp
    gid = grp.getgrnam("nogroup").gr_gid
    d = heinzeld({"server": {"socket_group": "nogroup", "socket_mode": "0660"}},
        shared=False)
    st = os.stat(d.socket)
    assert st.st_gid == gid, (st.st_gid, gid)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)

    d = heinzeld({"server": {"socket_group": "no-such-group-here"}},
        launch=False)
    d.start(wait=False)
    try:
        rc = d.proc.wait(5)
    except Exception:
        pytest.fail("heinzeld started with an unknown socket_group")
    assert rc != 0
    assert "no-such-group-here: no such group" in d.log(), d.log()


def test_stale_socket_is_replaced(heinzeld):
    def make_stale(d):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(d.socket)
        s.close()
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        assert c.connect_ex(d.socket) != 0, "stale socket accepts connections"
        c.close()
    d = heinzeld({"server": {"socket_mode": "0640"}}, setup=make_stale)
    assert d.get("/v1/health").status == 200
    st = os.stat(d.socket)
    assert stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)


def test_second_instance_on_live_socket_refused(heinzeld):
    first = heinzeld(shared=False)
    second = heinzeld({"server": {"socket": first.socket}}, shared=False,
        wait=False)
    try:
        rc = second.proc.wait(5)
    except Exception:
        pytest.fail("a second heinzeld kept running on a socket in use")
    assert rc != 0
    assert os.path.exists(first.socket)
    r = first.get("/v1/health")
    assert r.status == 200, r
    assert first.alive()


def test_sigterm_exits_zero(heinzeld):
    d = heinzeld(shared=False)
    d.proc.send_signal(signal.SIGTERM)
    try:
        rc = d.proc.wait(10)
    except Exception:
        pytest.fail("heinzeld still running 10 s after SIGTERM")
    assert rc == 0, d.log()


def test_sighup_reloads_rules_and_keeps_them_on_error(heinzeld, rdb):
    d = heinzeld(shared=False)
    accepted(d.submit(body="frobnewword erstmals"))

    with open(os.path.join(d.rules_dir, "95-new.rules"), "w") as f:
        f.write('rule TEST_NEWWORD body /frobnewword/i score 10 "new"\n')
    d.proc.send_signal(signal.SIGHUP)
    n = [0]

    def spam_now():
        n[0] += 1
        return d.submit(body="frobnewword Versuch %d" % n[0]).status == 403
    assert wait_for(spam_now, 5, 0.2), "new rule not in effect after SIGHUP"

    with open(os.path.join(d.rules_dir, "96-bad.rules"), "w") as f:
        f.write("rule BROKEN body /(x/ score 1\n")
    d.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "96-bad.rules:1:" in d.log(), 5), \
        "the reload error does not name 96-bad.rules:1:"
    assert d.alive()
    assert d.get("/v1/health").status == 200
    assert_error(d.submit(body="frobnewword danach"), 403, "spam")
