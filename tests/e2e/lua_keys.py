"""Which keys a Redis script touches, seen by Redis itself.

KeysWatch reads MONITOR while a test drives heinzeld or heinzelctl, and
for every run of the named scripts (lib/lua/NAME.lua) checks each command
the script ran: the keys Redis finds in it (COMMAND GETKEYS) must all be
in the KEYS the script was given (the Redis Cluster rule).
"""

import hashlib
import os
import re
import socket
import threading

import redis

from conftest import SRCDIR

END = "heinzel-keys-watch-end"
ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
LINE = re.compile(r'^\+?\S+ \[\d+ ([^\]]*)\] (.*)$')
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b",
           '"': '"', "\\": "\\"}


def script_source(name):
    """lib/lua/NAME.lua with what it needs, as lib/lua/embed.py builds it."""
    lua = os.path.join(SRCDIR, "lib", "lua")
    with open(os.path.join(lua, name + ".lua"), encoding="utf-8") as f:
        text = f.read()
    parts = []
    for line in text.splitlines():
        if line.startswith("--! needs:"):
            for common in line.split(":", 1)[1].split():
                with open(os.path.join(lua, "common", common + ".lua"),
                          encoding="utf-8") as f:
                    parts.append(f.read())
    return "".join(parts) + text


def script_sha(name):
    return hashlib.sha1(script_source(name).encode("utf-8")).hexdigest()


def keys_only(rdb, keys):
    """A client of an ACL user that may touch only these keys: a script
    run by it that reads or writes any other key fails (NOPERM)."""
    c = rdb.client
    esc = ["~" + "".join("\\" + ch if ch in "*?[]\\" else ch for ch in k)
        for k in keys]
    c.execute_command("ACL", "SETUSER", "keysonly", "reset", "on",
        ">keysonly", "+@all", *esc)
    return redis.Redis(unix_socket_path=rdb.socket, username="keysonly",
        password="keysonly", decode_responses=True, socket_timeout=5)


def _unquote(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and i + 3 < len(s):
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append(ESCAPES.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class KeysWatch:
    """with KeysWatch(rdb, "outbox_done") as w: ...; then w.runs (how many
    runs of those scripts were seen) and w.outside (commands on a key not
    in KEYS: (script, command, key))."""

    def __init__(self, rdb, *names):
        self.rdb = rdb
        self.shas = {script_sha(n): n for n in names}
        self.lines = []
        self.runs = 0
        self.outside = []

    def __enter__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.rdb.socket)
        self.sock.sendall(b"MONITOR\r\n")
        self.buf = b""
        assert self._line() == "+OK"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        return self

    def _line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("MONITOR connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def _read(self):
        while True:
            line = self._line()
            self.lines.append(line)
            if END in line:
                return

    def __exit__(self, *exc):
        self.rdb.client.echo(END)
        self.thread.join(30)
        self.sock.close()
        if exc[0] is None:
            assert not self.thread.is_alive(), "MONITOR did not end"
            self._check()
        return False

    def _check(self):
        # Redis shows a script's commands right after its EVAL or EVALSHA.
        name, keys = None, None
        for line in self.lines:
            m = LINE.match(line)
            if m is None:
                continue
            args = [_unquote(a) for a in ARG.findall(m.group(2))]
            if not args:
                continue
            if m.group(1) != "lua":
                name = None
                cmd = args[0].upper()
                if cmd in ("EVAL", "EVALSHA") and len(args) >= 3:
                    sha = args[1] if cmd == "EVALSHA" else \
                        hashlib.sha1(args[1].encode("utf-8")).hexdigest()
                    name = self.shas.get(sha)
                    if name is not None:
                        self.runs += 1
                        keys = set(args[3:3 + int(args[2])])
                continue
            if name is None:
                continue
            try:
                # One name, so that redis-py leaves the reply as it is.
                touched = self.rdb.client.execute_command("COMMAND GETKEYS",
                                                          *args)
            except redis.ResponseError:
                touched = []    # a command without keys
            for k in touched:
                if k not in keys:
                    self.outside.append((name, " ".join(args), k))
