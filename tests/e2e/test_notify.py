"""Notifications: the outbox in Redis, SMTP through a real SMTP server
(aiosmtpd, started here), retries, dead letters, `heinzelctl outbox`, and
the webhook channel.  Backoffs are a second or two so the file stays fast.
"""

import asyncio
import email
import hashlib
import email.policy
import http.server
import json
import os
import re
import socket
import threading
import time

import pytest
import redis

from conftest import PREFIX, TAG
from ctl_helpers import ctl, ctl_json, ctl_ok, insert, key, outbox_undone
from lua_keys import KeysWatch, script_sha, script_source

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover
    Controller = None

pytestmark = pytest.mark.skipif(Controller is None,
    reason="python3-aiosmtpd is not installed")

ADMIN = "editor@example.org"
FROM = "Heinzel Blog <heinzel@blog.example.org>"
DOMAIN = "blog.example.org"
SITE = "Notizen aus Köln"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s"
                % (timeout, what))
        time.sleep(step)


# ---- an SMTP server ----

class Sink:
    """aiosmtpd handler: keeps every message; RCPT answers can be set."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []          # (mail_from, [rcpt], bytes)
        self.refuse = {}            # address -> "550 ..." or "451 ..."
        self.delay = 0              # seconds before the answer to the data
        self.data_started = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, options):
        with self.lock:
            answer = self.refuse.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    def mails(self, rcpt=None):
        """Parsed messages, optionally only those to rcpt."""
        with self.lock:
            msgs = list(self.messages)
        out = []
        for mail_from, rcpts, raw in msgs:
            if rcpt is not None and rcpt not in rcpts:
                continue
            m = email.message_from_bytes(raw, policy=email.policy.default)
            m.raw = raw
            m.rcpts = rcpts
            m.mail_from = mail_from
            out.append(m)
        return out

    def wait(self, rcpt, n=1, timeout=10.0, kind=None):
        def got():
            ms = [m for m in self.mails(rcpt)
                  if kind is None or m["X-Heinzel-Kind"] == kind]
            return ms if len(ms) >= n else None
        return wait_for(got, timeout, what="%d mail(s) to %s" % (n, rcpt))


class SMTPServer:
    def __init__(self, port, sink=None, **options):
        self.port = port
        self.sink = sink or Sink()
        self.options = options      # for aiosmtpd's SMTP, e.g. authenticator
        self.controller = None

    def start(self):
        self.controller = Controller(self.sink, hostname="127.0.0.1",
            port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    servers = []

    def make(port=None, start=True, sink=None, **options):
        s = SMTPServer(port or free_port(), sink, **options)
        servers.append(s)
        if start:
            s.start()
        return s
    yield make
    for s in servers:
        s.stop()


class Hanging:
    """A relay that accepts connections and never says a word."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.conns = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def stop(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def own(heinzeld):
    """A heinzeld of its own, stopped when the test ends: a daemon left
    running would take the next test's outbox entries (they share Redis)."""
    started = []

    def run(conf, **kw):
        d = heinzeld(conf, shared=False, **kw)
        started.append(d)
        return d
    yield run
    for d in started:
        alive = d.alive()
        rc = d.stop()
        # Under ASan a leak or a memory error at exit shows as rc != 0.
        assert not alive or rc == 0, "heinzeld exited %s after SIGTERM:\n%s" \
            % (rc, d.log()[-3000:])


def notify_conf(port, **notify):
    conf = {
        "smtp": {
            "relay": "smtp://127.0.0.1:%d" % port,
            "from": '"%s"' % FROM,
            "timeout": "5",
        },
        "notify": {
            # No mail goes out without a sender and the site's name.
            "site": SITE,
            "admin": ADMIN,
            "retry_base_seconds": "1",
            "retry_max_seconds": "2",
            "max_tries": "50",
        },
    }
    conf["notify"].update(notify)
    return conf


def metric(d, name, **labels):
    """The value of one sample of /metrics, 0 if absent."""
    text = d.get("/metrics").text
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
        if got == want:
            return float(m.group(3))
    return 0.0


def submit(d, **kw):
    r = d.submit(**kw)
    assert r.status == 202, r
    return r.data["id"]


def in_flight(c):
    """Outbox entries read by a heinzeld and not acknowledged yet."""
    try:
        return c.xpending(TAG + ":outbox", "notify")["pending"]
    except redis.exceptions.ResponseError:     # no group yet
        return 0


def decoded_body(m):
    return m.get_body(("plain",)).get_content().replace("\r\n", "\n")


