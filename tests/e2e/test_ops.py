"""Operations end to end: /metrics, SIGHUP reload and SIGTERM drain under
load, the request log (stderr, journald, syslog) and heinzeld -t.

/metrics is read with the strict parser below rather than
python3-prometheus-client: that parser is lenient where these tests must not
be (it takes samples without TYPE, families split over the text, duplicate
series, a histogram without +Inf, and drops _total from counter names), and
the text format is small enough to check rule by rule here, with no extra
package to install.
"""

import glob
import http.client
import json
import math
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

from conftest import DAEMONS, HEINZELCTL, HEINZELD, SRCDIR, TAG
from helpers import (HEX20, UnixHTTPConnection, assert_error, assert_json,
    request, solve)


# ---- the Prometheus text format (version 0.0.4) ----

class FormatError(AssertionError):
    pass


METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = []       # (sample name, labels dict, value)


class Exposition:
    """Families in text order; samples looked up by name and exact labels."""

    def __init__(self, families):
        self.families = families

    def family(self, name):
        return self.families.get(name)

    def samples(self, name):
        """[(labels, value)] of every sample called name."""
        out = []
        for fam in self.families.values():
            out += [(l, v) for n, l, v in fam.samples if n == name]
        return out

    def get(self, name, default=None, **labels):
        found = [v for l, v in self.samples(name) if l == labels]
        assert len(found) <= 1, "%s%r twice" % (name, labels)
        return found[0] if found else default

    def value(self, name, **labels):
        v = self.get(name, None, **labels)
        assert v is not None, "no sample %s%r in /metrics" % (name, labels)
        return v

    def by_label(self, name, label):
        return {l[label]: v for l, v in self.samples(name) if label in l}


def _parse_value(tok, what):
    if tok in ("+Inf", "-Inf", "NaN"):
        return float(tok)
    if not FLOAT.match(tok):
        raise FormatError("%s: %r is not a float" % (what, tok))
    return float(tok)


def _parse_labels(line, i, where):
    """line[i] is "{"; (labels, index after "}")."""
    labels = {}
    i += 1
    try:
        while True:
            if line[i] == "}":
                return labels, i + 1
            m = LABEL_NAME.match(line, i)
            if m is None:
                raise FormatError("%s: bad label name at column %d" % (where, i + 1))
            name = m.group()
            i = m.end()
            if line[i:i + 2] != '="':
                raise FormatError("%s: expected =\" after label %s" % (where, name))
            i += 2
            val = []
            while line[i] != '"':
                if line[i] == "\\":
                    esc = line[i + 1]
                    if esc == "n":
                        val.append("\n")
                    elif esc in '\\"':
                        val.append(esc)
                    else:
                        raise FormatError("%s: bad escape \\%s in label %s"
                            % (where, esc, name))
                    i += 2
                else:
                    val.append(line[i])
                    i += 1
            i += 1
            if name.startswith("__"):
                raise FormatError("%s: label %s is reserved" % (where, name))
            if name in labels:
                raise FormatError("%s: label %s twice" % (where, name))
            labels[name] = "".join(val)
            if line[i] == ",":
                i += 1
            elif line[i] != "}":
                raise FormatError("%s: expected , or } after label %s"
                    % (where, name))
    except IndexError:
        raise FormatError("%s: unterminated label set" % where)


def _unescape_help(h, where):
    """HELP text: only \\\\ and \\n are escapes."""
    out = []
    i = 0
    while i < len(h):
        if h[i] == "\\":
            esc = h[i + 1:i + 2]
            if esc not in ("\\", "n"):
                raise FormatError("%s: bad escape in HELP" % where)
            out.append("\n" if esc == "n" else "\\")
            i += 2
        else:
            out.append(h[i])
            i += 1
    return "".join(out)


