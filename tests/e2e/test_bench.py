"""The benchmark tools run briefly against a real heinzeld and Redis.

Correctness only: each run must report non-zero throughput, no errors, and
exactly the comments it sent must be in Redis.  Nothing here is timed: a
slow machine passes.

HEINZEL_LOAD / HEINZEL_CEILING name the built tools; by default they sit
next to heinzeld's build directory (BUILD/bench/heinzel-load).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import HEINZELD, TAG

BENCH = Path(HEINZELD).resolve().parent.parent / "bench"
LOAD = os.environ.get("HEINZEL_LOAD") or str(BENCH / "heinzel-load")
CEILING = os.environ.get("HEINZEL_CEILING") or str(BENCH / "heinzel-ceiling")

# The load comes from few IP addresses and many e-mail addresses: flood
# control would (rightly) answer 429 to it.
NO_FLOOD = {"checks": {"flood_ip_limit": "0", "flood_email_limit": "0"}}

SPAM_CSV = '''COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS
a1,Anna,2024-01-01,"Thank you, this ""really"" helped.",0
a2,"Jonas, B.",2024-01-02,"Two lines
of praise, danke!",0
s1,Promo,2024-01-03,"xyzzyspam, buy now",1
s2,,2024-01-04,XYZZYSPAM cheap deals,1
'''


def _tool(path):
    if not os.access(path, os.X_OK):
        if os.environ.get("HEINZELD"):
            pytest.fail("%s is not built" % path)
        pytest.skip("%s is not built" % path)
    return path


def run_load(socket, *args, timeout=120):
    """heinzel-load -U socket --json args: (exit code, report, stderr)."""
    p = subprocess.run([_tool(LOAD), "-U", socket, "--json"] + list(args),
        stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    try:
        report = json.loads(out)
    except ValueError:
        raise AssertionError("heinzel-load printed no JSON report (rc %d):\n%s\n%s"
            % (p.returncode, out, err))
    return p.returncode, report, err


def assert_clean(rc, rep):
    """A run that worked: exit 0, some submissions, no error of any kind."""
    assert rep["errors"]["total"] == 0, rep
    assert rep["failed"] == 0, rep
    assert rep["submissions"] > 0, rep
    assert rep["submissions_per_s"] > 0, rep
    assert rep["requests_per_s"] > 0, rep
    assert rc == 0, rep
    lat = rep["latency_ms"]["submission"]
    assert lat["count"] == rep["submissions"], rep
    assert 0 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"], lat


def stored(rdb):
    """Comments in Redis by queue."""
    c = rdb.client
    return {s: c.zcard("%s:queue:%s" % (TAG, s))
        for s in ("pending", "approved", "spam", "rejected")}


def test_load_with_captcha_stores_every_submission(heinzeld, rdb):
    d = heinzeld(NO_FLOOD)
    rc, rep, err = run_load(d.socket, "-c", "4", "-d", "1.5")
    assert_clean(rc, rep)
    n = rep["submissions"]
    # Every submission is one captcha fetch and one post.
    assert rep["status"]["captcha"] == {"200": n}, rep
    assert rep["requests"] == 2 * n, rep
    assert rep["accepted"] + rep["spam"] == n, rep
    assert rep["status"]["post"].get("202", 0) == rep["accepted"], rep
    assert rep["status"]["post"].get("403", 0) == rep["spam"], rep
    q = stored(rdb)
    assert q["pending"] + q["approved"] == rep["accepted"], (q, rep)
    assert q["spam"] == rep["spam"], (q, rep)
    # Each captcha was used by its post: one used marker each.
    used = list(rdb.client.scan_iter(TAG + ":captcha:*", count=1000))
    assert len(used) == n, (len(used), n)


def test_load_without_captcha_runs_exact_count(heinzeld, rdb):
    d = heinzeld(dict(NO_FLOOD, captcha={"required": "no"}))
    rc, rep, err = run_load(d.socket, "-c", "4", "-n", "300", "--no-captcha")
    assert_clean(rc, rep)
    assert rep["submissions"] == 300, rep
    assert rep["status"]["captcha"] == {}, rep
    assert rep["requests"] == 300, rep
    q = stored(rdb)
    assert sum(q.values()) == 300, q


def test_load_csv_corpus_and_spam_share(heinzeld, rdb, tmp_path):
    """CLASS picks the comments; the test rules call the spam ones spam."""
    d = heinzeld(NO_FLOOD)
    csv = tmp_path / "corpus.csv"
    csv.write_text(SPAM_CSV, encoding="utf-8")
    rc, rep, err = run_load(d.socket, "-c", "2", "-n", "40",
        "--corpus", str(csv), "--spam-share", "1")
    assert_clean(rc, rep)
    assert rep["spam"] == 40 and rep["accepted"] == 0, rep

    rc, rep, err = run_load(d.socket, "-c", "2", "-n", "40",
        "--corpus", str(csv), "--spam-share", "0", "--lang", "en")
    assert_clean(rc, rep)
    assert rep["accepted"] == 40 and rep["spam"] == 0, rep
    # The quoted CSV fields arrive whole, quotes and line break included.
    bodies = [rdb.client.hget(k, "body")
        for k in rdb.client.scan_iter(TAG + ":comment:*", count=1000)]
    assert any(b.startswith('Thank you, this "really" helped. #') for b in bodies), bodies[:5]
    assert any(b.startswith("Two lines\nof praise, danke! #") for b in bodies), bodies[:5]


def test_load_open_loop_keeps_the_schedule(heinzeld, rdb):
    d = heinzeld(NO_FLOOD)
    rc, rep, err = run_load(d.socket, "-c", "4", "-r", "200", "-d", "1")
    assert_clean(rc, rep)
    assert rep["mode"] == "open", rep
    # 200/s for 1 s: starts at 0, 5, ..., 995 ms (the one at 1000 ms may
    # race the end); none may be lost.
    assert rep["submissions"] + rep["missed"] in (200, 201), rep


def test_load_refuses_a_remote_host():
    p = subprocess.run([_tool(LOAD), "-T", "192.0.2.1:80", "-n", "1"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    assert p.returncode == 2, p
    assert b"loopback" in p.stderr, p.stderr


def test_load_reports_a_dead_socket_as_errors(tmp_path):
    p = subprocess.run([_tool(LOAD), "-U", str(tmp_path / "nobody.sock"),
        "-c", "2", "-d", "0.5", "--json"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert p.returncode == 1, p
    rep = json.loads(p.stdout)
    assert rep["submissions"] == 0 and rep["errors"]["connect"] > 0, rep


def test_ceiling_redis_stores_comments(rdb):
    p = subprocess.run([_tool(CEILING), "redis", "-s", rdb.socket,
        "-n", "200", "-p", "16", "--json"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert p.returncode == 0, p
    rep = json.loads(p.stdout)
    assert rep["comments"] == 200 and rep["errors"] == 0, rep
    assert rep["comments_per_s"] > 0, rep
    assert rdb.client.zcard("{ceiling}:queue:pending") == 200


def test_ceiling_http_answers_the_load_generator():
    tmp = tempfile.mkdtemp(prefix="heinzel-ceiling-")
    sock = os.path.join(tmp, "null.sock")
    proc = subprocess.Popen([_tool(CEILING), "http", "-U", sock],
        stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.02)
        rc, rep, err = run_load(sock, "-c", "4", "-n", "500")
        assert_clean(rc, rep)
        assert rep["submissions"] == 500 and rep["accepted"] == 500, rep
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
