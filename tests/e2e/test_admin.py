"""End to end: what a new admin meets first.  The log says why Redis is
out of reach and why a request was refused, heinzelctl scores as heinzeld
does, no mail leaves before a sender is configured, an approved comment
can be taken back, monitoring exit codes follow the plugin convention,
a reload compares with what runs, mails name the post, long options.
"""

import json
import re
import subprocess

import pytest

from conftest import HEINZELD
from ctl_helpers import (assert_state, ctl, ctl_json, ctl_ok, ctl_raw,
    one_line_error, submit)


def published(d, post="hello-world"):
    r = d.get("/v1/comments?post=" + post)
    assert r.status == 200, r
    return [c["id"] for c in r.data["comments"]]


# ---- an approved comment can be taken back ----

def test_unpublish_takes_an_approved_comment_back(daemon, rdb):
    a, b = submit(daemon), submit(daemon)
    ctl_ok(daemon, "approve", a, b)
    assert sorted(published(daemon)) == sorted([a, b])
    # reject stays a conflict on an approved comment, and says what to do.
    one_line_error(ctl(daemon, "reject", a), 1, "already approved",
        "heinzelctl unpublish %s" % a)
    r = ctl_ok(daemon, "unpublish", a)
    assert r.out.strip() == "%s: unpublished (was approved)" % a, r
    assert_state(rdb, a, "rejected")
    assert published(daemon) == [b]
    # Compare-and-set: only an approved comment is unpublished.
    one_line_error(ctl(daemon, "unpublish", a), 1, "already rejected")
    c = submit(daemon)
    one_line_error(ctl(daemon, "unpublish", c), 1, "already pending")
    assert_state(rdb, c, "pending")
    # --all selects approved comments.
    data = ctl_json(daemon, "unpublish", "--all", "--yes")
    assert [(x["id"], x["from"], x["to"]) for x in data["results"]] == \
        [(b, "approved", "rejected")], data
    assert published(daemon) == []
    # Unpublishing taught the classifier nothing.
    assert rdb.client.hget("{test}:comment:%s" % a, "learned") in (None, "ham")


# ---- long options ----

def test_long_options_work_as_the_short_ones(heinzeld):
    d = heinzeld(launch=False)
    for short, long_ in (("-h", "--help"), ("-V", "--version")):
        a = subprocess.run([HEINZELD, short], capture_output=True, text=True)
        b = subprocess.run([HEINZELD, long_], capture_output=True, text=True)
        assert a.returncode == 0 and b.returncode == 0, (a, b)
        assert a.stdout == b.stdout and a.stdout, (a, b)
        c, e = ctl_raw([short]), ctl_raw([long_])
        assert c.rc == 0 and e.rc == 0 and c.out == e.out and c.out, (c, e)
    rc, out = d.check("--test")
    assert rc == 0 and "configuration OK" in out, out
    p = subprocess.run([HEINZELD, "--config", d.conf, "--log-level", "warn",
        "-t"], capture_output=True, text=True)
    assert p.returncode == 0 and "configuration OK" in p.stdout, p
    assert "--help" in subprocess.run([HEINZELD, "-h"], capture_output=True,
        text=True).stdout


# ---- refusals say why in the log ----

def _request_line(d, offset, status):
    lines = [l for l in d.log(offset).splitlines()
             if "POST /v1/comments %d " % status in l]
    assert len(lines) == 1, d.log(offset)
    return lines[0]