def _family_of(name, families):
    """The declared family a sample name belongs to, or None."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = families.get(name[:-len(suffix)])
            if base is not None and (base.type == "histogram" or
                    (base.type == "summary" and suffix != "_bucket")):
                return base
    return families.get(name)


def parse_exposition(text):
    """Parse and check the text format; FormatError names the line."""
    if text and not text.endswith("\n"):
        raise FormatError("the last line does not end in a newline")
    families = {}
    closed = set()          # families whose samples are over
    current = None
    seen = set()
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d (%r)" % (no, line[:120])
        if "\r" in line:
            raise FormatError("%s: carriage return" % where)
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) < 2 or parts[1] not in ("HELP", "TYPE"):
                continue    # a comment
            if len(parts) < 3 or not METRIC_NAME.fullmatch(parts[2]):
                raise FormatError("%s: bad metric name" % where)
            fam = families.setdefault(parts[2], Family(parts[2]))
            if fam.samples or parts[2] in closed:
                raise FormatError("%s: %s after the samples of %s"
                    % (where, parts[1], parts[2]))
            if parts[1] == "TYPE":
                if fam.type is not None:
                    raise FormatError("%s: second TYPE" % where)
                if len(parts) != 4 or parts[3] not in TYPES:
                    raise FormatError("%s: unknown type" % where)
                fam.type = parts[3]
            else:
                if fam.help is not None:
                    raise FormatError("%s: second HELP" % where)
                fam.help = _unescape_help(parts[3] if len(parts) == 4 else "",
                    where)
            continue
        m = METRIC_NAME.match(line)
        if m is None:
            raise FormatError("%s: no metric name" % where)
        name = m.group()
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i, where)
        rest = line[i:]
        if not rest[:1] in (" ", "\t"):
            raise FormatError("%s: no blank before the value" % where)
        toks = rest.split()
        if len(toks) not in (1, 2):
            raise FormatError("%s: expected a value and an optional timestamp"
                % where)
        value = _parse_value(toks[0], where)
        if len(toks) == 2 and not re.fullmatch(r"-?\d+", toks[1]):
            raise FormatError("%s: bad timestamp" % where)
        fam = _family_of(name, families)
        if fam is None:
            fam = families.setdefault(name, Family(name))
            fam.type = fam.type or "untyped"
        if current is not None and fam is not current:
            closed.add(current.name)
        if fam.name in closed:
            raise FormatError("%s: samples of %s are not together"
                % (where, fam.name))
        current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise FormatError("%s: the same series twice" % where)
        seen.add(key)
        fam.samples.append((name, labels, value))
    for fam in families.values():
        if fam.type == "histogram":
            check_histogram(fam)
    return Exposition(families)


def check_histogram(fam):
    """Cumulative buckets, sorted by le, +Inf equal to _count, a _sum."""
    series = {}
    for name, labels, value in fam.samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if name == fam.name + "_bucket":
            if "le" not in labels:
                raise FormatError("%s%r: a bucket without le" % (name, labels))
            s["buckets"].append((_parse_value(labels["le"], name), value))
        elif name == fam.name + "_sum":
            s["sum"] = value
        elif name == fam.name + "_count":
            s["count"] = value
        else:
            raise FormatError("%s in histogram %s" % (name, fam.name))
    for rest, s in series.items():
        what = "%s%r" % (fam.name, dict(rest))
        b = s["buckets"]
        if not b or b[-1][0] != math.inf:
            raise FormatError("%s: no le=\"+Inf\" bucket at the end" % what)
        if s["sum"] is None or s["count"] is None:
            raise FormatError("%s: _sum or _count missing" % what)
        for (le0, c0), (le1, c1) in zip(b, b[1:]):
            if not le0 < le1:
                raise FormatError("%s: le %g before %g" % (what, le0, le1))
            if c1 < c0:
                raise FormatError("%s: bucket le=%g (%g) under le=%g (%g)"
                    % (what, le1, c1, le0, c0))
        if b[-1][1] != s["count"]:
            raise FormatError("%s: +Inf bucket %g != _count %g"
                % (what, b[-1][1], s["count"]))
        if s["count"] > 0 and s["sum"] < 0:
            raise FormatError("%s: negative _sum" % what)


def check_conventions(m):
    """heinzel's names: a HELP and TYPE each, heinzel_ prefix, counters in
    _total, times in seconds, no negative counters."""
    problems = []
    for fam in m.families.values():
        n = fam.name
        if fam.type in (None, "untyped"):
            problems.append("%s has no TYPE" % n)
        if not fam.help:
            problems.append("%s has no HELP" % n)
        if not n.startswith("heinzel_"):
            problems.append("%s lacks the heinzel_ prefix" % n)
        if (fam.type == "counter") != n.endswith("_total"):
            problems.append("%s is a %s: only counters end in _total"
                % (n, fam.type))
        if re.search(r"(_ms|_msec|millisecond|_minutes|_hours)(_|$)", n):
            problems.append("%s: times are in seconds" % n)
        if re.search(r"(age|duration|latency|time|timestamp)$", n):
            problems.append("%s: a time ends in _seconds" % n)
        if re.search(r"_(bucket|sum|count)$", n):
            problems.append("%s: reserved suffix" % n)
        for name, labels, value in fam.samples:
            if "le" in labels and fam.type != "histogram":
                problems.append("%s: le outside a histogram" % name)
            if fam.type == "counter" and not value >= 0:
                problems.append("%s%r = %r: a counter below 0" % (name, labels, value))
            if math.isnan(value):
                problems.append("%s%r is NaN" % (name, labels))
    assert not problems, "/metrics breaks the conventions:\n" + "\n".join(problems)


def scrape(d, conn_path=None):
    r = request(conn_path or d.socket, "GET", "/metrics")
    assert r.status == 200, r
    ct = r.header("Content-Type") or ""
    assert ct.startswith("text/plain") and "version=0.0.4" in ct, ct
    m = parse_exposition(r.text)
    check_conventions(m)
    m.text = r.text
    return m


# A few texts the parser must refuse, so that a parser accepting anything
# cannot pass the tests below.
BAD_EXPOSITIONS = {
    "no final newline": "# TYPE a counter\na 1",
    "bad value": "# TYPE a gauge\na 1,5\n",
    "bad name": "9a 1\n",
    "unterminated labels": '# TYPE a gauge\na{x="1" 1\n',
    "bad escape": '# TYPE a gauge\na{x="\\t"} 1\n',
    "same series twice": '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n',
    "split family": "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n",
    "TYPE after samples": "a 1\n# TYPE a gauge\n",
    "two TYPEs": "# TYPE a gauge\n# TYPE a counter\na 1\n",
    "unknown type": "# TYPE a meter\na 1\n",
    "no +Inf": '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
    "falling buckets": '# TYPE h histogram\nh_bucket{le="1"} 2\n'
        'h_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
    "bad HELP escape": "# HELP a x\\ty\n# TYPE a gauge\na 1\n",
    "+Inf != count": '# TYPE h histogram\nh_bucket{le="+Inf"} 2\n'
        'h_sum 1\nh_count 3\n',
}


@pytest.mark.parametrize("case", sorted(BAD_EXPOSITIONS))
def test_parser_refuses_bad_text(case):
    with pytest.raises(FormatError):
        parse_exposition(BAD_EXPOSITIONS[case])


def test_parser_reads_good_text():
    m = parse_exposition(
        "# HELP a_total Things, with a \\\\ and a \\n.\n"
        "# TYPE a_total counter\n"
        'a_total{x="q\\"uo\\\\te",y="2",} 3 1700000000000\n'
        "# comment\n\n"
        "# TYPE h_seconds histogram\n"
        'h_seconds_bucket{le="0.5"} 1\nh_seconds_bucket{le="+Inf"} 2\n'
        "h_seconds_sum 1.25e0\nh_seconds_count 2\n")
    assert m.family("a_total").help == "Things, with a \\ and a \n."
    assert m.value("a_total", x='q"uo\\te', y="2") == 3
    assert m.value("h_seconds_bucket", le="+Inf") == 2
    assert m.value("h_seconds_sum") == 1.25


# ---- helpers ----

def key(kind, name=None):
    return "%s:%s" % (TAG, kind) if name is None else "%s:%s:%s" % (TAG, kind, name)


QUEUES = ("pending", "approved", "spam", "rejected")
# Words no default rule should score, so that "clean" stays clean.
CLEAN = "Zum zweiten Absatz fehlt mir noch die Messung mit kaltem Cache"


def accepted(r, status="pending"):
    assert r.status == 202, "expected 202, got %d %r" % (r.status, r.text[:500])
    data = assert_json(r)
    assert data.get("status") == status, data
    assert HEX20.match(data.get("id", "")), data
    return data["id"]


def wait_for(pred, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def parse_hits(hits):
    out = {}
    for tok in (hits or "").split():
        name, _, pts = tok.partition("=")
        out[name] = float(pts)
    return out


def delta(before, after, name, **labels):
    return after.get(name, 0, **labels) - before.get(name, 0, **labels)


def count_rules(d):
    n = 0
    for f in glob.glob(os.path.join(d.rules_dir, "*.rules")):
        with open(f, encoding="utf-8") as fp:
            n += sum(1 for line in fp if line.lstrip().startswith("rule "))
    return n


def ctl(d, *args):
    p = subprocess.run([HEINZELCTL, "-c", d.conf] + list(args),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, "heinzelctl %s: %d %s%s" % (
        " ".join(args), p.returncode, p.stdout, p.stderr)
    return p


def reloads(d, result):
    return scrape(d).value("heinzel_rules_reloads_total", result=result)


def sighup_and_wait(d, result):
    """SIGHUP, then wait until /metrics counts one more reload of result."""
    before = reloads(d, result)
    d.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: reloads(d, result) == before + 1, 5), \
        "no %s reload counted within 5 s of SIGHUP" % result


def write_rules(d, name, text):
    tmp = os.path.join(d.rules_dir, "." + name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(tmp, os.path.join(d.rules_dir, name))


def at_second_fraction(lo, hi):
    """Sleep until the wall clock's fraction of a second is in [lo, hi)."""
    while True:
        f = time.time() % 1
        if lo <= f < hi:
            return
        time.sleep((lo + 0.005 - f) % 1)


