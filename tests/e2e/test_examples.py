"""The frontend examples of docs/ against a real heinzeld.

docs/examples/client.py always runs; docs/examples/client.php runs when
php with the curl extension is installed.  The nginx snippet of
docs/integration.md is loaded into a real nginx, when there is one, and a
form is posted through it.
"""

import http.client
import http.server
import json
import os
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import pytest

from conftest import SRCDIR, TAG
from helpers import en_words, question_texts, solve

EXAMPLES = os.path.join(SRCDIR, "docs", "examples")
INTEGRATION = os.path.join(SRCDIR, "docs", "integration.md")
PYTHON = "/usr/bin/python3"


def _php_reason():
    """Why client.php cannot run here, or None."""
    php = shutil.which("php")
    if php is None:
        return "php is not installed (Debian: php-cli php-curl)"
    p = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30)
    if not re.search(r"(?m)^curl$", p.stdout):
        return "php has no curl extension (Debian: php-curl)"
    return None


PHP_REASON = _php_reason()


@pytest.fixture(params=["python", "php"])
def client(request):
    """client(socket, *args, answer="solve") -> (exit code, stdout)."""
    if request.param == "php":
        if PHP_REASON:
            pytest.skip(PHP_REASON)
        cmd = ["php", os.path.join(EXAMPLES, "client.php")]
    else:
        cmd = [PYTHON, os.path.join(EXAMPLES, "client.py")]

    def run(sock, *args, answer="solve", timeout=60):
        env = dict(os.environ, HEINZEL_SOCKET=sock)
        env.pop("HEINZEL_EXAMPLE_ANSWER", None)
        if answer is not None:
            env["HEINZEL_EXAMPLE_ANSWER"] = answer
        p = subprocess.run(cmd + list(args), env=env, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        assert "Traceback" not in err and "PHP " not in err, err
        return p.returncode, out
    run.cmd = cmd
    run.lang = request.param
    return run


def result(out):
    """The last line: "stored: id=... status=...", "refused: ..."."""
    lines = out.strip().splitlines()
    assert lines, "no output"
    return lines[-1]


def stored_id(rc, out):
    assert rc == 0, "exit %d: %s" % (rc, out)
    m = re.match(r"^stored: id=([0-9a-f]{20}) status=(pending|approved)$",
        result(out))
    assert m, out
    return m.group(1)


def comment(rdb, cid):
    return rdb.client.hgetall("%s:comment:%s" % (TAG, cid))


# ---- the clients against heinzeld ----

def test_client_submits_a_comment(client, daemon, rdb):
    rc, out = client(daemon.socket, "--post", "example-post",
        "--author", "Bärbel", "--email", "baerbel@example.org",
        "--ip", "192.0.2.7", "--user-agent", "Example/1.0",
        "--lang", "en", "Grüße aus Köln, ein schöner Artikel.")
    cid = stored_id(rc, out)
    q = re.search(r"(?m)^question: (\d+ \S+ \d+ =) \((.+)\)$", out)
    assert q, out
    assert q.group(2) in question_texts(q.group(1), "en"), out

    h = comment(rdb, cid)
    assert h["status"] == "pending", h
    assert h["post"] == "example-post"
    assert h["author"] == "Bärbel"
    assert h["email"] == "baerbel@example.org"
    assert h["body"] == "Grüße aus Köln, ein schöner Artikel."
    assert h["ip"] == "192.0.2.7"
    assert h["user_agent"] == "Example/1.0"
    assert re.match(r"^[0-9a-f]{32}$", h["request_id"]), h
    assert rdb.client.zscore(TAG + ":queue:pending", cid) is not None


def test_client_lists_approved_comments(client, daemon, rdb, approve):
    body = "Ein Kommentar zum Freischalten (%s)." % client.lang
    cid = stored_id(*client(daemon.socket, "--post", "listed", body))
    rc, out = client(daemon.socket, "--list", "listed")
    assert rc == 0 and result(out) == "listed: 0", out
    approve(daemon, cid)
    rc, out = client(daemon.socket, "--list", "listed")
    assert rc == 0, out
    assert "comment: id=%s author=Anna Beispiel: %s" % (cid, body) in out, out
    assert result(out) == "listed: 1", out


def test_client_wrong_answer_is_refused(client, daemon, rdb):
    rc, out = client(daemon.socket, "Falsch gerechnet.", answer="1000")
    assert rc == 1, out
    assert result(out).startswith("refused: captcha: "), out
    assert not rdb.client.keys(TAG + ":comment:*")


def test_client_asks_the_reader(client, daemon, rdb):
    """Without --answer the example asks; the reader may answer in words."""
    env = dict(os.environ, HEINZEL_SOCKET=daemon.socket)
    env.pop("HEINZEL_EXAMPLE_ANSWER", None)
    p = subprocess.Popen(client.cmd + ["--lang", "en", "In Worten gerechnet."],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        line = p.stdout.readline().decode("utf-8")
        q = re.match(r"^question: (\d+ \S+ \d+ =) \(", line)
        assert q, line
        words = sorted(en_words(solve(q.group(1))[3]))[0]
        p.stdin.write(words.encode() + b"\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert q.group(1) in err.decode("utf-8"), "the question was not asked"
    cid = stored_id(p.returncode, line + out.decode("utf-8"))
    assert comment(rdb, cid)["body"] == "In Worten gerechnet."


def test_client_spam_is_refused_with_its_id(client, daemon, rdb):
    rc, out = client(daemon.socket, "Buy xyzzyspam now!")
    assert rc == 1, out
    m = re.match(r"^refused: spam id=([0-9a-f]{20}): ", result(out))
    assert m, out
    assert comment(rdb, m.group(1))["status"] == "spam"


def test_client_invalid_field_is_named(client, daemon, rdb):
    rc, out = client(daemon.socket, "--email", "not-an-address", "Hallo.")
    assert rc == 1, out
    assert result(out).startswith("refused: invalid field=email: "), out


def test_client_duplicate_is_refused(client, daemon, rdb):
    body = "Zweimal derselbe Text (%s)." % client.lang
    stored_id(*client(daemon.socket, body))
    rc, out = client(daemon.socket, body)
    assert rc == 1, out
    assert result(out).startswith("refused: duplicate: "), out


def test_client_without_heinzeld_is_unavailable(client, tmp_path):
    rc, out = client(str(tmp_path / "nothing.sock"), "--retries", "0", "Hallo.")
    assert rc == 3, out
    assert result(out).startswith("unavailable: "), out


def test_client_redis_down_then_retries(client, daemon, rdb):
    """503 with Retry-After: the example waits and tries again."""
    rdb.stop()
    try:
        deadline = time.monotonic() + 10
        while daemon.get("/v1/health").status != 503:
            assert time.monotonic() < deadline, "health still 200"
            time.sleep(0.05)
        rc, out = client(daemon.socket, "--retries", "0", "Später.")
        assert rc == 3 and result(out).startswith("unavailable: "), out

        env = dict(os.environ, HEINZEL_SOCKET=daemon.socket,
            HEINZEL_EXAMPLE_ANSWER="solve")
        p = subprocess.Popen(client.cmd + ["--retries", "4", "Nach dem Ausfall."],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        time.sleep(1)
        assert p.poll() is None, "the client gave up at once: %r" % (
            p.communicate(),)
    finally:
        if not rdb.running():
            rdb.start()
    out, err = p.communicate(timeout=60)
    cid = stored_id(p.returncode, out.decode() + err.decode())
    assert comment(rdb, cid)["body"] == "Nach dem Ausfall."


# ---- retrying a 429 with the same request_id ----

class _FakeHandler(http.server.BaseHTTPRequestHandler):
    """Answers like heinzeld under flood control: 429 once, then 202."""

    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass

    def _send(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send(200, {"id": "c" * 32, "question": "2 + 3 =",
            "question_text": "two plus three", "expires_in": 600})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.server.posts.append(json.loads(self.rfile.read(n)))
        if len(self.server.posts) == 1:
            self._send(429, {"error": "rate_limited", "message": "slow down"},
                [("Retry-After", "1")])
        else:
            self._send(202, {"id": "0" * 20, "status": "pending"})


class _FakeServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def test_client_retries_429_with_the_same_request_id(client, tmp_path):
    path = str(tmp_path / "fake.sock")
    srv = _FakeServer(path, _FakeHandler)
    srv.posts = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        start = time.monotonic()
        rc, out = client(path, "--retries", "2", "Hallo.")
        took = time.monotonic() - start
    finally:
        srv.shutdown()
        srv.server_close()
    assert rc == 0 and result(out) == "stored: id=%s status=pending" % ("0" * 20), out
    assert len(srv.posts) == 2, srv.posts
    a, b = srv.posts
    assert a["captcha_answer"] == "5"
    assert a["request_id"] and a["request_id"] == b["request_id"], srv.posts
    assert a == b
    assert took >= 1.0, "did not wait for Retry-After: %.2f s" % took


# ---- nginx in front, a plain HTML form ----

def _nginx_blocks():
    """The http {} and server {} parts of the snippet in integration.md."""
    with open(INTEGRATION, encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    http_part = [b for b in blocks if b.startswith("# http {}")]
    server_part = [b for b in blocks if b.startswith("# server {}")]
    assert len(http_part) == 1 and len(server_part) == 1, \
        "integration.md: expected one ```nginx block for http {} and one for server {}"
    return http_part[0], server_part[0]


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def nginx(daemon):
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(exe, os.X_OK):
        pytest.skip("nginx is not installed (Debian: nginx-light)")
    http_part, server_part = _nginx_blocks()
    d = tempfile.mkdtemp(prefix="heinzel-nginx-")
    port = _free_port()
    subst = lambda s: s.replace("/run/heinzel/heinzel.sock", daemon.socket)
    temps = "".join("%s_temp_path %s/%s;\n" % (k, d, k)
        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = """\
daemon off;
master_process off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
events { worker_connections 64; }
http {
access_log off;
%(temps)s
%(http)s
server {
listen 127.0.0.1:%(port)d;
server_name blog.example.org;
%(server)s
}
}
""" % {"d": d, "temps": temps, "http": subst(http_part), "port": port,
        "server": subst(server_part)}
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    p = subprocess.run([exe, "-t", "-p", d, "-c", path], capture_output=True,
        text=True, timeout=30)
    assert p.returncode == 0, "nginx -t on the integration.md snippet:\n" + p.stderr
    proc = subprocess.Popen([exe, "-p", d, "-c", path], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert proc.poll() is None, open(os.path.join(d, "error.log")).read()
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def _http(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def test_nginx_proxies_the_html_form(nginx, daemon, rdb):
    status, _, body = _http(nginx, "GET", "/comments/captcha?lang=en")
    assert status == 200, body
    c = json.loads(body)
    assert c["question_text"] in question_texts(c["question"], "en"), c
    answer = re.match(r"^(\d+) (\S) (\d+) =$", c["question"])
    a, op, b = int(answer.group(1)), answer.group(2), int(answer.group(3))
    ans = a + b if op == "+" else a - b if op == "-" else a * b

    # What a browser sends for the form of integration.md.
    form = urllib.parse.urlencode({
        "post": "hello-world", "return_to": "https://blog.example.org/hello-world/",
        "captcha_id": c["id"], "author": "Anna", "email": "anna@example.org",
        "url": "", "body": "Über nginx geschickt.", "honeypot": "",
        "captcha_answer": str(ans)})
    status, h, body = _http(nginx, "POST", "/comments/submit", form,
        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, body
    m = re.match(r"^https://blog\.example\.org/hello-world/\?comment=pending"
        r"&id=([0-9a-f]{20})#comments$", h.get("location", ""))
    assert m, h
    assert comment(rdb, m.group(1))["body"] == "Über nginx geschickt."

    # The listing the page shows, through the same server.
    status, _, body = _http(nginx, "GET", "/comments/list?post=hello-world")
    assert status == 200 and json.loads(body)["comments"] == [], body


def test_nginx_exposes_only_the_form_routes(nginx, daemon):
    status, _, _ = _http(nginx, "GET", "/comments/submit")
    assert status in (403, 405), status
    status, _, _ = _http(nginx, "POST", "/comments/captcha", b"x",
        {"Content-Type": "text/plain"})
    assert status in (403, 405), status
    for path in ("/metrics", "/v1/health", "/v1/comments?post=x"):
        status, _, body = _http(nginx, "GET", path)
        assert status == 404, (path, status, body[:200])
