"""Daemons and sites sharing one Redis.  Three heinzeld on one Redis behave
as one (captchas, request ids, flood counters, the outbox, also when one is
SIGKILLed); heinzeld and heinzelctl under the least-privilege ACL user
docs/scaling.md documents ([redis] user, password_file), a refused login,
and a second site's user that cannot touch the first site's keys.
"""

import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest
import redis

from conftest import HEINZELD, PREFIX, SRCDIR, TAG
from ctl_helpers import ctl, ctl_json, ctl_ok, submit
from helpers import assert_error
from test_notify import (ADMIN, DOMAIN, metric, notify_conf, own,  # noqa: F401
    smtp, wait_for)

SITE2 = "site2"


def acl_rules():
    """The ACL rules of docs/scaling.md's "user site1 ..." line, after the name."""
    with open(os.path.join(SRCDIR, "docs", "scaling.md")) as f:
        lines = [ln.strip() for ln in f if ln.strip().startswith("user site1 on ")]
    assert len(lines) == 1, "docs/scaling.md: one \"user site1 on\" line"
    return lines[0].split()[2:]


@pytest.fixture
def acl(rdb):
    """Users site1 (prefix test) and site2 (prefix site2) as documented;
    returns {user: password}."""
    c = rdb.client
    users = {"site1": ("s1-" + os.urandom(6).hex(), PREFIX),
             "site2": ("s2-" + os.urandom(6).hex(), SITE2)}
    for name, (pw, prefix) in users.items():
        rules = []
        for r in acl_rules():
            if r.startswith(">"):
                r = ">" + pw
            elif r == "~{site1}:*":
                r = "~{%s}:*" % prefix
            rules.append(r)
        c.execute_command("ACL", "SETUSER", name, "reset", *rules)
    c.execute_command("ACL", "LOG", "RESET")
    yield {name: pw for name, (pw, _) in users.items()}
    for name in users:
        c.execute_command("ACL", "DELUSER", name)


def pwfile(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text + "\n")
    return str(p)


def as_user(rdb, user, password):
    return redis.Redis(unix_socket_path=rdb.socket, username=user,
        password=password, decode_responses=True, socket_timeout=5)


def acl_denials(rdb):
    return rdb.client.execute_command("ACL", "LOG")


def test_acl_user_runs_a_site(own, rdb, smtp, acl, tmp_path):
    relay = smtp()
    conf = notify_conf(relay.port)
    conf["redis"] = {"user": "site1",
        "password_file": pwfile(tmp_path, "pw", acl["site1"])}
    d = own(conf)
    assert d.check("-t")[0] == 0

    # Captcha, submission, the moderators' mail, heinzelctl, the author's
    # mail when approved.
    cid = submit(d, body="plughhold " + os.urandom(4).hex(),
        email="anna@example.org")
    assert rdb.client.hget("%s:comment:%s" % (TAG, cid), "status") == "pending"
    [m] = relay.sink.wait(ADMIN)
    assert cid in m["Message-ID"]
    listed = ctl_json(d, "list")
    assert [c["id"] for c in listed] == [cid], listed
    ctl_ok(d, "approve", cid)
    assert rdb.client.hget("%s:comment:%s" % (TAG, cid), "status") == "approved"
    [a] = relay.sink.wait("anna@example.org")
    assert cid in a["Message-ID"]
    stats = ctl_json(d, "stats")
    assert stats, stats
    assert "heinzel_redis_up 1" in d.get("/metrics").text
    r = d.submit(body="xyzzyspam")
    assert r.status == 403, r
    # Nothing heinzel sent was refused.
    assert acl_denials(rdb) == []
    assert d.log().count("NOPERM") == 0
    assert acl["site1"] not in d.log()


