/*
 * The SMTP transaction on a connection libcurl has set up.  Commands go
 * one at a time (no PIPELINING needed for one recipient); each reply is
 * read whole, continuation lines included, before the next command.  The
 * message is dot-stuffed here (RFC 5321 4.5.2).
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp.h"
#include "xmalloc.h"

#define SMTP_REPLY_MAX 4096	/* a longer reply line is refused */

enum smtp_state { SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BODY, SMTP_DONE };

static const char *const smtp_steps[] = {
	"MAIL FROM", "RCPT TO", "DATA", "end of data", "QUIT"
};

struct smtp {
	CURL *easy;
	curl_socket_t fd;
	struct event *ev;
	struct event *timer;
	struct event *later;	/* calls back from the loop */
	enum smtp_state state;
	char *to;
	char *body;		/* dot-stuffed, ends in CRLF.CRLF */
	size_t bodylen;
	char *out;		/* being sent */
	size_t outlen, outoff;
	char in[SMTP_REPLY_MAX];
	size_t inlen;
	smtp_done_cb *cb;
	void *arg;
	int ok, permanent;
	char reason[512];
};

static void smtp_io_cb(evutil_socket_t, short, void *);

/* Wait for the socket to be readable (reading) or writable. */
static void
smtp_want(struct smtp *s, short what)
{
	event_del(s->ev);
	event_assign(s->ev, event_get_base(s->ev), s->fd, what | EV_PERSIST,
	    smtp_io_cb, s);
	event_add(s->ev, NULL);
}

/* Done: tell the caller from the loop (it may free s in its callback). */
static void
smtp_finish(struct smtp *s, int ok, int permanent, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
smtp_finish(struct smtp *s, int ok, int permanent, const char *fmt, ...)
{
	struct timeval tv = { 0, 0 };
	va_list ap;

	if (s->state == SMTP_DONE)
		return;
	s->state = SMTP_DONE;
	s->ok = ok;
	s->permanent = permanent;
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof s->reason, fmt, ap);
	va_end(ap);
	event_del(s->ev);
	evtimer_del(s->timer);
	evtimer_add(s->later, &tv);
}

static void
smtp_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp *s = arg;

	(void)fd;
	(void)what;
	s->cb(s->ok, s->permanent, s->reason, s->arg);
}

static void
smtp_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp *s = arg;

	(void)fd;
	(void)what;
	smtp_finish(s, 0, 0, "%s: no answer from the relay in time",
	    smtp_steps[s->state]);
}

/* Queue a command (or the body) and start writing it. */
static void
smtp_send(struct smtp *s, const char *data, size_t len)
{
	free(s->out);
	s->out = xmalloc(len);
	memcpy(s->out, data, len);
	s->outlen = len;
	s->outoff = 0;
	s->inlen = 0;
	smtp_want(s, EV_WRITE);
}

