"""Fixtures: a private redis-server and heinzeld processes on Unix sockets.

Environment: HEINZELD, HEINZELCTL (built binaries), HEINZEL_SRCDIR (source
root).  Without them the paths of a build-e2e directory are assumed.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis

import helpers

SRCDIR = os.environ.get("HEINZEL_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
HEINZELD = os.environ.get("HEINZELD") or os.path.join(
    SRCDIR, "build-e2e", "daemon", "heinzeld")
HEINZELCTL = os.environ.get("HEINZELCTL") or os.path.join(
    SRCDIR, "build-e2e", "cli", "heinzelctl")
PREFIX = "test"
TAG = "{%s}" % PREFIX

TEST_RULES = """\
# Rules the end-to-end tests rely on.
rule TEST_SPAMWORD body /xyzzyspam/i score 10 "test: always spam"
rule TEST_HOLDWORD body /plughhold/i score 4 "test: hold"
"""

# Every daemon started in this session, so that a failing test can show the
# log lines written while it ran.
DAEMONS = []

# A daemon that died of one of these crashed; SIGKILL and SIGTERM are the
# tests' own doing.
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE,
    signal.SIGILL, signal.SIGSYS, signal.SIGTRAP}
# What AddressSanitizer, UndefinedBehaviorSanitizer and valgrind write to
# the daemon's stderr (its log) when they find something.
SANITIZER_RE = re.compile(r"(?m)^==\d+==(?:ERROR| )|: runtime error: ")


def _wait(pred, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(step)


def _stop_process(proc, timeout=10):
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


# ---- redis ----

class RedisServer:
    def __init__(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(exe, os.X_OK):
            pytest.skip("redis-server is not installed")
        self.exe = exe
        self.dir = tempfile.mkdtemp(prefix="heinzel-redis-")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.proc = None
        self.client = None
        self.logf = None

    def start(self):
        assert not self.running(), "redis-server already running"
        self.logf = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen([self.exe,
            "--port", "0",
            "--unixsocket", self.socket,
            "--unixsocketperm", "700",
            "--dir", self.dir,
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=self.logf,
            stderr=subprocess.STDOUT)
        self.client = redis.Redis(unix_socket_path=self.socket,
            decode_responses=True, socket_timeout=5)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited: %s" % self.log())
            try:
                return self.client.ping()
            except redis.exceptions.ConnectionError:
                return False
            except redis.exceptions.BusyLoadingError:
                return False
        if not _wait(up, 10):
            raise RuntimeError("redis-server did not answer PING in 10 s: %s"
                % self.log())

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.client is not None:
            self.client.close()
        if self.proc is not None:
            _stop_process(self.proc)
        if self.logf is not None:
            self.logf.close()
            self.logf = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_server():
    srv = RedisServer()
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture
def rdb(redis_server):
    """The module's Redis, running and empty, for one test."""
    if not redis_server.running():
        redis_server.start()
    redis_server.client.flushall()
    return redis_server


# ---- heinzeld ----

def _conf_text(sections, extra=""):
    out = []
    for sec, kv in sections.items():
        out.append("[%s]" % sec)
        for k, v in kv.items():
            if v is not None:
                out.append("%s = %s" % (k, v))
        out.append("")
    return "\n".join(out) + extra


