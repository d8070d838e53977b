"""Personal data (docs/privacy.md): IPs and user agents gone after
[privacy] ip_keep, refused comments' addresses after refused_email_keep,
and `heinzelctl privacy export|erase` for one reader's address, checked by
scanning every key of Redis for the data in plain and in every hashed form
heinzel writes.
"""

import hashlib
import json
import random
import threading
import time

from conftest import TAG
from ctl_helpers import ctl, ctl_json, ctl_ok, key, outbox_undone
from lua_keys import KeysWatch, keys_only, script_source

ADMIN = "redaktion@blog.example.org"
IP = "203.0.113.77"
UA = "PrivacyProbe/4.2 (X11; Linux; rv:99)"
REFERRER = "https://search.example.com/?q=privacy-probe-referrer"


# ---- the hashes heinzel names keys by (lib/store.c) ----

def fnv(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def dup_key(post, body, kind, who=""):
    """{P}:dup:HASH of post NUL body NUL kind NUL who; kind "t", no who:
    the text's list of its writers (submit.lua)."""
    data = (post.encode() + b"\0" + body.encode() + b"\0" + kind.encode()
            + b"\0" + who.encode())
    return key("dup", "%016x" % fnv(data))


def sha1(s):
    return hashlib.sha1(s.encode()).hexdigest()


def email_forms(email, names=()):
    """The address in plain, lower case and every hash heinzel makes of it."""
    lower = email.lower()
    forms = {email, lower, sha1(lower), "%016x" % fnv(lower.encode())}
    for n in names:
        forms.add(sha1(lower + "\n" + n.lower()))
    return forms


def ip_forms(ip, ua, referrer=REFERRER):
    return {ip, ua, referrer, "%016x" % fnv(ip.encode())}


# ---- every string Redis holds ----

def dump(client):
    """[(key, text)]: each key's name and every string stored under it."""
    out = []
    for k in client.scan_iter(count=1000):
        out.append((k, k))
        t = client.type(k)
        if t == "string":
            out.append((k, client.get(k) or ""))
        elif t == "hash":
            for f, v in client.hgetall(k).items():
                out.append((k, f))
                out.append((k, v))
        elif t == "set":
            out.extend((k, m) for m in client.smembers(k))
        elif t == "zset":
            out.extend((k, m) for m, _ in client.zrange(k, 0, -1,
                withscores=True))
        elif t == "list":
            out.extend((k, v) for v in client.lrange(k, 0, -1))
        elif t == "stream":
            for _, fields in client.xrange(k):
                for f, v in fields.items():
                    out.append((k, f))
                    out.append((k, v))
        else:
            raise AssertionError("unexpected type %s of %s" % (t, k))
    return out


def find(client, needles, extra_keys=()):
    """Where any needle (case-insensitive) is in Redis, or a key exists."""
    low = [n.lower() for n in needles]
    hits = [(k, v) for k, v in dump(client)
            if any(n in v.lower() for n in low)]
    hits.extend((k, "exists") for k in extra_keys if client.exists(k))
    return hits


def wait_for(pred, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def comments_of(client):
    return {k: client.hgetall(k) for k in client.scan_iter(key("comment", "*"))}


# ---- retention ----

def test_ip_and_refused_email_expire(heinzeld_factory, rdb):
    d = heinzeld_factory({
        "privacy": {"ip_keep": "3s", "refused_email_keep": "4s"},
        "checks": {"flood_ip_limit": "1000", "flood_email_limit": "1000"},
        "notify": {"admin": ADMIN},
    }, shared=False)
    c = rdb.client
    kept = d.fields(ip=IP, user_agent=UA, email="kept@example.org",
        referrer=REFERRER)
    refused = d.fields(ip=IP, user_agent=UA, email="Refused@Example.org",
        body="Billig kaufen xyzzyspam " + str(random.random()))
    assert d.post_json("/v1/comments", kept).status == 202
    assert d.post_json("/v1/comments", refused).status == 403
    dups = [dup_key(f["post"], f["body"], "i", IP) for f in (kept, refused)]
    # The admin notification copies the IP (the relay is down: it waits).
    assert wait_for(lambda: any(c.hget(k, "ip") == IP
        for k in c.scan_iter(key("notification", "*"))), 10)

    # Before: the scan finds the IP, its hashes and the user agent.
    found = find(c, ip_forms(IP, UA), dups)
    where = {k for k, _ in found}
    assert any(":comment:" in k for k in where), found
    assert any(":notification:" in k for k in where), found
    assert any(":flood:ip:" in k for k in where), found
    assert set(dups) <= where, found
    before = comments_of(c)
    assert len(before) == 2
    refused_key = [k for k, h in before.items() if h["status"] == "spam"][0]
    notes_before = {k: c.hgetall(k) for k in c.scan_iter(key("notification", "*"))}

    # After ip_keep: no trace of the IP or the user agent, in any form,
    # and the janitor's runs touched no key outside their KEYS.
    with KeysWatch(rdb, "privacy_expire") as w:
        assert wait_for(lambda: not find(c, ip_forms(IP, UA), dups), 15), \
            find(c, ip_forms(IP, UA), dups)
    assert w.runs >= 2 and w.outside == [], w.outside
    # Nothing else went: every other field of the comments is there.
    after = comments_of(c)
    assert set(after) == set(before)
    for k, h in before.items():
        want = {f: v for f, v in h.items()
                if f not in ("ip", "user_agent", "referrer")}
        got = after[k]
        if k == refused_key:
            want.pop("email", None)
            got = {f: v for f, v in got.items() if f != "email"}
        assert got == want, (k, got, want)
    for k, h in notes_before.items():
        want = {f: v for f, v in h.items() if f not in ("ip", "user_agent")}
        got = {f: v for f, v in c.hgetall(k).items() if f in want}
        # The notifier may have counted a failed attempt meanwhile.
        for f in ("attempts", "due", "error", "failed_at"):
            want.pop(f, None)
            got.pop(f, None)
        assert got == want, (k, got, want)

    # After refused_email_keep: the spam comment's address is gone, the
    # pending comment keeps its own.
    gone = email_forms("Refused@Example.org", ["Anna Beispiel"])
    assert wait_for(lambda: not c.hexists(refused_key, "email"), 15)
    # (The address's flood counter and duplicate marker, hashes, live
    # their windows out: docs/privacy.md.)
    assert [k for k, v in find(c, gone) if k.startswith(key("comment", ""))
            or k.startswith(key("email", ""))] == []
    kept_key = [k for k, h in before.items() if h["status"] == "pending"][0]
    assert c.hget(kept_key, "email") == "kept@example.org"
    stats = c.hgetall(key("stats"))
    assert int(stats["privacy_ip_erased"]) >= 3
    assert int(stats["privacy_email_erased"]) == 1
    assert "erased the IP address and user agent" in d.log()


# ---- a reader's data ----

READER = "Reader.Person@Example.org"
READER_NAME = "Rita Leserin"
OTHER = "other.person@example.net"
OTHER_NAME = "Otto Anders"


def _submit(d, email, name, ip, body, post="privacy-post"):
    f = d.fields(email=email, author=name, ip=ip, user_agent=UA + name,
        body=body, post=post)
    r = d.post_json("/v1/comments", f)
    assert r.status in (202, 403), r
    return json.loads(r.body)["id"], f


def _people(d):
    """The reader: approved, pending and spam; the other: approved, pending."""
    ids, fields = {}, {}
    for who, email, name, ip in (("reader", READER, READER_NAME, IP),
                                 ("other", OTHER, OTHER_NAME, "198.51.100.9")):
        ids[who], fields[who] = [], []
        for i, body in enumerate(["Erster Kommentar von %s" % name,
                                  "Zweiter Kommentar von %s" % name,
                                  "xyzzyspam Werbung von %s" % name]):
            if who == "other" and i == 2:
                break
            cid, f = _submit(d, email, name, ip, body)
            ids[who].append(cid)
            fields[who].append(f)
        ctl_ok(d, "approve", ids[who][0])
    return ids, fields


def _forms(fields, email, name):
    needles = email_forms(email, [name]) | {f["body"] for f in fields}
    keys = []
    for f in fields:
        keys.append(dup_key(f["post"], f["body"], "t"))
        keys.append(dup_key(f["post"], f["body"], "e", email.lower()))
        keys.append(dup_key(f["post"], f["body"], "i", f["ip"]))
    return needles, keys


def test_export_lists_one_address_only(heinzeld_factory, rdb):
    d = heinzeld_factory({
        "notify": {"admin": ADMIN, "author_on_receipt": "yes"},
        "checks": {"flood_ip_limit": "1000", "flood_email_limit": "1000"},
    }, shared=False)
    ids, fields = _people(d)
    # Notifications are made from the outbox events.
    assert wait_for(lambda:
        len(list(rdb.client.scan_iter(key("notification", "*")))) >= 6, 10)

    # The script alone, given only its fixed keys: it names the reader's
    # comments and notifications and reads none of them (an ACL user
    # allowed only the keys given: reading any other fails).
    c = rdb.client
    lower = READER.lower()
    fixed = [key("stats"), key("email", sha1(lower)),
        key("receipt", sha1(lower)), key("known_authors"),
        key("outbox:retry"), key("outbox:dead"), key("privacy:refused"),
        key("privacy:notes")]
    need = keys_only(rdb, fixed).eval(script_source("privacy_subject"),
        len(fixed), *fixed, TAG + ":", "erase", READER, "*", "0")
    assert need[0] == "need" and {key("comment", i) for i in
        ids["reader"]} <= set(need[1:]), need
    # An erase that wants keys erases nothing.
    assert c.hget(key("stats"), "privacy_erased") is None
    assert all(c.exists(key("comment", i)) for i in ids["reader"])
    assert c.exists(key("email", sha1(lower)))

    with KeysWatch(rdb, "privacy_subject") as w:
        r = ctl(d, "privacy", "export", READER.upper())
    assert w.runs >= 3 and w.outside == [], w.outside
    assert r.rc == 0, r
    x = r.json
    assert sorted(c["id"] for c in x["comments"]) == sorted(ids["reader"])
    assert {c["status"] for c in x["comments"]} == {"approved", "pending", "spam"}
    assert all(c["email"] == READER for c in x["comments"])
    assert x["known_author"] == [sha1(READER.lower() + "\n" + READER_NAME.lower())]
    kinds = {n["kind"] for n in x["notifications"]}
    assert {"received", "admin"} <= kinds, x["notifications"]
    assert all(n["comment"] in ids["reader"] for n in x["notifications"])
    assert all("to" not in n for n in x["notifications"] if n["kind"] == "admin")
    hashed = {h["key"] for h in x["hashed_keys"]}
    # The text's list of writers (the IP goes in it: ip_keep is at least
    # twice duplicate_window).
    assert dup_key(fields["reader"][1]["post"], fields["reader"][1]["body"],
        "t") in hashed
    assert key("flood:email", "%016x" % fnv(READER.lower().encode())) in hashed
    assert key("receipt", sha1(READER.lower())) in hashed
    # Nothing of the other reader, nor of the admin.
    text = r.out.lower()
    for needle in email_forms(OTHER, [OTHER_NAME]) | {OTHER_NAME, ADMIN} | \
            {f["body"] for f in fields["other"]}:
        assert needle.lower() not in text, needle
    for cid in ids["other"]:
        assert cid not in text

    # An address with nothing stored: empty lists, exit 0.
    x = ctl_json(d, "privacy", "export", "nobody@example.org")
    assert x == {"comments": [], "notifications": [], "known_author": [],
                 "hashed_keys": []}
    assert ctl(d, "privacy", "export", "not-an-address").rc == 2


def test_same_words_of_two_readers(heinzeld_factory, rdb):
    """Two readers write the same words under one post: the text's list of
    writers holds both, an export shows only the reader's own entry, an
    erase takes only that and the other's repeat is still a duplicate."""
    d = heinzeld_factory({}, shared=False)
    c = rdb.client
    words = "Danke! " + str(random.random())
    ids = {}
    for who, ip in (("erste@example.org", "192.0.2.61"),
                    ("zweite@example.org", "192.0.2.62")):
        r = d.submit(body=words, email=who, ip=ip)
        assert r.status == 202, r
        ids[who] = r.data["id"]
    text = dup_key("hello-world", words, "t")
    assert sorted(c.get(text).split()[::3]) == sorted(ids.values())
    x = ctl_json(d, "privacy", "export", "erste@example.org")
    listed = [h for h in x["hashed_keys"] if h["key"] == text]
    assert len(listed) == 1 and listed[0]["value"].split()[0] == \
        ids["erste@example.org"], x["hashed_keys"]
    assert ids["zweite@example.org"] not in json.dumps(x)
    ttl = c.pttl(text)
    ctl_ok(d, "privacy", "erase", "erste@example.org", "--yes")
    assert c.get(text).split()[0] == ids["zweite@example.org"]
    assert ids["erste@example.org"] not in c.get(text)
    assert 0 < c.pttl(text) <= ttl
    r = d.submit(body=words, email="ZWEITE@example.org", ip="192.0.2.63")
    assert r.status == 409, r
    # Erased, the first reader may say it again.
    assert d.submit(body=words, email="erste@example.org",
        ip="192.0.2.64").status == 202


def test_erase_leaves_nothing_while_others_work(heinzeld_factory, rdb):
    d = heinzeld_factory({
        "notify": {"admin": ADMIN, "author_on_receipt": "yes"},
        "checks": {"flood_ip_limit": "1000", "flood_email_limit": "1000"},
        "moderation": {"auto_approve": "known_author"},
    }, shared=False)
    c = rdb.client
    ids, fields = _people(d)
    # A later comment of the known reader is approved at once.
    cid, f = _submit(d, READER, READER_NAME, IP, "Dritter Kommentar, gleich frei")
    assert c.hget(key("comment", cid), "status") == "approved"
    ids["reader"].append(cid)
    fields["reader"].append(f)
    assert wait_for(lambda: len(list(c.scan_iter(key("notification", "*")))) >= 8, 10)
    needles, dups = _forms(fields["reader"], READER, READER_NAME)
    needles |= ip_forms(IP, UA + READER_NAME)
    assert find(c, needles, dups), "the scan finds nothing to begin with"
    published = d.get("/v1/comments?post=privacy-post")
    assert READER_NAME in published.body.decode()
    other_before = ctl_json(d, "privacy", "export", OTHER)

    # Others submit and moderators act while the reader's data is erased.
    stop = threading.Event()
    errors = []

    def submitter(n):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                _submit(d, "busy%d@example.com" % n, "Busy %d" % n,
                    "192.0.2.%d" % (n + 1), "Beitrag %d-%d" % (n, i))
            except Exception as e:   # noqa: BLE001 - reported below
                errors.append(e)

    def moderator():
        while not stop.is_set():
            pending = c.zrange(key("queue", "pending"), 0, 5)
            for p in pending:
                if c.hget(key("comment", p), "email") == READER:
                    continue
                r = ctl(d, random.choice(["approve", "reject", "spam"]), p)
                if r.rc not in (0, 1):
                    errors.append(r)

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(2)]
    threads.append(threading.Thread(target=moderator))
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        with KeysWatch(rdb, "privacy_subject") as w:
            r = ctl(d, "privacy", "erase", READER.lower(), "--yes")
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:3]
    # It read, was asked for the comments' keys and theirs, and erased,
    # touching no key outside its KEYS.
    assert w.runs >= 4 and w.outside == [], w.outside
    assert r.rc == 0, r
    assert READER.lower() not in (r.out + r.err).lower()
    assert "Erased 4 comments" in r.out, r

    # No key, field, member or stream entry holds the address, its hashes,
    # the reader's texts, or a key named by a hash of them.
    assert find(c, needles, dups) == []
    for cid in ids["reader"]:
        assert not c.exists(key("comment", cid))
        for q in ("pending", "approved", "spam", "rejected"):
            assert c.zscore(key("queue", q), cid) is None
    published = d.get("/v1/comments?post=privacy-post")
    assert published.status == 200
    assert READER_NAME not in published.body.decode()
    assert OTHER_NAME in published.body.decode()
    # The other reader lost nothing.
    other_after = ctl_json(d, "privacy", "export", OTHER)
    assert [x["id"] for x in other_after["comments"]] == \
        [x["id"] for x in other_before["comments"]]
    assert other_after["known_author"] == other_before["known_author"]
    assert int(c.hget(key("stats"), "privacy_erased")) == 1

    # Again: nothing left to erase; without --yes and a terminal: refused.
    assert "Erased 0 comments" in ctl_ok(d, "privacy", "erase", READER,
        "--yes").out
    assert ctl(d, "privacy", "erase", OTHER).rc == 2
    assert ctl_json(d, "privacy", "export", OTHER)["comments"]


