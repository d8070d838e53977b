"""The security review's findings (SECURITY.md), one regression test each.

Each test here failed on the code the review looked at and passes now.
"""

import ipaddress
import os
import re

import pytest

from conftest import TAG
from ctl_helpers import key
from helpers import assert_error, assert_json
from lua_keys import keys_only, script_source

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
    # before its captcha is spent (it is not marked used).
    assert d.submit(email=victim).status == 202
    c = d.captcha()
    assert_error(d.submit(c, email=victim), 429, "rate_limited")
    assert rdb.client.exists(key("captcha", c["id"])) == 0


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


@pytest.mark.parametrize("ip_keep", ["7d", "1d"])
def test_many_readers_same_words(heinzeld, ip_keep):
    """Twenty readers write the same words under one post: each one's
    repeat, by address or by IP, is a duplicate, also past the sixteen the
    text's list holds (the rest have markers of their own), and with the
    IP in the list (ip_keep at least twice the window) or not."""
    d = heinzeld({"privacy": {"ip_keep": ip_keep}}, shared=False)
    words = "Toll! " + helpers_unique()
    ids = []
    for i in range(20):
        r = d.submit(body=words, email="r%d@example.org" % i,
            ip="198.51.100.%d" % (i + 1))
        assert r.status == 202, (i, r)
        ids.append(r.data["id"])
    for i in (0, 7, 15, 16, 19):
        r = d.submit(body=words, email="R%d@example.org" % i,
            ip="203.0.113.%d" % (i + 1))
        assert_error(r, 409, "duplicate")
        r = d.submit(body=words, email="neu%d@example.org" % i,
            ip="198.51.100.%d" % (i + 1))
        assert_error(r, 409, "duplicate")
    assert d.submit(body=words, email="r20@example.org",
        ip="198.51.100.21").status == 202


def test_duplicate_window_ends(heinzeld):
    """After duplicate_window the same reader may say it again, also
    while the text's list lives on for a later writer."""
    import time
    d = heinzeld({"comments": {"duplicate_window": "3"}}, shared=False)
    words = "Nochmal! " + helpers_unique()
    start = time.monotonic()
    assert d.submit(body=words, email="a@example.org").status == 202
    assert d.submit(body=words, email="b@example.org").status == 202
    time.sleep(max(0, start + 2 - time.monotonic()))
    # c keeps the list 3 s longer; a and b are in it, within the window.
    assert d.submit(body=words, email="c@example.org").status == 202
    assert_error(d.submit(body=words, email="a@example.org"), 409,
        "duplicate")
    time.sleep(max(0, start + 3.3 - time.monotonic()))
    assert d.submit(body=words, email="a@example.org").status == 202
    assert d.submit(body=words, email="b@example.org").status == 202
    assert_error(d.submit(body=words, email="c@example.org"), 409,
        "duplicate")


def helpers_unique():
    from helpers import unique_body
    return unique_body()


# ---- also fixed: request_id ----

@pytest.mark.parametrize("rid", ["1", "retry", "0123456789abcde"])
def test_short_request_id_is_refused(daemon, rid):
    """Also fix: request_ids are one namespace, a short one is refused."""
    assert_error(daemon.submit(request_id=rid), 422, "invalid", "request_id")
    assert daemon.submit(request_id=rid + "x" * (16 - len(rid))).status == 202


# ---- finding 7: the Redis password ----

SECRET = "s3cret-Pa55w0rd"


