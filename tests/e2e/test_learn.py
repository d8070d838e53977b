"""Learning end to end: moderation trains the Bayes classifier through
heinzelctl, heinzeld then scores similar comments with BAYES_* rules."""

import json

from conftest import TAG
from ctl_helpers import ctl, ctl_json, ctl_ok
from helpers import assert_json

BAYES = {"bayes": {"min_spam": "5", "min_ham": "5"}}

SPAM = ["Billige Uhren Replica Rabatt jetzt bestellen Luxus Shop Nr %d",
        "Replica Luxus Uhren billig kaufen, Rabatt im Shop %d",
        "Luxus Replica Uhren mit Rabatt, billig im Shop bestellen %d"]
HAM = ["Danke für den Artikel über Tomaten im Frühling, bei mir wachsen sie %d",
       "Im Garten pflanze ich Tomaten erst nach den Eisheiligen, Beet %d",
       "Schöner Artikel, meine Tomaten im Garten danken es dir %d"]


def hits(rdb, cid):
    h = rdb.client.hgetall("%s:comment:%s" % (TAG, cid))
    return {t.split("=")[0]: float(t.split("=")[1]) for t in h["hits"].split()}, \
        float(h["score"])


def submit(d, body):
    r = d.submit(body=body)
    assert r.status == 202, r.text
    return assert_json(r)["id"]


def test_moderation_trains_and_bayes_scores(heinzeld, rdb):
    d = heinzeld(BAYES, shared=False)
    spam_ids = [submit(d, SPAM[i % 3] % i) for i in range(6)]
    ham_ids = [submit(d, HAM[i % 3] % i) for i in range(6)]
    before = hits(rdb, submit(d, "Replica Uhren billig, Luxus Rabatt im Shop 99"))
    assert not any(k.startswith("BAYES_") for k in before[0]), before

    ctl_ok(d, "spam", *spam_ids)
    ctl_ok(d, "approve", *ham_ids)
    st = ctl_json(d, "learn", "--stats")
    assert st["spam"] == 6 and st["ham"] == 6 and st["ready"] is True, st
    for cid in spam_ids[:1] + ham_ids[:1]:
        learned = rdb.client.hget("%s:comment:%s" % (TAG, cid), "learned")
        assert learned in ("spam", "ham"), learned

    # A fresh daemon asks the classifier at once (a running one re-checks
    # readiness every few seconds).
    d2 = heinzeld(BAYES, shared=False)
    spammy = hits(rdb, submit(d2, "Luxus Replica Uhren, Rabatt, billig im Shop 100"))
    hammy = hits(rdb, submit(d2, "Meine Tomaten im Garten wachsen, danke für den Artikel 101"))
    spam_rules = [k for k in spammy[0] if k.startswith("BAYES_")]
    ham_rules = [k for k in hammy[0] if k.startswith("BAYES_")]
    assert spam_rules and spammy[0][spam_rules[0]] > 0, spammy
    assert spammy[1] > before[1], (spammy, before)
    assert not ham_rules or hammy[0][ham_rules[0]] < 0, hammy

    # A rescue from spam untrains the spam and trains ham.
    ctl_ok(d, "approve", spam_ids[0])
    st = ctl_json(d, "learn", "--stats")
    assert (st["spam"], st["ham"]) == (5, 7), st
    assert rdb.client.hget("%s:comment:%s" % (TAG, spam_ids[0]), "learned") == "ham"


def test_learn_bulk_import(heinzeld, rdb, tmp_path):
    d = heinzeld(BAYES, shared=False)
    f = tmp_path / "spam.jsonl"
    f.write_text("\n".join(json.dumps({"body": SPAM[i % 3] % i}) for i in range(4))
                 + "\n" + "not json\n", encoding="utf-8")
    r = ctl(d, "learn", "--spam", str(f), "--json")
    assert r.rc == 1 and r.json == {"learned": 4, "skipped": 1}, r
    assert ":5: skipped" in r.err, r
    st = ctl_json(d, "learn", "--stats")
    assert st["spam"] == 4 and st["ham"] == 0 and st["ready"] is False, st
    assert st["tokens"] > 10, st


def csv_row(*cells):
    return ",".join('"%s"' % c.replace('"', '""') for c in cells)


