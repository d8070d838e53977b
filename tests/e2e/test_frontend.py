"""Trusted frontends: [server] frontend_key_file, Authorization: Bearer.

Only a request with the key may skip the captcha (a logged-in user the
frontend vouches for) and train the classifier through POST /v1/learn;
socket access alone is not enough, since a web server may proxy a public
form straight to the socket.
"""

import json
import os
import signal
import time

from ctl_helpers import ctl_json
from helpers import assert_json, request, unique_body

KEY = "k" * 24 + "0123456789abcdef0123456789abcdef"
OTHER = "o" * 24 + "0123456789abcdef0123456789abcdef"


def with_key(key=KEY):
    def setup(d):
        path = os.path.join(d.dir, "frontend.key")
        with open(path, "w") as f:
            f.write(key + "\n")
        with open(d.conf, "a") as f:
            f.write("\n[server]\nfrontend_key_file = %s\n" % path)
        d.keyfile = path
    return setup


def post(d, url, body, ctype="application/json", auth=None):
    headers = {"Content-Type": ctype}
    if auth is not None:
        headers["Authorization"] = auth
    if isinstance(body, (dict, list)):
        body = json.dumps(body, ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode("utf-8")
    return request(d.socket, "POST", url, body=body, headers=headers)


def no_captcha(d, **kw):
    f = d.fields(**kw)
    del f["captcha_id"], f["captcha_answer"]
    return f


def test_key_skips_the_captcha_only_with_the_key(heinzeld, rdb):
    d = heinzeld(setup=with_key())
    # With the key and no question: stored.
    r = post(d, "/v1/comments", no_captcha(d), auth="Bearer " + KEY)
    assert r.status == 202, r.text
    # The same without a header: the captcha is required as always.
    r = post(d, "/v1/comments", no_captcha(d))
    assert r.status == 422 and assert_json(r)["field"] == "captcha_id", r.text
    # A wrong key, a key one byte short or long, another scheme: 401.
    for auth in ("Bearer " + OTHER, "Bearer " + KEY[:-1], "Bearer " + KEY + "x",
                 "Basic " + KEY, "Bearer", KEY):
        r = post(d, "/v1/comments", no_captcha(d), auth=auth)
        assert r.status == 401, (auth, r.text)
        assert assert_json(r)["error"] == "unauthorized"
        assert r.header("WWW-Authenticate") == 'Bearer realm="heinzel"'
    # With the key and a question, the question is checked.
    f = d.fields()
    f["captcha_answer"] = str(int(f["captcha_answer"]) + 1)
    r = post(d, "/v1/comments", f, auth="Bearer " + KEY)
    assert r.status == 403 and assert_json(r)["error"] == "captcha", r.text
    # The key is never in the log.
    assert KEY not in d.log()


def test_no_key_configured_trusts_nobody(heinzeld, rdb):
    d = heinzeld()
    r = post(d, "/v1/comments", no_captcha(d), auth="Bearer " + KEY)
    assert r.status == 401, r.text
    assert "frontend_key_file" in assert_json(r)["message"]
    r = post(d, "/v1/learn?as=ham", '{"body": "x"}\n', "application/x-ndjson",
             auth="Bearer " + KEY)
    assert r.status == 401, r.text


def lines(texts):
    return "".join(json.dumps({"body": t, "author": "A"}, ensure_ascii=False) + "\n"
                   for t in texts)


def test_learn_trains_the_classifier(heinzeld, rdb):
    d = heinzeld(setup=with_key())
    before = ctl_json(d, "learn", "--stats")
    ham = ["Danke für den Beitrag über den Garten, Nummer %d" % i for i in range(7)]
    spam = ["Replica Uhren billig kaufen im Luxus Shop %d" % i for i in range(5)]
    r = post(d, "/v1/learn?as=ham", lines(ham) + "\n\n{not json}\n{\"author\": \"no body\"}\n",
             "application/x-ndjson", auth="Bearer " + KEY)
    assert r.status == 200, r.text
    assert assert_json(r) == {"as": "ham", "learned": 7, "skipped": 2}
    r = post(d, "/v1/learn?as=spam", lines(spam), "application/x-ndjson",
             auth="Bearer " + KEY)
    assert assert_json(r) == {"as": "spam", "learned": 5, "skipped": 0}, r.text
    after = ctl_json(d, "learn", "--stats")
    assert after["ham"] == before["ham"] + 7
    assert after["spam"] == before["spam"] + 5
    metrics = d.get("/metrics").text
    assert 'heinzel_http_requests_total{route="learn",code="200"} 2' in metrics, metrics


def test_learn_refuses_without_the_key_and_bad_requests(heinzeld, rdb):
    d = heinzeld(setup=with_key())
    before = ctl_json(d, "learn", "--stats")
    for auth in (None, "Bearer " + OTHER):
        r = post(d, "/v1/learn?as=spam", lines(["x y z"]), "application/x-ndjson", auth=auth)
        assert r.status == 401, r.text
    r = post(d, "/v1/learn?as=maybe", lines(["x"]), "application/x-ndjson",
             auth="Bearer " + KEY)
    assert r.status == 422 and assert_json(r)["field"] == "as"
    r = post(d, "/v1/learn?as=ham", lines(["w %d" % i for i in range(1001)]),
             "application/x-ndjson", auth="Bearer " + KEY)
    assert r.status == 413, r.text
    r = request(d.socket, "GET", "/v1/learn")
    assert r.status == 405 and r.header("Allow") == "POST"
    assert ctl_json(d, "learn", "--stats") == before, "nothing learned"


def test_key_file_is_checked_and_reloaded(heinzeld, rdb):
    d = heinzeld(setup=with_key())
    # A short key is refused by heinzeld -t, without showing it.
    with open(d.keyfile, "w") as f:
        f.write("short\n")
    rc, out = d.check("-t")
    assert rc == 1 and "frontend_key_file" in out and "short" not in out, out
    # A reload with the bad file keeps the old key.
    d.proc.send_signal(signal.SIGHUP)
    d.wait_ready()
    r = post(d, "/v1/comments", no_captcha(d), auth="Bearer " + KEY)
    assert r.status == 202, r.text
    # A good new key takes over on reload.
    with open(d.keyfile, "w") as f:
        f.write(OTHER + "\n")
    d.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        r = post(d, "/v1/comments", no_captcha(d, body=unique_body()), auth="Bearer " + OTHER)
        if r.status == 202:
            break
        time.sleep(0.05)
    assert r.status == 202, r.text
    r = post(d, "/v1/comments", no_captcha(d), auth="Bearer " + KEY)
    assert r.status == 401
    # A missing file is an error at start.
    os.unlink(d.keyfile)
    rc, out = d.check("-t")
    assert rc == 1 and "No such file" in out, out