def outbox_empty(rdb):
    c = rdb.client
    return (c.xlen(TAG + ":outbox") == 0 and c.zcard(TAG + ":outbox:retry") == 0
            and c.zcard(TAG + ":outbox:dead") == 0
            and not c.keys(TAG + ":notification:*"))


# ---- 1. the admin's mail and the author's ----

def test_admin_then_author_mail(own, rdb, smtp):
    relay = smtp()
    d = own(notify_conf(relay.port))
    body = "Grüße aus Köln!\nEin schöner Beitrag über Heinzelmännchen."

    # Spam gets no mail: sent first, so its mail would come first.
    r = d.submit(body="xyzzyspam buy now")
    assert r.status == 403, r
    spam_id = r.data["id"]

    cid = submit(d, body=body, lang="de", author="Anna Müller",
        email="anna@example.org", ip="192.0.2.7")
    [m] = relay.sink.wait(ADMIN)
    assert m.rcpts == [ADMIN]
    assert m.mail_from == "heinzel@blog.example.org"
    assert m["To"] == ADMIN
    assert m["Subject"] == ("Neuer Kommentar zu „hello-world“: "
        "„Grüße aus Köln! Ein schöner Beitrag über Heinzelmännchen.“")
    assert m["Message-ID"] == "<%s.admin@%s>" % (cid, DOMAIN)
    assert m["Auto-Submitted"] == "auto-generated"
    assert m["From"].addresses[0].display_name == "Heinzel Blog"
    assert m["Date"] is not None and m["MIME-Version"] == "1.0"
    assert m.get_content_type() == "text/plain"
    assert m.get_content_charset() == "utf-8"
    assert m["Content-Transfer-Encoding"] == "quoted-printable"
    # On the wire: 7-bit, the subject as RFC 2047 words.
    m.raw.decode("ascii")
    assert b"Subject: =?UTF-8?B?" in m.raw
    text = decoded_body(m)
    for want in ("Anna Müller", "anna@example.org", "192.0.2.7",
                 "heinzelctl approve " + cid, "> Grüße aus Köln!",
                 "„hello-world“", "Kommentare in der Warteschlange: 1"):
        assert want in text, (want, text)
    assert all(spam_id not in x["Message-ID"] for x in relay.sink.mails())
    assert relay.sink.mails("anna@example.org") == []   # author_on_receipt = no

    # heinzelctl approve tells the author: the German template.
    ctl_ok(d, "approve", cid)
    [a] = relay.sink.wait("anna@example.org")
    assert a.rcpts == ["anna@example.org"]
    assert a["To"] == "anna@example.org"
    assert a["Subject"] == "Ihr Kommentar zu „hello-world“ ist veröffentlicht"
    assert a["Message-ID"] == "<%s.published@%s>" % (cid, DOMAIN)
    assert a["Auto-Submitted"] == "auto-generated"
    text = decoded_body(a)
    assert "Hallo Anna Müller," in text
    assert "> Grüße aus Köln!" in text and "Heinzelmännchen" in text
    # Never the moderators' data in the author's mail.
    for secret in ("192.0.2.7", ADMIN, "heinzelctl", "Punkte", "TEST_"):
        assert secret not in text and secret not in a.raw.decode(), secret

    wait_for(lambda: outbox_empty(rdb), what="an empty outbox")
    assert metric(d, "heinzel_notifications_total", channel="mail",
        result="sent") == 2
    assert rdb.client.hget(TAG + ":stats", "notify_sent_mail") == "2"
    assert len(relay.sink.mails()) == 2


def test_template_override(own, rdb, smtp, tmp_path):
    """A file in [notify] templates replaces the built-in text; lines that
    start with a dot arrive as written (SMTP dot-stuffing)."""
    relay = smtp()
    (tmp_path / "published.de.txt").write_text(
        "Subject: Danke, {{author}}!\n\n.\n..zwei Punkte\n{{excerpt}}\n")
    (tmp_path / "admin.de.txt").write_text(
        "Subject: {{ip}} schrieb\n\nnicht {{unknown}}\n")     # broken
    d = own(notify_conf(relay.port, templates=str(tmp_path)))
    off = d.log_size()
    cid = submit(d, lang="de", author="Jörg", ip="192.0.2.1")
    [m] = relay.sink.wait(ADMIN)
    assert m["Subject"].startswith("Neuer Kommentar")  # the built-in one
    assert "admin.de.txt: line 3: {{unknown}} is unknown" in d.log(off)
    ctl_ok(d, "approve", cid)
    [a] = relay.sink.wait("anna@example.org")
    assert a["Subject"] == "Danke, Jörg!"
    assert decoded_body(a).startswith(".\n..zwei Punkte\n> ")


