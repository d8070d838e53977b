"""Running heinzelctl from the end-to-end tests: plain, with JSON, on a
pseudo-terminal; and comments stored straight in Redis where a test needs
what heinzeld cannot make (a comment written days ago).
"""

import json
import os
import pty
import random
import select
import signal
import subprocess
import termios
import time

from conftest import HEINZELCTL, TAG


def key(kind, name=None):
    return "%s:%s" % (TAG, kind) if name is None else "%s:%s:%s" % (TAG, kind, name)


def outbox_undone(c):
    """The outbox entries not done: delivered and not acknowledged, or not
    delivered yet (acknowledged ones stay until the trim drops them)."""
    k = key("outbox")
    for g in c.xinfo_groups(k) if c.exists(k) else []:
        if g["name"] == "notify":
            return g["pending"] + g["lag"]
    return c.xlen(k)


def ctl_env(user="tester", **extra):
    """A clean environment: no SUDO_USER, a known USER, no HEINZEL_CONF."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SUDO_USER", "HEINZEL_CONF", "NO_COLOR", "COLUMNS")}
    env["USER"] = user
    env.update(extra)
    return env


def ctl_args(d, *args):
    conf = d if isinstance(d, str) else d.conf
    return [HEINZELCTL, "-c", conf] + [str(a) for a in args]


class Run:
    """Exit code, stdout and stderr of one heinzelctl run."""

    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    @property
    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            raise AssertionError("not JSON (rc %d): %r / %r"
                % (self.rc, self.out[:500], self.err[:500]))

    def err_lines(self):
        return [line for line in self.err.splitlines() if line.strip()]

    def __repr__(self):
        return "<heinzelctl rc=%d out=%r err=%r>" % (
            self.rc, self.out[:1500], self.err[:800])


def ctl(d, *args, input=None, user="tester", env=None, timeout=30):
    """heinzelctl -c d.conf ARGS..., stdin a pipe (not a terminal)."""
    p = subprocess.run(ctl_args(d, *args), input=input if input is not None else "",
        capture_output=True, text=True, timeout=timeout,
        env=env or ctl_env(user))
    return Run(p)


def ctl_raw(argv, input="", env=None, timeout=30):
    p = subprocess.run([HEINZELCTL] + list(argv), input=input,
        capture_output=True, text=True, timeout=timeout, env=env or ctl_env())
    return Run(p)


def ctl_ok(d, *args, **kw):
    r = ctl(d, *args, **kw)
    assert r.rc == 0, r
    return r


def ctl_json(d, *args, **kw):
    r = ctl(d, *args, "--json", **kw)
    assert r.rc == 0, r
    return r.json


def one_line_error(r, rc, *needles):
    """Failed with rc, stdout empty, exactly one line on stderr with needles."""
    assert r.rc == rc, r
    lines = r.err_lines()
    assert len(lines) == 1, r
    assert lines[0].startswith("heinzelctl: "), r
    for n in needles:
        assert n in lines[0], (n, r)
    assert "Traceback" not in r.err and "Segmentation" not in r.err, r
    return lines[0]


# ---- comments ----

def submit(d, **kw):
    """A comment through heinzeld (captcha round trip); returns its id."""
    r = d.submit(**kw)
    assert r.status in (202, 403), r
    data = r.data
    assert data and "id" in data, r
    time.sleep(0.002)  # distinct created_at, so "oldest first" is defined
    return data["id"]


def insert(rdb, post="hello-world", status="pending", age=0, body=None,
           author="Dora Direkt", email="dora@example.org", ip="192.0.2.50",
           hits="", score="0", moderated_age=None):
    """A comment stored the way the submit script stores it, age s ago."""
    created = int(time.time() * 1000) - int(age * 1000)
    cid = "%012x%08x" % (created & 0xffffffffffff, random.getrandbits(32))
    h = {"id": cid, "post": post, "author": author, "email": email,
         "body": body or "Direkt gespeichert %d" % random.getrandbits(30),
         "ip": ip, "status": status, "score": score, "hits": hits,
         "hold": "0", "created_at": str(created)}
    if moderated_age is not None:
        h["moderated_at"] = str(int(time.time() * 1000) - int(moderated_age * 1000))
        h["moderated_by"] = "test@heinzelctl"
    c = rdb.client
    c.hset(key("comment", cid), mapping=h)
    c.zadd(key("queue", status), {cid: created})
    c.zadd(key("post", post), {cid: created})
    if status == "approved":
        c.zadd(key("published", post), {cid: created})
    return cid


def state(rdb, cid):
    """(status in the hash, [queues holding the id]) of a comment."""
    c = rdb.client
    st = c.hget(key("comment", cid), "status")
    queues = [q for q in ("pending", "approved", "spam", "rejected")
              if c.zscore(key("queue", q), cid) is not None]
    return st, queues


def assert_state(rdb, cid, status):
    st, queues = state(rdb, cid)
    if status is None:
        assert st is None and queues == [], (cid, st, queues)
    else:
        assert st == status and queues == [status], (cid, st, queues)


# ---- a pseudo-terminal ----

class Pty:
    """heinzelctl with a pty as stdin, stdout and stderr."""

    def __init__(self, argv, env=None, cols=100):
        self.master, slave = pty.openpty()
        # Rows and columns, as a terminal over ssh would have them.
        import fcntl
        import struct
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, cols, 0, 0))
        self.slave_attrs = termios.tcgetattr(slave)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
            stderr=slave, env=env or ctl_env(), start_new_session=True,
            preexec_fn=None)
        self.slave = slave
        self.buf = b""

    def read_until(self, needle, timeout=10):
        """Output up to needle (bytes or str); AssertionError on timeout."""
        if isinstance(needle, str):
            needle = needle.encode()
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r in %r" % (needle, self.buf[-2000:]))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    if needle not in self.buf:
                        raise AssertionError("EOF before %r in %r"
                            % (needle, self.buf[-2000:]))
                    break
                self.buf += chunk
        i = self.buf.index(needle) + len(needle)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode("utf-8", "replace")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        os.write(self.master, data)

    def lflag(self):
        """The terminal's local modes now (ICANON, ECHO, ...)."""
        return termios.tcgetattr(self.slave)[3]

    def wait(self, timeout=10):
        rc = self.proc.wait(timeout)
        # Drain what is left so that the output can be checked.
        while True:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if not r:
                break
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.buf += chunk
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