# ---- 1. /metrics after a known sequence ----

def test_metrics_after_known_sequence(daemon, rdb):
    d = daemon
    before = scrape(d)

    clean = [accepted(d.submit(body="%s (%d)" % (CLEAN, i))) for i in range(3)]
    hold = accepted(d.submit(body="Ein plughhold Kommentar zum Cache"))
    assert rdb.client.hget(key("comment", hold), "status") == "pending"
    spam = assert_error(d.submit(body="Kauft xyzzyspam jetzt"), 403, "spam")["id"]
    stored = clean + [hold, spam]
    c = d.captcha()
    assert_error(d.submit(c, captcha_answer=str(c["answer"] + 1)), 403, "captcha")
    assert_error(d.submit({"id": "f" * 32, "answer": 1}), 403, "captcha")
    # A malformed id is one never issued: refused the same way, counted the same.
    assert_error(d.submit({"id": "not-a-captcha", "answer": 1}), 403, "captcha")
    ctl(d, "approve", clean[0], clean[1])
    ctl(d, "reject", clean[2])

    after = scrape(d)
    # Depths are read from Redis: heinzelctl's changes count at once.
    expect = {"pending": 1, "approved": 2, "spam": 1, "rejected": 1}
    for q in QUEUES:
        real = rdb.client.zcard(key("queue:" + q))
        assert real == expect[q], (q, real)
        assert after.value("heinzel_queue_depth", queue=q) == real, q

    outcomes = {"pending": 4, "spam": 1, "captcha": 3}
    for o in ("pending", "approved", "spam", "rejected", "captcha", "invalid",
            "duplicate", "rate_limited", "unavailable"):
        assert delta(before, after, "heinzel_submissions_total", outcome=o) == \
            outcomes.get(o, 0), o
    assert delta(before, after, "heinzel_captcha_issued_total") == 6
    assert delta(before, after, "heinzel_captcha_failures_total") == 3

    # Rule hits: exactly what the stored comments carry, rule by rule.
    carried = {}
    for cid in stored:
        for name in parse_hits(rdb.client.hget(key("comment", cid), "hits")):
            carried[name] = carried.get(name, 0) + 1
    assert carried.get("TEST_HOLDWORD") == 1 and carried.get("TEST_SPAMWORD") == 1, carried
    hb = before.by_label("heinzel_rule_hits_total", "rule")
    ha = after.by_label("heinzel_rule_hits_total", "rule")
    moved = {r: ha.get(r, 0) - hb.get(r, 0) for r in set(ha) | set(hb)}
    moved = {r: n for r, n in moved.items() if n}
    assert moved == carried

    # Requests: by route and code, and the histogram agrees with them.
    codes = {"202": 4, "403": 4}
    for code, n in codes.items():
        assert delta(before, after, "heinzel_http_requests_total",
            route="comments_post", code=code) == n, code
    assert delta(before, after, "heinzel_http_requests_total",
        route="captcha", code="200") == 6
    assert delta(before, after, "heinzel_http_request_duration_seconds_count",
        route="comments_post") == 8
    for route in set(l["route"] for l, _ in after.samples("heinzel_http_requests_total")):
        total = sum(v for l, v in after.samples("heinzel_http_requests_total")
            if l["route"] == route)
        assert after.value("heinzel_http_request_duration_seconds_count",
            route=route) == total, route
        assert after.value("heinzel_http_request_duration_seconds_bucket",
            route=route, le="+Inf") == total, route

    assert after.value("heinzel_redis_up") == 1
    assert after.value("heinzel_rules_loaded") == count_rules(d)
    assert after.value("heinzel_rules_last_reload_success") == 1
    now = time.time()
    assert now - 3600 < after.value("heinzel_start_time_seconds") <= now
    assert after.value("heinzel_start_time_seconds") <= \
        after.value("heinzel_rules_last_reload_timestamp_seconds") <= now
    # Only the scraper's own connection is open once the others are swept.
    assert wait_for(lambda: scrape(d).value("heinzel_connections_open") == 1,
        3, 0.2), "heinzel_connections_open does not come back to 1"