def test_slow_relay_blocks_nothing(own, rdb, smtp):
    """The relay takes its time to accept the data: heinzeld keeps
    answering meanwhile (no blocking wait in the event loop)."""
    relay = smtp()
    relay.sink.delay = 2.5
    d = own(notify_conf(relay.port))
    submit(d)
    assert relay.sink.data_started.wait(10)
    worst = 0.0
    while not relay.sink.mails():
        t = time.monotonic()
        assert d.get("/v1/health").status == 200
        worst = max(worst, time.monotonic() - t)
        time.sleep(0.05)
    assert worst < 0.5, "a request waited %.1f s for the mail" % worst
    relay.sink.wait(ADMIN)


def test_english_receipt_and_auto_approve(own, rdb, smtp):
    relay = smtp()
    d = own(notify_conf(relay.port, author_on_receipt="yes",
        lang="en"))
    cid = submit(d, lang="en", email="bob@example.org", author="Bob")
    [r] = relay.sink.wait("bob@example.org")
    assert r["Subject"] == "Your comment was received"
    assert r["Message-ID"] == "<%s.received@%s>" % (cid, DOMAIN)
    [m] = relay.sink.wait(ADMIN)
    assert m["Subject"].startswith('New comment on "hello-world"')
    # No lang: the configured default (en here).
    cid2 = submit(d, email="carol@example.org", author="Carol")
    [r2] = relay.sink.wait("carol@example.org")
    assert "was received" in r2["Subject"]
    assert cid2 in r2["Message-ID"]


def test_auto_approved_author_is_told(own, rdb, smtp):
    relay = smtp()
    conf = notify_conf(relay.port)
    conf["moderation"] = {"auto_approve": "clean"}
    d = own(conf)
    r = d.submit(body="Heinzelmännchen haben früher in Köln nachts gearbeitet, "
        "sagt die Sage; die Stadt erzählt sie bis heute.", lang="de",
        email="dora@example.org")
    assert r.status == 202 and r.data["status"] == "approved", r
    [a] = relay.sink.wait("dora@example.org")
    assert a["X-Heinzel-Kind"] == "published"
    assert "veröffentlicht" in a["Subject"]
    time.sleep(1.5)
    assert relay.sink.mails(ADMIN) == []    # nothing waits for moderation


# ---- 2. the relay down: nothing lost ----

def test_relay_down_then_up(own, rdb, smtp):
    relay = smtp(start=False)       # nothing listens on the port yet
    d = own(notify_conf(relay.port))
    off = d.log_size()
    cid = submit(d, lang="de")
    wait_for(lambda: metric(d, "heinzel_notifications_total", channel="mail",
        result="retried") >= 2, what="two retries in /metrics")
    # Kept in Redis, visible as outbox depth, and logged.
    c = rdb.client
    assert c.zcard(TAG + ":outbox:retry") + outbox_undone(c) == 1
    assert metric(d, "heinzel_outbox_depth", state="retry") + \
        metric(d, "heinzel_outbox_depth", state="ready") == 1
    log = d.log(off)
    assert "failed (attempt 2 of 50), retry in" in log, log
    assert "Couldn't connect" in log or "connect" in log.lower(), log
    assert "anna@example.org" not in log    # no addresses at info level

    relay.start()
    [m] = relay.sink.wait(ADMIN)
    assert m["Message-ID"] == "<%s.admin@%s>" % (cid, DOMAIN)
    wait_for(lambda: outbox_empty(rdb), what="an empty outbox")
    assert metric(d, "heinzel_notifications_total", channel="mail",
        result="sent") == 1
    assert metric(d, "heinzel_notifications_total", channel="mail",
        result="failed") >= 2
    assert "notify: sent admin mail" in d.log(off)
    time.sleep(1.5)
    assert len(relay.sink.mails()) == 1


# ---- 3. SIGKILL while mails are pending ----