def test_refusals_say_why_in_the_log(heinzeld):
    d = heinzeld({"captcha": {"min_solve_seconds": "30"},
                  "checks": {"flood_ip_limit": "2"}})
    ip = "203.0.113.9"
    off = d.log_size()
    c = d.captcha()
    r = d.submit(captcha=c, captcha_answer=str(c["answer"] + 1), ip=ip)
    assert r.status == 403, r
    assert re.search(r" 403 .*\bcaptcha=wrong\b", _request_line(d, off, 403))

    off = d.log_size()
    r = d.submit(ip=ip)
    assert r.status == 403 and r.data["error"] == "captcha", r
    assert re.search(r"\bcaptcha=too_fast\b", _request_line(d, off, 403))

    off = d.log_size()
    r = d.submit(email="kein-at-zeichen", ip=ip)
    assert r.status == 422, r
    assert re.search(r"\binvalid=email\b", _request_line(d, off, 422))

    off = d.log_size()
    r = d.submit(ip=ip)
    assert r.status == 429, r
    assert re.search(r"\brate_limited=ip\b", _request_line(d, off, 429))


# ---- Redis out of reach says why ----

def test_unreachable_redis_is_logged_at_warning_level(heinzeld_factory):
    from conftest import RedisServer, _wait
    srv = RedisServer()      # not started yet: its socket does not exist
    d = heinzeld_factory({"redis": {"address": "unix:" + srv.socket},
                          "log": {"level": "warn"}}, shared=False, wait=False)
    try:
        cause = "No such file or directory"
        assert _wait(lambda: cause in d.log(), 5), d.log()
        rc, out = d.check("-t")
        assert rc == 0 and "configuration OK" in out, out
        assert re.search(r"Redis at unix:\S+ cannot be reached: " + cause,
            out), out
        # Retried every few seconds at most, logged once while the cause
        # stays the same.
        import time
        time.sleep(1.5)
        lines = [l for l in d.log().splitlines() if cause in l]
        assert len(lines) == 1 and "[warn]" in lines[0], d.log()
        assert srv.socket in lines[0], lines
        srv.start()
        assert _wait(lambda: "reachable again" in d.log(), 10), d.log()
        d.wait_ready()
        rc, out = d.check("-t")
        assert rc == 0 and "cannot be reached" not in out, out
    finally:
        srv.cleanup()


# ---- reload compares with what runs ----

def _sighup_and_wait(d, n_reloaded):
    import signal
    from conftest import _wait
    d.proc.send_signal(signal.SIGHUP)
    assert _wait(lambda: d.log().count("reloaded:") +
                 d.log().count("reload failed") >= n_reloaded, 5), d.log()


def test_reload_compares_with_what_runs(heinzeld, tmp_path):
    d = heinzeld(shared=False)
    original = d.text
    moved = original.replace("socket_mode = 0600", "socket_mode = 0600\n"
        "metrics_listen = 127.0.0.1:1") \
        .replace("prefix = test", "prefix = other")
    assert moved != original
    with open(d.conf, "w") as f:
        f.write(moved)
    off = d.log_size()
    _sighup_and_wait(d, 1)
    warned = d.log(off)
    assert "[redis] prefix differs from the one in use" in warned, warned
    assert "[server] metrics_listen differs" in warned, warned
    assert "[server] socket differs" not in warned, warned
    # The file put back as it was: nothing to warn about any more.
    with open(d.conf, "w") as f:
        f.write(original)
    off = d.log_size()
    _sighup_and_wait(d, 2)
    assert "differs" not in d.log(off) and "restart" not in d.log(off), \
        d.log(off)
    assert d.submit().status == 202


def test_rule_errors_at_startup_are_errors(heinzeld):
    d = heinzeld(rules={"96-broken.rules": "rule BROKEN body /(/ score 1\n"},
        launch=False)
    p = subprocess.run([HEINZELD, "-c", d.conf], capture_output=True,
        text=True, timeout=10)
    assert p.returncode != 0, p
    lines = [l for l in p.stderr.splitlines() if "96-broken.rules:1:" in l]
    assert lines and all("[error]" in l for l in lines), p.stderr


# ---- stats as a monitoring plugin ----

PLUGIN_LINE = re.compile(r"^HEINZEL (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+"
    r"(?: \| pending=\d+;\d*;\d*;0 oldest=\d+s;\d*;\d*;0)?\n$")


