"""Packaging: `meson install --destdir` of the build under test, the
installed files where a package puts them, the systemd unit (checked by
systemd-analyze where there is one) and the Type=notify protocol the unit
relies on.
"""

import configparser
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import DAEMONS, HEINZELD, SRCDIR

BUILDDIR = Path(HEINZELD).parents[1]


def _options():
    with open(BUILDDIR / "meson-info" / "intro-buildoptions.json") as f:
        return {o["name"]: o["value"] for o in json.load(f)}


class Install:
    """The files of one `meson install --destdir`, by their final paths."""

    def __init__(self, destdir):
        self.destdir = destdir
        opts = _options()
        self.prefix = opts["prefix"]

        def final(name):
            return os.path.join(self.prefix, opts[name])
        self.sbindir = final("sbindir")
        self.bindir = final("bindir")
        self.sysconfdir = final("sysconfdir")
        self.mandir = final("mandir")
        self.confdir = os.path.join(self.sysconfdir, "heinzel")

    def path(self, final):
        """Where a file installed at FINAL is in the destdir."""
        return os.path.join(self.destdir, final.lstrip("/"))

    def find(self, pattern):
        """Final paths of the installed files matching a glob."""
        return sorted("/" + os.path.relpath(p, self.destdir)
            for p in glob.glob(os.path.join(self.destdir, "**", pattern),
                recursive=True))


@pytest.fixture(scope="module")
def installed():
    if not (BUILDDIR / "meson-private" / "install.dat").exists():
        pytest.skip("%s is not a meson build directory" % BUILDDIR)
    meson = shutil.which("meson")
    if meson is None:
        pytest.skip("meson is not on PATH")
    destdir = tempfile.mkdtemp(prefix="heinzel-install-")
    try:
        # The tests run after the build: install what is built, as it is.
        p = subprocess.run([meson, "install", "-C", str(BUILDDIR),
            "--no-rebuild", "--destdir", destdir],
            capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, "meson install failed:\n%s%s" % (
            p.stdout[-3000:], p.stderr[-3000:])
        yield Install(destdir)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)


def _executable(path):
    assert os.path.isfile(path), "%s is not installed" % path
    assert os.access(path, os.X_OK), "%s is not executable" % path


