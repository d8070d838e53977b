"""The man pages against the programs: every heinzelctl command and option,
every heinzeld option and every configuration key the programs accept is
in its man page, and every one a man page names is accepted.  The
programs' side comes from the programs: `heinzelctl help` (its command
table), `heinzelctl help COMMAND`, `heinzeld --help` and `heinzeld -T`
(the configuration key table, defaults included).

Environment: HEINZELD, HEINZELCTL, HEINZEL_SRCDIR.
"""

import os
import re
import subprocess
import tempfile

import pytest

SRCDIR = os.environ.get("HEINZEL_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
HEINZELD = os.environ.get("HEINZELD") or os.path.join(
    SRCDIR, "build", "daemon", "heinzeld")
HEINZELCTL = os.environ.get("HEINZELCTL") or os.path.join(
    SRCDIR, "build", "cli", "heinzelctl")

LONG_OPT = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
SHORT_OPT = re.compile(r"(?<![\w-])-([a-zA-Z])\b")


def run(*argv):
    env = {k: v for k, v in os.environ.items() if k != "HEINZEL_CONF"}
    p = subprocess.run(list(argv), capture_output=True, text=True,
        timeout=30, env=env)
    assert p.returncode == 0, p
    return p.stdout


def man(name):
    """The page as text: roff escapes of '-' undone, fonts dropped."""
    with open(os.path.join(SRCDIR, "docs", name), encoding="utf-8") as f:
        text = f.read()
    text = text.replace("\\-", "-").replace("\\(dq", '"')
    return re.sub(r"\\f[BIRP]", "", text)


def section(text, name):
    m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH )" % re.escape(name), text,
        re.M | re.S)
    assert m, "no .SH %s" % name
    return m.group(1)


def tagged(text):
    """The first line after each .TP: what the paragraph is about."""
    return [m.group(1) for m in re.finditer(r"^\.TP\n(.*)$", text, re.M)]


def words(line):
    """The words of a roff line, macros and quotes dropped."""
    line = re.sub(r"^\.[A-Z]+\s*", "", line)
    return [w.strip('"') for w in line.split()]


# ---- heinzelctl ----

def ctl_commands():
    """Command names from the command table, as `heinzelctl help` lists
    them."""
    out = run(HEINZELCTL, "help")
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()
    # The summaries start in one column: the names are what is before it.
    col = re.match(r"^  \S+\s+", lines[0]).end()
    names = []
    for line in lines:
        assert line[:2] == "  " and line[col - 1] == " " and \
            line[col] != " ", (col, line)
        names.append(line[2:col].strip())
    assert "list" in names and "rules test" in names, names
    return names


def option_names(text):
    return {"--" + o for o in LONG_OPT.findall(text)} | \
        {"-" + o for o in SHORT_OPT.findall(text)}


def ctl_options():
    """Every option the help texts offer: global and per command."""
    opts = {}
    top = run(HEINZELCTL, "help")
    opts["(global)"] = option_names(top.split("Options:\n", 1)[1]
        .split("\n\n", 1)[0])
    for name in ctl_commands():
        if name == "help":
            continue
        text = run(HEINZELCTL, "help", *name.split())
        opts[name] = option_names(text)
    return opts


def test_heinzelctl_commands_match_the_man_page():
    page = man("heinzelctl.1")
    commands = set(ctl_commands())
    groups = {c.split()[0] for c in commands if " " in c}     # rules, ...
    documented = set()
    for line in tagged(section(page, "COMMANDS")):
        w = words(line)
        if not w or w[0].startswith("-"):
            continue
        name = w[0]
        if name in groups and len(w) > 1:
            name += " " + w[1]
        if name == "outbox" and len(w) > 1 and w[1] in ("retry", "drop"):
            continue            # subcommands of outbox, checked below
        documented.add(name)
    assert commands - documented == set(), \
        "commands missing in heinzelctl(1): %s" % sorted(commands - documented)
    assert documented - commands == set(), \
        "heinzelctl(1) names commands heinzelctl lacks: %s" % \
        sorted(documented - commands)


def test_heinzelctl_options_match_the_man_page():
    page = man("heinzelctl.1")
    in_page = option_names(page)
    offered = set()
    for where, opts in ctl_options().items():
        offered |= opts
        missing = opts - in_page
        assert not missing, "heinzelctl %s: %s missing in heinzelctl(1)" % (
            where, sorted(missing))
    extra = in_page - offered
    assert not extra, "heinzelctl(1) names options heinzelctl does not " \
        "offer: %s" % sorted(extra)


def test_heinzelctl_options_are_accepted():
    """What the help offers, getopt takes (not an unknown option)."""
    for where, opts in ctl_options().items():
        for opt in opts:
            if not opt.startswith("--") or where == "(global)":
                continue
            argv = [HEINZELCTL, "--redis", "unix:/nonexistent/redis.sock"] + \
                where.split() + [opt, "--help"]
            p = subprocess.run(argv, capture_output=True, text=True,
                timeout=30)
            assert "unknown option" not in p.stderr, (argv, p.stderr)


# ---- heinzeld ----