static void smtp_sendf(struct smtp *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
smtp_sendf(struct smtp *s, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("%s", __func__);
	smtp_send(s, line, (size_t)n);
	free(line);
}

/* A whole reply: move on, or finish. */
static void
smtp_reply(struct smtp *s, int code, const char *text)
{
	const char *step = smtp_steps[s->state];

	switch (s->state) {
	case SMTP_MAIL:
	case SMTP_RCPT:
		if (code / 100 != 2)
			break;
		if (s->state == SMTP_MAIL) {
			s->state = SMTP_RCPT;
			smtp_sendf(s, "RCPT TO:<%s>\r\n", s->to);
		} else {
			s->state = SMTP_DATA;
			smtp_sendf(s, "DATA\r\n");
		}
		return;
	case SMTP_DATA:
		if (code != 354)
			break;
		s->state = SMTP_BODY;
		smtp_send(s, s->body, s->bodylen);
		return;
	case SMTP_BODY:
		if (code / 100 != 2)
			break;
		/* The relay has the mail.  QUIT is a courtesy: not waited for. */
		curl_easy_send(s->easy, "QUIT\r\n", 6, &(size_t){ 0 });
		smtp_finish(s, 1, 0, "%d %s", code, text);
		return;
	case SMTP_DONE:
		return;
	}
	smtp_finish(s, 0, code / 100 == 5, "%s: %d %s", step, code, text);
}

/* Look for a complete reply in what was read. */
static void
smtp_parse(struct smtp *s)
{
	char *line = s->in, *nl, text[256];
	size_t len, i, n;
	int code;

	while ((nl = memchr(line, '\n', s->inlen - (size_t)(line - s->in))) != NULL) {
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
			smtp_finish(s, 0, 0, "%s: not an SMTP reply",
			    smtp_steps[s->state]);
			return;
		}
		if (len > 3 && line[3] == '-') {
			line = nl + 1;
			continue;	/* a continuation line */
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		for (i = 4, n = 0; i < len && n + 1 < sizeof text; i++)
			text[n++] = (unsigned char)line[i] < 0x20 ||
			    (unsigned char)line[i] >= 0x7f ? '?' : line[i];
		text[n] = '\0';
		s->inlen = 0;
		smtp_reply(s, code, text);
		return;
	}
	/* Keep the partial line (and what came before it) for more. */
	if (s->inlen == sizeof s->in)
		smtp_finish(s, 0, 0, "%s: reply line too long",
		    smtp_steps[s->state]);
}

static void
smtp_read(struct smtp *s)
{
	CURLcode rc;
	size_t n;

	/* Until EAGAIN: TLS may hold data the socket no longer signals. */
	while (s->state != SMTP_DONE) {
		if (s->inlen == sizeof s->in) {
			smtp_parse(s);
			return;
		}
		rc = curl_easy_recv(s->easy, s->in + s->inlen,
		    sizeof s->in - s->inlen, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			smtp_finish(s, 0, 0, "%s: %s", smtp_steps[s->state],
			    curl_easy_strerror(rc));
			return;
		}
		if (n == 0) {
			smtp_finish(s, 0, 0, "%s: the relay closed the "
			    "connection", smtp_steps[s->state]);
			return;
		}
		s->inlen += n;
		smtp_parse(s);
	}
}

static void
smtp_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp *s = arg;
	CURLcode rc;
	size_t n;

	(void)fd;
	if (s->outoff < s->outlen && (what & EV_WRITE)) {
		while (s->outoff < s->outlen) {
			rc = curl_easy_send(s->easy, s->out + s->outoff,
			    s->outlen - s->outoff, &n);
			if (rc == CURLE_AGAIN)
				return;
			if (rc != CURLE_OK) {
				smtp_finish(s, 0, 0, "%s: %s",
				    smtp_steps[s->state], curl_easy_strerror(rc));
				return;
			}
			s->outoff += n;
		}
		smtp_want(s, EV_READ);
	}
	smtp_read(s);
}

/* msg with every line starting with '.' doubled, then CRLF.CRLF. */
static char *
smtp_stuff(const char *msg, size_t len, size_t *out)
{
	char *b = xmalloc(len * 2 + 8), *w = b;
	size_t i;
	int bol = 1;

	for (i = 0; i < len; i++) {
		if (bol && msg[i] == '.')
			*w++ = '.';
		*w++ = msg[i];
		bol = msg[i] == '\n';
	}
	if (!bol) {
		*w++ = '\r';
		*w++ = '\n';
	}
	memcpy(w, ".\r\n", 3);
	w += 3;
	*out = (size_t)(w - b);
	return b;
}

struct smtp *
smtp_start(struct event_base *base, CURL *easy, const char *from,
    const char *to, const char *msg, size_t len, unsigned int timeout_ms,
    smtp_done_cb *cb, void *arg, const char **cause)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	curl_socket_t fd;
	struct smtp *s;

	if (curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		*cause = "no connection to the relay";
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->easy = easy;
	s->fd = fd;
	s->cb = cb;
	s->arg = arg;
	s->to = xstrdup(to);
	s->body = smtp_stuff(msg, len, &s->bodylen);
	s->ev = event_new(base, fd, EV_WRITE | EV_PERSIST, smtp_io_cb, s);
	s->timer = evtimer_new(base, smtp_timeout_cb, s);
	s->later = evtimer_new(base, smtp_later_cb, s);
	if (s->ev == NULL || s->timer == NULL || s->later == NULL)
		fatalx("smtp: cannot create events");
	evtimer_add(s->timer, &tv);
	s->state = SMTP_MAIL;
	smtp_sendf(s, "MAIL FROM:<%s>\r\n", from);
	return s;
}

void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	/* curl sends QUIT on cleanup and waits: let that fail at once. */
	shutdown(s->fd, SHUT_RDWR);
	event_free(s->ev);
	event_free(s->timer);
	event_free(s->later);
	free(s->to);
	free(s->body);
	free(s->out);
	free(s);
}