def test_stats_is_a_monitoring_plugin(daemon, rdb, tmp_path):
    from ctl_helpers import insert
    insert(rdb, age=7200)
    submit(daemon)

    def check(*args):
        r = ctl(daemon, "stats", *args)
        assert PLUGIN_LINE.match(r.out), r
        return r

    r = check("--warn-pending", "5", "--crit-pending", "10")
    assert r.rc == 0 and r.out == ("HEINZEL OK - 2 pending, oldest 2h | "
        "pending=2;5;10;0 oldest=%ss;;;0\n" % r.out.split("oldest=")[1]
        .split("s;")[0]), r
    r = check("--warn-pending", "1", "--crit-pending", "10")
    assert r.rc == 1 and r.out.startswith("HEINZEL WARNING - pending 2 "
        "(more than 1) | pending=2;1;10;0 "), r
    r = check("--warn-pending", "1", "--crit-pending", "1")
    assert r.rc == 2 and "HEINZEL CRITICAL" in r.out, r
    # Durations wherever a time is asked.
    r = check("--warn-age", "1h", "--crit-age", "1d")
    assert r.rc == 1 and re.search(r"oldest=\d+s;3600;86400;0$", r.out), r
    r = check("--warn-age", "30m", "--crit-age", "90m")
    assert r.rc == 2 and "oldest pending" in r.out, r
    # A typo is UNKNOWN, not an outage.
    for args in (["--warn-pending", "many"], ["--crit-age", "soon"],
                 ["--bogus"]):
        r = check(*args)
        assert r.rc == 3 and r.out.startswith("HEINZEL UNKNOWN - "), r
    # So is a Redis that cannot be reached.
    conf = tmp_path / "down.conf"
    conf.write_text("[redis]\naddress = unix:%s\n" % (tmp_path / "none.sock"))
    r = ctl(str(conf), "stats", "--warn-pending", "5")
    assert r.rc == 3 and r.out.startswith("HEINZEL UNKNOWN - cannot reach "
        "Redis"), r
    # Without thresholds: the report for people, exit 0.
    r = ctl(daemon, "stats")
    assert r.rc == 0 and "QUEUE" in r.out, r


# ---- rules test scores as heinzeld does ----

def _stored_score(rdb, cid):
    h = rdb.client.hgetall("{test}:comment:%s" % cid)
    hits = sorted((x.split("=")[0], float(x.split("=")[1]))
                  for x in h.get("hits", "").split())
    return float(h["score"]), hits


def _tested_score(d, fields, *args):
    r = ctl(d, "rules", "test", "--json", *args, input=json.dumps(fields))
    assert r.rc == 0, r
    data = r.json
    return data, (data["total"],
        sorted((h["rule"], float(h["points"])) for h in data["hits"]))