# ---- the paragraphs for a privacy policy ----

def _doc_paragraph(heading):
    """The quoted paragraph under heading in docs/privacy.md, on one line."""
    import os
    from conftest import SRCDIR
    with open(os.path.join(SRCDIR, "docs", "privacy.md"), encoding="utf-8") as f:
        text = f.read().split(heading + "\n", 1)[1]
    lines = []
    for line in text.lstrip("\n").splitlines():
        if not line.startswith(">"):
            break
        lines.append(line.lstrip("> ").strip())
    return " ".join(lines).replace("**", "")


def test_policy_paragraphs(heinzeld_factory):
    d = heinzeld_factory(launch=False)
    for lang, heading in (("de", "### Deutsch"), ("en", "### English")):
        out = ctl_ok(d, "privacy", "policy", "--lang", lang).out.strip()
        assert out == _doc_paragraph(heading)
    d = heinzeld_factory({"privacy": {"ip_keep": "12h",
                                      "refused_email_keep": "1d"},
                          "moderation": {"spam_keep_days": "0"}},
                         launch=False)
    out = ctl_ok(d, "privacy", "policy", "--lang", "de").out
    assert "löschen wir nach 12 Stunden." in out
    assert "löschen wir sie nach 1 Tag ab der Ablehnung." in out
    assert "Spam nach" not in out
    out = ctl_ok(d, "privacy", "policy", "--lang", "en").out
    assert "after 12 hours." in out and "1 day after the refusal." in out
    assert ctl(d, "privacy", "policy", "--lang", "fr").rc == 2