def test_sigkill_loses_nothing(own, rdb, smtp):
    port = free_port()
    d = own(notify_conf(port))
    c = rdb.client
    # The relay is down: c1's admin mail waits in the retry schedule.
    c1 = submit(d, email="anna@example.org")
    wait_for(lambda: c.zcard(TAG + ":outbox:retry") >= 1, what="a retry")
    # The relay hangs: mails are in flight, read but not acknowledged.
    hang = Hanging(port)
    try:
        ctl_ok(d, "approve", c1)
        c2 = submit(d, email="bert@example.org")
        wait_for(lambda: in_flight(c) >= 2,
            what="deliveries in flight")
        d.proc.kill()
        d.proc.wait(5)
    finally:
        hang.stop()
    assert outbox_undone(c) + c.zcard(TAG + ":outbox:retry") >= 2

    relay = smtp(port=port)
    d.start()
    promised = {
        (ADMIN, "<%s.admin@%s>" % (c1, DOMAIN)),
        ("anna@example.org", "<%s.published@%s>" % (c1, DOMAIN)),
        (ADMIN, "<%s.admin@%s>" % (c2, DOMAIN)),
    }

    def delivered():
        return {(m.rcpts[0], m["Message-ID"]) for m in relay.sink.mails()}
    wait_for(lambda: promised <= delivered(), timeout=15,
        what="every promised mail")
    wait_for(lambda: outbox_empty(rdb), what="an empty outbox")
    # Duplicates only ever with the Message-ID of the first.
    assert delivered() == promised


def test_lost_consumer_taken_over(own, rdb, smtp):
    """A heinzeld that never comes back: another one (its own consumer
    name) takes its unacknowledged entries over with XAUTOCLAIM."""
    port = free_port()
    conf = notify_conf(port)
    a = own(conf)
    c = rdb.client
    hang = Hanging(port)
    try:
        cid = submit(a)
        wait_for(lambda: in_flight(c) >= 1, what="a delivery in flight")
        a.proc.kill()
        a.proc.wait(5)
    finally:
        hang.stop()
    # Make the entries look idle for long (instead of waiting minutes).
    for p in c.xpending_range(TAG + ":outbox", "notify", "-", "+", 100):
        c.xclaim(TAG + ":outbox", "notify", p["consumer"], 0,
            [p["message_id"]], idle=3600 * 1000, justid=True)
    relay = smtp(port=port)
    b = own(conf)                       # another socket: another consumer
    [m] = relay.sink.wait(ADMIN)
    assert m["Message-ID"] == "<%s.admin@%s>" % (cid, DOMAIN)
    assert "took over 1 outbox entries" in b.log()
    wait_for(lambda: outbox_empty(rdb), what="an empty outbox")


def test_sigterm_mid_delivery(own, rdb, smtp):
    """SIGTERM while the relay hangs: heinzeld exits 0 at once, the mail
    stays in the outbox, and the next start sends it."""
    port = free_port()
    d = own(notify_conf(port))
    c = rdb.client
    hang = Hanging(port)
    try:
        cid = submit(d)
        wait_for(lambda: in_flight(c) >= 1,
            what="a delivery in flight")
        t = time.monotonic()
        assert d.stop() == 0
        assert time.monotonic() - t < 4
    finally:
        hang.stop()
    relay = smtp(port=port)
    d.start()
    [m] = relay.sink.wait(ADMIN)
    assert m["Message-ID"] == "<%s.admin@%s>" % (cid, DOMAIN)


# ---- 4. dead letters and heinzelctl outbox ----

