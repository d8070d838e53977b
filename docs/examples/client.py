#!/usr/bin/env python3
"""A blog frontend's side of heinzel, over heinzeld's Unix socket.

Python standard library only (http.client over AF_UNIX).  A frontend makes
two requests per comment:

 1. When it renders the comment form: GET /v1/captcha.  It shows
    "question" (or "question_text", for screen readers) to the reader and
    puts "id" into a hidden field of the form.
 2. When the form comes back: POST /v1/comments with the reader's fields,
    the captcha id, the reader's answer, and what heinzeld cannot see from
    behind the frontend: the reader's IP address, User-Agent and Referer.
    A request_id makes a retry safe: heinzeld stores one comment for it.

Approved comments of a post come from GET /v1/comments?post=POST.

As a command, the "reader" is the person at the terminal: the script asks
the question and reads the answer from standard input.  For tests,
--answer solve (or HEINZEL_EXAMPLE_ANSWER=solve) makes it compute the
answer itself.  A real frontend never does that: the reader answers, or
the captcha keeps no bot out.

usage:
    client.py [-s SOCKET] [options] BODY      submit a comment
    client.py [-s SOCKET] --list POST         print a post's approved comments

Prints one result line ("stored: id=... status=pending", "refused:
captcha ...", "unavailable: ...") and exits 0 when the comment was stored,
1 when it was refused, 2 on a usage error, 3 when heinzeld or its Redis
could not take it (after the retries).
"""

import argparse
import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse
import uuid

DEFAULT_SOCKET = "/run/heinzel/heinzel.sock"
TIMEOUT = 10


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 to heinzeld's Unix socket; the host name is only a label."""

    def __init__(self, path, timeout=TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


class Unavailable(Exception):
    """heinzeld is not there, or answered 503/429; retry_after in seconds."""

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def call(sock, method, path, payload=None):
    """One request; returns (status, parsed JSON body, headers dict)."""
    conn = UnixHTTPConnection(sock)
    headers = {"Accept": "application/json"}
    body = None
    if payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
    except OSError as e:
        # No socket (heinzeld stopped) or a dropped connection.
        raise Unavailable("heinzeld at %s: %s" % (sock, e))
    finally:
        conn.close()
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        data = {"error": "http", "message": raw.decode("utf-8", "replace")}
    if resp.status in (429, 503):
        raise Unavailable(data.get("message", "busy"),
            _retry_after(hdrs.get("retry-after")))
    return resp.status, data, hdrs


def _retry_after(value):
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def with_retries(fn, retries, max_wait=30):
    """Run fn(), waiting Retry-After and trying again on Unavailable."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except Unavailable as e:
            if attempt == retries:
                raise
            wait = e.retry_after if e.retry_after is not None else 2
            time.sleep(min(wait, max_wait))
    raise AssertionError("not reached")


def fetch_captcha(sock, lang=None):
    """{"id", "question", "question_text", "expires_in"}."""
    path = "/v1/captcha"
    if lang:
        path += "?" + urllib.parse.urlencode({"lang": lang})
    status, data, _ = call(sock, "GET", path)
    if status != 200:
        raise Unavailable("captcha: %d %s" % (status, data.get("message")))
    return data


def submit(sock, fields):
    """POST /v1/comments; returns (status, body).  Send the same fields,
    request_id included, to retry."""
    status, data, _ = call(sock, "POST", "/v1/comments", fields)
    return status, data


def approved_comments(sock, post):
    path = "/v1/comments?" + urllib.parse.urlencode({"post": post})
    status, data, _ = call(sock, "GET", path)
    if status != 200:
        raise Unavailable("list: %d %s" % (status, data.get("message")))
    return data["comments"]


def solve_for_tests(question):
    """TEST MODE ONLY: compute the answer of "6 + 1 =".  A real frontend
    shows the question and lets the reader answer it."""
    m = re.match(r"^(\d+) ([+\-\u00d7]) (\d+) =$", question)
    if not m:
        raise ValueError("unexpected question %r" % question)
    a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
    return str(a + b if op == "+" else a - b if op == "-" else a * b)


def ask_reader(captcha, answer):
    """The reader's answer; in a web page, the form field they filled in."""
    if answer == "solve":
        return solve_for_tests(captcha["question"])
    if answer is not None:
        return answer
    sys.stderr.write("%s  (%s)  " % (captcha["question"], captcha["question_text"]))
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.exit("no answer given")
    return line.strip()


def explain(status, data):
    """The result line for a refusal; what a frontend shows the reader."""
    err = data.get("error", "http")
    msg = data.get("message", "")
    if status == 403 and err == "captcha":
        # Show the form again, with the reader's text, and a new question.
        return "refused: captcha: %s" % msg
    if status == 403 and err == "spam":
        # Kept in the spam folder for review: tell the reader it waits.
        return "refused: spam id=%s: %s" % (data.get("id", ""), msg)
    if status == 422:
        # Show the form again and mark the field.
        return "refused: invalid field=%s: %s" % (data.get("field", ""), msg)
    if status == 409:
        return "refused: duplicate: %s" % msg
    return "refused: %s status=%d: %s" % (err, status, msg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-s", "--socket",
        default=os.environ.get("HEINZEL_SOCKET", DEFAULT_SOCKET))
    ap.add_argument("--answer", default=os.environ.get("HEINZEL_EXAMPLE_ANSWER"),
        help="the captcha answer; 'solve' computes it (tests only); "
        "default: ask on the terminal")
    ap.add_argument("--lang", choices=("de", "en"))
    ap.add_argument("--post", default="hello-world")
    ap.add_argument("--author", default="Anna Beispiel")
    ap.add_argument("--email", default="anna@example.org")
    ap.add_argument("--url")
    ap.add_argument("--parent")
    ap.add_argument("--ip", help="the reader's address (REMOTE_ADDR)")
    ap.add_argument("--user-agent")
    ap.add_argument("--referrer")
    ap.add_argument("--retries", type=int, default=2,
        help="tries after a 503/429, waiting Retry-After")
    ap.add_argument("--list", metavar="POST",
        help="print the approved comments of POST")
    ap.add_argument("body", nargs="?")
    args = ap.parse_args()

    try:
        if args.list is not None:
            comments = with_retries(
                lambda: approved_comments(args.socket, args.list), args.retries)
            for c in comments:
                print("comment: id=%s author=%s: %s"
                    % (c["id"], c["author"], c["body"]))
            print("listed: %d" % len(comments))
            return 0
        if args.body is None:
            ap.error("give the comment text, or --list POST")

        # Step 1: the form is rendered with a question.
        captcha = with_retries(
            lambda: fetch_captcha(args.socket, args.lang), args.retries)
        print("question: %s (%s)" % (captcha["question"], captcha["question_text"]),
            flush=True)

        # Step 2: the reader sends the form back.
        fields = {
            "post": args.post,
            "author": args.author,
            "email": args.email,
            "body": args.body,
            "captcha_id": captcha["id"],
            "captcha_answer": ask_reader(captcha, args.answer),
            "request_id": uuid.uuid4().hex,
        }
        for name in ("url", "parent", "ip", "user_agent", "referrer", "lang"):
            value = getattr(args, name)
            if value:
                fields[name] = value
        status, data = with_retries(
            lambda: submit(args.socket, fields), args.retries)
    except Unavailable as e:
        print("unavailable: %s; try again later" % e)
        return 3

    if status == 202:
        # "pending": thank the reader, the comment waits for moderation.
        print("stored: id=%s status=%s" % (data["id"], data["status"]))
        return 0
    print(explain(status, data))
    return 1


if __name__ == "__main__":
    sys.exit(main())