def test_metrics_oldest_pending_age(daemon, rdb):
    d = daemon
    m = scrape(d)
    assert m.value("heinzel_queue_depth", queue="pending") == 0
    assert m.value("heinzel_oldest_pending_age_seconds") == 0
    accepted(d.submit(body=CLEAN + " (alt)"))
    time.sleep(0.3)
    accepted(d.submit(body=CLEAN + " (neu)"))
    oldest_ms = rdb.client.zrange(key("queue:pending"), 0, 0, withscores=True)[0][1]
    # Late in a second: an age computed from a clock read in whole seconds
    # is off by most of a second here.
    at_second_fraction(0.85, 0.95)
    t0 = time.time()
    age = scrape(d).value("heinzel_oldest_pending_age_seconds")
    t1 = time.time()
    assert t0 - oldest_ms / 1000 - 0.05 <= age <= t1 - oldest_ms / 1000 + 0.05, \
        "age %r, expected %.3f..%.3f" % (age, t0 - oldest_ms / 1000,
            t1 - oldest_ms / 1000)


def test_metrics_while_redis_is_down(daemon, rdb):
    d = daemon
    before = scrape(d)
    assert before.value("heinzel_redis_up") == 1
    rdb.stop()
    try:
        assert wait_for(lambda: scrape(d).value("heinzel_redis_up") == 0, 10, 0.1), \
            "heinzel_redis_up still 1 with Redis stopped"
        # Still a valid scrape; depths it cannot read are left out, not 0.
        down = scrape(d)
        assert down.samples("heinzel_queue_depth") == []
        assert "heinzel_submissions_total" in down.families
    finally:
        rdb.start()
    assert wait_for(lambda: scrape(d).value("heinzel_redis_up") == 1, 15, 0.1), \
        "heinzel_redis_up not back to 1 after Redis came back"
    up = scrape(d)
    assert delta(before, up, "heinzel_redis_reconnects_total") >= 1
    assert up.value("heinzel_queue_depth", queue="pending") == \
        rdb.client.zcard(key("queue:pending"))


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_metrics_listen_serves_metrics_only(heinzeld):
    """Issue 5: /metrics also on an optional loopback metrics_listen, for a
    scraper that must not reach the comment API."""
    port = _free_port()
    d = heinzeld({"server": {"metrics_listen": "127.0.0.1:%d" % port}},
        shared=False)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    text = r.read().decode()
    assert r.status == 200, text
    m = parse_exposition(text)
    check_conventions(m)
    assert m.value("heinzel_redis_up") == 1
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/v1/comments", body=json.dumps(d.fields()),
        headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 404, "metrics_listen answers POST /v1/comments with %d" % r.status


def test_metrics_documented(daemon):
    """docs/metrics.md lists every metric heinzeld exports, with its type,
    and none it does not."""
    with open(os.path.join(SRCDIR, "docs", "metrics.md"), encoding="utf-8") as f:
        doc = f.read()
    rows = re.findall(r"^\| `(heinzel_[a-z_]+)` \| (\w+) \|", doc, re.M)
    documented = dict(rows)
    assert len(documented) == len(rows), "a metric documented twice"
    m = scrape(daemon)
    exported = {n: f.type for n, f in m.families.items()}
    assert documented == exported