class Heinzeld:
    """One heinzeld process with its own temp dir, config and rules."""

    def __init__(self, redis_socket, overrides=None, rules=None, extra=""):
        self.dir = tempfile.mkdtemp(prefix="heinzel-e2e-")
        self.socket = os.path.join(self.dir, "heinzel.sock")
        self.conf = os.path.join(self.dir, "heinzel.conf")
        self.rules_dir = os.path.join(self.dir, "rules")
        self.logpath = os.path.join(self.dir, "heinzeld.log")
        self.proc = None
        self.logf = None

        os.mkdir(self.rules_dir)
        for f in sorted(glob.glob(os.path.join(SRCDIR, "rules", "*.rules"))):
            shutil.copy(f, self.rules_dir)
        files = {"90-test.rules": TEST_RULES}
        files.update(rules or {})
        for name, text in files.items():
            with open(os.path.join(self.rules_dir, name), "w") as f:
                f.write(text)

        sections = {
            "server": {
                "socket": self.socket,
                "socket_mode": "0600",
                "allowed_origins": "https://blog.example.org",
            },
            "redis": {
                "address": "unix:" + redis_socket,
                "prefix": PREFIX,
            },
            "rules": {
                "dir": self.rules_dir,
                "hold_score": "3",
                "reject_score": "6",
            },
            "captcha": {
                "required": "yes",
                "ttl": "600",
                "min_solve_seconds": "0",
            },
            # Tests submit many comments from one address in seconds;
            # the flood tests turn the limits on themselves.
            "checks": {
                "flood_ip_limit": "0",
                "flood_email_limit": "0",
            },
            "smtp": {
                # Nothing listens there: notifications stay in the outbox.
                "relay": "smtp://127.0.0.1:9",
                # Mail on, as on a configured blog ([smtp] from and
                # [notify] site); None in an override switches it off.
                "from": "heinzel@blog.example.org",
            },
            "notify": {
                "site": "Heinzel Testblog",
            },
            "log": {
                "level": "debug",
            },
        }
        for sec, kv in (overrides or {}).items():
            sections.setdefault(sec, {}).update(kv)
        self.text = _conf_text(sections, extra)
        with open(self.conf, "w") as f:
            f.write(self.text)

    # -- process --

    def start(self, wait=True, argv=None):
        """argv: another command line than heinzeld -c CONF."""
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(argv or [HEINZELD, "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.logf,
            stderr=subprocess.STDOUT)
        DAEMONS.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        """Until the socket answers /v1/health with 200 (Redis is up)."""
        last = [None]

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("heinzeld exited with %s at startup:\n%s"
                    % (self.proc.returncode, self.log()))
            if not os.path.exists(self.socket):
                return False
            try:
                last[0] = self.get("/v1/health")
            except OSError:
                return False
            return last[0].status == 200
        if not _wait(ready, timeout):
            raise RuntimeError("heinzeld not healthy in %d s (last answer %r):\n%s"
                % (timeout, last[0], self.log()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        rc = None
        if self.proc is not None:
            rc = _stop_process(self.proc)
        if self.logf is not None:
            self.logf.close()
            self.logf = None
        return rc

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self, offset=0):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def check(self, *args, timeout=10):
        """heinzeld -c CONF ARGS...: (exit code, stdout + stderr)."""
        p = subprocess.run([HEINZELD, "-c", self.conf] + list(args),
            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")

    # -- HTTP --

    def get(self, url, **kw):
        return helpers.get(self.socket, url, **kw)

    def request(self, method, url, **kw):
        return helpers.request(self.socket, method, url, **kw)

    def post_json(self, url, obj):
        return helpers.post_json(self.socket, url, obj)

    def post_bytes(self, url, body, ctype):
        return helpers.post_bytes(self.socket, url, body, ctype)

    def post_form(self, url, form):
        return helpers.post_form(self.socket, url, form)

    def raw(self, data, timeout=5.0):
        return helpers.raw(self.socket, data, timeout)

    def captcha(self, lang=None):
        url = "/v1/captcha" + ("?lang=" + lang if lang else "")
        r = self.get(url)
        assert r.status == 200, "GET %s: %r" % (url, r)
        c = helpers.assert_json(r)
        c["answer"] = helpers.solve(c["question"])[3]
        return c

    def fields(self, captcha=None, **kw):
        """A complete, valid submission with a fresh captcha, kw overriding."""
        if captcha is None:
            captcha = self.captcha()
        f = {
            "post": "hello-world",
            "author": "Anna Beispiel",
            "email": "anna@example.org",
            "body": helpers.unique_body(),
            "captcha_id": captcha["id"],
            "captcha_answer": str(captcha["answer"]),
        }
        for k, v in kw.items():
            if v is None:
                f.pop(k, None)
            else:
                f[k] = v
        return f

    def submit(self, captcha=None, **kw):
        return self.post_json("/v1/comments", self.fields(captcha, **kw))


@pytest.fixture(scope="module")
def heinzeld_factory(redis_server):
    """start(overrides, rules, extra, ...) -> Heinzeld.

    overrides: {section: {key: value}} over the test defaults; rules: extra
    {file name: text} for the rules dir; extra: text appended to the config.
    shared: reuse a running daemon of the same configuration (per module);
    wait: until /v1/health is 200; launch=False: only write the files;
    setup(d): called before the process starts.  Every daemon is stopped
    when the module ends.
    """
    cache = {}
    started = []

    def start(overrides=None, rules=None, extra="", shared=True, wait=True,
            launch=True, setup=None):
        key = repr((overrides, rules, extra))
        if not launch or setup is not None:
            shared = False
        if shared and key in cache:
            d = cache[key]
            if d.alive():
                if not redis_server.running():
                    redis_server.start()
                d.wait_ready()
                return d
            # It died in an earlier test (that test failed); a fresh one
            # keeps the next tests meaningful.
            del cache[key]
        d = Heinzeld(redis_server.socket, overrides, rules, extra)
        started.append(d)
        if setup is not None:
            setup(d)
        if launch:
            d.start(wait=wait)
        if shared:
            cache[key] = d
        return d

    problems = []

    def stop(d):
        # A SIGTERM'd heinzeld exits 0: under ASan or valgrind a leak or a
        # memory error at shutdown makes that exit status non-zero.
        alive = d.alive()
        rc = d.stop()
        if alive and rc != 0:
            problems.append("heinzeld (%s) exited %s after SIGTERM:\n%s"
                % (d.conf, rc, _tail(d.log())))

    def stop_running():
        """For a test that needs Redis to itself: the daemons of earlier
        tests of the module, still running, would otherwise run their
        janitor or notifier on its keys, or write their last second's
        counts to {P}:stats (tally.c).  Later tests that want a shared
        one get a fresh one."""
        for d in started:
            if d.alive():
                stop(d)
        cache.clear()

    start.stop_running = stop_running
    try:
        yield start
    finally:
        for d in started:
            stop(d)
            d.cleanup()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def heinzeld(rdb, heinzeld_factory):
    """The factory, with Redis running and flushed for this test."""
    return heinzeld_factory


@pytest.fixture
def daemon(heinzeld):
    """The shared heinzeld with the default test configuration."""
    return heinzeld()


# ---- heinzelctl ----

def heinzelctl_works():
    """True when heinzelctl answers --help with a usage naming "approve"."""
    try:
        p = subprocess.run([HEINZELCTL, "--help"], stdin=subprocess.DEVNULL,
            capture_output=True, timeout=10)
    except OSError:
        return False
    return p.returncode == 0 and b"approve" in p.stdout + p.stderr


@pytest.fixture
def approve(rdb):
    """approve(daemon, id): through heinzelctl when it works, else Redis."""
    use_ctl = heinzelctl_works()

    def run(d, cid):
        if use_ctl:
            p = subprocess.run([HEINZELCTL, "-c", d.conf, "approve", cid],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
            assert p.returncode == 0, "heinzelctl approve %s: %d %s%s" % (
                cid, p.returncode, p.stdout.decode(), p.stderr.decode())
            st = rdb.client.hget("%s:comment:%s" % (TAG, cid), "status")
            assert st == "approved", "after heinzelctl approve: %r" % st
            return
        # heinzelctl is not usable yet: make the same change by hand.
        c = rdb.client
        h = c.hgetall("%s:comment:%s" % (TAG, cid))
        assert h, "no comment %s" % cid
        created = int(h["created_at"])
        c.hset("%s:comment:%s" % (TAG, cid), "status", "approved")
        c.zrem(TAG + ":queue:pending", cid)
        c.zadd(TAG + ":queue:approved", {cid: created})
        c.zadd("%s:published:%s" % (TAG, h["post"]), {cid: created})
    run.uses_heinzelctl = use_ctl
    return run


# ---- logs of failing tests ----

def _tail(text, n=60):
    lines = text.splitlines()
    if len(lines) > n:
        lines = ["[... %d lines]" % (len(lines) - n)] + lines[-n:]
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def _log_offsets(request):
    offsets = {id(d): d.log_size() for d in DAEMONS}
    request.node._heinzel_offsets = offsets
    yield
    # After each test: no daemon crashed, and no sanitizer or valgrind
    # report appeared in a log.
    problems = []
    for d in {id(d): d for d in DAEMONS}.values():
        rc = d.proc.poll() if d.proc is not None else None
        if rc is not None and rc < 0 and -rc in CRASH_SIGNALS and \
                not getattr(d, "_crash_reported", False):
            d._crash_reported = True
            problems.append("heinzeld (%s) died of signal %d" % (d.conf, -rc))
        text = d.log(offsets.get(id(d), 0))
        m = SANITIZER_RE.search(text)
        if m:
            problems.append("heinzeld (%s) log has a sanitizer report:\n%s"
                % (d.conf, _tail(text[m.start():])))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    offsets = getattr(item, "_heinzel_offsets", {})
    for d in DAEMONS:
        text = d.log(offsets.get(id(d), 0))
        if not text:
            continue
        lines = text.splitlines()
        if len(lines) > 150:
            lines = ["[... %d lines]" % (len(lines) - 150)] + lines[-150:]
        rep.sections.append(("heinzeld log (%s)" % d.conf, "\n".join(lines)))
