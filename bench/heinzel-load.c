/*
 * heinzel-load: a load generator for heinzeld.
 *
 * N keep-alive HTTP/1.1 connections over the Unix socket (or loopback TCP).
 * One submission is what a reader's browser causes: GET /v1/captcha, the
 * answer worked out from the question, then POST /v1/comments with a
 * comment from the corpus.  Closed loop: each connection starts its next
 * submission when the last one ended.  Open loop (-r): submissions are
 * scheduled at a fixed rate whatever the server does, and latency counts
 * from the scheduled start, so a stalling server cannot hide its stalls by
 * slowing the client down (no coordinated omission).
 *
 * The HTTP client is a minimal one on bufferevents: one request at a time
 * per connection, answers read by status line and Content-Length.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "corpus.h"
#include "histogram.h"
#include "xmalloc.h"

#define LOAD_MAX_HEAD 16384
#define LOAD_MAX_BODY (1024 * 1024)
#define LOAD_TIMEOUT 10			/* s for one answer */
#define LOAD_DRAIN 10			/* s to finish what is in flight */
#define LOAD_RECONNECT_MS 100
#define LOAD_MAX_CONNECT_FAILS 50	/* in a row, over all connections */
#define LOAD_MAX_CONNS 10000

enum load_req { REQ_CAPTCHA, REQ_POST, REQ__COUNT };

static const char *const load_req_names[REQ__COUNT] = { "captcha", "post" };

enum load_err {
	ERR_CONNECT,		/* connect failed */
	ERR_CLOSED,		/* the server closed or reset mid-request */
	ERR_TIMEOUT,		/* no answer within LOAD_TIMEOUT */
	ERR_PROTOCOL,		/* not HTTP, or a captcha that does not parse */
	ERR_HTTP,		/* a status that is neither success nor spam */
	ERR_UNFINISHED,		/* still in flight when the drain ended */
	ERR__COUNT
};

static const char *const load_err_names[ERR__COUNT] = {
	"connect", "closed", "timeout", "protocol", "http", "unfinished"
};

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };

struct load;

struct conn {
	struct load *ld;
	struct bufferevent *bev;
	struct event *retry;
	enum conn_state state;
	enum load_req req;
	uint64_t sub_start;		/* intended start of the submission, ns */
	uint64_t req_start;		/* when the request was written, ns */
	uint64_t seq;
	char captcha_id[80];
	int answer;

	/* The answer being read. */
	int have_head;
	int status;
	size_t clen;
	int closing;			/* Connection: close */

	char *buf;			/* the POST body being built */
	size_t bufcap;
};

struct load {
	struct event_base *base;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *target;

	/* Options. */
	unsigned int nconns;
	double duration;		/* s, 0 = none */
	uint64_t count;			/* submissions, 0 = none */
	double rate;			/* open loop, per s; 0 = closed loop */
	int captcha;
	int captcha_only;		/* fetch captchas, post nothing */
	const char *lang;
	double spam_share;		/* < 0: the corpus' own mix */
	unsigned int posts;
	int json;

	struct corpus corpus;
	char run[24];
	uint64_t rng;
	char *captcha_req;
	size_t captcha_req_len;

	struct conn *conns;
	struct event *tick;		/* open loop schedule */
	struct event *stop_ev;		/* -d */
	struct event *drain_ev;
	struct event *sig_ev;

	uint64_t t0;
	uint64_t period;		/* ns between scheduled starts */
	uint64_t due;			/* scheduled starts so far */
	uint64_t due_max;		/* starts inside -d, 0 = no limit */
	uint64_t started;
	uint64_t seq;
	int running;			/* t0 is set: submissions may start */
	int stopping;
	unsigned int connect_fails;

	/* Results. */
	uint64_t t_last;
	uint64_t ok, spam, failed, missed, requests;
	uint64_t status[REQ__COUNT][600];
	uint64_t spam403;
	uint64_t errors[ERR__COUNT];
	struct histogram h_sub, h_req[REQ__COUNT];
};

static void	conn_connect(struct conn *);
static void	conn_kick(struct conn *);
static void	load_check_done(struct load *);