def test_dead_letters_and_outbox_retry(own, rdb, smtp):
    relay = smtp()
    relay.sink.refuse["bounce@example.org"] = "550 5.1.1 no such user"
    relay.sink.refuse["full@example.org"] = "452 4.2.2 mailbox full"
    d = own(notify_conf(relay.port, admin="", max_tries="3",
        author_on_receipt="yes"))
    c = rdb.client
    bounce = submit(d, email="bounce@example.org")
    full = submit(d, email="full@example.org")
    idn = submit(d, email="anna@b\u00fccher.de")   # taken, but not mailable
    wait_for(lambda: c.zcard(TAG + ":outbox:dead") == 3, timeout=15,
        what="three dead letters")
    assert c.zcard(TAG + ":outbox:retry") == 0 and outbox_undone(c) == 0

    rows = {r["comment"]: r for r in ctl_json(d, "outbox")}
    assert set(rows) == {bounce, full, idn}
    assert all(r["state"] == "dead" and r["kind"] == "received"
               for r in rows.values())
    # A 5xx answer to RCPT and an address that cannot be mailed: at once.
    assert rows[bounce]["attempts"] == 1 and "550" in rows[bounce]["error"]
    assert rows[idn]["attempts"] == 1
    assert "not a deliverable address" in rows[idn]["error"]
    # A 4xx answer: after max_tries.
    assert rows[full]["attempts"] == 3 and "452" in rows[full]["error"]
    text = ctl_ok(d, "outbox").out
    assert "dead" in text and "bounce@example.org" in text and "550" in text
    assert metric(d, "heinzel_outbox_dead") == 3
    assert metric(d, "heinzel_notifications_total", channel="mail",
        result="dead") == 3

    # The relay takes them now: heinzelctl outbox retry ID sends one.
    relay.sink.refuse.clear()
    with KeysWatch(rdb, "outbox_requeue") as w:
        r = ctl_ok(d, "outbox", "retry", rows[bounce]["id"])
        assert "queued to be sent again" in r.out
        [m] = relay.sink.wait("bounce@example.org")
        assert m["Message-ID"] == "<%s.received@%s>" % (bounce, DOMAIN)
        # --all: the rest; the unmailable address is given up on again.
        r = ctl_ok(d, "outbox", "retry", "--all")
        assert r.out.startswith("2 notifications"), r
    # Each notification's key was passed in KEYS, none made in the script.
    assert w.runs == 2 and w.outside == [], w.outside
    relay.sink.wait("full@example.org")
    wait_for(lambda: c.zcard(TAG + ":outbox:dead") == 1 and
        c.xlen(TAG + ":outbox") == 0, what="the IDN address dead again")
    [row] = ctl_json(d, "outbox")
    assert row["comment"] == idn

    # drop forgets it; unknown ids fail, bad ones are usage errors.
    ctl_ok(d, "outbox", "drop", row["id"])
    assert outbox_empty(rdb)
    assert ctl_ok(d, "outbox").out.startswith("no notifications")
    assert ctl(d, "outbox", "retry", "999").rc == 1
    assert ctl(d, "outbox", "drop", "x1").rc == 2
    assert ctl(d, "outbox", "frobnicate").rc == 2


def test_done_and_drop_touch_only_keys_in_keys(own, rdb, smtp):
    """Sending and dropping a notification forget it and its index entry
    through keys passed in KEYS only; one named wrongly is refused before
    anything is written."""
    relay = smtp()
    relay.sink.refuse["Bounce@Example.org"] = "550 5.1.1 no such user"
    d = own(notify_conf(relay.port, author_on_receipt="yes"))
    c = rdb.client
    index = key("email", hashlib.sha1(b"bounce@example.org").hexdigest())
    with KeysWatch(rdb, "outbox_expand", "outbox_done", "outbox_drop") as w:
        cid = submit(d, email="Bounce@Example.org")
        relay.sink.wait(ADMIN)
        wait_for(lambda: c.zcard(TAG + ":outbox:dead") == 1,
            what="the receipt given up on")
        wait_for(lambda: c.xlen(TAG + ":outbox") == 0, what="the mail done")
        # The admin's mail is gone from the address's index, the receipt not.
        assert sorted(c.smembers(index)) == sorted(["c:" + cid, "n:" +
            c.zrange(TAG + ":outbox:dead", 0, -1)[0]])
        [row] = ctl_json(d, "outbox")
        ctl_ok(d, "outbox", "drop", row["id"])
    assert w.runs >= 3 and w.outside == [], w.outside
    assert c.smembers(index) == {"c:" + cid}
    assert outbox_empty(rdb)

    # The expansion with the counter moved since it was read: -1, nothing
    # written (heinzeld reads again).
    seq = c.get(key("outbox:seq"))
    entry = c.xadd(key("outbox"), {"event": "pending", "id": cid})
    before = {k: c.dump(k) for k in c.keys("*")}
    keys = [key("outbox"), key("outbox:seq"), key("queue", "pending"),
        key("comment", cid), key("privacy:notes"), index,
        key("receipt", index.rsplit(":", 1)[1])] + [key("notification",
        str(int(seq) + i)) for i in (0, 1, 2)]
    argv = ["notify", entry, "pending", cid, TAG + ":", "1", "1", "1", "0",
        "de", "0", str(int(seq) - 1), ADMIN]
    assert c.eval(script_source("outbox_expand"), len(keys), *keys,
        *argv) == -1
    assert {k: c.dump(k) for k in c.keys("*")} == before

    # A notification whose address's index is not in KEYS: refused as is.
    c.hset(key("notification", "77"), mapping={"kind": "received",
        "to": "bounce@example.org"})
    c.zadd(TAG + ":outbox:dead", {"77": 1})
    c.sadd(index, "n:77")
    before = {k: c.dump(k) for k in c.keys("*")}
    keys = [key("outbox:retry"), key("outbox:dead"), key("notification", "77"),
        key("privacy:notes")]
    with pytest.raises(redis.exceptions.ResponseError, match="not in KEYS"):
        c.eval(script_source("outbox_drop"), len(keys), *keys, TAG + ":", "77")
    with pytest.raises(redis.exceptions.ResponseError, match="not in KEYS"):
        c.eval(script_source("outbox_done"), 4, key("outbox"), key("stats"),
            key("notification", "77"), key("privacy:notes"), "notify", "1-1",
            TAG + ":", "77", "mail")
    assert {k: c.dump(k) for k in c.keys("*")} == before
    assert c.eval(script_source("outbox_drop"), len(keys) + 1, *keys, index,
        TAG + ":", "77") == 1
    assert c.smembers(index) == {"c:" + cid}