def test_other_site_cannot_touch_keys(own, rdb, acl, tmp_path):
    d = own({"redis": {"user": "site1",
        "password_file": pwfile(tmp_path, "pw", acl["site1"])}})
    cid = submit(d)
    ckey = "%s:comment:%s" % (TAG, cid)
    other = as_user(rdb, "site2", acl["site2"])
    own_key = "{%s}:probe" % SITE2
    assert other.set(own_key, "1") and other.get(own_key) == "1"
    denied = [
        lambda: other.hgetall(ckey),
        lambda: other.hset(ckey, "status", "spam"),
        lambda: other.delete(ckey),
        lambda: other.get(TAG + ":stats"),
        lambda: other.zrange(TAG + ":queue:pending", 0, -1),
        lambda: other.keys("*"),
        lambda: other.flushall(),
        # A script declaring its own key but reaching for site1's.
        lambda: other.eval("return redis.call('HGETALL', ARGV[1])", 1,
            own_key, ckey),
    ]
    for i, op in enumerate(denied):
        with pytest.raises(redis.exceptions.ResponseError) as e:
            op()
        assert re.search(r"NOPERM|no permissions|can't access", str(e.value)), \
            (i, str(e.value))
    assert rdb.client.hget(ckey, "status") == "pending"
    other.close()

    # heinzelctl with site2's login on site1's prefix: refused, clearly.
    conf2 = tmp_path / "site2-on-site1.conf"
    text = re.sub(r"(?m)^user = site1$", "user = site2", d.text)
    text = re.sub(r"(?m)^password_file = .*$", "password_file = "
        + pwfile(tmp_path, "pw2", acl["site2"]), text)
    conf2.write_text(text)
    r = ctl(str(conf2), "list")
    assert r.rc != 0 and "NOPERM" in r.err and cid not in r.out, r


def test_refused_login(own, rdb, acl, tmp_path):
    wrong = "not-the-" + os.urandom(4).hex()
    path = pwfile(tmp_path, "pw", wrong)
    d = own({"redis": {"user": "site1", "password_file": path}}, wait=False)

    # heinzeld runs, says why at warning level, answers 503, retries.
    pat = re.compile(r"(\[warn\]: |<4>)redis: cannot reach \S+: Redis "
        r"refused the login as user site1: WRONGPASS.*\(check \[redis\] user "
        r"and password_file\); retrying")
    wait_for(lambda: pat.search(d.log()), what="the refused login logged")
    assert d.get("/v1/health").status == 503
    assert d.get("/v1/captcha").status == 503

    rc, out = d.check("-t")
    assert rc == 1, out
    assert "error: Redis at unix:%s: Redis refused the login as user site1: " \
        "WRONGPASS" % rdb.socket in out, out
    r = ctl(d, "list")
    assert r.rc != 0 and "refused the login as user site1" in r.err, r

    # The right password in the file: the next reconnect logs in, no restart.
    with open(path, "w") as f:
        f.write(acl["site1"] + "\n")
    d.wait_ready()
    assert "is reachable again" in d.log()
    assert d.alive()
    for text in (d.log(), out, r.err):
        assert wrong not in text and acl["site1"] not in text

    # A missing file: the same clear message for -t.
    os.unlink(path)
    rc, out = d.check("-t")
    assert rc == 1 and "password_file %s: No such file" % path in out, out


# ---- several daemons, one Redis ----

def pending_of(rdb, d):
    """Outbox entries delivered to d's consumer and not acknowledged."""
    name = "%s:%s" % (socket.gethostname(), d.socket)
    return rdb.client.xpending_range(TAG + ":outbox", "notify", "-", "+",
        1000, consumername=name)