def test_heinzeld_options_match_the_man_page():
    offered = option_names(run(HEINZELD, "--help").split("\n\n", 1)[1]
        .split("Signals:", 1)[0])
    assert {"-c", "--config", "-t", "-h", "--help"} <= offered, offered
    page = man("heinzeld.8")
    opts = option_names(section(page, "OPTIONS"))
    synopsis = option_names(section(page, "SYNOPSIS"))
    assert offered - opts == set(), \
        "heinzeld options missing in heinzeld(8): %s" % sorted(offered - opts)
    assert opts - offered == set(), \
        "heinzeld(8) names options heinzeld lacks: %s" % sorted(opts - offered)
    short = {o for o in offered if len(o) == 2}
    assert short - synopsis == set(), "SYNOPSIS lacks %s" % \
        sorted(short - synopsis)


def test_heinzeld_default_config_path_matches_the_man_page():
    """heinzeld -h and heinzeld(8) name the same default file."""
    m = re.search(r"\(default (\S+)\)", run(HEINZELD, "--help"))
    assert m, "heinzeld -h names no default configuration file"
    path = m.group(1)
    page = man("heinzeld.8")
    assert os.path.dirname(path) in page or path in page, \
        "heinzeld(8) does not name %s" % path


# ---- heinzel.conf ----

def config_keys():
    """{(section, key): default} from heinzeld -T with an empty file."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write("[rules]\ndir = %s\n" % os.path.join(SRCDIR, "rules"))
        f.flush()
        out = run(HEINZELD, "-T", "-c", f.name)
    keys, sec = {}, None
    for line in out.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            sec = m.group(1)
            continue
        k, _, v = line.partition("=")
        keys[(sec, k.strip())] = v.strip().strip('"')
    assert len(keys) > 40, out
    return keys


def documented_keys():
    """{(section, key): default as the page shows it} from KEYS."""
    keys = {}
    for m in re.finditer(r"^\.SS \[(\w+)\]\n(.*?)(?=^\.S[SH] )",
            section(man("heinzel.conf.5"), "KEYS") + ".SH END\n",
            re.M | re.S):
        for line in tagged(m.group(2)):
            km = re.match(r'^\.BR? (\w+)(?: " \(empty\)"| " \(" (.*?) \)|'
                r' \((.*?)\))?\s*$', line)
            assert km, "heinzel.conf(5) [%s]: cannot read %r" % (
                m.group(1), line)
            default = km.group(2) if km.group(2) is not None else \
                km.group(3)
            keys[(m.group(1), km.group(1))] = default if default is not None \
                else ""
    return keys


def test_config_keys_match_the_man_page():
    code, page = config_keys(), documented_keys()
    missing = sorted("[%s] %s" % k for k in set(code) - set(page))
    extra = sorted("[%s] %s" % k for k in set(page) - set(code))
    assert not missing, "keys missing in heinzel.conf(5): %s" % missing
    assert not extra, "heinzel.conf(5) names keys heinzeld lacks: %s" % extra


def _norm(v):
    """A list's separators as one space, roff's quotes around a value with
    blanks dropped.  An empty `""` stays: the reader would see "()"."""
    v = v.strip()
    if len(v) > 2 and v[0] == v[-1] == '"':
        v = v[1:-1]
    return re.sub(r"[\s,]+", " ", v)


def test_config_defaults_match_the_man_page():
    code, page = config_keys(), documented_keys()
    wrong = []
    for k, shown in sorted(page.items()):
        if k not in code:
            continue
        dflt = code[k]
        if k == ("rules", "dir"):
            continue            # set by this test
        # The build's paths: the page shows /etc/heinzel, a build under
        # another prefix has its own.
        dflt = re.sub(r"^/.*?/etc/heinzel/", "/etc/heinzel/", dflt)
        if _norm(shown) != _norm(dflt):
            wrong.append("[%s] %s: page %r, heinzeld %r" % (k[0], k[1],
                shown, dflt))
    assert not wrong, "defaults that disagree:\n" + "\n".join(wrong)


def test_example_config_has_every_key():
    """etc/heinzel.conf shows every key (it is what people copy)."""
    with open(os.path.join(SRCDIR, "etc", "heinzel.conf")) as f:
        text = f.read()
    keys, sec = set(), None
    for line in text.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            sec = m.group(1)
        m = re.match(r"^(\w+) =", line)
        if m:
            keys.add((sec, m.group(1)))
    code = set(config_keys())
    assert code == keys, (sorted(code - keys), sorted(keys - code))


def test_cross_references_name_the_right_section():
    """heinzelctl(1), not heinzelctl(8): each of heinzel's pages as it is."""
    pages = {}
    for f in os.listdir(os.path.join(SRCDIR, "docs")):
        m = re.match(r"^(heinzel[\w.]*)\.(\d)$", f)
        if m:
            pages[m.group(1)] = m.group(2)
    assert {"heinzeld", "heinzelctl", "heinzel.conf"} <= set(pages), pages
    wrong = []
    for f in list(pages.items()):
        text = man("%s.%s" % f)
        for name, sec in re.findall(r"^\.BR (heinzel[\w.]*) \((\d)\)",
                text, re.M):
            if pages.get(name) != sec:
                wrong.append("%s.%s: %s(%s)" % (f[0], f[1], name, sec))
    assert not wrong, wrong


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