static uint64_t
load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast and good enough to pick comments. */
static uint64_t
load_random(struct load *ld)
{
	uint64_t x = ld->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ld->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: heinzel-load [-U socket | -T host:port] [-c connections]\n"
	    "           [-d seconds | -n count] [-r rate] [--corpus FILE]...\n"
	    "           [--spam-share 0..1] [--no-captcha | --captcha-only]\n"
	    "           [--lang de|en] [--posts N] [--seed N] [--json]\n"
	    "\n"
	    "Drive heinzeld with submissions (captcha fetch + comment post) and\n"
	    "report throughput, latency percentiles and answers by status.\n"
	    "\n"
	    "  -U socket       heinzeld's Unix socket (default ./var/heinzel.sock)\n"
	    "  -T host:port    loopback TCP instead (127.0.0.0/8, ::1, localhost)\n"
	    "  -c N            concurrent connections (default 8)\n"
	    "  -d seconds      run this long (default 10 unless -n is given)\n"
	    "  -n count        run this many submissions\n"
	    "  -r rate         open loop: start rate submissions a second, latency\n"
	    "                  measured from each scheduled start (default: closed loop)\n"
	    "  --corpus FILE   comments: a YouTube spam CSV or one comment a line;\n"
	    "                  repeatable (default: a few built-in comments)\n"
	    "  --spam-share S  pick spam (CSV CLASS 1) with probability S\n"
	    "                  (default: the corpus' own mix)\n"
	    "  --no-captcha    only POST (heinzeld with [captcha] required = no)\n"
	    "  --captcha-only  only GET /v1/captcha: a submission is one fetch\n"
	    "  --lang L        ask for captchas in L and send lang = L\n"
	    "  --posts N       spread the comments over N posts (default 8)\n"
	    "  --seed N        random seed (default: from the clock)\n"
	    "  --json          print the report as JSON\n"
	    "\n"
	    "heinzeld needs [captcha] min_solve_seconds = 0.  Success is 202 or a\n"
	    "403 spam; anything else is an error.  Exit 0 when there was no error,\n"
	    "1 when there was one, 2 on a usage error.\n");
}

/* ---- target ---- */

static int
load_target(struct load *ld, const char *unix_path, const char *tcp)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&ld->addr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ld->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ld->addr;
	char *host, *colon;
	long port;

	memset(&ld->addr, 0, sizeof ld->addr);
	if (tcp == NULL) {
		if (strlen(unix_path) >= sizeof sun->sun_path) {
			fprintf(stderr, "heinzel-load: %s: path too long\n", unix_path);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, unix_path);
		ld->addrlen = sizeof *sun;
		xasprintf(&ld->target, "unix:%s", unix_path);
		return 0;
	}
	host = xstrdup(tcp);
	colon = strrchr(host, ':');
	port = colon ? strtol(colon + 1, NULL, 10) : 0;
	if (colon == NULL || port < 1 || port > 65535) {
		fprintf(stderr, "heinzel-load: -T %s: expected host:port\n", tcp);
		free(host);
		return -1;
	}
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		/* Only ever load the machine we run on. */
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			goto remote;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ld->addrlen = sizeof *sin;
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			goto remote;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		ld->addrlen = sizeof *sin6;
	} else
		goto remote;
	xasprintf(&ld->target, "tcp:%s", tcp);
	free(host);
	return 0;
remote:
	fprintf(stderr, "heinzel-load: -T %s: only a loopback address "
	    "(127.0.0.0/8, ::1, localhost) may be loaded\n", tcp);
	free(host);
	return -1;
}

/* ---- the answers ---- */

