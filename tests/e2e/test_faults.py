"""Fault tests: Redis killed under load, heinzeld killed under load, Redis
answering slowly, the SMTP relay hanging and refusing.

Each test runs a few seconds.  What they hold heinzeld to: a 202 means the
comment is in Redis, whatever dies afterwards; while Redis is away or slow
the answer is a prompt 503 with Retry-After, never a hang or a reset
connection; heinzeld recovers by itself once Redis is back.

HEINZEL_TIME_FACTOR (default 1) stretches the time bounds for slow builds
(valgrind).
"""

import json
import os
import re
import signal
import socket
import threading
import time

import pytest
import redis

from conftest import TAG, Heinzeld, RedisServer
from helpers import UnixHTTPConnection, unique_body

FACTOR = float(os.environ.get("HEINZEL_TIME_FACTOR") or 1)

# Load tests submit without a captcha: one request per comment.
NO_CAPTCHA = {"captcha": {"required": "no"}}


def key(*parts):
    return ":".join((TAG,) + parts)


def submission(n):
    return {
        "post": "fault-test",
        "author": "Lasttest %d" % n,
        "email": "last%d@example.org" % n,
        "body": unique_body(),
    }


class Result:
    def __init__(self, start, end, status=None, cid=None, retry_after=None,
            error=None):
        self.start = start
        self.end = end
        self.status = status
        self.id = cid
        self.retry_after = retry_after
        self.error = error

    @property
    def secs(self):
        return self.end - self.start

    def __repr__(self):
        return "<%s %.3fs%s>" % (self.status or self.error, self.secs,
            " id=" + self.id if self.id else "")