def test_learn_csv_with_class_column(heinzeld, rdb, tmp_path):
    """The YouTube collection's layout: CONTENT and CLASS, quoted cells
    with commas, quotes and line breaks; labels from CLASS."""
    d = heinzeld(BAYES, launch=False)
    f = tmp_path / "labelled.csv"
    rows = ["COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS"]
    for i in range(3):
        rows.append(csv_row("s%d" % i, "Shop %d" % i, "2015-01-01",
            SPAM[i] % i, "1"))
        rows.append(csv_row("h%d" % i, "Leserin", "2015-01-01",
            'Zitat: "Tomaten", Zeile eins\nund %s' % (HAM[i] % i), "0"))
    f.write_text("\ufeff" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    r = ctl(d, "learn", str(f), "--json")
    assert r.rc == 0 and r.json == {"learned": 6, "skipped": 0}, r
    st = ctl_json(d, "learn", "--stats")
    assert (st["spam"], st["ham"]) == (3, 3), st
    # --spam overrides the column: every row is spam.
    r = ctl(d, "learn", "--spam", str(f))
    assert r.rc == 0 and r.out == "learned 6 comments as spam, skipped 0\n", r
    st = ctl_json(d, "learn", "--stats")
    assert (st["spam"], st["ham"]) == (9, 3), st


def test_learn_csv_names_the_line_of_a_malformed_row(heinzeld, rdb, tmp_path):
    d = heinzeld(BAYES, launch=False)
    f = tmp_path / "train.txt"          # not *.csv: --csv says it
    f.write_text("author,body,class\n"
        + csv_row("A", SPAM[0] % 1, "spam") + "\n"
        + csv_row("B", "zwei\nZeilen " + HAM[0] % 2, "ham") + "\n"
        + "C,three,fields,too many\n"                        # line 5
        + csv_row("D", HAM[1] % 3, "maybe") + "\n"           # line 6
        + csv_row("E", "", "1") + "\n"                       # line 7
        + "\n"
        + csv_row("F", HAM[2] % 4, "0") + "\n"               # line 9
        + csv_row("G", SPAM[1] % 5, "1") + "\n"             # line 10
        + 'H,"never closed,1\n',                             # line 11
        encoding="utf-8")
    r = ctl(d, "learn", "--csv", str(f), "--json")
    assert r.rc == 1 and r.json == {"learned": 4, "skipped": 4}, r
    err = r.err_lines()
    assert err[0] == ("heinzelctl: %s:5: skipped: 4 fields, the header has 3"
        % f), r
    assert err[1] == ("heinzelctl: %s:6: skipped: CLASS is not 1 (spam) or 0"
        " (ham)" % f), r
    assert err[2].startswith("heinzelctl: %s:7: skipped: body" % f), r
    assert err[3] == ("heinzelctl: %s:11: a quoted field is not closed; the "
        "rest of the file is not read" % f), r
    assert len(err) == 4, r
    st = ctl_json(d, "learn", "--stats")
    assert (st["spam"], st["ham"]) == (2, 2), st


def test_learn_csv_usage_and_header(heinzeld, rdb, tmp_path):
    d = heinzeld(BAYES, launch=False)
    f = tmp_path / "nolabel.csv"
    f.write_text("author,body\n%s\n" % csv_row("A", HAM[0] % 1),
        encoding="utf-8")
    r = ctl(d, "learn", str(f))
    assert r.rc == 1 and "nolabel.csv:1: the header names no CLASS" in r.err, r
    r = ctl(d, "learn", "--ham", str(f))
    assert r.rc == 0 and r.out.startswith("learned 1 comment as ham"), r
    g = tmp_path / "nobody.csv"
    g.write_text("author,text,class\nA,hallo,0\n", encoding="utf-8")
    r = ctl(d, "learn", str(g))
    assert r.rc == 1 and "nobody.csv:1: the header names no body" in r.err, r
    e = tmp_path / "empty.csv"
    e.write_bytes(b"\xef\xbb\xbf")
    r = ctl(d, "learn", "--ham", str(e))
    assert r.rc == 1 and "empty.csv:1: no header line" in r.err, r
    j = tmp_path / "x.jsonl"
    j.write_text('{"body": "x"}\n')
    r = ctl(d, "learn", str(j))
    assert r.rc == 2 and "--spam or --ham" in r.err and "x.jsonl" in r.err, r


def wxr_comment(content, approved, author="Leser", email="", url="",
                ctype="comment"):
    return ("\t\t<wp:comment>\n"
            "\t\t\t<wp:comment_author><![CDATA[%s]]></wp:comment_author>\n"
            "\t\t\t<wp:comment_author_email><![CDATA[%s]]></wp:comment_author_email>\n"
            "\t\t\t<wp:comment_author_url>%s</wp:comment_author_url>\n"
            "\t\t\t<wp:comment_content><![CDATA[%s]]></wp:comment_content>\n"
            "\t\t\t<wp:comment_approved><![CDATA[%s]]></wp:comment_approved>\n"
            "\t\t\t<wp:comment_type><![CDATA[%s]]></wp:comment_type>\n"
            "\t\t</wp:comment>\n") % (author, email, url, content, approved, ctype)


def wxr(*comments):
    """A WordPress export of our own: one post holding the comments; each
    comment is 8 lines, the first starting on line 8."""
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n'
            '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">\n'
            "<channel>\n"
            "\t<title>Gartenblog</title>\n"
            "\t<item>\n"
            "\t\t<title>Tomaten</title>\n"
            "\t\t<wp:post_type>post</wp:post_type>\n"
            + "".join(comments)
            + "\t</item>\n</channel>\n</rss>\n")