/* Decode the JSON string value of key in body into out; -1 if absent. */
static int
load_json_string(const char *body, size_t len, const char *key, char *out,
    size_t size)
{
	const char *p, *end = body + len;
	char pat[64];
	size_t o = 0;
	unsigned int u;
	int n;

	n = snprintf(pat, sizeof pat, "\"%s\"", key);
	if ((p = memmem(body, len, pat, (size_t)n)) == NULL)
		return -1;
	p += n;
	while (p < end && (*p == ' ' || *p == ':'))
		p++;
	if (p >= end || *p++ != '"')
		return -1;
	while (p < end && *p != '"') {
		if (o + 4 >= size)
			return -1;
		if (*p != '\\') {
			out[o++] = *p++;
			continue;
		}
		if (++p >= end)
			return -1;
		if (*p == 'u') {
			if (end - p < 5 || sscanf(p + 1, "%4x", &u) != 1)
				return -1;
			p += 5;
			if (u < 0x80)
				out[o++] = (char)u;
			else if (u < 0x800) {
				out[o++] = (char)(0xc0 | (u >> 6));
				out[o++] = (char)(0x80 | (u & 0x3f));
			} else {
				out[o++] = (char)(0xe0 | (u >> 12));
				out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
				out[o++] = (char)(0x80 | (u & 0x3f));
			}
			continue;
		}
		out[o++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
		p++;
	}
	if (p >= end)
		return -1;
	out[o] = '\0';
	return 0;
}

/* "6 + 1 =", "9 - 4 =", "3 × 5 =": the answer, or -1. */
static int
load_solve(const char *q)
{
	char *end;
	long a, b;
	int op;

	a = strtol(q, &end, 10);
	if (end == q)
		return -1;
	q = end;
	while (*q == ' ')
		q++;
	if (*q == '+' || *q == '-' || *q == '*' || *q == 'x')
		op = *q++;
	else if ((unsigned char)q[0] == 0xc3 && (unsigned char)q[1] == 0x97) {
		op = 'x';
		q += 2;
	} else
		return -1;
	b = strtol(q, &end, 10);
	if (end == q)
		return -1;
	if (op == '+')
		return (int)(a + b);
	if (op == '-')
		return (int)(a - b);
	return (int)(a * b);
}

/* ---- submissions ---- */

static void
conn_send_captcha(struct conn *c, uint64_t now)
{
	struct load *ld = c->ld;

	c->req = REQ_CAPTCHA;
	c->req_start = now;
	evbuffer_add(bufferevent_get_output(c->bev), ld->captcha_req,
	    ld->captcha_req_len);
}

static void
conn_send_post(struct conn *c, uint64_t now)
{
	struct load *ld = c->ld;
	const struct corpus_entry *e;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char captcha[200], lang[32];
	size_t need;
	int n;

	e = corpus_pick(&ld->corpus, ld->spam_share, load_random(ld));
	captcha[0] = lang[0] = '\0';
	if (ld->captcha)
		snprintf(captcha, sizeof captcha,
		    ",\"captcha_id\":\"%s\",\"captcha_answer\":\"%d\"",
		    c->captcha_id, c->answer);
	if (ld->lang != NULL)
		snprintf(lang, sizeof lang, ",\"lang\":\"%s\"", ld->lang);
	need = strlen(e->text_json) + strlen(e->author_json) + 1024;
	if (need > c->bufcap) {
		c->bufcap = need * 2;
		c->buf = xreallocarray(c->buf, c->bufcap, 1);
	}
	n = snprintf(c->buf, c->bufcap,
	    "{\"post\":\"load-%s-%u\",\"author\":\"%s\","
	    "\"email\":\"reader%" PRIu64 "@example.org\","
	    "\"body\":\"%s #%s-%" PRIu64 "\",\"ip\":\"203.0.113.%u\","
	    "\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) heinzel-load\"%s%s}",
	    ld->run, (unsigned int)(c->seq % ld->posts), e->author_json,
	    c->seq % 100000, e->text_json, ld->run, c->seq,
	    (unsigned int)(c->seq % 250) + 1, lang, captcha);
	c->req = REQ_POST;
	c->req_start = now;
	evbuffer_add_printf(out, "POST /v1/comments HTTP/1.1\r\n"
	    "Host: localhost\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n\r\n", n);
	evbuffer_add(out, c->buf, (size_t)n);
}

static void
conn_start(struct conn *c, uint64_t intended)
{
	struct load *ld = c->ld;
	uint64_t now = load_now();

	c->state = CONN_BUSY;
	c->sub_start = intended;
	c->seq = ld->seq++;
	c->have_head = 0;
	ld->started++;
	if (ld->captcha)
		conn_send_captcha(c, now);
	else
		conn_send_post(c, now);
}

/* A submission ended: ok 1 success, 0 failure. */
static void
conn_end(struct conn *c, uint64_t now, int ok)
{
	struct load *ld = c->ld;

	c->state = CONN_IDLE;
	if (ok) {
		histogram_record(&ld->h_sub, (now - c->sub_start) / 1000);
		ld->t_last = now;
	} else
		ld->failed++;
}

static void
conn_fail(struct conn *c, enum load_err err)
{
	c->ld->errors[err]++;
	conn_end(c, load_now(), 0);
}

/* One complete answer to the request in flight. */
static void
conn_answer(struct conn *c, const char *body, size_t len)
{
	struct load *ld = c->ld;
	uint64_t now = load_now();
	char q[64];

	ld->requests++;
	histogram_record(&ld->h_req[c->req], (now - c->req_start) / 1000);
	if (c->status >= 100 && c->status < 600)
		ld->status[c->req][c->status]++;
	if (c->req == REQ_CAPTCHA) {
		if (c->status != 200) {
			conn_fail(c, ERR_HTTP);
			return;
		}
		if (load_json_string(body, len, "id", c->captcha_id,
		    sizeof c->captcha_id) != 0 ||
		    load_json_string(body, len, "question", q, sizeof q) != 0 ||
		    (c->answer = load_solve(q)) < 0) {
			conn_fail(c, ERR_PROTOCOL);
			return;
		}
		if (ld->captcha_only) {
			ld->ok++;
			conn_end(c, now, 1);
			return;
		}
		if (c->closing) {
			/* The post would need a new connection: count it lost. */
			conn_fail(c, ERR_CLOSED);
			return;
		}
		conn_send_post(c, now);
		return;
	}
	if (c->status == 202) {
		ld->ok++;
		conn_end(c, now, 1);
	} else if (c->status == 403 &&
	    memmem(body, len, "\"spam\"", 6) != NULL) {
		ld->spam++;
		ld->spam403++;
		conn_end(c, now, 1);
	} else
		conn_fail(c, ERR_HTTP);
}

/* Parse "HTTP/1.x NNN ..." and the headers we need. */
static int
conn_parse_head(struct conn *c, const char *h, size_t len)
{
	const char *p = h, *end = h + len, *eol;

	if (len < 12 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ')
		return -1;
	c->status = atoi(h + 9);
	if (c->status < 100 || c->status > 599)
		return -1;
	c->clen = 0;
	c->closing = 0;
	while (p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = eol + 1;
		if (end - p > 15 && strncasecmp(p, "content-length:", 15) == 0)
			c->clen = strtoul(p + 15, NULL, 10);
		else if (end - p > 11 && strncasecmp(p, "connection:", 11) == 0) {
			eol = memchr(p, '\n', (size_t)(end - p));
			if (eol && memmem(p, (size_t)(eol - p), "close", 5))
				c->closing = 1;
		}
	}
	if (c->clen > LOAD_MAX_BODY)
		return -1;
	return 0;
}

static void
conn_drop(struct conn *c)
{
	struct load *ld = c->ld;
	struct timeval tv = { 0, LOAD_RECONNECT_MS * 1000 };

	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->state = CONN_DOWN;
	if (!ld->stopping)
		evtimer_add(c->retry, &tv);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr ptr;
	size_t headlen;
	const char *data;

	while (c->state == CONN_BUSY) {
		if (!c->have_head) {
			ptr = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (ptr.pos < 0) {
				if (evbuffer_get_length(in) > LOAD_MAX_HEAD)
					goto bad;
				return;
			}
			headlen = (size_t)ptr.pos + 4;
			data = (const char *)evbuffer_pullup(in, (ssize_t)headlen);
			if (conn_parse_head(c, data, headlen) != 0)
				goto bad;
			evbuffer_drain(in, headlen);
			c->have_head = 1;
		}
		if (evbuffer_get_length(in) < c->clen)
			return;
		data = (const char *)evbuffer_pullup(in, (ssize_t)c->clen);
		c->have_head = 0;
		conn_answer(c, data ? data : "", c->clen);
		evbuffer_drain(in, c->clen);
		if (c->closing) {
			if (c->state == CONN_BUSY)
				conn_fail(c, ERR_CLOSED);
			conn_drop(c);
			load_check_done(c->ld);
			return;
		}
	}
	if (evbuffer_get_length(in) != 0)
		goto bad;	/* an answer nobody asked for */
	conn_kick(c);
	return;
bad:
	if (c->state == CONN_BUSY)
		conn_fail(c, ERR_PROTOCOL);
	else
		c->ld->errors[ERR_PROTOCOL]++;
	conn_drop(c);
	load_check_done(c->ld);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct load *ld = c->ld;
	int one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		if (ld->addr.ss_family != AF_UNIX)
			setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
			    TCP_NODELAY, &one, sizeof one);
		c->state = CONN_IDLE;
		ld->connect_fails = 0;
		conn_kick(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && c->state != CONN_BUSY) {
		/* Idle, nothing was asked: keep waiting. */
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (c->state == CONN_CONNECTING) {
		ld->errors[ERR_CONNECT]++;
		if (++ld->connect_fails == LOAD_MAX_CONNECT_FAILS) {
			/* The server is gone: a -n run would wait forever. */
			fprintf(stderr, "heinzel-load: %s: cannot connect: %s\n",
			    ld->target, strerror(EVUTIL_SOCKET_ERROR()));
			ld->stopping = 1;
			event_base_loopexit(ld->base, NULL);
		}
	} else if (c->state == CONN_BUSY)
		conn_fail(c, what & BEV_EVENT_TIMEOUT ? ERR_TIMEOUT : ERR_CLOSED);
	/* An idle keep-alive connection the server closed is no error. */
	conn_drop(c);
	load_check_done(ld);
}

static void
conn_connect(struct conn *c)
{
	struct load *ld = c->ld;
	struct timeval tv = { LOAD_TIMEOUT, 0 };

	c->bev = bufferevent_socket_new(ld->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		fprintf(stderr, "heinzel-load: bufferevent_socket_new failed\n");
		exit(1);
	}
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->state = CONN_CONNECTING;
	c->have_head = 0;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ld->addr,
	    (int)ld->addrlen) != 0) {
		ld->errors[ERR_CONNECT]++;
		conn_drop(c);
	}
}