def test_comments_from_before_the_index(heinzeld_factory, rdb):
    """Comments stored before the e-mail index existed are indexed by the
    janitor's first runs: export and erase find them, and a refused one
    loses its address after refused_email_keep."""
    from ctl_helpers import insert
    # A janitor of an earlier test's daemon, running after the flush,
    # would write an index that ends before these comments.
    heinzeld_factory.stop_running()
    rdb.client.flushall()
    c = rdb.client
    old = [insert(rdb, email="Alt.Leser@example.org", age=86400 * i,
                  status=s, moderated_age=86400 * i)
           for i, s in ((3, "approved"), (2, "pending"), (40, "spam"))]
    other = insert(rdb, email="someone@example.org")
    c.sadd(key("known_authors"),
           sha1("alt.leser@example.org\n" + "dora direkt"))
    # The script alone, given only its ten fixed keys: it names the
    # comments it wants and writes nothing (an ACL user allowed only the
    # keys given: reading any other fails).
    fixed = [key("queue", q) for q in ("pending", "approved", "spam",
        "rejected")] + [key("privacy:ip_mark"), key("privacy:notes"),
        key("privacy:refused"), key("stats"), key("privacy:index"),
        key("known_authors")]
    now = int(time.time() * 1000)
    before = {k: c.dump(k) for k in c.keys("*")}
    need = keys_only(rdb, fixed).eval(script_source("privacy_expire"),
        len(fixed), *fixed, TAG + ":", str(now - 86400000),
        str(now - 20 * 86400000), "100", str(now))
    assert need[0] == "need" and sorted(need[1:]) == sorted(
        key("comment", i) for i in old + [other])
    assert {k: c.dump(k) for k in c.keys("*")} == before
    # The janitor asks again with the keys named, each run within its KEYS.
    with KeysWatch(rdb, "privacy_expire") as w:
        d = heinzeld_factory({"privacy": {"refused_email_keep": "20d"}},
            shared=False)
        def indexed():
            ix = c.hgetall(key("privacy:index"))
            return ix and ix["mark"] == ix["until"]
        assert wait_for(indexed, 10)
        assert wait_for(lambda: c.hget(key("comment", old[2]), "email")
            is None, 10)
    assert w.runs >= 3 and w.outside == [], w.outside
    x = ctl_json(d, "privacy", "export", "alt.leser@example.org")
    assert sorted(v["id"] for v in x["comments"]) == sorted(old[:2])
    assert len(x["known_author"]) == 1
    # The spam comment was refused 40 days ago: its address went.
    assert c.hget(key("comment", old[2]), "email") is None
    assert "Erased 2 comments, 0 notifications, 1 known-author entry" in \
        ctl_ok(d, "privacy", "erase", "alt.leser@example.org", "--yes").out
    assert find(c, email_forms("Alt.Leser@example.org", ["Dora Direkt"])) == []
    assert c.exists(key("comment", other))


