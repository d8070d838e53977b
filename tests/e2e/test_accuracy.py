"""bench/accuracy runs the real scoring over labelled CSV files.

Correctness only, not the accuracy targets (docs/accuracy.md has those):
the report must add up, every rate must be a rate, and what it reads must
arrive the way a blog's form would have sent it.

ACCURACY names the built tool; by default it sits next to heinzeld's build
directory (BUILD/bench/accuracy).  The YouTube corpus is looked for in
HEINZEL_CORPUS or ../shared/data/youtube-spam beside the source tree.
"""

import csv
import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import HEINZELD, SRCDIR, TAG
from ctl_helpers import ctl

ACCURACY = os.environ.get("ACCURACY") or str(
    Path(HEINZELD).resolve().parents[1] / "bench" / "accuracy")
RULES = os.path.join(SRCDIR, "rules")
CORPUS = os.environ.get("HEINZEL_CORPUS") or os.path.join(
    SRCDIR, "..", "shared", "data", "youtube-spam")

HEADER = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"

# Three small "files" of comments, as exported with HTML in them.
FILES = {
    "a.csv": [
        ("Anna", "Thanks, the second example finally made it click &amp; "
                 "I&#39;ll try it tonight.\ufeff", 0),
        ("Jonas", "Schöner Artikel!<br />Bei mir hat das mit Debian 12 "
                  "funktioniert.", 0),
        ("Mia", "How did you get the &quot;reload&quot; to keep the old rules?", 0),
        ("Pills", "Buy cheap viagra online without prescription "
                  '<a href="http://pills.example.ru">http://pills.example.ru</a>', 1),
        ("Casino", "Best online casino: 200 free spins, no deposit bonus!", 1),
    ],
    "b.csv": [
        ("Ben", "I disagree with the point about caching, see my numbers below.", 0),
        ("Eva", "Wie hast du das Zertifikat eingebunden?", 0),
        ("Promo", "Check out my channel and subscribe, I subscribe back!", 1),
        ("Loans", "Kredit ohne Schufa, Sofortkredit in 24h &lt;3", 1),
    ],
    "c.csv": [
        ("Lena", "My grandmother used to make these every Christmas.", 0),
        ("Tom", "Typo in the third paragraph, otherwise a nice read.", 0),
        ("Cash", "Make money online from home, $500 per day! http://bit.ly/x1", 1),
    ],
}


def _tool():
    if not os.access(ACCURACY, os.X_OK):
        if os.environ.get("HEINZELD"):
            pytest.fail("%s is not built" % ACCURACY)
        pytest.skip("%s is not built" % ACCURACY)
    return ACCURACY


def _csv_field(s):
    return '"%s"' % s.replace('"', '""')


def write_files(tmp_path):
    paths = []
    for name, rows in FILES.items():
        lines = [HEADER]
        for i, (author, text, cls) in enumerate(rows):
            lines.append("%s%d,%s,2024-01-0%d,%s,%d\n" % (
                name[0], i, _csv_field(author), i + 1, _csv_field(text), cls))
        p = tmp_path / name
        p.write_text("".join(lines), encoding="utf-8")
        paths.append(str(p))
    return paths