def test_three_daemons_one_redis(own, rdb, smtp):
    relay = smtp()
    conf = notify_conf(relay.port, webhook_timeout="1", takeover_seconds="2")
    conf["smtp"]["timeout"] = "1"
    conf["checks"] = {"flood_ip_limit": "0", "flood_email_limit": "3",
        "flood_email_window": "600"}
    ds = [own(conf) for _ in range(3)]
    accepted = []
    answered = {d.socket: 0 for d in ds}    # 202s each daemon gave

    def one(i):
        """A captcha from one live daemon answered at the next; the same
        request again at the one after returns the stored id."""
        live = [d for d in ds if d.alive()]
        get, at, again = (live[(i + k) % len(live)] for k in range(3))
        f = at.fields(get.captcha(), email="reader%d@example.org" % (i // 3),
            request_id="load-%03d-%s" % (i, "0123456789abcdef"))
        r = at.post_json("/v1/comments", f)
        assert r.status == 202, r
        r2 = again.post_json("/v1/comments", f)
        assert r2.status == 202 and r2.data["id"] == r.data["id"], r2
        accepted.append(r.data["id"])
        answered[at.socket] += 1
        answered[again.socket] += 1

    # A slow relay keeps deliveries in flight, so the daemon killed below
    # (one holding entries: which ones read them is the group's choice)
    # dies holding outbox entries.
    relay.sink.delay = 0.3
    for i in range(12):
        one(i)
    holding = []

    def someone_holds():
        holding[:] = [d for d in ds if pending_of(rdb, d)]
        return holding
    wait_for(someone_holds, 5, what="an outbox entry in flight at a daemon")
    victim = holding[0]
    rest = [d for d in ds if d is not victim]
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(5)
    held = len(pending_of(rdb, victim))
    assert held > 0
    relay.sink.delay = 0
    for i in range(12, 24):
        one(i)

    # Flood limits count across daemons: reader0 has used its three.
    for d in rest:
        assert_error(d.submit(email="reader0@example.org"), 429,
            "rate_limited")

    # Every 202 stored once.
    assert len(set(accepted)) == 24
    keys = rdb.client.keys(TAG + ":comment:*")
    assert sorted(keys) == sorted("%s:comment:%s" % (TAG, c) for c in accepted)
    assert rdb.client.zcard(TAG + ":queue:pending") == 24

    # Every notification reaches the relay; the killed daemon's are taken
    # over by the others.  A mail the relay had accepted when its sender
    # died is sent again (SMTP has no way to ask): at most the entries it
    # held, and with the same Message-ID, by which a reader's mail
    # program folds them.
    want = {"<%s.admin@%s>" % (c, DOMAIN) for c in accepted}

    def all_sent():
        return want <= {m["Message-ID"] for m in relay.sink.mails(ADMIN)}
    wait_for(all_sent, 15, what="a mail for every comment")
    wait_for(lambda: not pending_of(rdb, victim), 5,
        what="the killed daemon's entries taken over")
    wait_for(lambda: rdb.client.xpending(TAG + ":outbox", "notify")
        ["pending"] == 0, 5, what="every outbox entry acknowledged")
    ids = [m["Message-ID"] for m in relay.sink.mails(ADMIN)]
    assert set(ids) == want
    assert len(ids) - len(want) <= held, (len(ids), held)
    assert any("notify: took over" in d.log() for d in rest)

    # Each daemon's /metrics counts what it answered; heinzelctl stats
    # counts what is in Redis: each notification sent once, however often
    # the relay saw it.
    for d in rest:
        assert metric(d, "heinzel_submissions_total", outcome="pending") == \
            answered[d.socket]
        assert metric(d, "heinzel_submissions_total",
            outcome="rate_limited") == 1
    stats = ctl_json(rest[0], "stats")
    assert stats["queues"]["pending"] == 24, stats
    assert stats["totals"]["notify_sent_mail"] == 24, stats
    assert sum(metric(d, "heinzel_notifications_total", channel="mail",
        result="sent") for d in rest) <= 24


# ---- one host, several sites (heinzeld@.service) ----

def unit_command(site, confdir):
    """heinzeld@SITE's ExecStart from the built template unit, with the
    build's heinzeld and confdir for the installed configuration dir."""
    unit = Path(HEINZELD).parents[1] / "etc" / "heinzeld@.service"
    with open(unit) as f:
        [line] = [l for l in f if l.startswith("ExecStart=")]
    argv = line.split("=", 1)[1].replace("%i", site).split()
    assert argv[0].endswith("/heinzeld") and argv[1] == "-c", argv
    assert os.path.basename(argv[2]) == site + ".conf", argv
    return [HEINZELD, "-c", os.path.join(confdir, site + ".conf")]


def test_two_sites_one_redis(heinzeld_factory, rdb, smtp, tmp_path):
    """Two sites on one host and one Redis, each heinzeld started as
    heinzeld@SITE starts it (SITE.conf, socket SITE.sock in the shared
    runtime directory, a prefix of its own): neither sees the other's
    comments, captchas, flood counters or notifications."""
    relay = smtp()
    confdir, rundir = tmp_path / "etc", tmp_path / "run"
    confdir.mkdir()
    rundir.mkdir()
    sites = {}
    for site in ("blog1", "blog2"):
        conf = notify_conf(relay.port, admin="editor@%s.example.org" % site)
        conf["redis"] = {"prefix": site}
        conf["server"] = {"socket": str(rundir / (site + ".sock"))}
        conf["checks"] = {"flood_email_limit": "1",
            "flood_email_window": "600"}
        d = heinzeld_factory(conf, launch=False)
        d.socket = conf["server"]["socket"]
        d.conf = str(confdir / (site + ".conf"))
        with open(d.conf, "w") as f:
            f.write(d.text)
        d.start(argv=unit_command(site, str(confdir)))
        sites[site] = d
    a, b = sites["blog1"], sites["blog2"]
    assert sorted(os.listdir(rundir)) == ["blog1.sock", "blog2.sock"]

    # A captcha of one site is unknown to the other.
    c = a.captcha()
    assert_error(b.submit(c), 403, "captcha")
    assert not rdb.client.exists("{blog2}:captcha:" + c["id"])

    # The same request_id and e-mail address at both: two comments, one per
    # site, and each site's flood counter its own (limit 1).
    ids = {}
    for site, d in sites.items():
        f = d.fields(d.captcha(), email="reader@example.org",
            request_id="same-request-0123456789abcdef")
        r = d.post_json("/v1/comments", f)
        assert r.status == 202, (site, r)
        ids[site] = r.data["id"]
    for d in sites.values():
        assert_error(d.submit(email="reader@example.org"), 429,
            "rate_limited")
    for site in sites:
        other = "blog2" if site == "blog1" else "blog1"
        assert rdb.client.hget("{%s}:comment:%s" % (site, ids[site]),
            "status") == "pending"
        assert not rdb.client.exists("{%s}:comment:%s" % (other, ids[site]))
    # Every key either site wrote is under its own prefix.
    for k in rdb.client.keys("*"):
        if "blog" in k:
            assert k.startswith(("{blog1}:", "{blog2}:")), k

    # heinzelctl of each site lists its own comment only.
    for site, d in sites.items():
        assert [x["id"] for x in ctl_json(d, "list")] == [ids[site]]

    # Each site's moderators get their own site's mail, once.
    for site in sites:
        [m] = relay.sink.wait("editor@%s.example.org" % site)
        assert ids[site] in m["Message-ID"]
    time.sleep(1.5)     # a notifier poll: nothing crosses over late
    for site in sites:
        mails = relay.sink.mails("editor@%s.example.org" % site)
        assert [m["Message-ID"] for m in mails] == \
            ["<%s.admin@%s>" % (ids[site], DOMAIN)], mails

    # One site stopping leaves the other's socket and service alone.
    assert a.stop() == 0
    assert sorted(os.listdir(rundir)) == ["blog2.sock"]
    assert b.get("/v1/health").status == 200


# ---- timers across daemons ----

def commands_on(rdb, needle):
    """Commands in Redis's SLOWLOG (logging every command, also those a
    script calls) that name needle."""
    out = []
    for e in rdb.client.slowlog_get(100000):
        cmd = e["command"]
        args = (cmd.decode() if isinstance(cmd, bytes) else cmd).split()
        if any(needle in a for a in args):
            out.append(args)
    return out


def scripts_on(rdb, first_key):
    """Scripts run (EVALSHA, EVAL) whose first key is first_key."""
    return [a for a in commands_on(rdb, first_key) if a[0].upper() in
        ("EVALSHA", "EVAL") and len(a) > 3 and a[3] == first_key]


def test_janitor_once_per_period(own, rdb):
    """Three heinzeld on one Redis: the purge of old spam and the pruning
    of the classifier, each a scan of a whole key, run once per period
    across them (the first to take {P}:lock:janitor), not once per daemon."""
    c = rdb.client
    old = (c.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"],
        c.config_get("slowlog-max-len")["slowlog-max-len"])
    c.config_set("slowlog-max-len", 100000)
    c.config_set("slowlog-log-slower-than", 0)
    c.slowlog_reset()
    try:
        ds = [own({"redis": {"prefix": "jan"}}) for _ in range(3)]
        started = time.monotonic()
        # Each janitor first looks 2 s after its start.
        wait_for(lambda: scripts_on(rdb, "{jan}:queue:spam"), 5,
            what="a purge")
        time.sleep(max(0, started + 3.5 - time.monotonic()))
        purges = scripts_on(rdb, "{jan}:queue:spam")
        prunes = scripts_on(rdb, "{jan}:bayes:tokens")
        locks = [a for a in commands_on(rdb, "{jan}:lock:janitor")
            if a[0].upper() == "SET"]
    finally:
        c.config_set("slowlog-log-slower-than", old[0])
        c.config_set("slowlog-max-len", old[1])
    assert len(purges) == 1, purges
    assert len(prunes) == 1, prunes
    assert len(locks) == 3, locks
    assert 590000 < c.pttl("{jan}:lock:janitor") <= 600000
    ran = [d for d in ds if "janitor: purge and prune" in d.log()]
    assert len(ran) == 1
    assert c.get("{jan}:lock:janitor").endswith(":%d" % ran[0].proc.pid)
    for d in ds:
        if d is not ran[0]:
            assert "another heinzeld purges and prunes" in d.log()