def test_learn_wordpress_export(heinzeld, rdb, tmp_path):
    """Approved comments are ham, spam is spam, the rest is left alone;
    a comment heinzeld would refuse is skipped and named by its line."""
    d = heinzeld(BAYES, launch=False)
    f = tmp_path / "gartenblog.wordpress.2026-12-01.xml"
    f.write_text(wxr(
        wxr_comment(HAM[0] % 1, "1", email="anna@example.org",
                    url="https://anna.example.org/"),
        wxr_comment(SPAM[0] % 2, "spam", author="Replica Uhren Shop",
                    url="https://uhren-shop.example.net/"),
        wxr_comment(HAM[1] % 3, "1", url="mein blog"),  # not a URL: left out
        wxr_comment(SPAM[1] % 4, "spam"),
        wxr_comment("Welche Tomatensorte mag Schatten?", "0"),   # pending
        wxr_comment("Gurken statt Tomaten, dachte ich", "trash"),
        wxr_comment("[...] Nachbarsgarten [...]", "1", ctype="pingback"),
        wxr_comment("Bestellung bezahlt", "1", ctype="order_note"),
        wxr_comment("", "1"),                           # line 72: no body
    ), encoding="utf-8")
    r = ctl(d, "learn", str(f), "--json")
    assert r.rc == 1 and r.json == {"learned": 4, "skipped": 1}, r
    err = r.err_lines()
    assert len(err) == 1 and err[0].startswith(
        "heinzelctl: %s:72: skipped: body: " % f), r
    st = ctl_json(d, "learn", "--stats")
    assert (st["spam"], st["ham"]) == (2, 2), st
    tokens = rdb.client.hkeys("%s:bayes:tokens" % TAG)
    assert "urlfield:host:uhren-shop.example.net" in tokens, tokens
    assert "author:replica" in tokens and "from:example.org" in tokens
    assert "urlfield:mein" not in tokens
    # Pending, trashed, pingback and order note: none of their words.
    for word in ("tomatensorte", "gurken", "nachbarsgarten", "bestellung"):
        assert word not in tokens, word

    # The same export on stdin, with --wxr.
    r = ctl(d, "learn", "--wxr", "-", input=f.read_text(encoding="utf-8"))
    assert r.rc == 1 and r.out.startswith("learned 4 comments as labelled, "
                                          "skipped 1"), r
    # --spam or --ham cannot relabel an export.
    r = ctl(d, "learn", "--ham", str(f))
    assert r.rc == 2 and "WordPress export" in r.err, r


def test_learn_wordpress_export_malformed(heinzeld, rdb, tmp_path):
    """A malformed export teaches nothing, not even the comments before
    the fault, and the error names its line."""
    d = heinzeld(BAYES, launch=False)
    good = wxr(wxr_comment(HAM[0] % 1, "1"), wxr_comment(SPAM[0] % 2, "spam"))
    cases = [
        # An unclosed comment: the end tag of the post comes first.
        ("unclosed.xml", good.replace("\t\t</wp:comment>\n", "", 2), 22,
            "mismatched tag"),
        # A bare ampersand outside CDATA, on line 11.
        ("amp.xml", good.replace("<wp:comment_author_url></wp:comment_author_url>",
            "<wp:comment_author_url>a & b</wp:comment_author_url>", 1),
            11, "not well-formed"),
        ("cut.xml", good[:good.index("<wp:comment_approved>")], 13,
            "no element found"),
        ("page.xml", "<html>\n<body>Export</body>\n</html>\n", 1, "not <rss>"),
        ("bomb.xml", '<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
            '<!ENTITY a "aaaaaaaaaaaaaaaa">\n]>\n<rss>&a;</rss>\n', 3,
            "declares entities"),
        ("empty.xml", "", 1, "no element found"),
    ]
    for name, text, line, what in cases:
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        r = ctl(d, "learn", str(f), "--json")
        assert r.rc == 1 and r.json == {"learned": 0, "skipped": 0}, (name, r)
        err = r.err_lines()
        assert len(err) == 1, (name, r)
        assert err[0].startswith("heinzelctl: %s:%d: " % (f, line)), (name, r)
        assert what in err[0] and err[0].endswith("; nothing learned from it"), \
            (name, r)
    st = ctl_json(d, "learn", "--stats")
    assert (st["spam"], st["ham"]) == (0, 0), st
    # The well-formed file after them still learns.
    f = tmp_path / "good.xml"
    f.write_text(good, encoding="utf-8")
    r = ctl(d, "learn", str(f), "--json")
    assert r.rc == 0 and r.json == {"learned": 2, "skipped": 0}, r