static void
conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->ld->stopping)
		conn_connect(c);
}

/* ---- the schedule ---- */

/* Is there a submission to start?  Its intended start in *intended. */
static int
load_take(struct load *ld, uint64_t *intended)
{
	if (ld->stopping)
		return 0;
	if (ld->rate > 0) {
		if (ld->started >= ld->due)
			return 0;
		*intended = ld->t0 + ld->started * ld->period;
	} else
		*intended = load_now();
	if (ld->count > 0 && ld->started + 1 >= ld->count) {
		/* This is the last one. */
		ld->stopping = 1;
	}
	return 1;
}

/* An idle connection asks for work. */
static void
conn_kick(struct conn *c)
{
	struct load *ld = c->ld;
	uint64_t intended;

	if (c->state != CONN_IDLE || !ld->running)
		return;
	if (load_take(ld, &intended))
		conn_start(c, intended);
	load_check_done(ld);
}

static void
load_dispatch(struct load *ld)
{
	unsigned int i;

	for (i = 0; i < ld->nconns && !ld->stopping; i++)
		conn_kick(&ld->conns[i]);
}

static void
load_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load *ld = arg;
	uint64_t now = load_now(), next;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (ld->stopping)
		return;
	/*
	 * A tick that runs late (the machine stalled) may see the end of -d
	 * already passed: the starts after it were never part of the run.
	 */
	ld->due = (now - ld->t0) / ld->period + 1;
	if (ld->count > 0 && ld->due > ld->count)
		ld->due = ld->count;
	if (ld->due_max > 0 && ld->due > ld->due_max)
		ld->due = ld->due_max;
	load_dispatch(ld);
	if (ld->stopping || (ld->count > 0 && ld->due >= ld->count) ||
	    (ld->due_max > 0 && ld->due >= ld->due_max))
		return;
	next = ld->t0 + ld->due * ld->period;
	now = load_now();
	next = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(next / 1000000000ULL);
	tv.tv_usec = (suseconds_t)(next % 1000000000ULL / 1000);
	evtimer_add(ld->tick, &tv);
}