def run(*args, timeout=120):
    p = subprocess.run([_tool()] + list(args), stdin=subprocess.DEVNULL,
        capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def run_json(*args):
    rc, out, err = run("--json", *args)
    assert rc == 0, err
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError("no JSON report:\n%s\n%s" % (out, err))


def assert_sane(rep, want_files):
    """Counts add up across files and thresholds; rates are rates."""
    assert [f["file"] for f in rep["files"]] == want_files
    for mode in ("rules", "bayes", "online"):
        spam = ham = 0
        tp = {"hold": 0, "reject": 0}
        fp = {"hold": 0, "reject": 0}
        for f in rep["files"]:
            t = f[mode]
            spam += t["spam"]
            ham += t["ham"]
            for at in ("hold", "reject"):
                a = t[at]
                assert a["tp"] + a["fn"] == t["spam"], (mode, f)
                assert a["fp"] + a["tn"] == t["ham"], (mode, f)
                for k in ("precision", "recall", "fp_rate"):
                    assert 0 <= a[k] <= 1, (mode, at, k, a)
                if t["spam"]:
                    assert a["recall"] == pytest.approx(a["tp"] / t["spam"])
                if t["ham"]:
                    assert a["fp_rate"] == pytest.approx(a["fp"] / t["ham"])
                tp[at] += a["tp"]
                fp[at] += a["fp"]
            # Whatever reaches reject_score reached hold_score too.
            assert t["reject"]["tp"] <= t["hold"]["tp"]
            assert t["reject"]["fp"] <= t["hold"]["fp"]
        o = rep["overall"][mode]
        assert (o["spam"], o["ham"]) == (spam, ham)
        for at in ("hold", "reject"):
            assert (o[at]["tp"], o[at]["fp"]) == (tp[at], fp[at])
    # Rules and checks alone see the same comments as with Bayes.
    for f in rep["files"]:
        for mode in ("bayes", "online"):
            assert f["rules"]["spam"] == f[mode]["spam"]
            assert f["rules"]["ham"] == f[mode]["ham"]
    for r in rep["rules"]:
        assert r["fp_reject"] <= r["fp_hold"] <= r["ham_hits"], r
        assert r["fp_reject_bayes"] <= r["fp_hold_bayes"] <= r["ham_hits"], r


def test_report_adds_up(tmp_path):
    paths = write_files(tmp_path)
    rep = run_json("--rules", RULES, *paths)
    assert_sane(rep, ["a.csv", "b.csv", "c.csv"])
    for f, name in zip(rep["files"], FILES):
        rows = FILES[name]
        assert f["rules"]["spam"] == sum(1 for r in rows if r[2])
        assert f["rules"]["ham"] == sum(1 for r in rows if not r[2])
    # The obvious spam is caught by the default rules, the readers are not.
    o = rep["overall"]["rules"]
    assert o["hold"]["tp"] >= 4, o
    assert o["reject"]["fp"] == 0, o
    assert rep["skipped"] == 0


def test_thresholds_and_rule_report(tmp_path):
    paths = write_files(tmp_path)
    rep = run_json("--rules", RULES, "--hold", "0.5", "--reject", "1000", *paths)
    o = rep["overall"]["rules"]
    assert o["hold"]["threshold"] == 0.5
    assert o["reject"]["tp"] == 0 and o["reject"]["fp"] == 0, o
    # A rule that hits every comment: its ham hits are the false positives.
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "10-all.rules").write_text(
        'rule EVERYTHING body /./ score 4 "hits every comment"\n')
    rep = run_json("--rules", str(rules), *paths)
    assert_sane(rep, ["a.csv", "b.csv", "c.csv"])
    hams = sum(1 for rows in FILES.values() for r in rows if not r[2])
    (r,) = [r for r in rep["rules"] if r["rule"] == "EVERYTHING"]
    assert r["ham_hits"] == hams and r["fp_hold"] == hams and r["fp_reject"] == 0
    assert rep["overall"]["rules"]["hold"]["fp_rate"] == 1


def test_text_arrives_as_typed(tmp_path):
    """Entities decoded, tags gone, the trailing U+FEFF dropped."""
    paths = write_files(tmp_path)
    rc, out, err = run("--rules", RULES, "--dump", *paths)
    assert rc == 0, err
    bodies = [line.split("\t")[-1] for line in out.splitlines()]
    assert len(bodies) == sum(len(r) for r in FILES.values())
    assert "Thanks, the second example finally made it click & I'll try it tonight." in bodies
    assert "Schöner Artikel! Bei mir hat das mit Debian 12 funktioniert." in bodies
    assert 'How did you get the "reload" to keep the old rules?' in bodies
    assert "Kredit ohne Schufa, Sofortkredit in 24h <3" in bodies
    assert ("Buy cheap viagra online without prescription "
            "http://pills.example.ru") in bodies
    assert not any("\ufeff" in b or "&amp;" in b or "<br" in b for b in bodies)


def test_bayes_scores_once_trained(tmp_path):
    """A handful of comments is too few for Bayes, unless told otherwise."""
    paths = write_files(tmp_path)
    rc, out, err = run("--rules", RULES, "--dump", *paths)
    assert rc == 0, err
    assert "BAYES_" not in out
    rc, out, err = run("--rules", RULES, "--dump", "--bayes-min", "1", *paths)
    assert rc == 0, err
    hits = [line.split("\t")[5] for line in out.splitlines()]
    assert any("BAYES_" in h for h in hits), out
    # At most one BAYES_* pseudo-rule a comment.
    assert all(h.count("BAYES_") <= 1 for h in hits), out


def test_learning_curve(tmp_path):
    """--curve: Bayes trained on the first N decisions of the other files."""
    paths = write_files(tmp_path)
    rep = run_json("--rules", RULES, "--bayes-min", "1", "--curve", "1,2,3,100",
                   *paths)
    assert [p["decisions"] for p in rep["curve"]] == [1, 2, 3, 100]
    sizes = {name: len(rows) for name, rows in FILES.items()}
    for point in rep["curve"]:
        n = point["decisions"]
        assert [f["file"] for f in point["files"]] == list(FILES)
        for f, name in zip(point["files"], FILES):
            others = [FILES[o] for o in FILES if o != name]
            # One comment of each other file in turn, each in its order.
            order = [rows[i] for i in range(max(map(len, others)))
                     for rows in others if i < len(rows)][:n]
            assert f["trained_spam"] == sum(1 for r in order if r[2]), (n, f)
            assert f["trained_ham"] == sum(1 for r in order if not r[2]), (n, f)
            assert f["spam"] + f["ham"] == sizes[name]
        o = point["overall"]
        for at in ("hold", "reject"):
            assert o[at]["tp"] == sum(f[at]["tp"] for f in point["files"])
            assert o[at]["fp"] == sum(f[at]["fp"] for f in point["files"])
    # All the other files learnt: the same as the "bayes" pass.
    for f, g in zip(rep["curve"][-1]["files"], rep["files"]):
        for at in ("hold", "reject"):
            assert f[at]["tp"] == g["bayes"][at]["tp"], (f, g)
            assert f[at]["fp"] == g["bayes"][at]["fp"], (f, g)
    # One decision is too few even for --bayes-min 1 (no ham yet): rules only.
    for f, g in zip(rep["curve"][0]["files"], rep["files"]):
        assert f["reject"]["tp"] == g["rules"]["reject"]["tp"]
    rc, out, err = run("--rules", RULES, "--curve", "50,100", *paths)
    assert rc == 0, err
    assert "learning curve" in out and "overall" in out.split("learning curve")[1]
    for bad in ("0", "100,50", "x", ",", "10,10"):
        rc, out, err = run("--rules", RULES, "--curve", bad, *paths)
        assert rc == 2 and "--curve" in err, (bad, err)


