"""Sites sharing one Redis: heinzeld and heinzelctl under the least-privilege
ACL user docs/scaling.md documents ([redis] user, password_file), a refused
login, and a second site's user that cannot touch the first site's keys.
"""

import os
import re
import time

import pytest
import redis

from conftest import PREFIX, SRCDIR, TAG
from ctl_helpers import ctl, ctl_json, ctl_ok, submit
from test_notify import ADMIN, notify_conf, own, smtp, wait_for  # noqa: F401

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