static void
load_finish(struct load *ld)
{
	unsigned int i;

	for (i = 0; i < ld->nconns; i++) {
		if (ld->conns[i].state == CONN_BUSY)
			conn_fail(&ld->conns[i], ERR_UNFINISHED);
	}
	event_base_loopexit(ld->base, NULL);
}

static void
load_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	load_finish(arg);
}

/* Stop starting submissions; end once those in flight are done. */
static void
load_stop(struct load *ld)
{
	struct timeval tv = { LOAD_DRAIN, 0 };

	if (ld->rate > 0 && ld->due > ld->started) {
		ld->missed += ld->due - ld->started;
		ld->due = ld->started;
	}
	ld->stopping = 1;
	if (!evtimer_pending(ld->drain_ev, NULL))
		evtimer_add(ld->drain_ev, &tv);
	load_check_done(ld);
}

static void
load_check_done(struct load *ld)
{
	struct timeval tv = { LOAD_DRAIN, 0 };
	unsigned int i;

	if (!ld->stopping)
		return;
	if (!evtimer_pending(ld->drain_ev, NULL))
		evtimer_add(ld->drain_ev, &tv);
	for (i = 0; i < ld->nconns; i++)
		if (ld->conns[i].state == CONN_BUSY)
			return;
	event_base_loopexit(ld->base, NULL);
}