def test_events_expanded_one_after_another(own, rdb, smtp):
    """Events taken in one read are expanded one after another: each reads
    the notification counter before its script runs, and side by side all
    but the first would find it moved and read again.  Each makes its
    notifications once."""
    relay = smtp()
    c = rdb.client
    cids = [insert(rdb, email="leser%d@example.org" % i) for i in range(6)]
    for cid in cids:
        c.xadd(key("outbox"), {"event": "pending", "id": cid})
    d = own(notify_conf(relay.port, author_on_receipt="yes"))
    wait_for(lambda: len(relay.sink.mails()) == 12, what="twelve mails")
    wait_for(lambda: outbox_empty(rdb), what="an empty outbox")
    assert "the counter moved, reading again" not in d.log()
    ids = sorted(m["Message-ID"] for m in relay.sink.mails())
    assert ids == sorted(["<%s.%s@%s>" % (cid, kind, DOMAIN) for cid in cids
        for kind in ("admin", "received")])
    assert c.get(key("outbox:seq")) == "12"


def test_events_nobody_is_told_of_are_only_acknowledged(own, rdb):
    """Without mail or a webhook an event makes no notification: heinzeld
    acknowledges it without the expand script, and the trim script then
    drops the entries done, touching only its KEYS."""
    c = rdb.client
    d = own({"smtp": {"from": None}})       # mail off
    with KeysWatch(rdb, "outbox_expand", "outbox_trim") as w:
        cids = [submit(d, email="leser%d@example.org" % i) for i in range(5)]
        ctl_ok(d, "approve", cids[0])
        wait_for(lambda: c.exists(TAG + ":outbox") and outbox_undone(c) == 0,
            what="every event acknowledged")
        wait_for(lambda: c.xlen(TAG + ":outbox") == 0,
            what="the stream trimmed")
    assert w.runs >= 1 and w.outside == [], w.outside
    expand = script_sha("outbox_expand")
    assert not any(expand in line for line in w.lines)
    assert c.keys(TAG + ":notification:*") == []
    assert c.get(key("outbox:seq")) is None
    assert metric(d, "heinzel_outbox_depth", state="ready") == 0


def test_trim_keeps_what_is_not_done(rdb):
    """The trim script drops the entries before the oldest unacknowledged
    one, or, with none, up to the last one delivered; entries not yet
    delivered stay."""
    c = rdb.client
    k = key("trimtest")
    src = script_source("outbox_trim")
    assert c.eval(src, 1, k, "notify") == 0         # no stream
    ids = [c.xadd(k, {"event": "pending", "id": str(i)}) for i in range(6)]
    assert c.eval(src, 1, k, "notify") == 0         # no group: none read
    c.xgroup_create(k, "notify", id="0")
    c.xreadgroup("notify", "one", {k: ">"}, count=4)
    c.xack(k, "notify", ids[0], ids[2])
    assert c.eval(src, 1, k, "notify") == 1         # ids[0] only
    assert [e[0] for e in c.xrange(k)] == ids[1:]
    c.xack(k, "notify", ids[1], ids[3])
    assert c.eval(src, 1, k, "notify") == 3         # up to ids[3]
    assert [e[0] for e in c.xrange(k)] == ids[4:]   # not delivered yet
    c.delete(k)