# ---- load for 2. and 3. ----

BODIES = {
    "clean": CLEAN,
    "spam": "Kauft xyzzyspam jetzt",
    "marker": "Ein Wort wie quuxmarker zum Cache",
}


class Exchange:
    def __init__(self, kind, what, t_sent):
        self.kind = kind
        self.what = what
        self.t_sent = t_sent
        self.t_done = None
        self.status = None
        self.data = None
        self.body = None
        self.error = None

    def __repr__(self):
        return "<%s %s sent %.3f done %s: %s %s>" % (self.kind, self.what,
            self.t_sent, self.t_done, self.status,
            self.error if self.error else json.dumps(self.data)[:200])


class Load:
    """Threads that fetch a captcha and submit, again and again, recording
    every exchange.  Thread 0 keeps one connection open (keep-alive); the
    others connect per request."""

    def __init__(self, d, kinds, threads=4, stop_on_error=False):
        self.sock = d.socket
        self.kinds = kinds
        self.stop = threading.Event()
        self.stop_on_error = stop_on_error
        self.lock = threading.Lock()
        self.log = []
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
            for n in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self, timeout=30):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
            assert not t.is_alive(), "a load thread hangs"
        return self.log

    def _exchange(self, x, conn, method, url, body=None, headers=None):
        try:
            r = request(self.sock, method, url, body=body, headers=headers,
                conn=conn)
        except (OSError, http.client.HTTPException) as e:
            x.error = "%s: %s" % (type(e).__name__, e)
            x.t_done = time.monotonic()
            return None
        x.t_done = time.monotonic()
        x.status = r.status
        x.data = r.data
        return r

    def _run(self, n):
        conn = UnixHTTPConnection(self.sock) if n == 0 else None
        i = 0
        while not self.stop.is_set():
            kind = self.kinds[i % len(self.kinds)]
            i += 1
            x = Exchange(kind, "captcha", time.monotonic())
            with self.lock:
                self.log.append(x)
            r = self._exchange(x, conn, "GET", "/v1/captcha")
            if r is None or r.status != 200 or r.data is None:
                if conn is not None:
                    conn.close()
                if self.stop_on_error:
                    return
                continue
            fields = {
                "post": "ops-load",
                "author": "Lasttest %d" % n,
                "email": "last%d@example.org" % n,
                "body": "%s, Nr. %d-%d" % (BODIES[kind], n, i),
                "captcha_id": r.data["id"],
                "captcha_answer": str(solve(r.data["question"])[3]),
            }
            x = Exchange(kind, "submit", time.monotonic())
            x.body = fields["body"]
            with self.lock:
                self.log.append(x)
            r = self._exchange(x, conn, "POST", "/v1/comments",
                json.dumps(fields).encode(), {"Content-Type": "application/json"})
            if r is None:
                if conn is not None:
                    conn.close()
                if self.stop_on_error:
                    return


def is_pending(x):
    return x.status == 202 and isinstance(x.data, dict) and \
        x.data.get("status") == "pending" and HEX20.match(x.data.get("id", ""))


def is_spam(x):
    return x.status == 403 and isinstance(x.data, dict) and \
        x.data.get("error") == "spam" and HEX20.match(x.data.get("id", ""))


# ---- 2. SIGHUP under load ----

MARKER_RULE = 'rule OPS_MARKER body /quuxmarker/i score 10 "ops test marker"\n'


def test_sighup_under_load(heinzeld, rdb):
    d = heinzeld(shared=False)
    assert accepted(d.submit(body=BODIES["marker"] + " vorher"))
    loaded0 = scrape(d).value("heinzel_rules_loaded")
    load = Load(d, ("clean", "spam", "marker")).start()
    try:
        time.sleep(0.8)
        write_rules(d, "95-ops.rules", MARKER_RULE)
        t_sighup = time.monotonic()
        sighup_and_wait(d, "ok")
        t_on = time.monotonic()
        m = scrape(d)
        assert m.value("heinzel_rules_loaded") == loaded0 + 1
        assert m.value("heinzel_rules_last_reload_success") == 1
        assert_error(d.submit(body=BODIES["marker"] + " danach"), 403, "spam")

        time.sleep(0.8)
        write_rules(d, "96-broken.rules", "# line 1\nrule OPS_BROKEN body /(x/ score 1\n")
        sighup_and_wait(d, "failed")
        m = scrape(d)
        assert m.value("heinzel_rules_last_reload_success") == 0
        assert m.value("heinzel_rules_loaded") == loaded0 + 1
        assert_error(d.submit(body=BODIES["marker"] + " trotz Fehler"), 403, "spam")
        assert "96-broken.rules:2:" in d.log(), \
            "the failed reload is not logged with file:line"
        time.sleep(0.8)
    finally:
        log = load.finish()
    assert d.alive()

    bad = []
    for x in log:
        if x.what == "captcha":
            ok = x.status == 200
        elif x.kind == "clean":
            ok = is_pending(x)
        elif x.kind == "spam":
            ok = is_spam(x)
        elif x.t_sent > t_on:
            ok = is_spam(x)             # the new rule, kept by the bad reload
        elif x.t_done < t_sighup:
            ok = is_pending(x)          # the old rules
        else:
            ok = is_pending(x) or is_spam(x)
        if not ok:
            bad.append(x)
    assert bad == [], "%d of %d exchanges failed under SIGHUP, e.g. %r" % (
        len(bad), len(log), bad[:5])
    submits = [x for x in log if x.what == "submit"]
    assert len(submits) >= 30, "too little load to mean anything: %d" % len(submits)
    assert sum(1 for x in submits if x.kind == "marker" and x.t_sent > t_on) >= 3
    assert scrape(d).value("heinzel_rule_hits_total", rule="OPS_MARKER") >= 3

    # Fixed: the next reload succeeds again.
    os.unlink(os.path.join(d.rules_dir, "96-broken.rules"))
    sighup_and_wait(d, "ok")
    assert scrape(d).value("heinzel_rules_last_reload_success") == 1