def test_binaries(installed):
    heinzeld = installed.path(os.path.join(installed.sbindir, "heinzeld"))
    _executable(heinzeld)
    _executable(installed.path(os.path.join(installed.bindir, "heinzelctl")))
    p = subprocess.run([heinzeld, "-V"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and re.match(r"^heinzeld \d+\.\d+", p.stdout), p


def test_config_and_rules(installed):
    conf = installed.path(os.path.join(installed.confdir, "heinzel.conf"))
    assert os.path.isfile(conf), "no heinzel.conf in %s" % installed.confdir
    rules = installed.path(os.path.join(installed.confdir, "rules"))
    src = sorted(os.path.basename(f)
        for f in glob.glob(os.path.join(SRCDIR, "rules", "*.rules")))
    assert src, "no rules in the source tree"
    assert sorted(os.listdir(rules)) == src

    # The installed file differs from etc/heinzel.conf in its paths only.
    with open(os.path.join(SRCDIR, "etc", "heinzel.conf")) as f:
        example = f.read()
    with open(conf) as f:
        text = f.read()
    assert text == example.replace("/etc/heinzel/", installed.confdir + "/")


def test_config_is_not_world_readable(installed):
    """Security review, also fix: the configuration may hold the SMTP and
    Redis passwords; it is installed 0640 (root:heinzel where that group
    exists)."""
    import grp
    import stat
    conf = installed.path(os.path.join(installed.confdir, "heinzel.conf"))
    st = os.stat(conf)
    assert stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)
    if os.geteuid() == 0:
        try:
            gid = grp.getgrnam("heinzel").gr_gid
        except KeyError:
            gid = None
        if gid is not None:
            assert (st.st_uid, st.st_gid) == (0, gid), st


def _conf(path):
    cp = configparser.ConfigParser(inline_comment_prefixes=("#", ";"),
        interpolation=None)
    cp.read(path)
    return cp


def test_installed_config_finds_installed_rules(installed, tmp_path):
    """heinzeld -t on the installed config, with / moved to the destdir."""
    conf = installed.path(os.path.join(installed.confdir, "heinzel.conf"))
    rules_dir = _conf(conf)["rules"]["dir"]
    assert rules_dir == os.path.join(installed.confdir, "rules")
    with open(conf) as f:
        text = f.read()
    moved = tmp_path / "heinzel.conf"
    moved.write_text(re.sub(r"(?m)^dir = .*$",
        "dir = " + installed.path(rules_dir), text))
    heinzeld = installed.path(os.path.join(installed.sbindir, "heinzeld"))
    p = subprocess.run([heinzeld, "-t", "-c", str(moved)], capture_output=True,
        text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("configuration OK"), p.stdout


def test_man_pages(installed):
    pages = ["man8/heinzeld.8", "man5/heinzel.conf.5", "man5/heinzel.rules.5"]
    if os.path.exists(os.path.join(SRCDIR, "docs", "heinzelctl.1")):
        pages.append("man1/heinzelctl.1")
    groff = shutil.which("groff")
    for page in pages:
        path = installed.path(os.path.join(installed.mandir, page))
        assert os.path.isfile(path), "%s is not installed" % page
        if groff is None:
            continue
        p = subprocess.run([groff, "-man", "-ww", "-z", path],
            capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and not p.stderr, "%s: %s" % (page, p.stderr)


def _unit(installed, name="heinzeld.service"):
    units = installed.find(name)
    assert len(units) == 1, "units installed: %r" % units
    return units[0]


def _unit_values(path):
    """{key: [values]} of a unit file (one section level is enough)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            k, _, v = line.partition("=")
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def test_unit_where_systemd_looks(installed):
    unit = _unit(installed)
    unitdir = os.path.dirname(unit)
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        p = subprocess.run([analyze, "unit-paths"], capture_output=True,
            text=True, timeout=30)
        if p.returncode == 0:
            assert unitdir in p.stdout.split(), \
                "%s is not in systemd's unit path:\n%s" % (unitdir, p.stdout)
            return
    assert re.search(r"/lib/systemd/system$", unitdir), unit


def test_unit_matches_the_installed_files(installed):
    v = _unit_values(installed.path(_unit(installed)))
    heinzeld = os.path.join(installed.sbindir, "heinzeld")
    conf = os.path.join(installed.confdir, "heinzel.conf")
    assert v["Type"] == ["notify"]
    assert v["ExecStart"] == ["%s -c %s" % (heinzeld, conf)]
    assert v["ExecStartPre"] == ["%s -t -c %s" % (heinzeld, conf)]
    assert "/bin/kill -HUP $MAINPID" in v["ExecReload"]

    # The socket of the default config is in the unit's runtime directory.
    sock = _conf(installed.path(conf))["server"]["socket"]
    assert os.path.dirname(sock) == "/run/" + v["RuntimeDirectory"][0]

    # The user it runs as is the one sysusers.d creates.
    users = installed.find("sysusers.d/heinzel.conf")
    assert len(users) == 1, users
    assert users[0].startswith(installed.prefix), users
    with open(installed.path(users[0])) as f:
        entries = [l.split() for l in f if l.strip() and not l.startswith("#")]
    assert ["u", v["User"][0]] in [e[:2] for e in entries], entries

    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges",
            "RestrictAddressFamilies", "SystemCallFilter"):
        assert key in v, "unit has no %s=" % key
    assert v["ProtectSystem"] == ["strict"]
    assert "MemoryDenyWriteExecute" not in v, "would break PCRE2's JIT"


def test_template_unit(installed):
    """heinzeld@SITE: the same service for /etc/heinzel/SITE.conf, beside
    the plain unit, with the runtime directory the instances share kept
    when one of them stops."""
    plain = _unit_values(installed.path(_unit(installed)))
    t = _unit(installed, "heinzeld@.service")
    assert os.path.dirname(t) == os.path.dirname(_unit(installed))
    v = _unit_values(installed.path(t))
    heinzeld = os.path.join(installed.sbindir, "heinzeld")
    conf = os.path.join(installed.confdir, "%i.conf")
    assert v["ExecStart"] == ["%s -c %s" % (heinzeld, conf)]
    assert v["ExecStartPre"] == ["%s -t -c %s" % (heinzeld, conf)]
    assert v["ExecReload"][0] == "%s -t -c %s" % (heinzeld, conf)
    assert v["RuntimeDirectory"] == plain["RuntimeDirectory"] == ["heinzel"]
    assert v["RuntimeDirectoryPreserve"] == ["yes"]
    assert plain["RuntimeDirectoryPreserve"] == ["no"]
    assert "%i" in v["Description"][0]
    # Everything else as in the plain unit: one source, one hardening.
    for key in set(plain) | set(v):
        if key not in ("ExecStart", "ExecStartPre", "ExecReload",
                "RuntimeDirectoryPreserve", "Description"):
            assert v.get(key) == plain.get(key), key


@pytest.mark.parametrize("name", ["heinzeld.service", "heinzeld@.service"])
def test_systemd_analyze_verify(installed, tmp_path, name):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = installed.path(_unit(installed, name))
    with open(unit) as f:
        text = f.read()
    # verify wants the programs it names to exist: use the destdir's.
    for d in sorted({installed.sbindir, installed.bindir}, key=len, reverse=True):
        text = text.replace(d + "/", installed.path(d) + "/")
    copy = tmp_path / name
    copy.write_text(text)

    # Documentation=man:... is checked with man(1): show it ours.
    env = dict(os.environ, MANPATH=installed.path(installed.mandir),
        SYSTEMD_LOG_COLOR="0", SYSTEMD_PAGER="")
    args = [analyze, "verify"]
    if shutil.which("man") is None:
        args.append("--man=no")
    p = subprocess.run(args + [str(copy)], capture_output=True, text=True,
        env=env, cwd=str(tmp_path), timeout=120)
    out = p.stdout + p.stderr
    ours = [l for l in out.splitlines() if "heinzel" in l]
    assert not ours, "systemd-analyze verify:\n" + out
    assert p.returncode == 0, "systemd-analyze verify exited %d:\n%s" % (
        p.returncode, out)


# ---- the Type=notify protocol ----

class NotifySocket:
    """The datagram socket systemd passes as NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def next(self, timeout=10):
        """The next message as {key: value}."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            raise AssertionError("no sd_notify message in %d s" % timeout)
        return dict(l.partition("=")[::2] for l in data.splitlines() if l)

    def close(self):
        self.sock.close()


def test_sd_notify_ready_reloading_stopping(heinzeld):
    d = heinzeld(launch=False)
    ns = NotifySocket(os.path.join(d.dir, "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=ns.path)
    d.logf = open(d.logpath, "ab")
    d.proc = subprocess.Popen([HEINZELD, "-c", d.conf], env=env,
        stdin=subprocess.DEVNULL, stdout=d.logf, stderr=subprocess.STDOUT)
    DAEMONS.append(d)
    try:
        # READY=1 only once the socket takes connections.
        m = ns.next()
        assert m.get("READY") == "1", m
        assert d.get("/v1/health").status in (200, 503)

        d.proc.send_signal(signal.SIGHUP)
        m = ns.next()
        assert m.get("RELOADING") == "1", m
        assert re.match(r"^\d+$", m.get("MONOTONIC_USEC", "")), m
        assert ns.next().get("READY") == "1"

        # A broken rules file: the reload fails, the daemon is ready again.
        with open(os.path.join(d.rules_dir, "99-broken.rules"), "w") as f:
            f.write("rule BROKEN body /(/ score 1\n")
        d.proc.send_signal(signal.SIGHUP)
        assert ns.next().get("RELOADING") == "1"
        assert ns.next().get("READY") == "1"

        d.proc.send_signal(signal.SIGTERM)
        assert ns.next().get("STOPPING") == "1"
        assert d.proc.wait(15) == 0
    finally:
        ns.close()