def test_retry_all_in_batches(heinzeld, rdb):
    """retry --all sends again every notification dead when asked, in
    script runs of 500 with each one's key in KEYS; waiting ones stay."""
    d = heinzeld(launch=False)
    c = rdb.client
    p = c.pipeline(transaction=False)
    for i in range(1, 1204):
        p.hset(key("notification", str(i)), mapping={"kind": "received",
            "to": "a@example.org", "attempts": "3", "due": "5"})
        p.zadd(key("outbox:dead"), {str(i): i})
    p.hset(key("notification", "2000"), mapping={"kind": "admin"})
    p.zadd(key("outbox:retry"), {"2000": 1})
    p.execute()
    with KeysWatch(rdb, "outbox_requeue") as w:
        r = ctl_ok(d, "outbox", "retry", "--all")
    assert r.out.startswith("1203 notifications"), r
    assert w.runs == 3 and w.outside == [], w.outside
    assert c.zcard(key("outbox:dead")) == 0
    assert c.xlen(key("outbox")) == 1203
    assert c.zrange(key("outbox:retry"), 0, -1) == ["2000"]
    assert c.hgetall(key("notification", "1203")) == {"kind": "received",
        "to": "a@example.org", "attempts": "0"}


# ---- 5. the webhook ----

class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((self.path, self.headers, json.loads(body),
            body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_with_retries(own, rdb, smtp):
    port = free_port()
    d = own(notify_conf(free_port(), admin="", author_on_approve="no",
        webhook="http://127.0.0.1:%d/hook" % port))
    cid = submit(d, ip="192.0.2.9", email="erin@example.org",
        body="Ein Kommentar für den Chat")
    # The receiver is down: retried, nothing lost.
    wait_for(lambda: metric(d, "heinzel_notifications_total",
        channel="webhook", result="retried") >= 1, what="a webhook retry")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook)
    srv.got = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        wait_for(lambda: len(srv.got) >= 1, what="the webhook")
        path, headers, j, raw = srv.got[0]
        assert path == "/hook"
        assert headers["Content-Type"].startswith("application/json")
        assert headers["Idempotency-Key"] == cid + ".pending"
        assert j["event"] == "pending" and j["id"] == cid
        assert j["post"] == "hello-world" and j["author"] == "Anna Beispiel"
        assert j["excerpt"] == "Ein Kommentar für den Chat"
        assert j["approve"] == "heinzelctl approve " + cid
        assert j["pending"] == 1 and j["hold"] is False
        assert isinstance(j["score"], (int, float))
        assert "email" not in j and "ip" not in j
        assert b"192.0.2.9" not in raw and b"erin@" not in raw

        ctl_ok(d, "approve", cid)
        wait_for(lambda: len(srv.got) >= 2, what="the approved webhook")
        j = srv.got[1][2]
        assert j["event"] == "approved" and j["id"] == cid
        assert "approve" not in j
        wait_for(lambda: outbox_empty(rdb), what="an empty outbox")
        assert metric(d, "heinzel_notifications_total", channel="webhook",
            result="sent") == 2
        assert len(srv.got) == 2
    finally:
        srv.shutdown()
        srv.server_close()


# ---- SMTP AUTH and STARTTLS ----

@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_auth_from_password_file(own, rdb, smtp, tmp_path):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=isinstance(auth_data, LoginPassword) and
            auth_data.login == b"blog" and auth_data.password == b"s3cr3t")
    relay = smtp(authenticator=check, auth_required=True,
        auth_require_tls=False)
    pw = tmp_path / "smtp-password"
    pw.write_text("s3cr3t\n")
    conf = notify_conf(relay.port)
    # AUTH without TLS only when asked for, and only on loopback.
    conf["smtp"].update({"user": "blog", "password_file": str(pw),
                         "starttls": "no"})
    d = own(conf)
    cid = submit(d)
    [m] = relay.sink.wait(ADMIN)
    assert cid in m["Message-ID"]


def test_unreadable_password_file_is_retried(own, rdb, smtp, tmp_path):
    """The configuration's fault, not the mail's: tried again, not dead."""
    relay = smtp()
    conf = notify_conf(relay.port)
    conf["smtp"].update({"user": "blog",
        "password_file": str(tmp_path / "missing")})
    d = own(conf)
    off = d.log_size()
    submit(d)
    wait_for(lambda: metric(d, "heinzel_notifications_total", channel="mail",
        result="retried") >= 1, what="a retry")
    assert metric(d, "heinzel_outbox_dead") == 0
    assert "password_file" in d.log(off)


def test_starttls_required_without_tls(own, rdb, smtp):
    relay = smtp()                      # offers no STARTTLS
    conf = notify_conf(relay.port)
    conf["smtp"]["starttls"] = "required"
    d = own(conf)
    off = d.log_size()
    submit(d)
    wait_for(lambda: metric(d, "heinzel_notifications_total", channel="mail",
        result="retried") >= 1, what="a retry")
    assert relay.sink.mails() == []
    assert "retry in" in d.log(off)