# ---- over HTTP, for a trusted frontend (the WordPress plugin) ----

def test_http_export_and_erase_need_the_frontend_key(heinzeld_factory, rdb):
    from test_frontend import KEY, OTHER as OTHER_KEY, post, with_key
    d = heinzeld_factory({
        "notify": {"admin": ADMIN, "author_on_receipt": "yes"},
        "checks": {"flood_ip_limit": "1000", "flood_email_limit": "1000"},
    }, setup=with_key())
    c = rdb.client
    ids, fields = _people(d)
    # Every event expanded and every notification tried (the relay is
    # down: they wait a minute for the next try), so that both exports
    # below see the same notifications.
    assert wait_for(lambda: outbox_undone(c) == 0 and
        c.exists(key("outbox:seq")), 10)
    auth = "Bearer " + KEY
    body = {"email": READER.upper()}
    # Without the key, with another key: 401, nothing read or changed.
    for a in (None, "Bearer " + OTHER_KEY):
        for path in ("/v1/privacy/export", "/v1/privacy/erase"):
            r = post(d, path, body, auth=a)
            assert r.status == 401, r
    assert all(c.exists(key("comment", i)) for i in ids["reader"])
    # Bad input: 400, 422; GET: 405.
    assert post(d, "/v1/privacy/export", "{", auth=auth).status == 400
    assert post(d, "/v1/privacy/export", {"email": "nope"}, auth=auth).status == 422
    assert d.get("/v1/privacy/erase").status == 405

    r = post(d, "/v1/privacy/export", body, auth=auth)
    assert r.status == 200, r
    x = json.loads(r.body)
    assert sorted(v["id"] for v in x["comments"]) == sorted(ids["reader"])
    assert all(v["email"] == READER for v in x["comments"])
    assert OTHER.lower() not in r.body.decode().lower()
    assert x["known_author"]
    # The same as heinzelctl's, but for the comments' typing.
    y = ctl_json(d, "privacy", "export", READER)
    assert x["known_author"] == y["known_author"]
    assert [n["id"] for n in x["notifications"]] == \
        [n["id"] for n in y["notifications"]]

    r = post(d, "/v1/privacy/erase", body, auth=auth)
    assert r.status == 200, r
    assert json.loads(r.body)["comments"] == 3
    needles, dups = _forms(fields["reader"], READER, READER_NAME)
    assert find(c, needles, dups) == []
    assert all(c.exists(key("comment", i)) for i in ids["other"])
    log = d.log()
    assert "POST /v1/privacy/erase 200 comments=3" in log
    assert READER.lower() not in log.lower()