def test_rules_test_scores_exactly_as_heinzeld(heinzeld, rdb, tmp_path):
    d = heinzeld({"bayes": {"min_spam": "1", "min_ham": "1"}}, shared=False,
        launch=False)
    # Trained before heinzeld asks the classifier for the first time.
    spam = tmp_path / "spam.jsonl"
    ham = tmp_path / "ham.jsonl"
    spam.write_text("".join(json.dumps({"body": "cheap viagra casino "
        "bonus jackpot winner %d" % i}) + "\n" for i in range(5)))
    ham.write_text("".join(json.dumps({"body": "Schöner Beitrag über den "
        "Garten und die Tomaten, danke %d" % i}) + "\n" for i in range(5)))
    ctl_ok(d, "learn", "--spam", str(spam))
    ctl_ok(d, "learn", "--ham", str(ham))
    d.start()

    links = " ".join("https://x%d.example/" % i for i in range(12))
    cases = {
        "links": {"body": "Schau mal: " + links},
        "honeypot": {"body": "Ganz harmlos.", "honeypot": "filled"},
        "bayes": {"body": "cheap viagra casino bonus jackpot winner"},
        "clean": {"body": "Schöner Beitrag über den Garten, danke"},
    }
    seen = {}
    for name, extra in cases.items():
        fields = d.fields(**extra)
        r = d.post_json("/v1/comments", fields)
        assert r.status in (202, 403), r
        assert r.status == 202 or r.data["error"] == "spam", r
        cid = r.data["id"]
        data, tested = _tested_score(d, fields)
        assert tested == _stored_score(rdb, cid), (name, data)
        seen[name] = data
    hit = {n: {h["rule"]: h["part"] for h in data["hits"]}
           for n, data in seen.items()}
    assert hit["links"].get("TOO_MANY_LINKS") == "checks", seen["links"]
    assert seen["links"]["verdict"] == "spam", seen["links"]
    assert seen["links"]["parts"]["checks"] == 6, seen["links"]
    assert hit["honeypot"].get("HONEYPOT") == "checks"
    assert seen["honeypot"]["verdict"] == "spam", seen["honeypot"]
    assert any(p == "bayes" for p in hit["bayes"].values()), seen["bayes"]
    assert seen["bayes"]["bayes"]["scored"] is True, seen["bayes"]

    # For people: which part gave which points.
    r = ctl_ok(d, "rules", "test", input=json.dumps(cases["links"]))
    assert re.search(r"^checks \+6$", r.out, re.M), r
    assert re.search(r"^\s+TOO_MANY_LINKS\s+\+6\s+12 links, more than "
        r"\[checks\] max_links 5$", r.out, re.M), r
    # A rule that counts matches scores once, and says so.
    r = ctl_ok(d, "rules", "test", "--no-bayes", input=json.dumps(
        {"body": "https://a.example/ https://b.example/ https://c.example/"}))
    line = [l for l in r.out.splitlines() if "MANY_LINKS" in l]
    assert line and "x3" not in line[0], r
    assert re.search(r"\+2 .*\(3 or more matches, scored once\)$", line[0]), r
    assert re.search(r"^bayes \+0 \(not asked: --no-bayes\)$", r.out, re.M), r


# ---- where is heinzelctl? ----

def test_heinzelctl_wrapper_finds_binary_and_configuration(daemon, rdb,
        tmp_path):
    import os
    import shutil
    from conftest import HEINZELCTL, SRCDIR
    from ctl_helpers import ctl_env
    # A checkout after scripts/run: build-run/ and var/heinzel.conf.
    top = tmp_path / "heinzel"
    (top / "build-run" / "cli").mkdir(parents=True)
    (top / "var").mkdir()
    shutil.copy(os.path.join(SRCDIR, "heinzelctl"), top / "heinzelctl")
    os.symlink(HEINZELCTL, top / "build-run" / "cli" / "heinzelctl")
    shutil.copy(daemon.conf, top / "var" / "heinzel.conf")
    cid = submit(daemon)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for argv in ([str(top / "heinzelctl"), "list"],
                 ["../heinzel/heinzelctl", "list"]):
        p = subprocess.run(argv, cwd=elsewhere, capture_output=True,
            text=True, env=ctl_env(), timeout=30)
        assert p.returncode == 0 and cid in p.stdout, p
    # Not built yet: says so.
    os.unlink(top / "build-run" / "cli" / "heinzelctl")
    p = subprocess.run([str(top / "heinzelctl"), "list"], capture_output=True,
        text=True, env=ctl_env(), timeout=30)
    assert p.returncode == 1 and "scripts/run" in p.stderr, p
    # What scripts/run prints and the README says is this wrapper.
    with open(os.path.join(SRCDIR, "scripts", "run")) as f:
        run = f.read()
    assert "\n  $top/heinzelctl list\n" in run
    with open(os.path.join(SRCDIR, "README.md")) as f:
        assert "./heinzelctl list" in f.read()
