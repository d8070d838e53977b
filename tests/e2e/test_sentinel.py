"""Redis Sentinel: a master, two replicas and three Sentinels on loopback
(redis-server --sentinel); heinzeld and heinzelctl find the master through
the Sentinels and follow a failover after the master is SIGKILLed under
load with [redis] min_replicas = 1, without a restart.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import redis

import helpers
from conftest import HEINZELD, Heinzeld, TAG, _stop_process, _wait
from ctl_helpers import ctl_json, ctl_raw
from test_notify import metric

MASTER = "heinzelmaster"
DOWN_MS = 500


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    """A master, replicas and three Sentinels, each a redis-server."""

    def __init__(self):
        self.exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.dir = tempfile.mkdtemp(prefix="heinzel-sentinel-")
        self.procs = {}
        self.ports = {}
        # The Sentinels want a password (requirepass; they use it among
        # themselves too).
        self.sentinel_password = "sp-" + os.urandom(6).hex()

    def _run(self, name, args):
        logf = open(os.path.join(self.dir, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen([self.exe] + args,
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()

    def _server(self, name, *extra):
        port = self.ports[name] = free_port()
        d = os.path.join(self.dir, name)
        os.mkdir(d)
        self._run(name, ["--port", str(port), "--bind", "127.0.0.1",
            "--dir", d, "--save", "", "--appendonly", "no"] + list(extra))
        c = redis.Redis(port=port, socket_timeout=5, decode_responses=True)
        assert _wait(lambda: self._ping(c), 10), name

    @staticmethod
    def _ping(c):
        try:
            return c.ping()
        except redis.exceptions.RedisError:
            return False

    def start(self, sentinels=True, replicas=1):
        """replicas: "replica", "replica2", ..."""
        self._server("master")
        self.replicas = ["replica"] + ["replica%d" % (i + 1)
            for i in range(1, replicas)]
        for name in self.replicas:
            self._server(name, "--replicaof", "127.0.0.1",
                str(self.ports["master"]))
            r = self.client(name)
            assert _wait(lambda: r.info("replication")["master_link_status"]
                == "up", 10)
        # And the master counts them online (they answer WAIT).
        m = self.client("master")

        def online():
            return len([k for k, v in m.info("replication").items()
                if k.startswith("slave") and isinstance(v, dict)
                and v.get("state") == "online"])
        assert _wait(lambda: online() == len(self.replicas), 10)
        if not sentinels:
            return
        for i in range(3):
            name = "sentinel%d" % i
            port = self.ports[name] = free_port()
            conf = os.path.join(self.dir, name + ".conf")
            with open(conf, "w") as f:
                f.write("port %d\nbind 127.0.0.1\ndir %s\n"
                    "sentinel monitor %s 127.0.0.1 %d 2\n"
                    "sentinel down-after-milliseconds %s %d\n"
                    "sentinel failover-timeout %s 5000\n"
                    "requirepass %s\n"
                    % (port, self.dir, MASTER, self.ports["master"],
                       MASTER, DOWN_MS, MASTER, self.sentinel_password))
            self._run(name, [conf, "--sentinel"])
        for i in range(3):
            s = self.client("sentinel%d" % i)
            # Each Sentinel knows the replica and the other Sentinels.
            assert _wait(lambda: self._sees(s), 15), "sentinel%d" % i

    def _sees(self, s):
        try:
            m = s.execute_command("SENTINEL", "MASTER", MASTER)
            m = dict(zip(m[::2], m[1::2]))
            return int(m["num-slaves"]) == len(self.replicas) and \
                int(m["num-other-sentinels"]) == 2
        except redis.exceptions.RedisError:
            return False

    def client(self, name):
        return redis.Redis(port=self.ports[name], socket_timeout=5,
            decode_responses=True, password=self.sentinel_password
            if name.startswith("sentinel") else None)

    def password_file(self, password=None):
        path = os.path.join(self.dir, "sentinel-password")
        with open(path, "w") as f:
            f.write((password or self.sentinel_password) + "\n")
        return path

    def sentinels(self):
        return " ".join("127.0.0.1:%d" % self.ports["sentinel%d" % i]
            for i in range(3))

    def master_port(self):
        a = self.client("sentinel0").execute_command(
            "SENTINEL", "get-master-addr-by-name", MASTER)
        return int(a[1])

    def cleanup(self):
        for p in self.procs.values():
            _stop_process(p)
        shutil.rmtree(self.dir, ignore_errors=True)


def _cluster(sentinels, replicas=1):
    if not os.access(shutil.which("redis-server") or "/usr/bin/redis-server",
            os.X_OK):
        pytest.skip("redis-server is not installed")
    c = Cluster()
    try:
        c.start(sentinels, replicas)
        yield c
    finally:
        c.cleanup()


@pytest.fixture
def cluster():
    """Two replicas: with min_replicas = 1 the master the Sentinels promote
    needs a replica of its own to confirm WAIT, and the one left is
    turned into it."""
    yield from _cluster(True, 2)


@pytest.fixture
def replicated():
    """A master and one replica, no Sentinels."""
    yield from _cluster(False)


class Load:
    """Submissions (captcha and comment, each with a request_id) one after
    another in a thread, until stopped; a submission answered 503 is sent
    again with the same request_id, as a client should, so a comment
    stored but not confirmed by a replica is not stored twice.  The ids of
    the 202s with when each was sent and answered, and every status."""

    def __init__(self, d):
        self.d = d
        self.stored = []        # (sent, answered, id), monotonic times
        self.codes = []
        self.errors = []
        self.retry = None       # fields of a submission answered 503
        self.n = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def one(self):
        sent = time.monotonic()
        f = self.retry
        if f is None:
            r = self.d.get("/v1/captcha")
            if r.status == 200:
                c = r.data
                c["answer"] = helpers.solve(c["question"])[3]
                self.n += 1
                f = self.d.fields(c,
                    request_id="failover-%06d-0123456789abcdef" % self.n)
        if f is not None:
            r = self.d.post_json("/v1/comments", f)
        self.codes.append(r.status)
        if r.status == 202:
            self.stored.append((sent, time.monotonic(), r.data["id"]))
            self.retry = None
        elif r.status != 503 or not r.header("Retry-After"):
            self.errors.append(r)
        else:
            self.retry = f
            time.sleep(0.05)

    def run(self):
        while not self.stop.is_set() or self.retry is not None:
            try:
                self.one()
            except Exception as e:      # noqa: BLE001 -- reported below
                self.errors.append(e)
                return

    def done(self):
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        assert not self.errors, self.errors[:3]


def test_failover_is_followed(cluster):
    d = Heinzeld("/nonexistent", {"redis": {
        "address": "redis://127.0.0.1:1/0",     # the Sentinels say where
        # A dead Sentinel first: asked in vain, and the +switch-master
        # subscription moves on to the next.
        "sentinels": "127.0.0.1:1 " + cluster.sentinels(),
        "master_name": MASTER,
        "sentinel_password_file": cluster.password_file(),
        "min_replicas": "1",
    }})
    load = None
    try:
        # A wrong Sentinel password: heinzelctl says so.
        wrong = os.path.join(d.dir, "wrong.conf")
        with open(wrong, "w") as f:
            f.write(d.text.replace(cluster.password_file(),
                os.path.join(d.dir, "wrong-password")))
        with open(os.path.join(d.dir, "wrong-password"), "w") as f:
            f.write("not-it\n")
        r = ctl_raw(["-c", wrong, "list"])
        assert r.rc != 0 and "refused the login" in r.err and \
            "check [redis] sentinel_password_file" in r.err, r
        assert cluster.sentinel_password not in r.err
        p = subprocess.run([HEINZELD, "-t", "-c", wrong],
            capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and "error: Redis at " in p.stderr and \
            "check [redis] sentinel_password_file" in p.stderr, p

        d.start()
        rc, out = d.check("-t")
        assert rc == 0 and "cannot be reached" not in out, out
        assert "redis: the Sentinels name redis://127.0.0.1:%d/0 the " \
            "master of %s" % (cluster.ports["master"], MASTER) in d.log()
        _wait(lambda: "subscribed to +switch-master" in d.log(), 5)
        assert "redis: subscribed to +switch-master at Sentinel " \
            "127.0.0.1:%d" % cluster.ports["sentinel0"] in d.log()
        load = Load(d)
        assert _wait(lambda: len(load.stored) >= 20, 10), load.codes
        replicas = {cluster.ports[n]: n for n in cluster.replicas}

        cluster.procs["master"].send_signal(signal.SIGKILL)
        cluster.procs["master"].wait(5)
        killed = time.monotonic()
        before = len(load.codes)
        switched = []       # when a Sentinel first named a replica

        def note_switch():
            if not switched and cluster.master_port() in replicas:
                switched.append(time.monotonic())
            return switched

        def serves():
            """Answers of submissions sent after the master died."""
            note_switch()
            return [t for sent, t, _ in load.stored if sent > killed]
        assert _wait(serves, 15, step=0.02), load.codes[-5:]
        served = serves()[0]
        assert note_switch(), "no Sentinel names a replica as master"
        # Serving again within the failover's own time plus 2 s: the
        # Sentinels took DOWN_MS and an election; heinzeld then has to
        # follow and the new master's replica to confirm the WAIT.
        assert served - switched[0] < 2, (served - switched[0])
        # A little more load on the new master, then stop.
        n = len(load.stored)
        assert _wait(lambda: len(load.stored) >= n + 10, 10)
        load.done()
        codes = load.codes
        after_kill = codes[before:]
        print("failover with min_replicas = 1: master killed to served "
            "again %.2f s (Sentinels named the new master after %.2f s, "
            "heinzeld stored %.2f s later), %d answers 503 of %d after the "
            "kill" % (served - killed, switched[0] - killed,
            served - switched[0], after_kill.count(503), len(after_kill)))

        # Every comment that got a 202 is on the new master: with
        # min_replicas = 1 a replica had it before the 202, and the
        # Sentinels promote the replica furthest along.
        new_port = cluster.master_port()
        new = cluster.client(replicas[new_port])
        stored = [cid for _, _, cid in load.stored]
        assert len(stored) == len(set(stored)) == codes.count(202)
        missing = [cid for cid in stored if new.hget("%s:comment:%s"
            % (TAG, cid), "status") != "pending"]
        assert not missing, (len(missing), len(stored))
        assert metric(d, "heinzel_redis_master_switches_total") == 1
        assert "the Sentinels name redis://127.0.0.1:%d/0 the master" % \
            new_port in d.log()

        # heinzeld moved when a Sentinel announced the new master, not
        # after its next lookup.
        assert re.search(r"redis: Sentinel 127\.0\.0\.1:\d+ announces "
            r"127\.0\.0\.1:%d the master of %s \(was 127\.0\.0\.1:%d, "
            % (new_port, MASTER, cluster.ports["master"]), d.log())
        assert metric(d, "heinzel_submissions_total", outcome="pending") \
            == len(stored)
        ids = [c["id"] for c in ctl_json(d, "list", "--limit", "1000")]
        assert sorted(ids) == sorted(stored)

        # The Sentinel heinzeld is subscribed at dies: it subscribes at
        # the next one at once.
        cluster.procs["sentinel0"].send_signal(signal.SIGKILL)
        _wait(lambda: "subscribed to +switch-master at Sentinel 127.0.0.1:%d"
            % cluster.ports["sentinel1"] in d.log(), 3)
        assert "subscribed to +switch-master at Sentinel 127.0.0.1:%d" % \
            cluster.ports["sentinel1"] in d.log()
    finally:
        if load is not None:
            load.stop.set()
            load.thread.join(10)
        d.cleanup()


def test_ctl_redis_option_wins_over_sentinels(heinzeld_factory, rdb):
    """heinzelctl --redis ADDRESS asks no Sentinel of the file."""
    d = heinzeld_factory({"redis": {"sentinels": "127.0.0.1:1",
        "master_name": MASTER}}, launch=False)
    r = ctl_raw(["-c", d.conf, "list"])
    assert r.rc != 0 and "no Sentinel named the master" in r.err, r
    r = ctl_raw(["-c", d.conf, "--redis", "unix:" + rdb.socket, "list"])
    assert r.rc == 0, r


def test_min_replicas(replicated):
    """[redis] min_replicas = 1: a 202 only once the replica has the
    comment; a 503 when it does not confirm in time, and the request_id
    retry then returns the stored id."""
    d = Heinzeld("/nonexistent", {"redis": {
        "address": "redis://127.0.0.1:%d/0" % replicated.ports["master"],
        "min_replicas": "1", "timeout_ms": "1000"}})
    try:
        d.start()
        replica = replicated.client("replica")
        r = d.submit()
        assert r.status == 202, r
        assert replica.hget("%s:comment:%s" % (TAG, r.data["id"]),
            "status") == "pending"

        f = d.fields(request_id="minrep-0123456789abcdef")
        replicated.procs["replica"].send_signal(signal.SIGSTOP)
        try:
            t = time.monotonic()
            r = d.post_json("/v1/comments", f)
            took = time.monotonic() - t
        finally:
            replicated.procs["replica"].send_signal(signal.SIGCONT)
        assert r.status == 503 and r.header("Retry-After"), r
        assert "not yet confirmed" in r.data["message"], r
        assert 0.4 < took < 2, took     # WAIT for half of timeout_ms
        cid = replicated.client("master").get(
            "%s:request:minrep-0123456789abcdef" % TAG)
        assert cid, "the comment was stored on the master"
        assert "reached 0 of 1 replicas" in d.log()

        r = d.post_json("/v1/comments", f)
        assert r.status == 202 and r.data["id"] == cid, r
        assert replica.hget("%s:comment:%s" % (TAG, cid), "status") \
            == "pending"
        assert metric(d, "heinzel_submissions_total", outcome="pending") == 2
        assert metric(d, "heinzel_submissions_total",
            outcome="unavailable") == 1
    finally:
        d.cleanup()


def keepalive_to(port):
    """For each established TCP connection to 127.0.0.1:port, whether its
    keepalive timer runs (/proc/net/tcp: timer 2)."""
    out = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[2] == "0100007F:%04X" % port and fields[3] == "01":
                out.append(fields[5].split(":")[0] == "02")
    return out


class FakeSentinel:
    """A Sentinel of a few lines (RESP on loopback): it names master for
    get-master-addr-by-name, takes SUBSCRIBE, and publishes what announce()
    is given to the subscribers."""

    def __init__(self, master):
        self.master = master            # (host, port)
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.subscribers = []
        self.lock = threading.Lock()
        self.done = False
        threading.Thread(target=self.accept, daemon=True).start()

    @staticmethod
    def bulk(s):
        s = s.encode() if isinstance(s, str) else s
        return b"$%d\r\n%s\r\n" % (len(s), s)

    def array(self, *items):
        return b"*%d\r\n" % len(items) + b"".join(
            b":%d\r\n" % i if isinstance(i, int) else self.bulk(i)
            for i in items)

    def accept(self):
        while not self.done:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line.startswith(b"*"):
                    return
                args = []
                for _ in range(int(line[1:])):
                    n = int(f.readline()[1:])
                    args.append(f.read(n + 2)[:-2].decode())
                cmd = args[0].upper()
                if cmd == "SENTINEL":
                    c.sendall(self.array(self.master[0], str(self.master[1])))
                elif cmd == "SUBSCRIBE":
                    for i, ch in enumerate(args[1:]):
                        c.sendall(self.array("subscribe", ch, i + 1))
                    with self.lock:
                        self.subscribers.append(c)
                else:
                    c.sendall(b"-ERR unknown command\r\n")
        except OSError:
            return

    def announce(self, channel, text):
        with self.lock:
            for c in self.subscribers:
                c.sendall(self.array("message", channel, text))

    def close(self):
        self.done = True
        self.srv.close()
        with self.lock:
            for c in self.subscribers:
                c.close()


@pytest.mark.parametrize("channel", ["+switch-master", "+promoted-slave"])
def test_announced_master_is_followed(channel):
    """A Sentinel that keeps naming a dead master but announces the new one
    (+switch-master from any Sentinel, +promoted-slave from the one leading
    the failover): heinzeld moves at the announcement, not at a lookup."""
    c = Cluster()
    fake = FakeSentinel(("127.0.0.1", free_port()))     # nothing there
    d = Heinzeld("/nonexistent", {"redis": {
        "address": "redis://127.0.0.1:1/0",
        "sentinels": "127.0.0.1:%d" % fake.port,
        "master_name": MASTER,
    }})
    try:
        c._server("master")
        d.start(wait=False)
        _wait(lambda: "subscribed to +switch-master" in d.log(), 5)
        assert "subscribed to +switch-master at Sentinel 127.0.0.1:%d" % \
            fake.port in d.log()
        assert d.get("/v1/health").status == 503
        # The subscription only receives: TCP keepalive is on, so a
        # Sentinel host that vanishes is noticed.
        assert keepalive_to(fake.port) == [True]
        old, new = fake.master[1], c.ports["master"]
        # Others first: not our master, and one heinzeld cannot parse.
        fake.announce("+switch-master", "othermaster 127.0.0.1 1 127.0.0.1 2")
        fake.announce(channel, "garbage")
        if channel == "+switch-master":
            text = "%s 127.0.0.1 %d 127.0.0.1 %d" % (MASTER, old, new)
        else:
            text = "slave 127.0.0.1:%d 127.0.0.1 %d @ %s 127.0.0.1 %d" % (
                new, new, MASTER, old)
        fake.announce(channel, text)
        t = time.monotonic()
        d.wait_ready(5)
        took = time.monotonic() - t
        assert "announces 127.0.0.1:%d the master of %s (was 127.0.0.1:%d, "\
            "%s)" % (new, MASTER, old, channel) in d.log()
        assert "unexpected %s garbage" % channel in d.log()
        assert "othermaster" not in d.log()
        assert d.submit().status == 202
        assert metric(d, "heinzel_redis_master_switches_total") == 1
        print("%s: serving %.3f s after the announcement" % (channel, took))
    finally:
        d.cleanup()
        fake.close()
        c.cleanup()