def test_http_policy(heinzeld_factory, rdb):
    d = heinzeld_factory({"privacy": {"ip_keep": "2d"}})
    r = d.get("/v1/privacy/policy?lang=de")
    assert r.status == 200
    x = json.loads(r.body)
    assert x["lang"] == "de" and "nach 2 Tagen." in x["text"]
    assert x["ip_keep_seconds"] == 172800
    assert x["text"] == ctl_ok(d, "privacy", "policy", "--lang", "de").out.strip()
    assert json.loads(d.get("/v1/privacy/policy?lang=en").body)["lang"] == "en"
    assert d.get("/v1/privacy/policy?lang=fr").status == 422


def test_index_walk_ends_where_heinzeld_started(heinzeld_factory, rdb):
    """On a Redis that never had the e-mail index, the walk of the comments
    stored before it ends where heinzeld started: the comments it stored
    itself before its first privacy run were indexed as they came and are
    not walked again."""
    def key(kind, name=None):
        return "{indexwalk}:" + kind + ("" if name is None else ":" + name)

    c = rdb.client
    started = int(time.time() * 1000)
    d = heinzeld_factory({"redis": {"prefix": "indexwalk"}}, shared=False)
    ids = []
    for i in range(5):      # before the janitor's first run, 2 s on
        r = d.post_json("/v1/comments", d.fields(
            email="frueh%d@example.org" % i))
        assert r.status == 202, r
        ids.append(json.loads(r.body)["id"])
    assert not c.exists(key("privacy:index"))
    assert wait_for(lambda: c.exists(key("privacy:index")), 10)
    ix = c.hgetall(key("privacy:index"))
    first = min(int(c.hget(key("comment", i), "created_at")) for i in ids)
    assert started <= int(ix["until"]) <= first, (ix, first)
    assert ix["mark"] == ix["until"]     # nothing before it to walk
    for i in range(5):
        assert c.smembers(key("email", sha1("frueh%d@example.org" % i))) \
            == {"c:" + ids[i]}


