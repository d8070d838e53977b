"""Redis Sentinel: a master, a replica and three Sentinels on loopback
(redis-server --sentinel); heinzeld and heinzelctl find the master through
the Sentinels and follow a failover after the master is SIGKILLed, without
a restart.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

import helpers
from conftest import Heinzeld, TAG, _stop_process, _wait
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
    """A master, a replica and three Sentinels, each a redis-server."""

    def __init__(self):
        self.exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.dir = tempfile.mkdtemp(prefix="heinzel-sentinel-")
        self.procs = {}
        self.ports = {}

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

    def start(self, sentinels=True):
        self._server("master")
        self._server("replica", "--replicaof", "127.0.0.1",
            str(self.ports["master"]))
        r = self.client("replica")
        assert _wait(lambda: r.info("replication")["master_link_status"]
            == "up", 10)
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
                    % (port, self.dir, MASTER, self.ports["master"],
                       MASTER, DOWN_MS, MASTER))
            self._run(name, [conf, "--sentinel"])
        for i in range(3):
            s = self.client("sentinel%d" % i)
            # Each Sentinel knows the replica and the other Sentinels.
            assert _wait(lambda: self._sees(s), 15), "sentinel%d" % i

    def _sees(self, s):
        try:
            m = s.execute_command("SENTINEL", "MASTER", MASTER)
            m = dict(zip(m[::2], m[1::2]))
            return int(m["num-slaves"]) == 1 and \
                int(m["num-other-sentinels"]) == 2
        except redis.exceptions.RedisError:
            return False

    def client(self, name):
        return redis.Redis(port=self.ports[name], socket_timeout=5,
            decode_responses=True)

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


def _cluster(sentinels):
    if not os.access(shutil.which("redis-server") or "/usr/bin/redis-server",
            os.X_OK):
        pytest.skip("redis-server is not installed")
    c = Cluster()
    try:
        c.start(sentinels)
        yield c
    finally:
        c.cleanup()


@pytest.fixture
def cluster():
    yield from _cluster(True)


@pytest.fixture
def replicated():
    """A master and one replica, no Sentinels."""
    yield from _cluster(False)


def test_failover_is_followed(cluster):
    d = Heinzeld("/nonexistent", {"redis": {
        "address": "redis://127.0.0.1:1/0",     # the Sentinels say where
        "sentinels": cluster.sentinels(),
        "master_name": MASTER,
    }})
    try:
        d.start()
        rc, out = d.check("-t")
        assert rc == 0 and "cannot be reached" not in out, out
        assert "redis: the Sentinels name redis://127.0.0.1:%d/0 the " \
            "master of %s" % (cluster.ports["master"], MASTER) in d.log()
        stored = []
        r = d.submit()
        assert r.status == 202, r
        stored.append(r.data["id"])
        # Replicated before the master dies (heinzel does not WAIT yet).
        m = cluster.client("master")
        assert m.execute_command("WAIT", 1, 2000) == 1

        cluster.procs["master"].send_signal(signal.SIGKILL)
        cluster.procs["master"].wait(5)
        killed = time.monotonic()
        codes = []
        switched = []       # when a Sentinel first named the replica

        def note_switch():
            if not switched and cluster.master_port() == \
                    cluster.ports["replica"]:
                switched.append(time.monotonic())

        def serves():
            """One submission (captcha and comment); True once stored."""
            note_switch()
            r = d.get("/v1/captcha")
            if r.status == 200:
                c = r.data
                c["answer"] = helpers.solve(c["question"])[3]
                r = d.submit(c)
            codes.append(r.status)
            if r.status == 202:
                stored.append(r.data["id"])
                return True
            assert r.status == 503 and r.header("Retry-After"), r
            time.sleep(0.1)
            return False
        assert _wait(serves, 20, step=0)
        served = time.monotonic()
        note_switch()
        assert switched, "no Sentinel names the replica as master"
        # Serving again within the failover's own time plus 2 s: the
        # Sentinels took DOWN_MS and an election; heinzeld follows within
        # a backoff (at most 0.5 s) of their naming the new master.
        assert served - switched[0] < 2, (served - switched[0])
        print("failover: master killed to served again %.2f s (Sentinels "
            "named the new master after %.2f s), %d answers 503"
            % (served - killed, switched[0] - killed, len(codes) - 1))

        new = cluster.client("replica")
        for cid in stored:
            assert new.hget("%s:comment:%s" % (TAG, cid), "status") \
                == "pending", cid
        assert metric(d, "heinzel_redis_master_switches_total") == 1
        assert "the Sentinels name redis://127.0.0.1:%d/0 the master" % \
            cluster.ports["replica"] in d.log()
        ids = [c["id"] for c in ctl_json(d, "list")]
        assert sorted(ids) == sorted(stored)
    finally:
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