def test_text_report(tmp_path):
    paths = write_files(tmp_path)
    rc, out, err = run("--rules", RULES, *paths)
    assert rc == 0, err
    assert "overall" in out and "a.csv" in out


def test_usage_errors(tmp_path):
    paths = write_files(tmp_path)
    rc, out, err = run("--rules", RULES, paths[0])
    assert rc == 2 and "two files" in err
    rc, out, err = run("--rules", str(tmp_path / "nope"), *paths)
    assert rc == 1 and err
    rc, out, err = run("--slice", "x", *paths)
    assert rc == 2
    rc, out, err = run("--rules", RULES, paths[0], str(tmp_path / "missing.csv"))
    assert rc == 1 and "missing.csv" in err


def test_youtube_corpus_slice():
    """The real corpus, first 60 comments of each file."""
    files = sorted(Path(CORPUS).glob("*.csv")) if os.path.isdir(CORPUS) else []
    if len(files) < 2:
        pytest.skip("no corpus in %s" % CORPUS)
    rep = run_json("--rules", RULES, "--slice", "60", *map(str, files))
    assert_sane(rep, [f.name for f in files])
    for f in rep["files"]:
        assert f["rules"]["spam"] + f["rules"]["ham"] == 60, f


def as_typed(s):
    """The export's HTML undone, as bench/accuracy does it."""
    s = re.sub(r"<br\s*/?>", "\n", s, flags=re.I)
    s = re.sub(r"</?[a-z][^<>]*>", "", s)
    return html.unescape(s).rstrip("\ufeff \t\r\n")


def test_daemon_scores_as_the_harness(heinzeld, rdb, tmp_path):
    """From outside: heinzelctl learn on the other files, each held-out
    comment POSTed to heinzeld, its stored score read back.  The counts at
    hold and reject are the harness' with Bayes, and so is each score."""
    files = sorted(Path(CORPUS).glob("*.csv")) if os.path.isdir(CORPUS) else []
    if len(files) < 2:
        pytest.skip("no corpus in %s" % CORPUS)
    n = 120
    args = ["--rules", RULES, "--slice", str(n), "--bayes-min", "20"]
    rep = run_json(*args, *map(str, files))
    rc, out, err = run("--dump", *args, *map(str, files))
    assert rc == 0, err
    totals = {}                     # file: each comment's total with Bayes
    for line in out.splitlines():
        cols = line.split("\t")
        totals.setdefault(cols[0], []).append(float(cols[4]))
    rows = {}
    for f in files:
        with open(f, newline="", encoding="utf-8") as fh:
            rows[f] = [(as_typed(r["AUTHOR"]), as_typed(r["CONTENT"]),
                        int(r["CLASS"])) for r in csv.DictReader(fh)]
        rows[f] = [r for r in rows[f] if r[0] and r[1]][:n]
        with open(tmp_path / f.name, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["author", "body", "CLASS"])
            w.writerows(rows[f])
    d = heinzeld({"captcha": {"required": "no"},
                  "comments": {"duplicate_window": "0"},
                  "bayes": {"min_spam": "20", "min_ham": "20"},
                  "smtp": {"from": None}}, shared=False)
    for f, want in zip(files, rep["files"]):
        rdb.client.flushall()
        r = ctl(d, "learn", *[tmp_path / o.name for o in files if o != f])
        assert r.rc == 0, r
        got = {"hold": [0, 0], "reject": [0, 0]}     # [tp, fp]
        scores = []
        for author, body, spam in rows[f]:
            r = d.post_json("/v1/comments", {"post": f.stem, "author": author,
                "email": "leser@example.org", "body": body})
            assert r.status in (202, 403), r
            score = float(rdb.client.hget("%s:comment:%s" % (TAG, r.data["id"]),
                                          "score"))
            scores.append(score)
            for at, thr in (("hold", 3), ("reject", 6)):
                if score >= thr:
                    got[at][0 if spam else 1] += 1
        assert want["file"] == f.name
        assert scores == pytest.approx(totals[f.name]), f.name
        for at in ("hold", "reject"):
            assert got[at] == [want["bayes"][at]["tp"], want["bayes"][at]["fp"]], \
                (f.name, at, got, want["bayes"])
        assert want["bayes"]["hold"]["tp"] > want["rules"]["hold"]["tp"], want