static void
load_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	load_stop(arg);
}

static void
load_signal_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load *ld = arg;

	(void)fd;
	(void)what;
	if (ld->stopping)
		load_finish(ld);
	else
		load_stop(ld);
}

/* ---- the report ---- */

/* CPU seconds this process used. */
static double
load_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double
load_ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static const double load_pcts[] = { 50, 90, 99, 99.9 };
static const char *const load_pct_names[] = { "p50", "p90", "p99", "p99.9" };

static void
load_report_text(struct load *ld, double secs)
{
	const struct histogram *h;
	const char *name;
	unsigned int r, s, i;
	uint64_t errs = 0;

	printf("target      %s, %u connections, %s", ld->target, ld->nconns,
	    ld->captcha_only ? "captcha fetches only" :
	    ld->captcha ? "captcha + post" : "post only (no captcha)");
	if (ld->rate > 0)
		printf(", open loop at %.0f/s\n", ld->rate);
	else
		printf(", closed loop\n");
	printf("duration    %.3f s, client CPU %.2f s\n", secs, load_cpu());
	printf("submissions %" PRIu64 " ok (%" PRIu64 " accepted, %" PRIu64
	    " spam), %" PRIu64 " failed", ld->ok + ld->spam, ld->ok, ld->spam,
	    ld->failed);
	if (ld->missed)
		printf(", %" PRIu64 " scheduled but never started", ld->missed);
	printf("\n");
	printf("throughput  %.1f submissions/s, %.1f requests/s\n",
	    (double)(ld->ok + ld->spam) / secs, (double)ld->requests / secs);
	printf("latency ms  %10s %8s %8s %8s %8s %8s %8s\n", "count", "mean",
	    "p50", "p90", "p99", "p99.9", "max");
	for (i = 0; i <= REQ__COUNT; i++) {
		h = i == 0 ? &ld->h_sub : &ld->h_req[i - 1];
		name = i == 0 ? "submission" : load_req_names[i - 1];
		if (h->total == 0)
			continue;
		printf("%-11s %10" PRIu64 " %8.3f", name, h->total,
		    histogram_mean(h) / 1000);
		for (s = 0; s < 4; s++)
			printf(" %8.3f", load_ms(histogram_percentile(h, load_pcts[s])));
		printf(" %8.3f\n", load_ms(h->max));
	}
	printf("status     ");
	for (r = 0; r < REQ__COUNT; r++)
		for (s = 100; s < 600; s++) {
			if (ld->status[r][s] == 0)
				continue;
			printf(" %s %u: %" PRIu64, load_req_names[r], s,
			    ld->status[r][s]);
			if (r == REQ_POST && s == 403)
				printf(" (%" PRIu64 " spam)", ld->spam403);
		}
	printf("\n");
	for (i = 0; i < ERR__COUNT; i++)
		errs += ld->errors[i];
	printf("errors      %" PRIu64, errs);
	for (i = 0; i < ERR__COUNT; i++)
		if (ld->errors[i])
			printf(", %s %" PRIu64, load_err_names[i], ld->errors[i]);
	printf("\n");
}