# ---- no mail before it is configured; mails that name the post ----

def test_no_mail_until_sender_and_site_are_set(own, rdb, smtp):
    relay = smtp()
    for missing in ("from", "site"):
        conf = notify_conf(relay.port)
        if missing == "from":
            conf["smtp"]["from"] = None     # left out of the file
        else:
            conf["notify"]["site"] = None
        d = own(conf)
        cid = submit(d)
        ctl_ok(d, "approve", cid)
        wait_for(lambda: rdb.client.xlen(TAG + ":outbox") == 0,
            what="the events expanded")
        time.sleep(1.5)         # a mail would have reached the sink by now
        assert relay.sink.mails() == [], missing
        assert rdb.client.keys(TAG + ":notification:*") == [], missing
        assert "no mail is sent until [smtp] from and [notify] site are " \
            "set" in d.log(), d.log()
        d.stop()
    # Both set: the same steps send the mails.
    d = own(notify_conf(relay.port))
    cid = submit(d)
    relay.sink.wait(ADMIN)
    ctl_ok(d, "approve", cid)
    relay.sink.wait("anna@example.org")


TITLE = "Du musst nicht alles alleine machen"
PAGE = "https://blog.example.org/2024/allein/"


def test_mails_name_the_post_and_link_it(own, rdb, smtp):
    relay = smtp()
    d = own(notify_conf(relay.port, author_on_receipt="yes", lang="de"))
    # The reader writes in English; the admin reads German ([notify] lang).
    cid = submit(d, lang="en", email="bob@example.org", author="Bob",
        post_title=TITLE, post_url=PAGE)
    [m] = relay.sink.wait(ADMIN)
    assert m["Subject"].startswith("Neuer Kommentar zu „%s“: „" % TITLE), \
        m["Subject"]
    text = decoded_body(m)
    assert ("Ein neuer Kommentar zu „%s“ auf %s wartet auf Freischaltung.\n"
        "%s#comments\n" % (TITLE, SITE, PAGE)) in text, text
    # A receipt, in the comment's language, names the site but nothing
    # the submitter chose: anyone can type any address into a form.
    [r] = relay.sink.wait("bob@example.org")
    assert r["Subject"] == "Your comment was received"
    text = decoded_body(r)
    assert "This message was sent automatically by %s." % SITE in text, text
    assert TITLE not in text and PAGE not in text, text

    # The German receipt: whole sentences.
    cid2 = submit(d, lang="de", email="carla@example.org", author="Carla",
        post_title=TITLE, post_url=PAGE)
    [g] = relay.sink.wait("carla@example.org")
    text = decoded_body(g)
    assert ("vielen Dank für Ihren Kommentar. Er erscheint, sobald er\n"
        "freigeschaltet ist.") in text, text
    assert "Diese Nachricht hat %s automatisch verschickt." % SITE in text

    ctl_ok(d, "approve", cid)
    [p] = relay.sink.wait("bob@example.org", n=2)[1:]
    assert p["Subject"] == 'Your comment on "%s" is published' % TITLE
    assert "is now published:\n%s#comments\n" % PAGE in decoded_body(p)

    # Stored, and shown by heinzelctl.
    h = rdb.client.hgetall(TAG + ":comment:" + cid)
    assert h["post_title"] == TITLE and h["post_url"] == PAGE, h
    out = ctl_ok(d, "show", cid).out
    assert re.search(r"^post title\s+%s$" % TITLE, out, re.M), out
    assert re.search(r"^post url\s+%s$" % re.escape(PAGE), out, re.M), out
    out = ctl_ok(d, "list").out
    assert TITLE[:8] in out, out
    data = ctl_json(d, "show", cid2)
    assert data["post_title"] == TITLE and data["post_url"] == PAGE, data


def test_post_url_is_checked_like_return_to(own, rdb):
    d = own({})
    for bad in ("javascript:alert(1)", "https://evil.example/p/",
                "https://blog.example.org.evil.example/"):
        r = d.submit(post_url=bad)
        assert r.status == 422 and r.data["field"] == "post_url", (bad, r)
    r = d.submit(post_title="x" * 301)
    assert r.status == 422 and r.data["field"] == "post_title", r
    assert d.submit(post_url=PAGE, post_title=TITLE).status == 202
