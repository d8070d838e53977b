/*
 * One SMTP transaction without blocking.  libcurl (multi, CONNECT_ONLY)
 * sets up the connection: TCP or TLS, the greeting, EHLO, STARTTLS and
 * AUTH.  MAIL, RCPT, DATA and the message then go over curl_easy_send()
 * and curl_easy_recv() on a libevent event, because libcurl's own SMTP
 * upload waits for the relay's answer to the end of the data in a
 * blocking loop, which would stall heinzeld for as long as the relay
 * takes.
 */
#ifndef HEINZEL_SMTP_H
#define HEINZEL_SMTP_H

#include <stddef.h>

#include <curl/curl.h>
#include <event2/event.h>

struct smtp;

/*
 * The outcome, once: ok after a 2xx to the end of data; else permanent
 * when the relay answered 5xx, and reason says what failed (valid until
 * the callback returns).
 */
typedef void smtp_done_cb(int ok, int permanent, const char *reason, void *arg);

/*
 * Start on easy, whose CONNECT_ONLY transfer has just completed in its
 * multi handle (and stays added to it).  msg is the whole message with
 * CRLF line breaks (copied, dot-stuffed here).  cb is called from the
 * event loop, never from smtp_start; NULL when the connection is unusable
 * (*cause set).
 */
struct smtp *smtp_start(struct event_base *base, CURL *easy, const char *from,
    const char *to, const char *msg, size_t len, unsigned int timeout_ms,
    smtp_done_cb *cb, void *arg, const char **cause);

/* Stop (no callback) and shut the socket so that curl's QUIT cannot wait. */
void smtp_free(struct smtp *s);

#endif