def test_two_daemons_expire_once(heinzeld_factory, rdb):
    """Several heinzeld on one Redis all run the janitor: each IP goes
    once, counted once, and nothing else is touched."""
    # A prefix of their own: the module's other daemons, still running,
    # would otherwise expand these comments' outbox events with their own
    # [notify] settings and add notification IPs to the count.
    conf = {"privacy": {"ip_keep": "2s", "refused_email_keep": "7d"},
            "checks": {"flood_ip_limit": "1000", "flood_email_limit": "1000"},
            "redis": {"prefix": "twodaemons"}}

    def key(kind, name=None):
        return "{twodaemons}:" + kind + ("" if name is None else ":" + name)

    a = heinzeld_factory(conf, shared=False)
    b = heinzeld_factory(conf, shared=False)
    c = rdb.client
    ids = []
    for i in range(30):
        d = (a, b)[i % 2]
        r = d.post_json("/v1/comments", d.fields(ip="198.51.100.%d" % (i + 1),
            user_agent=UA, email="viele%d@example.org" % i))
        assert r.status == 202, r
        ids.append(json.loads(r.body)["id"])
    assert wait_for(lambda: not any(c.hexists(key("comment", i), "ip")
                                    for i in ids), 15)
    assert int(c.hget(key("stats"), "privacy_ip_erased")) == 30
    for i in ids:
        h = c.hgetall(key("comment", i))
        assert h["status"] == "pending" and h["email"].startswith("viele")
        assert "user_agent" not in h
    assert find(c, {UA}) == []