def test_sighup_reloads_config_and_keeps_it_on_error(heinzeld, rdb):
    d = heinzeld(shared=False)
    assert_error(d.submit(body="xyzzyspam vorher"), 403, "spam")
    text = d.text.replace("reject_score = 6", "reject_score = 20")
    assert text != d.text
    with open(d.conf, "w") as f:
        f.write(text)
    sighup_and_wait(d, "ok")
    # TEST_SPAMWORD scores 10: over hold_score, now under reject_score.
    accepted(d.submit(body="xyzzyspam nachher"))

    with open(d.conf, "w") as f:
        f.write(text + "\n[rules]\nfrobnicate = 1\n")
    line = len((text + "\n[rules]\n").splitlines()) + 1
    sighup_and_wait(d, "failed")
    assert scrape(d).value("heinzel_rules_last_reload_success") == 0
    assert "heinzel.conf:%d:" % line in d.log(), \
        "the failed reload does not name heinzel.conf:%d" % line
    accepted(d.submit(body="xyzzyspam trotz Fehler"))
    assert d.get("/v1/health").status == 200


# ---- 3. SIGTERM ----

def _comments_by_body(rdb):
    out = {}
    for k in rdb.client.scan_iter(key("comment", "*"), count=1000):
        h = rdb.client.hgetall(k)
        if "body" in h:
            out[h["body"]] = h
    return out


def test_sigterm_under_load(heinzeld, rdb):
    timeout = 5
    d = heinzeld({"server": {"shutdown_timeout": str(timeout)}}, shared=False)
    load = Load(d, ("clean", "spam"), stop_on_error=True).start()
    try:
        time.sleep(1.0)
        # Hold Redis' writes for a moment, so that requests are in flight
        # (waiting on Redis) when the signal arrives.
        rdb.client.execute_command("CLIENT", "PAUSE", "1000", "WRITE")
        time.sleep(0.3)
        t_term = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(timeout + 2)
        except subprocess.TimeoutExpired:
            pytest.fail("heinzeld still running %d s after SIGTERM" % (timeout + 2))
        t_exit = time.monotonic()
        gone = not os.path.exists(d.socket)
    finally:
        log = load.finish()
        rdb.client.execute_command("CLIENT", "UNPAUSE")
    assert rc == 0, d.log()
    assert t_exit - t_term <= timeout, "exit %.1f s after SIGTERM" % (t_exit - t_term)
    assert gone, "the socket file is still there after exit"

    stored = _comments_by_body(rdb)
    bad = []
    for x in log:
        if x.what != "submit":
            continue
        if x.status is None:
            # No answer: it must have had no effect either.
            if x.body in stored:
                bad.append((x, "stored, but never answered"))
            continue
        if x.kind == "clean" and not is_pending(x) or \
                x.kind == "spam" and not is_spam(x):
            bad.append((x, "unexpected answer"))
            continue
        h = stored.get(x.body)
        want = "pending" if x.kind == "clean" else "spam"
        if h is None or h.get("id") != x.data["id"] or h.get("status") != want:
            bad.append((x, "Redis has %r" % h))
        elif rdb.client.zscore(key("queue:" + want), x.data["id"]) is None:
            bad.append((x, "not in queue:" + want))
    assert bad == [], "%d exchanges break the promise, e.g. %r" % (len(bad), bad[:5])
    answered = [x for x in log if x.status is not None]
    assert sum(1 for x in answered if x.what == "submit") >= 10, \
        "too little load to mean anything"
    drained = [x for x in answered if x.t_sent < t_term < x.t_done]
    assert drained, "no request was in flight at SIGTERM (nothing was drained)"


def test_sigterm_deadline_with_redis_stuck(heinzeld, rdb):
    d = heinzeld({"server": {"shutdown_timeout": "1"},
        "redis": {"timeout_ms": "20000"}}, shared=False)
    c = d.captcha()
    fields = d.fields(c)
    rdb.client.execute_command("CLIENT", "PAUSE", "8000", "WRITE")
    try:
        result = {}

        def post():
            try:
                result["r"] = d.post_json("/v1/comments", fields)
            except (OSError, http.client.HTTPException) as e:
                result["e"] = e
        t = threading.Thread(target=post, daemon=True)
        t.start()
        time.sleep(0.3)
        t_term = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(5)
        except subprocess.TimeoutExpired:
            pytest.fail("heinzeld ignores shutdown_timeout = 1 with a request stuck")
        elapsed = time.monotonic() - t_term
        t.join(5)
    finally:
        rdb.client.execute_command("CLIENT", "UNPAUSE")
    assert rc == 0, d.log()
    assert 0.8 <= elapsed <= 2.5, "exit %.1f s after SIGTERM" % elapsed
    assert not os.path.exists(d.socket)


