"""HTTP over a Unix socket, captcha solving and small checks for the e2e tests.

Standard library only: the tests run under Debian's /usr/bin/python3.
"""

import http.client
import itertools
import json
import re
import socket
import time
import urllib.parse

TIMEOUT = 10.0


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX stream socket."""

    def __init__(self, path, timeout=TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


class Response:
    """Status, headers and body of one answer; data is the parsed JSON or None."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # list of (name, value)
        self.body = body
        self.text = body.decode("utf-8", "replace")
        try:
            self.data = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self.data = None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def __repr__(self):
        return "<%s %s>" % (self.status, self.text[:500])


def request(sockpath, method, url, body=None, headers=None, conn=None):
    """One request; conn may be an open UnixHTTPConnection to reuse."""
    own = conn is None
    if own:
        conn = UnixHTTPConnection(sockpath)
    try:
        conn.request(method, url, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        if own:
            conn.close()


def get(sockpath, url, **kw):
    return request(sockpath, "GET", url, **kw)


def post_bytes(sockpath, url, body, ctype):
    return request(sockpath, "POST", url, body=body,
        headers={"Content-Type": ctype})


def post_json(sockpath, url, obj):
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return post_bytes(sockpath, url, body, "application/json")


def post_form(sockpath, url, form):
    """form: a dict (urlencoded here, '+' for spaces) or a ready raw string."""
    if isinstance(form, dict):
        form = urllib.parse.urlencode(form)
    if isinstance(form, str):
        form = form.encode("ascii")
    return post_bytes(sockpath, url, form,
        "application/x-www-form-urlencoded")


def raw(sockpath, data, timeout=5.0):
    """Send raw bytes on a fresh connection and parse whatever comes back.

    Returns a Response, or None when the server closed without answering.
    """
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    buf = b""
    try:
        s.connect(sockpath)
        s.sendall(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _complete(buf):
                break
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    if not buf:
        return None
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise AssertionError("not an HTTP reply: %r" % buf[:200])
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return Response(int(m.group(1)), headers, body)


def _complete(buf):
    if b"\r\n\r\n" not in buf:
        return False
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if m:
        return len(body) >= int(m.group(1))
    return False


# ---- captcha ----

QUESTION_RE = re.compile(r"^(\d+) ([+\-\u00d7]) (\d+) =$")

_DE_ONES = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs",
    "sieben", "acht", "neun", "zehn", "elf", "zwölf", "dreizehn",
    "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"]
_DE_TENS = ["", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig",
    "siebzig", "achtzig", "neunzig"]
_EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven",
    "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty",
    "seventy", "eighty", "ninety"]


def de_words(n):
    """German number words, 0..100; 100 has two usual spellings."""
    if n == 100:
        return {"hundert", "einhundert"}
    if n < 20:
        return {_DE_ONES[n]}
    t, o = divmod(n, 10)
    if o == 0:
        return {_DE_TENS[t]}
    unit = "ein" if o == 1 else _DE_ONES[o]
    return {unit + "und" + _DE_TENS[t]}


def en_words(n):
    """English number words, 0..100."""
    if n == 100:
        return {"one hundred", "hundred"}
    if n < 20:
        return {_EN_ONES[n]}
    t, o = divmod(n, 10)
    if o == 0:
        return {_EN_TENS[t]}
    return {_EN_TENS[t] + "-" + _EN_ONES[o]}


OPS = {"+": ("plus", "plus"), "-": ("minus", "minus"), "\u00d7": ("mal", "times")}


def solve(question):
    """(a, op, b, answer) of a question such as "6 + 1 ="."""
    m = QUESTION_RE.match(question)
    assert m, "question not in the form 'A op B =': %r" % question
    a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
    if op == "+":
        ans = a + b
    elif op == "-":
        ans = a - b
    else:
        ans = a * b
    return a, op, b, ans


def question_texts(question, lang):
    """Every acceptable spelling of question_text for a question."""
    a, op, b, _ = solve(question)
    words = de_words if lang == "de" else en_words
    opw = OPS[op][0 if lang == "de" else 1]
    return {"%s %s %s" % (x, opw, y) for x in words(a) for y in words(b)}


# ---- checks ----

HEX20 = re.compile(r"^[0-9a-f]{20}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

_counter = itertools.count(1)


def unique_body():
    return "Schöner Artikel, vielen Dank für die Mühe! (Nr. %d)" % next(_counter)


def assert_json(resp):
    ct = resp.header("Content-Type") or ""
    assert ct.lower().startswith("application/json"), \
        "Content-Type %r, body %r" % (ct, resp.text[:300])
    assert resp.data is not None, "body is not JSON: %r" % resp.text[:300]
    return resp.data


def assert_error(resp, status, code, field=None):
    """An error answer: status, JSON {"error", "message"[, "field"]}."""
    assert resp.status == status, \
        "expected %d %s, got %d %r" % (status, code, resp.status, resp.text[:500])
    data = assert_json(resp)
    assert isinstance(data, dict), data
    assert data.get("error") == code, data
    assert isinstance(data.get("message"), str) and data["message"], data
    if field is not None:
        assert data.get("field") == field, data
    return data