def submit_once(sockpath, n, timeout):
    """POST one comment on a fresh connection: a Result, never an exception."""
    body = json.dumps(submission(n)).encode()
    t0 = time.monotonic()
    conn = UnixHTTPConnection(sockpath, timeout=timeout)
    try:
        conn.request("POST", "/v1/comments", body=body,
            headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
    except Exception as e:  # noqa: BLE001 - every failure is a result here
        return Result(t0, time.monotonic(), error=repr(e))
    finally:
        conn.close()
    res = Result(t0, time.monotonic(), r.status,
        retry_after=r.getheader("Retry-After"))
    if r.status == 202:
        res.id = json.loads(data.decode())["id"]
    return res


class Load:
    """Client threads submitting continuously until stop()."""

    def __init__(self, sockpath, threads=4, timeout=10):
        self.sockpath = sockpath
        self.timeout = timeout
        self.results = []
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.counter = iter(range(10 ** 9))
        self.threads = [threading.Thread(target=self.run, daemon=True)
            for _ in range(threads)]

    def run(self):
        while not self.halt.is_set():
            with self.lock:
                n = next(self.counter)
            res = submit_once(self.sockpath, n, self.timeout)
            with self.lock:
                self.results.append(res)
            if res.error is not None:
                time.sleep(0.01)    # a dead socket refuses at once

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(self.timeout + 5)
            assert not t.is_alive(), "a client thread hangs"

    def __exit__(self, *exc):
        self.stop()

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def wait_for(self, pred, timeout):
        """Until pred(results) holds, or fail after timeout seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.snapshot()):
                return
            time.sleep(0.02)
        raise AssertionError("load: condition not met in %.1f s; last: %r"
            % (timeout, self.snapshot()[-10:]))


def assert_stored(client, ids):
    """Every id is a pending comment: its hash and its queue entry."""
    assert ids, "no 202 at all"
    pipe = client.pipeline(transaction=False)
    for cid in ids:
        pipe.hget(key("comment", cid), "status")
        pipe.zscore(key("queue", "pending"), cid)
    out = pipe.execute()
    lost = [cid for i, cid in enumerate(ids)
        if out[2 * i] != "pending" or out[2 * i + 1] is None]
    assert not lost, "%d of %d acknowledged comments are not in Redis: %s" % (
        len(lost), len(ids), lost[:10])


def metric(d, name):
    r = d.get("/metrics")
    assert r.status == 200, r
    m = re.search(r"(?m)^%s (\d+)" % re.escape(name), r.text)
    assert m, "no %s in /metrics" % name
    return int(m.group(1))


# ---- Redis killed ----

def test_redis_sigkill_under_load_loses_no_202(heinzeld, rdb):
    d = heinzeld(dict(NO_CAPTCHA, redis={"timeout_ms": "500"}), shared=False)
    rdb.client.config_set("appendfsync", "always")

    with Load(d.socket) as load:
        load.wait_for(lambda rs: sum(r.status == 202 for r in rs) >= 20,
            5 * FACTOR)
        time.sleep(0.5)
        rdb.proc.send_signal(signal.SIGKILL)
        rdb.proc.wait(5)
        # After the wait: a request that began before Redis was really
        # gone may rightly have been stored.
        killed = time.monotonic()
        load.wait_for(lambda rs: sum(r.status == 503 and r.start > killed
            for r in rs) >= 10, 5 * FACTOR)
        time.sleep(0.5)
        # Redis answers again somewhere inside start(), before it returns:
        # "down" ends when the restart begins.
        restarting = time.monotonic()
        rdb.stop()
        rdb.start()
        restarted = time.monotonic()
        # Recovery without touching heinzeld: its reconnect backoff.
        load.wait_for(lambda rs: any(r.status == 202 and r.start > restarted
            for r in rs), 10 * FACTOR)
    results = load.results

    errors = [r for r in results if r.error]
    assert not errors, "connections failed: %r" % errors[:10]
    statuses = {r.status for r in results}
    assert statuses <= {202, 503}, "unexpected statuses %s" % statuses
    for r in results:
        if r.status == 503:
            assert r.retry_after and r.retry_after.isdigit(), \
                "503 without Retry-After"
    slowest = max(results, key=lambda r: r.secs)
    assert slowest.secs < 2 * FACTOR, "an answer took %r" % slowest
    down = [r for r in results if killed < r.start and r.end < restarting]
    assert down and all(r.status == 503 for r in down), \
        "answers while Redis was down: %s" % {r.status for r in down}
    before = [r.id for r in results if r.status == 202 and r.end < killed]
    assert len(before) >= 20
    # The restarted Redis has only its AOF: every 202 of before the kill
    # must be in there, and the ones after it too.
    assert_stored(rdb.client, [r.id for r in results if r.status == 202])
    assert d.alive()
    assert d.get("/v1/health").status == 200


# ---- heinzeld killed ----

def test_heinzeld_sigkill_under_load_and_restart(heinzeld, rdb):
    d = heinzeld(NO_CAPTCHA, shared=False)

    with Load(d.socket) as load:
        load.wait_for(lambda rs: sum(r.status == 202 for r in rs) >= 50,
            5 * FACTOR)
        killed = time.monotonic()
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(5)
        load.wait_for(lambda rs: sum(r.start > killed for r in rs) >= 8,
            5 * FACTOR)
    results = load.results

    # Before the kill every answer is a 202; a request in flight at the
    # kill may lose its connection, which is why a client retries with the
    # same request_id.
    for r in results:
        if r.end < killed:
            assert r.status == 202, r
    assert all(r.error for r in results if r.start > killed)
    assert_stored(rdb.client, [r.id for r in results if r.status == 202])

    # The socket file outlived the process: a restart replaces it.
    assert os.path.exists(d.socket)
    d.stop()
    d.start()
    assert "removing stale socket" in d.log()
    r = submit_once(d.socket, 0, 5)
    assert r.status == 202, r
    assert_stored(rdb.client, [r.id])


# ---- Redis slow ----

BUSY_SCRIPT = """
local t0 = redis.call('TIME')
local start = t0[1] * 1000000 + t0[2]
while true do
    local t = redis.call('TIME')
    if t[1] * 1000000 + t[2] - start > tonumber(ARGV[1]) * 1000 then
        return 1
    end
end
"""


def test_redis_slow_answers_503_promptly_and_bounded(heinzeld, rdb):
    timeout_ms, max_inflight = 800, 5
    d = heinzeld(dict(NO_CAPTCHA, redis={"timeout_ms": str(timeout_ms),
        "max_inflight": str(max_inflight)}), shared=False)
    assert submit_once(d.socket, 0, 5).status == 202
    timeouts0 = metric(d, "heinzel_redis_timeouts_total")

    # Redis runs one busy Lua script and answers nobody meanwhile.
    busy_ms = 3000
    other = redis.Redis(unix_socket_path=rdb.socket, socket_timeout=10)
    busy = threading.Thread(target=other.eval, args=(BUSY_SCRIPT, 0, busy_ms),
        daemon=True)
    busy.start()
    busy_from = time.monotonic()
    time.sleep(0.2)

    results = [None] * 50
    gate = threading.Barrier(len(results))

    def client(i):
        gate.wait()
        results[i] = submit_once(d.socket, i + 1, 10)
    threads = [threading.Thread(target=client, args=(i,), daemon=True)
        for i in range(len(results))]
    for t in threads:
        t.start()
    # /metrics answers without Redis: the commands waiting on it meanwhile.
    inflight = []
    while any(t.is_alive() for t in threads):
        inflight.append(metric(d, "heinzel_redis_inflight"))
        time.sleep(0.02)
    for t in threads:
        t.join(15)
    assert time.monotonic() - busy_from < busy_ms / 1000, \
        "the requests outlasted the busy script: nothing was tested"

    assert all(r is not None for r in results), "a client hangs"
    for r in results:
        assert r.status == 503 and r.retry_after, r
        assert r.secs < 2 * FACTOR, r
    # At most max_inflight commands wait for Redis; the rest are refused
    # at once instead of queueing.
    assert max(inflight) <= max_inflight, inflight
    if FACTOR == 1:
        waited = [r for r in results if r.secs >= timeout_ms / 1000 * 0.75]
        assert 1 <= len(waited) <= max_inflight, \
            "%d requests waited for Redis: %r" % (len(waited),
            sorted(results, key=lambda r: -r.secs)[:10])

    busy.join(10)
    other.close()
    # Recovers by itself once Redis answers again.
    deadline = time.monotonic() + 10 * FACTOR
    while True:
        r = submit_once(d.socket, 99, 5)
        if r.status == 202 or time.monotonic() > deadline:
            break
        assert r.status == 503, r
        time.sleep(0.1)
    assert r.status == 202, "no 202 within 10 s of Redis answering again"
    assert_stored(rdb.client, [r.id])
    assert metric(d, "heinzel_redis_timeouts_total") > timeouts0
    assert metric(d, "heinzel_redis_inflight") == 0


# ---- SMTP relay hanging, then refusing ----

class Relay:
    """A TCP server on 127.0.0.1 that hangs (accepts, never speaks) or
    refuses (a 421 greeting, then closes), switchable."""

    def __init__(self):
        self.sock = socket.socket()
        # Its connections linger when it closes: the real relay that
        # takes over the port must be able to bind it anyway.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.mode = "hang"
        self.conns = []
        self.accepted = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == "refuse":
                c.sendall(b"421 4.3.2 busy, try again later\r\n")
                c.close()
            else:
                self.conns.append(c)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # wakes accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
        for c in self.conns:
            c.close()


def smtp_sink(port):
    """A real SMTP server (aiosmtpd) on port; .got lists the messages."""
    from aiosmtpd.controller import Controller

    class Handler:
        got = []

        async def handle_DATA(self, server, session, envelope):
            Handler.got.append(envelope.content)
            return "250 OK"
    c = Controller(Handler(), hostname="127.0.0.1", port=port)
    c.start()
    c.got = Handler.got
    return c


@pytest.fixture
def lone_redis():
    """A Redis of this test's own: every heinzeld on a Redis takes part
    in delivering its outbox, and the module's others have no relay."""
    srv = RedisServer()
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


def test_smtp_relay_hanging_then_refusing_keeps_the_outbox(lone_redis):
    pytest.importorskip("aiosmtpd")
    relay = Relay()
    d = Heinzeld(lone_redis.socket, dict(NO_CAPTCHA, smtp={"relay":
        "smtp://127.0.0.1:%d" % relay.port, "from": "heinzel@example.org",
        "timeout": "2"}, notify={"site": "Notizen aus Köln",
        "admin": "editor@example.org",
        "retry_base_seconds": "1", "retry_max_seconds": "1",
        "max_tries": "100"}))
    try:
        d.start()
        run_smtp_faults(d, lone_redis.client, relay)
        rc = d.stop()
        assert rc == 0, "heinzeld exited %s after SIGTERM" % rc
    finally:
        d.cleanup()


def run_smtp_faults(d, c, relay):
    ids = []
    try:
        # The relay hangs: the deliveries wait on it, the API does not.
        for i in range(20):
            r = submit_once(d.socket, i, 5)
            assert r.status == 202 and r.secs < 1 * FACTOR, r
            ids.append(r.id)
        wait(lambda: relay.accepted >= 1, 5 * FACTOR, "a delivery attempt")
        time.sleep(2.5)             # past [smtp] timeout: they fail, retry
        relay.mode = "refuse"
        for i in range(20, 25):
            r = submit_once(d.socket, i, 5)
            assert r.status == 202 and r.secs < 1 * FACTOR, r
            ids.append(r.id)
        accepted = relay.accepted
        wait(lambda: relay.accepted >= accepted + 5, 10 * FACTOR,
            "retries against the refusing relay")
        assert d.get("/v1/health").status == 200
        # Nothing given up on (the outbox keeps the rest; whether each was
        # kept shows when the relay works again).
        assert c.zcard(TAG + ":outbox:dead") == 0
    finally:
        relay.close()
    assert_stored(c, ids)

    # A relay that works again gets every one of them.
    sink = smtp_sink(relay.port)
    try:
        wait(lambda: len(sink.got) >= len(ids), 20 * FACTOR,
            "every admin mail delivered")
        time.sleep(0.5)
        bodies = b"\n".join(m if isinstance(m, bytes) else m.encode()
            for m in sink.got)
        for cid in ids:
            assert cid.encode() in bodies, "no mail for %s" % cid
        wait(lambda: not list(c.scan_iter(TAG + ":notification:*")),
            10 * FACTOR, "an empty outbox")
    finally:
        sink.stop()


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "no %s in %.0f s" % (what, timeout)
        time.sleep(0.05)