def test_sigterm_does_not_wait_for_idle_connections(heinzeld):
    d = heinzeld({"server": {"shutdown_timeout": "10"}}, shared=False)
    conn = UnixHTTPConnection(d.socket)
    assert request(d.socket, "GET", "/v1/health", conn=conn).status == 200
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    rc = d.proc.wait(10)
    conn.close()
    assert rc == 0
    assert time.monotonic() - t0 < 2, "an idle keep-alive connection held the exit"
    assert not os.path.exists(d.socket)


def test_sigint_like_sigterm(heinzeld):
    d = heinzeld(shared=False)
    d.proc.send_signal(signal.SIGINT)
    assert d.proc.wait(10) == 0
    assert not os.path.exists(d.socket)


# ---- 4. logging ----

REQ_LINE = re.compile(r"\b(GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH) (/\S*) (\d{3})\b(.*)$")
LATENCY = re.compile(r"(?:^|\s)(?:latency=)?\d+(?:\.\d+)?(?:ms|s)(?:\s|$)")
STAMP = re.compile(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d")


def request_lines(text):
    return [l for l in text.splitlines() if REQ_LINE.search(l)]


def check_submission_line(line, cid, verdict, score):
    rest = REQ_LINE.search(line).group(4)
    assert re.search(r"\bid=%s\b" % cid, rest), "no id=%s in %r" % (cid, line)
    assert re.search(r"\bverdict=%s\b" % verdict, rest), \
        "no verdict=%s in %r" % (verdict, line)
    m = re.search(r"\bscore=(-?\d+(?:\.\d+)?)\b", rest)
    assert m, "no score=N in %r" % line
    assert float(m.group(1)) == pytest.approx(score, abs=0.05), line


def test_one_info_line_per_request(heinzeld, rdb):
    d = heinzeld({"log": {"level": "info"}})
    off = d.log_size()
    expect = []                         # (method, path, status)

    assert d.get("/v1/health").status == 200
    expect.append(("GET", "/v1/health", 200))
    cids = {}
    for name, body in (("clean", CLEAN + " (log)"),
            ("hold", "Ein plughhold Kommentar (log)"),
            ("spam", "Kauft xyzzyspam (log)")):
        r = d.submit(body=body)
        expect += [("GET", "/v1/captcha", 200), ("POST", "/v1/comments", r.status)]
        cids[name] = r.data["id"]
    c = d.captcha()
    assert_error(d.submit(c, captcha_answer=str(c["answer"] + 1)), 403, "captcha")
    expect += [("GET", "/v1/captcha", 200), ("POST", "/v1/comments", 403)]
    assert d.get("/nowhere").status == 404
    expect.append(("GET", "/nowhere", 404))
    time.sleep(0.1)

    lines = request_lines(d.log(off))
    got = [(m.group(1), m.group(2), int(m.group(3)))
        for m in (REQ_LINE.search(l) for l in lines)]
    assert got == expect, "request lines:\n" + "\n".join(lines)
    for line in lines:
        assert "[info]" in line, "not at info: %r" % line
        assert LATENCY.search(REQ_LINE.search(line).group(4)), \
            "no latency in %r" % line
    posts = [l for l in lines if " /v1/comments " in l]
    for line, name in zip(posts, ("clean", "hold", "spam")):
        h = rdb.client.hgetall(key("comment", cids[name]))
        check_submission_line(line, cids[name], name, float(h["score"]))


def test_no_email_address_in_log(heinzeld, rdb):
    d = heinzeld({"log": {"level": "info"}})
    off = d.log_size()
    addr = "ops.logcheck.7319@example.net"
    accepted(d.submit(email=addr, body=CLEAN + " (mail 1)"))
    assert_error(d.submit(email=addr, body="xyzzyspam (mail 2)"), 403, "spam")
    c = d.captcha()
    r = d.post_form("/v1/comments", d.fields(c, email=addr.upper(),
        body=CLEAN + " (mail 3)", return_to="https://blog.example.org/p"))
    assert r.status == 303, r
    time.sleep(0.1)
    text = d.log(off)
    assert request_lines(text), text
    for form in (addr, addr.upper(), addr.replace("@", "%40")):
        assert form.lower() not in text.lower(), "the e-mail address is in the log"


def test_journal_stream_lines(heinzeld, rdb, monkeypatch):
    """Under systemd: no timestamps, a <N> priority prefix on every line,
    also on the lines of a failed reload that name file:line."""
    d = heinzeld({"log": {"level": "info"}}, launch=False)
    monkeypatch.setenv("JOURNAL_STREAM", "8:4242")
    d.start()
    monkeypatch.delenv("JOURNAL_STREAM")
    accepted(d.submit(body=CLEAN + " (journal)"))
    write_rules(d, "96-broken.rules", "rule OPS_BROKEN body /(x/ score 1\n")
    sighup_and_wait(d, "failed")
    time.sleep(0.1)
    lines = [l for l in d.log().splitlines() if l.strip()]
    assert "<6>POST /v1/comments 202" in "\n".join(lines), lines
    bad = [l for l in lines if not re.match(r"<[0-7]>\S", l)]
    assert bad == [], "lines without a priority prefix: %r" % bad
    stamped = [l for l in lines if STAMP.search(l[:40])]
    assert stamped == [], "timestamps under JOURNAL_STREAM: %r" % stamped
    named = [l for l in lines if "96-broken.rules:1:" in l]
    assert named, "the failed reload does not name 96-broken.rules:1:"
    assert all(re.match(r"<[0-4]>", l) for l in named), \
        "the reload error is not at warning or above: %r" % named


# A private /dev/log: a mount namespace with its own /dev holding the
# devices heinzeld needs and a symlink to the test's datagram socket.
PRIVATE_DEV = r"""
set -e
orig=$1; sock=$2; shift 2
mount --bind /dev "$orig"
mount -t tmpfs -o mode=755 tmpfs /dev
for f in null zero random urandom; do
	touch "/dev/$f"
	mount --bind "$orig/$f" "/dev/$f"
done
ln -s "$sock" /dev/log
exec "$@"
"""


def _private_dev_cmd(tmp, sock, argv):
    orig = os.path.join(tmp, "dev")
    os.mkdir(orig)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
        PRIVATE_DEV, "sh", orig, sock] + argv