static void
load_report_json(struct load *ld, double secs)
{
	const struct histogram *h;
	unsigned int r, s, i;
	uint64_t errs = 0;
	int first;

	printf("{\"target\":\"%s\",\"connections\":%u,\"captcha\":%s,"
	    "\"captcha_only\":%s,"
	    "\"mode\":\"%s\",\"rate\":%.1f,\"duration_s\":%.6f,"
	    "\"client_cpu_s\":%.3f,",
	    ld->target, ld->nconns, ld->captcha ? "true" : "false",
	    ld->captcha_only ? "true" : "false", ld->rate > 0 ? "open" : "closed", ld->rate, secs, load_cpu());
	printf("\"submissions\":%" PRIu64 ",\"accepted\":%" PRIu64
	    ",\"spam\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"missed\":%" PRIu64
	    ",\"requests\":%" PRIu64 ",", ld->ok + ld->spam, ld->ok, ld->spam,
	    ld->failed, ld->missed, ld->requests);
	printf("\"submissions_per_s\":%.1f,\"requests_per_s\":%.1f,",
	    (double)(ld->ok + ld->spam) / secs, (double)ld->requests / secs);
	printf("\"latency_ms\":{");
	for (i = 0; i <= REQ__COUNT; i++) {
		h = i == 0 ? &ld->h_sub : &ld->h_req[i - 1];
		printf("%s\"%s\":{\"count\":%" PRIu64 ",\"mean\":%.3f", i ? "," : "",
		    i == 0 ? "submission" : load_req_names[i - 1], h->total,
		    histogram_mean(h) / 1000);
		for (s = 0; s < 4; s++)
			printf(",\"%s\":%.3f", load_pct_names[s],
			    load_ms(histogram_percentile(h, load_pcts[s])));
		printf(",\"max\":%.3f}", load_ms(h->max));
	}
	printf("},\"status\":{");
	for (r = 0; r < REQ__COUNT; r++) {
		printf("%s\"%s\":{", r ? "," : "", load_req_names[r]);
		first = 1;
		for (s = 100; s < 600; s++) {
			if (ld->status[r][s] == 0)
				continue;
			printf("%s\"%u\":%" PRIu64, first ? "" : ",", s,
			    ld->status[r][s]);
			first = 0;
		}
		printf("}");
	}
	for (i = 0; i < ERR__COUNT; i++)
		errs += ld->errors[i];
	printf("},\"errors\":{\"total\":%" PRIu64, errs);
	for (i = 0; i < ERR__COUNT; i++)
		printf(",\"%s\":%" PRIu64, load_err_names[i], ld->errors[i]);
	printf("}}\n");
}

/* ---- main ---- */