def test_redis_password_is_never_printed(heinzeld, rdb, tmp_path):
    """Finding 7: redis://:password@host was logged verbatim at startup."""
    import subprocess
    import time
    from conftest import HEINZELCTL, HEINZELD
    addr = "redis://:%s@127.0.0.1:9/0" % SECRET
    d = heinzeld({"redis": {"address": addr}}, shared=False, wait=False)
    deadline = time.monotonic() + 10
    while "listening on" not in d.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = d.log()
    assert "listening on" in log and "redis redis://***@127.0.0.1:9/0" in log, log
    assert SECRET not in log, log
    # A malformed address in heinzeld -t and heinzelctl.
    bad = "redis://:%s@127.0.0.1:notaport/0" % SECRET
    conf = tmp_path / "bad.conf"
    conf.write_text(d.text.replace(addr, bad))
    p = subprocess.run([HEINZELD, "-t", "-c",
        str(conf)], capture_output=True, text=True, timeout=10)
    assert p.returncode != 0 and "bad port" in p.stdout + p.stderr, p
    assert SECRET not in p.stdout + p.stderr, p
    for a in (bad, addr):
        p = subprocess.run([HEINZELCTL, "-c", d.conf, "--redis", a, "stats"],
            capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, p
        assert SECRET not in p.stdout + p.stderr, p


# ---- finding 8: what reaches a terminal ----

def test_control_characters_are_escaped_in_the_log(daemon):
    """Finding 8: a request URI with ESC sequences was logged raw."""
    before = daemon.log_size()
    r = daemon.raw(b"GET /v1/health?\x1b[2J\x1b]0;owned\x07\xe2\x80\xaeabc"
        b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert r is not None and r.status == 200, r
    with open(daemon.logpath, "rb") as f:
        f.seek(before)
        log = f.read()
    assert b"GET /v1/health?\\x1b[2J\\x1b]0;owned\\x07\\xe2\\x80\\xaeabc" \
        in log, log
    assert b"\x1b" not in log and b"\x07" not in log, log
    assert "\u202e".encode() not in log, log


def test_heinzelctl_neutralizes_bidi_controls(daemon, rdb):
    """Finding 8: U+202E in a comment reordered heinzelctl's output."""
    from ctl_helpers import ctl_ok
    r = daemon.submit(author="Anna \u202etxt.exe", body="Gut \u2067so\u2069 "
        "und \u202eumgedreht")
    assert r.status == 202, r
    cid = r.data["id"]
    for args in (("list",), ("show", cid)):
        out = ctl_ok(daemon, *args).out
        assert "Anna" in out, out
        for ch in "\u202e\u2067\u2069":
            assert ch not in out, (args, out)


# ---- finding 9: HEAD and CONNECT ----

def _exchange(sockpath, data, timeout=3.0):
    """Send data, read until the server closes or goes quiet."""
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sockpath)
    s.sendall(data)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    return buf


@pytest.mark.parametrize("path", ["/v1/health", "/v1/comments?post=p",
                                  "/nowhere", "/v1/captcha"])
def test_head_answers_carry_no_body(daemon, path):
    """Finding 9: HEAD sent a body without Content-Length on keep-alive."""
    get = ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode()
    one = _exchange(daemon.socket, get.replace(b"\r\n\r\n",
        b"\r\nConnection: close\r\n\r\n"))
    head, _, body = one.partition(b"\r\n\r\n")
    assert body, one
    buf = _exchange(daemon.socket, b"HEAD" + get[3:] +
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, _, rest = buf.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 "), buf
    # The next answer follows the HEAD answer's headers at once.
    assert rest.startswith(b"HTTP/1.1 200 "), buf
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", first)
    assert m, first
    if path != "/v1/captcha":
        assert int(m.group(1)) == len(body), (first, one)


@pytest.mark.parametrize("line", [b"CONNECT example.org:443 HTTP/1.1",
                                  b"CONNECT /v1/health HTTP/1.1",
                                  b"TRACE /v1/health HTTP/1.1"])
def test_connect_and_trace_get_405(daemon, line):
    """Finding 9: CONNECT gets 405 (not 404), and the connection closes."""
    r = daemon.raw(line + b"\r\nHost: x\r\n\r\n")
    assert_error(r, 405, "method_not_allowed")
    assert r.header("Connection").lower() == "close", r
    assert daemon.alive()


# ---- also fixed: the public list pages ----

def _publish(rdb, post, n, created0):
    """n approved comments, 3 to a millisecond, ids in created order."""
    import random
    c = rdb.client.pipeline(transaction=False)
    ids = []
    for i in range(n):
        created = created0 + i // 3
        cid = "%012x%08x" % (created, random.getrandbits(32))
        ids.append(cid)
        c.hset(key("comment", cid), mapping={"id": cid, "post": post,
            "author": "A%d" % i, "email": "a@example.org", "body": "b%d" % i,
            "status": "approved", "created_at": str(created)})
        c.zadd(key("published", post), {cid: created})
    c.execute()
    return sorted(ids)


def test_public_list_pages_to_the_newest(daemon, rdb):
    """Also fix: GET /v1/comments stopped at the 1,000 oldest comments."""
    import time
    ids = _publish(rdb, "busy", 1205, int(time.time() * 1000) - 600000)
    # Without parameters: as before, the oldest 1000, and where to go on.
    r = daemon.get("/v1/comments?post=busy")
    data = assert_json(r)
    assert [c["id"] for c in data["comments"]] == ids[:1000]
    assert data["next"] == ids[999]
    got = [c["id"] for c in data["comments"]]
    after = data["next"]
    while after is not None:
        data = assert_json(daemon.get(
            "/v1/comments?post=busy&limit=7&after=%s" % after))
        assert len(data["comments"]) <= 7
        got += [c["id"] for c in data["comments"]]
        after = data["next"]
    assert got == ids, "paging lost or repeated comments"
    # The last page says so; an empty page after the newest.
    data = assert_json(daemon.get("/v1/comments?post=busy&after=" + ids[-1]))
    assert data == {"post": "busy", "comments": [], "next": None}
    data = assert_json(daemon.get("/v1/comments?post=busy&limit=5&after="
        + ids[-6]))
    assert [c["id"] for c in data["comments"]] == ids[-5:]
    assert data["next"] is None
    for q, field in (("limit=0", "limit"), ("limit=1001", "limit"),
                     ("limit=x", "limit"), ("limit=-1", "limit"),
                     ("after=nope", "after"), ("after=" + "G" * 20, "after")):
        assert_error(daemon.get("/v1/comments?post=busy&" + q), 422,
            "invalid", field)



def test_published_touches_only_keys_in_keys(daemon, rdb):
    """The page's script reads no key it was not given: without the
    comments' keys it names the page's ids and reads none of them."""
    import time
    ids = _publish(rdb, "busy", 5, int(time.time() * 1000) - 600000)
    script = script_source("published")
    page = [key("published", "busy")]
    argv = ["3", TAG + ":", ids[0]]
    c = keys_only(rdb, page)
    assert c.eval(script, 1, *(page + argv)) == ["need"] + ids[1:5]
    # With all but one of them: the same, still nothing read.
    c = keys_only(rdb, page + [key("comment", i) for i in ids[1:4]])
    assert c.eval(script, 4, *(page + [key("comment", i) for i in ids[1:4]]
        + argv)) == ["need"] + ids[1:5]
    keys = page + [key("comment", i) for i in ids[1:5]]
    c = keys_only(rdb, keys)
    rows = c.eval(script, len(keys), *(keys + argv))
    assert [r[0] for r in rows] == ids[1:5]
    # heinzeld asks for the ids, then with their keys.
    data = assert_json(daemon.get("/v1/comments?post=busy&limit=3&after="
        + ids[0]))
    assert [x["id"] for x in data["comments"]] == ids[1:4]
    assert data["next"] == ids[3]

# ---- finding 3: the SMTP password ----

class RecordingRelay:
    """An SMTP relay on loopback that offers AUTH and no STARTTLS, takes
    every mail and records every command line it is sent."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.mails = []             # (recipients, message bytes)
        self.sessions = 0           # connections closed
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                self._session(c)
            except OSError:
                pass
            finally:
                c.close()
                with self.lock:
                    self.sessions += 1

    def _session(self, c):
        f = c.makefile("rb")
        c.sendall(b"220 relay.example ESMTP\r\n")
        data = None
        rcpts = []
        for line in f:
            if data is not None:
                if line == b".\r\n":
                    with self.lock:
                        self.mails.append((rcpts, b"".join(data)))
                    data, rcpts = None, []
                    c.sendall(b"250 queued\r\n")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            with self.lock:
                self.lines.append(line.decode("latin-1").rstrip("\r\n"))
            verb = line[:4].upper()
            if verb == b"EHLO":
                c.sendall(b"250-relay.example\r\n250-AUTH PLAIN LOGIN\r\n"
                          b"250 8BITMIME\r\n")
            elif verb == b"AUTH":
                c.sendall(b"235 ok\r\n")
            elif verb == b"DATA":
                data = []
                c.sendall(b"354 go on\r\n")
            elif verb == b"RCPT":
                rcpts.append(line.decode("latin-1").split(":", 1)[1]
                             .strip().strip("<>\r\n"))
                c.sendall(b"250 ok\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"250 ok\r\n")

    def commands(self):
        with self.lock:
            return list(self.lines)

    def stop(self):
        import socket
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def test_no_smtp_password_without_tls(heinzeld, rdb, tmp_path):
    """Finding 3: starttls = opportunistic sent AUTH PLAIN in the clear to
    a relay that offers no STARTTLS."""
    import time
    relay = RecordingRelay()
    d = heinzeld({"smtp": {"relay": "smtp://127.0.0.1:%d" % relay.port,
                           "from": "heinzel@blog.example.org",
                           "user": "blog", "password": SECRET,
                           "timeout": "5"},
                  "notify": {"site": "Notizen aus Köln",
                             "admin": "editor@example.org",
                             "retry_base_seconds": "1",
                             "retry_max_seconds": "2"},
                  # Keys of its own: the module's other daemons share
                  # Redis and would take its outbox entries.
                  "redis": {"prefix": "smtp3"}}, shared=False)
    try:
        assert d.submit().status == 202
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and relay.sessions == 0:
            time.sleep(0.05)
        cmds = relay.commands()
        assert any(c.upper().startswith("EHLO") for c in cmds), cmds
        assert not any(c.upper().startswith("AUTH") for c in cmds), cmds
        assert not any(c.upper().startswith("MAIL") for c in cmds), cmds
        assert SECRET not in d.log()
    finally:
        # A daemon left running would take the next test's outbox entries.
        d.stop()
        relay.stop()
    # starttls = no with a password, to a relay elsewhere: refused.
    conf = tmp_path / "clear.conf"
    conf.write_text(d.text.replace("smtp://127.0.0.1:%d" % relay.port,
        "smtp://mail.example.org:587") + "\n[smtp]\nstarttls = no\n")
    import subprocess
    from conftest import HEINZELD
    p = subprocess.run([HEINZELD, "-t", "-c", str(conf)],
        capture_output=True, text=True, timeout=10)
    assert p.returncode != 0, p
    assert "in the clear" in p.stdout + p.stderr, p


# ---- finding 10: receipt mails ----

def _mail_to(relay, rcpt, n, timeout=10):
    import email
    import email.policy
    import time
    deadline = time.monotonic() + timeout
    while True:
        with relay.lock:
            got = [m for r, m in relay.mails if rcpt in r]
        if len(got) >= n or time.monotonic() > deadline:
            return [email.message_from_bytes(m, policy=email.policy.default)
                    for m in got]
        time.sleep(0.05)


def test_receipts_are_no_relay(heinzeld, rdb):
    """Finding 10: with author_on_receipt, anyone could send a mail with
    their own text in the subject and body to any address."""
    relay = RecordingRelay()
    d = heinzeld({"smtp": {"relay": "smtp://127.0.0.1:%d" % relay.port,
                           "from": "heinzel@blog.example.org",
                           "timeout": "5"},
                  "notify": {"site": "Notizen aus Köln",
                             "admin": "editor@example.org",
                             "author_on_receipt": "yes",
                             "author_on_approve": "no"},
                  "redis": {"prefix": "receipt10"}}, shared=False)
    try:
        victim = "victim@example.org"
        ad = "Cheap pills at pills.example, call now"
        text = "WIN BIG " + "pills.example/buy " * 60
        r = d.submit(email=victim, author=ad, post="Visit pills.example now",
            url="https://pills.example/", body=text)
        assert r.status == 202, r
        [m] = _mail_to(relay, victim, 1)
        subject = str(m["Subject"])
        assert "pills" not in subject.lower() and "WIN" not in subject, subject
        body = m.get_body(("plain",)).get_content()
        assert ad not in body and "Visit pills.example" not in body, body
        assert "https://pills.example/" not in body, body
        # The excerpt is short: 200 characters of the comment at most.
        assert "WIN BIG pills.example/buy" in body, body
        assert body.count("pills.example/buy") <= 200 // 18 + 1, body
        # A second comment with the same address within the interval
        # gets no second receipt (the admin hears of both).
        assert d.submit(email=victim, body="noch einer " + text).status == 202
        admin = _mail_to(relay, "editor@example.org", 2)
        assert len(admin) == 2, admin
        assert len(_mail_to(relay, victim, 2, timeout=1)) == 1
    finally:
        d.stop()
        relay.stop()


# ---- finding 5: X-Real-IP through nginx ----

def _nginx():
    import shutil
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


class Nginx:
    """nginx on a free loopback port with an http {} body of our own."""

    def __init__(self, http_body):
        import socket
        import subprocess
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="heinzel-nginx-")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        d = self.dir
        user = "user root;" if os.geteuid() == 0 else ""
        conf = """%s
worker_processes 1;
daemon off;
pid %s/nginx.pid;
error_log %s/error.log notice;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
%s
}
""" % ((user,) + (d,) * 7 + (http_body.replace("@PORT@", str(self.port)),))
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([_nginx(), "-p", d, "-c", self.conf,
            "-e", os.path.join(d, "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self):
        import socket
        import time
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not listen: " + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def stop(self):
        import shutil
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _documented_nginx(socket_path):
    """The two nginx blocks of docs/integration.md, for our socket."""
    from conftest import SRCDIR
    with open(os.path.join(SRCDIR, "docs", "integration.md")) as f:
        text = f.read()
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    assert len(blocks) >= 2, "docs/integration.md lost its nginx blocks"
    http_block, server_block = blocks[0], blocks[1]
    return (http_block.replace("/run/heinzel/heinzel.sock", socket_path) +
        "server {\n    listen 127.0.0.1:@PORT@;\n" + server_block + "}\n")


@pytest.mark.skipif(_nginx() is None, reason="nginx is not installed")
def test_reader_cannot_forge_x_real_ip_through_documented_nginx(daemon, rdb):
    """Finding 5: behind the nginx of docs/integration.md a reader's own
    X-Real-IP header was stored as the comment's IP."""
    import json
    import urllib.parse
    n = Nginx(_documented_nginx(daemon.socket))
    try:
        status, _, data = n.request("GET", "/comments/captcha")
        assert status == 200, (status, data, n.log())
        c = json.loads(data)
        from helpers import solve
        f = daemon.fields({"id": c["id"], "answer": solve(c["question"])[3]})
        status, _, data = n.request("POST", "/comments/submit",
            body=urllib.parse.urlencode(f), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Real-IP": "203.0.113.66"})
        assert status == 202, (status, data, n.log())
        cid = json.loads(data)["id"]
        assert rdb.client.hget(key("comment", cid), "ip") == "127.0.0.1"
        # The JSON API as well, and an "ip" field loses to the header too.
        c = json.loads(n.request("GET", "/comments/captcha")[2])
        f = daemon.fields({"id": c["id"], "answer": solve(c["question"])[3]},
            ip="203.0.113.67")
        status, _, data = n.request("POST", "/comments/submit",
            body=json.dumps(f), headers={"Content-Type": "application/json",
                                         "X-Real-IP": "203.0.113.66"})
        assert status == 202, (status, data)
        cid = json.loads(data)["id"]
        assert rdb.client.hget(key("comment", cid), "ip") == "127.0.0.1"
    finally:
        n.stop()


@pytest.mark.skipif(_nginx() is None, reason="nginx is not installed")
def test_reader_cannot_forge_x_real_ip_through_demo_nginx(daemon, rdb):
    """Finding 5: the demo's nginx sets X-Real-IP too."""
    import json
    import urllib.parse
    from conftest import SRCDIR
    with open(os.path.join(SRCDIR, "docs", "demo", "nginx.conf.in")) as f:
        text = f.read()
    http_body = re.search(r"\nhttp \{\n(.*)\n\}", text, re.S).group(1)
    # Only what the test's own http {} does not set already.
    http_body = re.sub(r"(?m)^\s*(access_log|\w+_temp_path) .*;$", "",
        http_body)
    http_body = (http_body.replace("@SOCKET@", daemon.socket)
                 .replace("@ROOT@", os.path.join(SRCDIR, "docs", "demo")))
    n = Nginx(http_body)
    try:
        c = json.loads(n.request("GET", "/comments/captcha")[2])
        from helpers import solve
        f = daemon.fields({"id": c["id"], "answer": solve(c["question"])[3]})
        status, headers, data = n.request("POST", "/comments/comments",
            body=urllib.parse.urlencode(f), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Real-IP": "203.0.113.66"})
        assert status == 202, (status, data, n.log())
        cid = json.loads(data)["id"]
        assert rdb.client.hget(key("comment", cid), "ip") == "127.0.0.1"
    finally:
        n.stop()


# ---- finding 1, the class: stored data ----

def test_stored_bytes_that_make_no_json_do_not_stop_heinzeld(heinzeld, rdb):
    """Finding 1's audit: a webhook notification whose stored comment is
    not UTF-8 (Redis is outside input too) made heinzeld exit in fatalx;
    now it is a dead notification and heinzeld goes on."""
    import time
    import redis
    raw = redis.Redis(unix_socket_path=rdb.socket, socket_timeout=5)
    tag = "{hook1}"
    d = heinzeld({"notify": {"webhook": "http://127.0.0.1:9/hook",
                             "admin": "", "author_on_approve": "no",
                             "max_tries": "1"},
                  "redis": {"prefix": "hook1"}}, shared=False)
    try:
        cid = "0193a1b2c3d4e5f60718"
        raw.hset("%s:comment:%s" % (tag, cid), mapping={
            "id": cid, "post": "p", "author": b"Anna \xff\xfe",
            "email": "a@example.org", "body": "x", "status": "pending",
            "score": "0", "hits": "", "hold": "0",
            "created_at": "1700000000000"})
        raw.xadd("%s:outbox" % tag, {"event": "pending", "id": cid})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and \
                raw.zcard("%s:outbox:dead" % tag) == 0 and d.alive():
            time.sleep(0.05)
        assert d.alive(), d.log()
        assert raw.zcard("%s:outbox:dead" % tag) == 1, d.log()
        assert d.get("/v1/health").status == 200
    finally:
        d.stop()
        raw.close()