def test_syslog(heinzeld, rdb):
    tmp = tempfile.mkdtemp(prefix="heinzel-syslog-")
    try:
        sock = os.path.join(tmp, "log")
        probe = subprocess.run(_private_dev_cmd(tmp, sock, ["test", "-L", "/dev/log"]),
            capture_output=True, text=True) if shutil.which("unshare") else None
        if probe is None or probe.returncode != 0:
            pytest.skip("[log] syslog = yes: no syslog daemon to read from, and "
                "no private /dev/log (needs root and unshare --mount): %s"
                % (probe.stderr.strip() if probe else "no unshare"))
        shutil.rmtree(os.path.join(tmp, "dev"))
        rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        rx.bind(sock)
        rx.settimeout(0.5)
        d = heinzeld({"log": {"level": "info", "syslog": "yes"}}, launch=False)
        d.logf = open(d.logpath, "ab")
        d.proc = subprocess.Popen(_private_dev_cmd(tmp, sock,
            [HEINZELD, "-c", d.conf]), stdin=subprocess.DEVNULL,
            stdout=d.logf, stderr=subprocess.STDOUT)
        DAEMONS.append(d)
        d.wait_ready()
        cid = accepted(d.submit(body=CLEAN + " (syslog)"))
        write_rules(d, "96-broken.rules", "rule OPS_BROKEN body /(x/ score 1\n")
        sighup_and_wait(d, "failed")
        time.sleep(0.2)
        msgs = []
        while True:
            try:
                msgs.append(rx.recv(65536).decode("utf-8", "replace"))
            except socket.timeout:
                break
        rx.close()
        d.stop()
        entry = re.compile(r"<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d heinzeld\[(\d+)\]: (.*)$", re.S)
        parsed = []
        for msg in msgs:
            m = entry.match(msg)
            assert m, "not a syslog message from heinzeld: %r" % msg
            assert int(m.group(2)) == d.proc.pid
            parsed.append((int(m.group(1)), m.group(3)))
        daemon_info = 3 * 8 + 6
        posts = [p for p, t in parsed if t.startswith("POST /v1/comments 202")
            and "id=" + cid in t]
        assert posts == [daemon_info], parsed
        named = [p for p, t in parsed if "96-broken.rules:1:" in t]
        assert named, "the failed reload's file:line is not in syslog: %r" % parsed
        assert all(p & 7 <= 4 and p >> 3 == 3 for p in named), named
        assert request_lines(d.log()) == [], \
            "request lines on stderr with syslog = yes"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- 5. heinzeld -t ----

def test_config_test_good(heinzeld):
    # Redis need not be up for a check.
    d = heinzeld({"redis": {"address": "unix:/nonexistent/redis.sock"}}, launch=False)
    rc, out = d.check("-t")
    assert rc == 0, out
    assert re.search(r"^configuration OK\b", out, re.M), out
    assert not os.path.exists(d.socket)


def test_config_test_while_running(daemon):
    rc, out = daemon.check("-t")
    assert rc == 0 and "configuration OK" in out, out
    assert daemon.alive()
    assert daemon.get("/v1/health").status == 200


@pytest.mark.parametrize("what", ["rule", "key", "value", "missing"])
def test_config_test_bad(heinzeld, what):
    if what == "rule":
        d = heinzeld(rules={"50-bad.rules": "#\nrule BAD body /(x/ score 1\n"},
            launch=False)
        want = "50-bad.rules:2:"
    elif what == "key":
        d = heinzeld({"captcha": {"frobnicate": "1"}}, launch=False)
        want = "heinzel.conf:%d:" % (d.text.splitlines().index("frobnicate = 1") + 1)
    elif what == "value":
        d = heinzeld({"rules": {"hold_score": "lots"}}, launch=False)
        want = "heinzel.conf:%d:" % (d.text.splitlines().index("hold_score = lots") + 1)
    else:
        d = heinzeld(launch=False)
        os.unlink(d.conf)
        want = d.conf
    rc, out = d.check("-t")
    assert rc == 1, (rc, out)
    assert want in out, out
    assert "configuration OK" not in out, out
    assert not os.path.exists(d.socket)