static int
load_number(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "corpus", required_argument, NULL, 'C' },
		{ "spam-share", required_argument, NULL, 'S' },
		{ "no-captcha", no_argument, NULL, 'N' },
		{ "captcha-only", no_argument, NULL, 'O' },
		{ "lang", required_argument, NULL, 'L' },
		{ "posts", required_argument, NULL, 'P' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct load ld;
	struct event_config *ecfg;
	const char *unix_path = "var/heinzel.sock", *tcp = NULL;
	char *cause;
	struct timeval tv;
	double v, secs;
	uint64_t seed = 0, errs = 0;
	unsigned int i;
	int ch;

	memset(&ld, 0, sizeof ld);
	corpus_init(&ld.corpus);
	ld.nconns = 8;
	ld.captcha = 1;
	ld.spam_share = -1;
	ld.posts = 8;

	while ((ch = getopt_long(argc, argv, "U:T:c:d:n:r:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'U':
			unix_path = optarg;
			tcp = NULL;
			break;
		case 'T':
			tcp = optarg;
			break;
		case 'c':
			if (load_number(optarg, 1, LOAD_MAX_CONNS, &v) != 0)
				goto bad;
			ld.nconns = (unsigned int)v;
			break;
		case 'd':
			if (load_number(optarg, 0.001, 86400, &ld.duration) != 0)
				goto bad;
			break;
		case 'n':
			if (load_number(optarg, 1, 1e12, &v) != 0)
				goto bad;
			ld.count = (uint64_t)v;
			break;
		case 'r':
			if (load_number(optarg, 0.001, 1e7, &ld.rate) != 0)
				goto bad;
			break;
		case 'C':
			if (corpus_load(&ld.corpus, optarg, &cause) != 0) {
				fprintf(stderr, "heinzel-load: %s\n", cause);
				free(cause);
				return 2;
			}
			break;
		case 'S':
			if (load_number(optarg, 0, 1, &ld.spam_share) != 0)
				goto bad;
			break;
		case 'N':
			ld.captcha = 0;
			break;
		case 'O':
			ld.captcha_only = 1;
			break;
		case 'L':
			if (strcmp(optarg, "de") != 0 && strcmp(optarg, "en") != 0)
				goto bad;
			ld.lang = optarg;
			break;
		case 'P':
			if (load_number(optarg, 1, 1e6, &v) != 0)
				goto bad;
			ld.posts = (unsigned int)v;
			break;
		case 's':
			if (load_number(optarg, 0, 1.8e19, &v) != 0)
				goto bad;
			seed = (uint64_t)v;
			break;
		case 'j':
			ld.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (ld.duration == 0 && ld.count == 0)
		ld.duration = 10;
	if (ld.captcha_only && !ld.captcha)
		goto bad;
	if (load_target(&ld, unix_path, tcp) != 0)
		return 2;
	if (ld.corpus.n == 0)
		corpus_builtin(&ld.corpus);
	corpus_index(&ld.corpus);

	if (seed == 0)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	ld.rng = seed | 1;
	/* Each run its own suffix: bodies never repeat across runs (409). */
	snprintf(ld.run, sizeof ld.run, "%08" PRIx64, load_random(&ld) >> 32);
	xasprintf(&ld.captcha_req, "GET /v1/captcha%s%s HTTP/1.1\r\n"
	    "Host: localhost\r\n\r\n", ld.lang ? "?lang=" : "",
	    ld.lang ? ld.lang : "");
	ld.captcha_req_len = strlen(ld.captcha_req);

	signal(SIGPIPE, SIG_IGN);
	/* Timers at the scheduled instant, not rounded to milliseconds. */
	ecfg = event_config_new();
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	ld.base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (ld.base == NULL) {
		fprintf(stderr, "heinzel-load: event_base_new failed\n");
		return 1;
	}
	histogram_init(&ld.h_sub);
	for (i = 0; i < REQ__COUNT; i++)
		histogram_init(&ld.h_req[i]);
	ld.tick = evtimer_new(ld.base, load_tick_cb, &ld);
	ld.stop_ev = evtimer_new(ld.base, load_stop_cb, &ld);
	ld.drain_ev = evtimer_new(ld.base, load_drain_cb, &ld);
	ld.sig_ev = evsignal_new(ld.base, SIGINT, load_signal_cb, &ld);
	evsignal_add(ld.sig_ev, NULL);
	if (ld.rate > 0)
		ld.period = (uint64_t)(1e9 / ld.rate);
	if (ld.rate > 0 && ld.duration > 0)
		ld.due_max = ((uint64_t)(ld.duration * 1e9) + ld.period - 1) /
		    ld.period;
	if (ld.period == 0)
		ld.period = 1;

	ld.conns = xcalloc(ld.nconns, sizeof *ld.conns);
	ld.t0 = load_now();
	for (i = 0; i < ld.nconns; i++) {
		ld.conns[i].ld = &ld;
		ld.conns[i].retry = evtimer_new(ld.base, conn_retry_cb, &ld.conns[i]);
		conn_connect(&ld.conns[i]);
	}
	/* Count time from when the connections are up, not while connecting. */
	event_base_loop(ld.base, EVLOOP_ONCE);
	while (!ld.stopping && !event_base_got_exit(ld.base)) {
		for (i = 0; i < ld.nconns; i++)
			if (ld.conns[i].state == CONN_CONNECTING)
				break;
		if (i == ld.nconns)
			break;
		event_base_loop(ld.base, EVLOOP_ONCE);
	}
	ld.t0 = load_now();
	ld.running = 1;
	if (ld.duration > 0) {
		tv.tv_sec = (time_t)ld.duration;
		tv.tv_usec = (suseconds_t)((ld.duration - (double)tv.tv_sec) * 1e6);
		evtimer_add(ld.stop_ev, &tv);
	}
	if (ld.rate > 0) {
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		evtimer_add(ld.tick, &tv);
	} else
		load_dispatch(&ld);
	if (!event_base_got_exit(ld.base))
		event_base_dispatch(ld.base);

	if (ld.t_last <= ld.t0)
		ld.t_last = load_now();
	secs = (double)(ld.t_last - ld.t0) / 1e9;
	if (secs <= 0)
		secs = 1e-9;
	if (ld.json)
		load_report_json(&ld, secs);
	else
		load_report_text(&ld, secs);
	for (i = 0; i < ERR__COUNT; i++)
		errs += ld.errors[i];

	for (i = 0; i < ld.nconns; i++) {
		if (ld.conns[i].bev != NULL)
			bufferevent_free(ld.conns[i].bev);
		event_free(ld.conns[i].retry);
		free(ld.conns[i].buf);
	}
	free(ld.conns);
	event_free(ld.tick);
	event_free(ld.stop_ev);
	event_free(ld.drain_ev);
	event_free(ld.sig_ev);
	event_base_free(ld.base);
	histogram_free(&ld.h_sub);
	for (i = 0; i < REQ__COUNT; i++)
		histogram_free(&ld.h_req[i]);
	corpus_free(&ld.corpus);
	free(ld.captcha_req);
	free(ld.target);
	return errs == 0 && ld.ok + ld.spam > 0 ? 0 : 1;

bad:
	usage(stderr);
	return 2;
}
