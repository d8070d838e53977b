/*
 * The notifier.  It reads the outbox stream through the consumer group
 * (XREADGROUP, never BLOCK: db.c has one connection and a command
 * timeout), polled every NOTIFY_POLL_MS and woken by a stored submission.
 * An event entry is expanded into notifications by one script; a
 * notification entry is loaded, built into a mail or a JSON body and sent
 * with libcurl's multi interface, whose sockets and timer are libevent
 * events.  The entry is acknowledged only after the relay's final 250
 * (or a webhook's 2xx); a failure moves it to the retry schedule or the
 * dead letters in one script.  Nothing is held only in memory: after a
 * crash, this consumer's unacknowledged entries are read again (its name
 * is stable: host and socket), and entries of a consumer gone for good are
 * taken over with XAUTOCLAIM.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "db.h"
#include "heinzel-build.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "notify.h"
#include "smtp.h"
#include "store.h"
#include "template.h"
#include "xmalloc.h"

#define NOTIFY_POLL_MS		1000	/* look at the outbox this often */
#define NOTIFY_PARALLEL		8	/* deliveries at once */
#define NOTIFY_CLAIM_EVERY_MS	30000	/* look for entries of lost consumers */
#define NOTIFY_DUE_BATCH	100
#define NOTIFY_SUMMARY		60	/* characters of the comment in a subject */
#define NOTIFY_EXCERPT		1000	/* ... in a mail's body */
#define NOTIFY_WEBHOOK_EXCERPT	300

enum notify_step {
	STEP_EXPAND,		/* an event: the expand script runs */
	STEP_LOAD,		/* a notification: HGETALL runs */
	STEP_SEND,		/* curl is at work (then smtp.c, for a mail) */
	STEP_FINISH,		/* done or fail script to run (again) */
};

struct notify_job {
	struct notify *n;
	TAILQ_ENTRY(notify_job) entry;
	enum notify_step step;
	int busy;		/* a Redis command is in flight */
	char *entry_id;
	char *nid;		/* NULL for an event or an empty entry */
	char *channel;		/* "mail", "webhook", or NULL */
	char *what;		/* for the log: "admin mail 5 (comment ID) to …@example.org" */

	CURL *easy;
	struct curl_slist *list;
	char *payload;
	size_t len;
	char errbuf[CURL_ERROR_SIZE];
	char reply[256];	/* the relay's last line */
	struct smtp *smtp;	/* the transaction, once connected */
	char *from, *to;	/* a mail's envelope */
	uint64_t started_ms;
	curl_socket_t fd[2];	/* a mail's sockets curl has open */

	int ok;
	int permanent;
	char *reason;
};

struct notify_sock {
	struct event *ev;
	LIST_ENTRY(notify_sock) entry;
};

struct notify {
	struct event_base *base;
	struct db *db;
	const struct store *store;
	const struct config *const *cfg;
	struct metrics *metrics;
	char *consumer;		/* "host:/run/heinzel/heinzel.sock" */

	CURLM *multi;
	struct event *curl_timer;
	LIST_HEAD(, notify_sock) socks;

	struct event *tick;
	struct event *kick;
	TAILQ_HEAD(, notify_job) jobs;
	unsigned int njobs;

	int was_up;
	int group_ready, group_busy;
	int reading, due_busy, claim_busy;
	char history[64];	/* own pending entries after this id; "" = new ones */
	uint64_t last_claim_ms;
};

static void notify_finish(struct notify_job *job);

static uint64_t
notify_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
notify_wake(struct notify *n)
{
	struct timeval tv = { 0, 0 };

	evtimer_add(n->kick, &tv);
}

static void
notify_wake_cb(void *arg)
{
	notify_wake(arg);
}

/* Redis failed us: read this consumer's own entries again once it is back. */
static void
notify_lost(struct notify *n)
{
	snprintf(n->history, sizeof n->history, "0");
}

/* "…@example.org": enough to tell recipients apart in a log, no address. */
static char *
notify_masked(const char *to)
{
	const char *at = strrchr(to, '@');
	char *s;

	xasprintf(&s, "\xe2\x80\xa6%s", at != NULL ? at : "");
	return s;
}

static struct notify_job *
notify_job_new(struct notify *n, const char *entry_id)
{
	struct notify_job *job = xcalloc(1, sizeof *job);

	job->n = n;
	job->entry_id = xstrdup(entry_id);
	job->fd[0] = job->fd[1] = CURL_SOCKET_BAD;
	TAILQ_INSERT_TAIL(&n->jobs, job, entry);
	n->njobs++;
	return job;
}

/*
 * Let go of curl.  A mail's connection is shut down first: curl says QUIT
 * when it closes an SMTP connection and waits for the answer, which a
 * relay that hangs would make a wait for the whole timeout.
 */
static void
notify_release(struct notify_job *job)
{
	int i;

	if (job->smtp != NULL) {
		smtp_free(job->smtp);
		job->smtp = NULL;
	}
	for (i = 0; i < 2; i++)
		if (job->fd[i] != CURL_SOCKET_BAD)
			shutdown(job->fd[i], SHUT_RDWR);
	if (job->easy != NULL) {
		curl_multi_remove_handle(job->n->multi, job->easy);
		curl_easy_cleanup(job->easy);
		job->easy = NULL;
	}
}

static void
notify_job_free(struct notify_job *job)
{
	struct notify *n = job->n;

	TAILQ_REMOVE(&n->jobs, job, entry);
	n->njobs--;
	notify_release(job);
	curl_slist_free_all(job->list);
	free(job->payload);
	free(job->entry_id);
	free(job->nid);
	free(job->channel);
	free(job->what);
	free(job->reason);
	free(job->from);
	free(job->to);
	free(job);
}

/* ---- libcurl on the event loop ---- */

/* The mail transaction ended (smtp.c). */
static void
notify_smtp_done(int ok, int permanent, const char *reason, void *arg)
{
	struct notify_job *job = arg;

	job->ok = ok;
	job->permanent = permanent;
	if (!ok)
		job->reason = xstrdup(reason);
	notify_release(job);
	job->step = STEP_FINISH;
	notify_finish(job);
}

/* curl has connected a mail's relay (or failed to): on to the transaction. */
static int
notify_connected(struct notify_job *job)
{
	const struct config *cfg = *job->n->cfg;
	uint64_t spent = notify_now_ms() - job->started_ms;
	uint64_t limit = (uint64_t)cfg->smtp_timeout * 1000;
	const char *cause;

	job->smtp = smtp_start(job->n->base, job->easy, job->from, job->to,
	    job->payload, job->len, (unsigned int)(spent < limit ?
	    limit - spent : 1000), notify_smtp_done, job, &cause);
	if (job->smtp == NULL) {
		job->reason = xstrdup(cause);
		return -1;
	}
	return 0;
}

static void
notify_curl_check(struct notify *n)
{
	struct notify_job *job;
	CURLMsg *msg;
	CURLcode rc;
	char *p;
	long code = 0;
	int left;

	while ((msg = curl_multi_info_read(n->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		job = (struct notify_job *)p;
		rc = msg->data.result;
		if (strcmp(job->channel, "mail") == 0) {
			/* Connected, greeted, TLS and AUTH done: the mail itself. */
			if (rc == CURLE_OK && notify_connected(job) == 0)
				continue;
			job->ok = 0;
			job->permanent = 0;
		} else {
			curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &code);
			job->ok = rc == CURLE_OK && code >= 200 && code < 300;
			job->permanent = rc == CURLE_OK && code >= 400 &&
			    code < 500 && code != 408 && code != 429;
		}
		if (!job->ok && job->reason == NULL) {
			if (rc != CURLE_OK)
				xasprintf(&job->reason, "%s%s%s", job->errbuf[0] ?
				    job->errbuf : curl_easy_strerror(rc),
				    job->reply[0] ? ": " : "", job->reply);
			else
				xasprintf(&job->reason, "HTTP status %ld", code);
		}
		notify_release(job);
		job->step = STEP_FINISH;
		notify_finish(job);
	}
}

/* A mail's sockets, so that notify_release() can shut them down. */
static curl_socket_t
notify_open_fn(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct notify_job *job = arg;
	curl_socket_t fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd == CURL_SOCKET_BAD)
		return fd;
	if (job->fd[0] == CURL_SOCKET_BAD)
		job->fd[0] = fd;
	else if (job->fd[1] == CURL_SOCKET_BAD)
		job->fd[1] = fd;
	return fd;
}

/* curl closes a socket, maybe after the job is gone: look it up. */
static int
notify_close_fn(void *arg, curl_socket_t fd)
{
	struct notify *n = arg;
	struct notify_job *job;
	int i;

	TAILQ_FOREACH(job, &n->jobs, entry)
		for (i = 0; i < 2; i++)
			if (job->fd[i] == fd)
				job->fd[i] = CURL_SOCKET_BAD;
	return close(fd);
}

static void
notify_sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	int running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(n->multi, fd, action, &running);
	notify_curl_check(n);
	if (running <= 0)
		evtimer_del(n->curl_timer);
}

static int
notify_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct notify *n = userp;
	struct notify_sock *ns = socketp;
	short kind;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (ns != NULL) {
			LIST_REMOVE(ns, entry);
			event_free(ns->ev);
			free(ns);
		}
		return 0;
	}
	kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
	    (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (ns == NULL) {
		ns = xcalloc(1, sizeof *ns);
		if ((ns->ev = event_new(n->base, s, kind, notify_sock_event_cb,
		    n)) == NULL)
			fatalx("notify: cannot create a socket event");
		LIST_INSERT_HEAD(&n->socks, ns, entry);
		curl_multi_assign(n->multi, s, ns);
	} else {
		event_del(ns->ev);
		event_assign(ns->ev, n->base, s, kind, notify_sock_event_cb, n);
	}
	event_add(ns->ev, NULL);
	return 0;
}

static void
notify_curl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	notify_curl_check(n);
}

static int
notify_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct notify *n = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(n->curl_timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(n->curl_timer, &tv);
	return 0;
}

static size_t
notify_discard_fn(char *buf, size_t size, size_t nitems, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nitems;
}

/* Keep the relay's last line: "550 5.1.1 no such user" says more than curl. */
static int
notify_debug_fn(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
	struct notify_job *job = arg;
	size_t i, n = 0;

	(void)e;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	for (i = 0; i < size && n + 1 < sizeof job->reply; i++) {
		if (data[i] == '\r' || data[i] == '\n')
			break;
		job->reply[n++] = (unsigned char)data[i] < 0x20 ||
		    (unsigned char)data[i] >= 0x7f ? '?' : data[i];
	}
	job->reply[n] = '\0';
	return 0;
}

/* The first line of [smtp] password_file, or NULL with *cause. */
static char *
notify_password(const struct config *cfg, char **cause)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	if (cfg->smtp_password_file[0] == '\0')
		return xstrdup(cfg->smtp_password);
	if ((fp = fopen(cfg->smtp_password_file, "r")) == NULL) {
		xasprintf(cause, "[smtp] password_file %s: %s",
		    cfg->smtp_password_file, strerror(errno));
		return NULL;
	}
	if ((len = getline(&line, &cap, fp)) < 0) {
		fclose(fp);
		free(line);
		xasprintf(cause, "[smtp] password_file %s is empty",
		    cfg->smtp_password_file);
		return NULL;
	}
	fclose(fp);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	return line;
}

static CURL *
notify_easy(struct notify_job *job, const char *url, unsigned int timeout)
{
	CURL *e;

	if ((e = curl_easy_init()) == NULL)
		fatalx("notify: curl_easy_init failed");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)job);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout * 1000);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout * 1000);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, notify_debug_fn);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, job);
	return e;
}

/* Hand the mail in job->payload to the relay. */
static int
notify_smtp(struct notify_job *job, const struct config *cfg, const char *to,
    char **cause)
{
	char *pw;
	CURL *e;

	if ((job->from = mail_address(cfg->smtp_from)) == NULL) {
		*cause = xstrdup("[smtp] from is not a valid address");
		return -1;
	}
	if ((pw = notify_password(cfg, cause)) == NULL)
		return -1;
	job->to = xstrdup(to);
	job->started_ms = notify_now_ms();
	e = notify_easy(job, cfg->smtp_relay, cfg->smtp_timeout);
	/* curl connects, greets, does TLS and AUTH; smtp.c the rest. */
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    (long)cfg->smtp_timeout);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, notify_open_fn);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, job);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, notify_close_fn);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, job->n);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	switch (cfg->smtp_starttls) {
	case STARTTLS_NO:
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE);
		break;
	case STARTTLS_OPPORTUNISTIC:
		/* Against passive eavesdroppers only (RFC 7435): no verification. */
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		break;
	case STARTTLS_REQUIRED:
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		break;
	}
	if (cfg->smtp_user[0] != '\0') {
		curl_easy_setopt(e, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, pw);
	}
	free(pw);
	job->easy = e;
	return 0;
}

static void
notify_webhook(struct notify_job *job, const struct config *cfg,
    const char *key)
{
	char *h;
	CURL *e;

	e = notify_easy(job, cfg->notify_webhook, cfg->notify_webhook_timeout);
	job->list = curl_slist_append(NULL,
	    "Content-Type: application/json; charset=utf-8");
	job->list = curl_slist_append(job->list, "Expect:");
	xasprintf(&h, "Idempotency-Key: %s", key);
	job->list = curl_slist_append(job->list, h);
	free(h);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, job->list);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, job->payload);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)job->len);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "heinzel/" HEINZEL_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, notify_discard_fn);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	job->easy = e;
}

/* ---- building what is sent ---- */

/* A field of the notification hash (the HGETALL reply), "" if absent. */
static const char *
notify_field(const redisReply *r, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, name) == 0)
			return r->element[i + 1]->str;
	return "";
}

/* The field, or def when absent or empty. */
static const char *
notify_or(const redisReply *r, const char *name, const char *def)
{
	const char *v = notify_field(r, name);

	return v[0] != '\0' ? v : def;
}

/* created_at (ms) as "2024-06-01 12:03 UTC", or ISO 8601 when iso. */
static void
notify_time(const char *ms, int iso, char *buf, size_t size)
{
	time_t t = (time_t)(strtoull(ms, NULL, 10) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC",
	    &tm);
}

/* "NAME=3 OTHER=-1" as "NAME (+3), OTHER (-1)", "-" for none. */
static char *
notify_hits(const char *hits)
{
	char *copy = xstrdup(hits), *tok, *save, *eq, *out = NULL, *tmp;

	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(tok, '=')) != NULL)
			*eq++ = '\0';
		xasprintf(&tmp, "%s%s%s (%s%s)", out ? out : "", out ? ", " : "",
		    tok, eq != NULL && *eq != '-' ? "+" : "", eq ? eq : "?");
		free(out);
		out = tmp;
	}
	free(copy);
	return out != NULL ? out : xstrdup("-");
}

/* The mail of a notification into job->payload; -1 with *cause (permanent or not). */
static int
notify_build_mail(struct notify_job *job, const redisReply *h,
    const struct config *cfg, char **cause, int *permanent)
{
	const char *kind = notify_field(h, "kind"), *lang = notify_field(h, "lang");
	const char *cid = notify_field(h, "comment"), *body = notify_field(h, "body");
	struct template_var vars[20];
	char created[64], *text = NULL, *subject, *mbody, *summary, *excerpt;
	char *hits = NULL, *approve = NULL, *reject = NULL, *spam = NULL;
	char *msgid;
	const char *why;
	struct mail m;
	size_t nv = 0;
	int k, rv = -1;

	*permanent = 1;
	if ((k = template_kind_parse(kind)) < 0) {
		xasprintf(cause, "unknown kind of mail \"%s\"", kind);
		return -1;
	}
	if (!mail_address_valid(notify_field(h, "to"))) {
		xasprintf(cause, "not a deliverable address");
		return -1;
	}
	if (template_load(cfg->notify_templates, k, lang, &text, cause) != 0) {
		log_warnx("notify: template %s; using the built-in one", *cause);
		free(*cause);
		*cause = NULL;
		text = xstrdup(template_builtin(k, lang));
	}
	summary = template_excerpt(body, NOTIFY_SUMMARY, 1);
	excerpt = template_excerpt(body, NOTIFY_EXCERPT, 0);
	notify_time(notify_field(h, "created_at"), 0, created, sizeof created);
#define VAR(a, b) do { vars[nv].name = (a); vars[nv].value = (b); nv++; } while (0)
	VAR("id", cid);
	VAR("post", notify_field(h, "post"));
	VAR("author", notify_field(h, "author"));
	VAR("url", k == TEMPLATE_ADMIN ? notify_or(h, "url", "-") :
	    notify_field(h, "url"));
	VAR("summary", summary);
	VAR("excerpt", excerpt);
	VAR("created", created);
	if (k == TEMPLATE_ADMIN) {
		/* Only here: the author's mails never get these. */
		hits = notify_hits(notify_field(h, "hits"));
		xasprintf(&approve, "heinzelctl approve %s", cid);
		xasprintf(&reject, "heinzelctl reject %s", cid);
		xasprintf(&spam, "heinzelctl spam %s", cid);
		VAR("email", notify_field(h, "email"));
		VAR("ip", notify_or(h, "ip", "-"));
		VAR("user_agent", notify_or(h, "user_agent", "-"));
		VAR("score", notify_field(h, "score"));
		VAR("hits", hits);
		VAR("pending", notify_field(h, "pending"));
		VAR("approve", approve);
		VAR("reject", reject);
		VAR("spam", spam);
	}
#undef VAR
	if (template_render(k, text, vars, nv, &subject, &mbody, cause) != 0)
		goto out;
	msgid = mail_message_id(cid, kind, cfg->smtp_from);
	memset(&m, 0, sizeof m);
	m.from = cfg->smtp_from;
	m.to = notify_field(h, "to");
	m.subject = subject;
	m.body = mbody;
	m.message_id = msgid;
	m.date = time(NULL);
	m.comment_id = cid;
	m.kind = kind;
	if ((job->payload = mail_build(&m, &job->len, &why)) == NULL) {
		*permanent = 0;		/* [smtp] from: the configuration's fault */
		*cause = xstrdup(why);
	} else
		rv = 0;
	free(msgid);
	free(subject);
	free(mbody);
out:
	free(text);
	free(summary);
	free(excerpt);
	free(hits);
	free(approve);
	free(reject);
	free(spam);
	return rv;
}

/*
 * The webhook's JSON: what a moderators' chat room needs, never the
 * author's e-mail or IP (a room is often wider than the moderators).
 */
static void
notify_build_webhook(struct notify_job *job, const redisReply *h, char **key)
{
	const char *kind = notify_field(h, "kind"), *cid = notify_field(h, "comment");
	char created[64], *excerpt, *copy, *tok, *save, *eq;
	json_t *o, *hits;

	excerpt = template_excerpt(notify_field(h, "body"),
	    NOTIFY_WEBHOOK_EXCERPT, 1);
	notify_time(notify_field(h, "created_at"), 1, created, sizeof created);
	hits = json_array();
	copy = xstrdup(notify_field(h, "hits"));
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(tok, '=')) != NULL)
			*eq++ = '\0';
		json_array_append_new(hits, json_pack("{s:s, s:f}", "rule", tok,
		    "score", eq != NULL ? strtod(eq, NULL) : 0.0));
	}
	free(copy);
	xasprintf(key, "%s.%s", cid, kind);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:b, s:o, s:I, s:s, s:s}",
	    "event", kind, "id", cid, "post", notify_field(h, "post"),
	    "author", notify_field(h, "author"), "url", notify_field(h, "url"),
	    "excerpt", excerpt, "created_at", created,
	    "score", strtod(notify_field(h, "score"), NULL),
	    "hold", strcmp(notify_field(h, "hold"), "1") == 0, "hits", hits,
	    "pending", (json_int_t)strtoll(notify_field(h, "pending"), NULL, 10),
	    "approve", "", "notification", *key);
	if (o == NULL)
		fatalx("notify: cannot build the webhook's JSON");
	if (strcmp(kind, "pending") == 0) {
		copy = NULL;
		xasprintf(&copy, "heinzelctl approve %s", cid);
		json_object_set_new(o, "approve", json_string(copy));
		free(copy);
	} else
		json_object_del(o, "approve");
	job->payload = json_dumps(o, JSON_COMPACT);
	job->len = strlen(job->payload);
	json_decref(o);
	free(excerpt);
}

/* The notification is loaded: build it and start sending. */
static void
notify_start(struct notify_job *job, const redisReply *h)
{
	const struct config *cfg = *job->n->cfg;
	const char *channel = notify_field(h, "channel");
	const char *kind = notify_field(h, "kind"), *to = notify_field(h, "to");
	char *cause = NULL, *masked, *key = NULL;
	int permanent = 0;

	job->channel = xstrdup(channel);
	masked = notify_masked(to);
	if (strcmp(channel, "mail") == 0)
		xasprintf(&job->what, "%s mail %s (comment %s) to %s", kind,
		    job->nid, notify_field(h, "comment"), masked);
	else
		xasprintf(&job->what, "%s %s %s (comment %s)", kind, channel,
		    job->nid, notify_field(h, "comment"));
	free(masked);

	if (strcmp(channel, "mail") == 0) {
		if (notify_build_mail(job, h, cfg, &cause, &permanent) == 0 &&
		    notify_smtp(job, cfg, to, &cause) != 0)
			permanent = 0;
	} else if (strcmp(channel, "webhook") == 0) {
		if (cfg->notify_webhook[0] == '\0') {
			cause = xstrdup("no [notify] webhook is configured");
			permanent = 1;
		} else {
			notify_build_webhook(job, h, &key);
			notify_webhook(job, cfg, key);
			free(key);
		}
	} else {
		xasprintf(&cause, "unknown channel \"%s\"", channel);
		permanent = 1;
		free(job->channel);
		job->channel = xstrdup("unknown");
	}
	if (job->easy == NULL) {
		job->step = STEP_FINISH;
		job->reason = cause != NULL ? cause : xstrdup("cannot build it");
		job->permanent = permanent;
		notify_finish(job);
		return;
	}
	free(cause);
	log_debug("notify: sending %s, attempt %s", job->what,
	    notify_field(h, "attempts"));
	job->step = STEP_SEND;
	curl_multi_add_handle(job->n->multi, job->easy);
}

/* ---- Redis steps ---- */

static void
notify_done_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct notify *n = job->n;
	struct store_fail_result res;
	const char *cause;
	long long v;

	job->busy = 0;
	if (r == NULL) {
		notify_lost(n);
		return;		/* the job stays; the next poll tries again */
	}
	if (job->ok) {
		if (store_integer_reply(r, &v, &cause) != 0) {
			/* Still pending in the group: it comes round again. */
			log_warnx("notify: acknowledging %s: %s", job->what ?
			    job->what : job->entry_id, cause);
		} else if (job->channel != NULL) {
			metrics_notify(n->metrics, job->channel, "sent");
			log_info("notify: sent %s", job->what);
		}
	} else {
		if (store_outbox_fail_reply(r, &res, &cause) != 0) {
			log_warnx("notify: recording the failure of %s: %s",
			    job->what, cause);
			res.outcome = FAIL_GONE;
		} else
			metrics_notify(n->metrics, job->channel, "failed");
		if (res.outcome == FAIL_RETRY) {
			metrics_notify(n->metrics, job->channel, "retried");
			log_warnx("notify: %s failed (attempt %lld of %u), "
			    "retry in %" PRIu64 " s: %s", job->what, res.attempts,
			    (*n->cfg)->notify_max_tries,
			    (res.due_ms > notify_now_ms() ?
			    res.due_ms - notify_now_ms() + 999 : 0) / 1000,
			    job->reason);
		} else if (res.outcome == FAIL_DEAD) {
			metrics_notify(n->metrics, job->channel, "dead");
			log_warnx("notify: %s failed %s, given up (heinzelctl "
			    "outbox retry %s): %s", job->what, job->permanent ?
			    "for good" : "the last time", job->nid, job->reason);
		}
	}
	notify_job_free(job);
	notify_wake(n);
}

/* Record the outcome: acknowledge, or move to retry or dead letters. */
static void
notify_finish(struct notify_job *job)
{
	struct notify *n = job->n;
	const struct config *cfg = *n->cfg;
	struct store_retry rt;
	struct store_cmd cmd;
	int s;

	store_cmd_init(&cmd);
	if (job->ok || job->nid == NULL) {
		job->ok = 1;
		s = STORE_SCRIPT_OUTBOX_DONE;
		store_cmd_outbox_done(n->store, &cmd, db_script_sha(n->db, s),
		    job->entry_id, job->nid, job->channel);
	} else {
		rt.max_tries = cfg->notify_max_tries;
		rt.base_ms = (uint64_t)cfg->notify_retry_base * 1000;
		rt.max_ms = (uint64_t)cfg->notify_retry_max * 1000;
		s = STORE_SCRIPT_OUTBOX_FAIL;
		store_cmd_outbox_fail(n->store, &cmd, db_script_sha(n->db, s),
		    job->entry_id, job->nid, job->channel, job->reason,
		    job->permanent, &rt, notify_now_ms());
	}
	job->busy = 1;
	if (db_command(n->db, &cmd, s, notify_done_cb, job) != 0)
		job->busy = 0;	/* Redis is down: the tick tries again */
}

static void
notify_loaded_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct notify *n = job->n;

	job->busy = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		if (r == NULL)
			notify_lost(n);
		else
			log_warnx("notify: loading notification %s: %s", job->nid,
			    r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
		notify_job_free(job);
		return;
	}
	if (r->elements == 0) {
		/* Dropped meanwhile: only the entry is left to acknowledge. */
		free(job->nid);
		job->nid = NULL;
		job->step = STEP_FINISH;
		notify_finish(job);
		return;
	}
	notify_start(job, r);
}

static void
notify_expanded_cb(redisReply *r, void *arg)
{
	struct notify_job *job = arg;
	struct notify *n = job->n;
	const char *cause;
	long long made;

	if (store_integer_reply(r, &made, &cause) != 0) {
		if (r == NULL)
			notify_lost(n);
		else
			log_warnx("notify: expanding outbox entry %s: %s",
			    job->entry_id, cause);
	} else if (made > 0)
		log_debug("notify: outbox entry %s made %lld notifications",
		    job->entry_id, made);
	notify_job_free(job);
	notify_wake(n);
}

static int
notify_in_flight(struct notify *n, const char *entry_id)
{
	struct notify_job *job;

	TAILQ_FOREACH(job, &n->jobs, entry)
		if (strcmp(job->entry_id, entry_id) == 0)
			return 1;
	return 0;
}

/* Take one outbox entry in hand. */
static void
notify_take(struct notify *n, const struct store_outbox_entry *e)
{
	const struct config *cfg = *n->cfg;
	struct notify_job *job;
	struct store_notify nt;
	struct store_cmd cmd;
	int s;

	if (notify_in_flight(n, e->id))
		return;
	job = notify_job_new(n, e->id);
	store_cmd_init(&cmd);
	if (e->nid != NULL) {
		job->step = STEP_LOAD;
		job->nid = xstrdup(e->nid);
		store_cmd_notification(n->store, &cmd, e->nid);
		s = -1;
		job->busy = 1;
		if (db_command(n->db, &cmd, s, notify_loaded_cb, job) != 0)
			notify_job_free(job);
		return;
	}
	if (e->event == NULL || e->comment == NULL) {
		/* Deleted or not ours to understand: acknowledge it. */
		job->step = STEP_FINISH;
		job->ok = 1;
		notify_finish(job);
		return;
	}
	job->step = STEP_EXPAND;
	memset(&nt, 0, sizeof nt);
	nt.admin = cfg->notify_admin;
	nt.on_receipt = cfg->author_on_receipt;
	nt.on_approve = cfg->author_on_approve;
	nt.webhook = cfg->notify_webhook[0] != '\0';
	nt.lang = cfg->notify_lang;
	s = STORE_SCRIPT_OUTBOX_EXPAND;
	store_cmd_outbox_expand(n->store, &cmd, db_script_sha(n->db, s), e, &nt,
	    notify_now_ms());
	job->busy = 1;
	if (db_command(n->db, &cmd, s, notify_expanded_cb, job) != 0)
		notify_job_free(job);
}

/* A read or claim failed for want of the group (a FLUSHALL, a new Redis). */
static void
notify_read_error(struct notify *n, const redisReply *r, const char *what,
    const char *cause)
{
	if (r == NULL) {
		notify_lost(n);
		return;
	}
	if (strncmp(cause, "NOGROUP", 7) == 0) {
		n->group_ready = 0;
		notify_lost(n);
		return;
	}
	log_warnx("notify: %s: %s", what, cause);
}

static void
notify_read_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;
	struct store_outbox_entry *e;
	const char *next, *cause;
	size_t i, count;

	n->reading = 0;
	if (store_outbox_entries(r, &e, &count, &next, &cause) != 0) {
		notify_read_error(n, r, "reading the outbox", cause);
		return;
	}
	if (n->history[0] != '\0') {
		if (count == 0)
			n->history[0] = '\0';	/* on to new entries */
		else
			snprintf(n->history, sizeof n->history, "%s",
			    e[count - 1].id);
	}
	for (i = 0; i < count; i++)
		notify_take(n, &e[i]);
	free(e);
	if (count > 0 || n->history[0] != '\0')
		notify_wake(n);
}

static void
notify_claim_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;
	struct store_outbox_entry *e;
	const char *next, *cause;
	size_t i, count;

	n->claim_busy = 0;
	if (store_outbox_entries(r, &e, &count, &next, &cause) != 0) {
		notify_read_error(n, r, "claiming idle outbox entries", cause);
		return;
	}
	if (count > 0)
		log_info("notify: took over %zu outbox entries idle too long",
		    count);
	for (i = 0; i < count; i++)
		notify_take(n, &e[i]);
	free(e);
	if (next != NULL && strcmp(next, "0-0") != 0)
		n->last_claim_ms = 0;	/* more to look at */
}

static void
notify_due_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;
	const char *cause;
	long long moved;
	uint64_t next;

	n->due_busy = 0;
	if (store_outbox_due_reply(r, &moved, &next, &cause) != 0) {
		if (r == NULL)
			notify_lost(n);
		else
			log_warnx("notify: retry schedule: %s", cause);
		return;
	}
	if (moved > 0) {
		log_debug("notify: %lld notifications due again", moved);
		notify_wake(n);
	}
}

static void
notify_group_cb(redisReply *r, void *arg)
{
	struct notify *n = arg;

	n->group_busy = 0;
	if (r == NULL)
		return;
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
		log_warnx("notify: creating the outbox group: %s", r->str);
		return;
	}
	n->group_ready = 1;
	notify_wake(n);
}

/*
 * One round: whatever is possible now.  The poll (not each wake) also
 * retries the outcomes Redis missed, moves due retries back into the
 * outbox and looks for entries of lost consumers.
 */
static void
notify_work(struct notify *n, int poll)
{
	const struct config *cfg = *n->cfg;
	struct notify_job *job, *next;
	struct store_cmd cmd;
	uint64_t now = notify_now_ms(), idle;
	unsigned int free_slots;

	if (!db_up(n->db)) {
		n->was_up = 0;
		return;
	}
	if (!n->was_up) {
		n->was_up = 1;
		n->group_ready = 0;
		notify_lost(n);
	}
	if (!n->group_ready) {
		if (!n->group_busy) {
			n->group_busy = 1;
			store_cmd_init(&cmd);
			store_cmd_outbox_group(n->store, &cmd);
			if (db_command(n->db, &cmd, -1, notify_group_cb, n) != 0)
				n->group_busy = 0;
		}
		return;
	}
	for (job = TAILQ_FIRST(&n->jobs); poll && job != NULL; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (job->step == STEP_FINISH && !job->busy)
			notify_finish(job);
	}
	if (poll && !n->due_busy) {
		n->due_busy = 1;
		store_cmd_init(&cmd);
		store_cmd_outbox_due(n->store, &cmd,
		    db_script_sha(n->db, STORE_SCRIPT_OUTBOX_DUE), now,
		    NOTIFY_DUE_BATCH);
		if (db_command(n->db, &cmd, STORE_SCRIPT_OUTBOX_DUE,
		    notify_due_cb, n) != 0)
			n->due_busy = 0;
	}
	free_slots = n->njobs < NOTIFY_PARALLEL ? NOTIFY_PARALLEL - n->njobs : 0;
	if (poll && free_slots > 0 && !n->claim_busy &&
	    now - n->last_claim_ms >= NOTIFY_CLAIM_EVERY_MS) {
		/* Idle longer than any delivery takes: its consumer is gone. */
		idle = 2000ULL * (cfg->smtp_timeout > cfg->notify_webhook_timeout ?
		    cfg->smtp_timeout : cfg->notify_webhook_timeout) + 60000;
		n->last_claim_ms = now;
		n->claim_busy = 1;
		store_cmd_init(&cmd);
		store_cmd_outbox_claim(n->store, &cmd, n->consumer, idle, "0-0",
		    free_slots);
		if (db_command(n->db, &cmd, -1, notify_claim_cb, n) != 0)
			n->claim_busy = 0;
	}
	if (free_slots > 0 && !n->reading) {
		n->reading = 1;
		store_cmd_init(&cmd);
		store_cmd_outbox_read(n->store, &cmd, n->consumer, free_slots,
		    n->history[0] != '\0' ? n->history : ">");
		if (db_command(n->db, &cmd, -1, notify_read_cb, n) != 0)
			n->reading = 0;
	}
}

static void
notify_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	notify_work(arg, 0);
}

static void
notify_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	struct timeval tv = { NOTIFY_POLL_MS / 1000, (NOTIFY_POLL_MS % 1000) * 1000 };

	(void)fd;
	(void)what;
	notify_work(n, 1);
	evtimer_add(n->tick, &tv);
}

struct notify *
notify_new(struct event_base *base, struct db *db, const struct store *st,
    const struct config *const *cfg, struct metrics *m)
{
	struct notify *n = xcalloc(1, sizeof *n);
	struct timeval tv = { 0, 0 };
	char host[256];

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("notify: curl_global_init failed");
	n->base = base;
	n->db = db;
	n->store = st;
	n->cfg = cfg;
	n->metrics = m;
	TAILQ_INIT(&n->jobs);
	LIST_INIT(&n->socks);
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	xasprintf(&n->consumer, "%s:%s", host, (*cfg)->socket);
	if ((n->multi = curl_multi_init()) == NULL)
		fatalx("notify: curl_multi_init failed");
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, notify_sock_cb);
	curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, notify_timer_fn);
	curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n);
	n->curl_timer = evtimer_new(base, notify_curl_timer_cb, n);
	n->tick = evtimer_new(base, notify_tick_cb, n);
	n->kick = evtimer_new(base, notify_kick_cb, n);
	if (n->curl_timer == NULL || n->tick == NULL || n->kick == NULL)
		fatalx("notify: cannot create timers");
	notify_lost(n);
	evtimer_add(n->tick, &tv);
	metrics_on_stored(m, notify_wake_cb, n);
	log_debug("notify: consumer %s", n->consumer);
	return n;
}

void
notify_free(struct notify *n)
{
	struct notify_sock *ns;

	metrics_on_stored(n->metrics, NULL, NULL);
	while (!TAILQ_EMPTY(&n->jobs))
		notify_job_free(TAILQ_FIRST(&n->jobs));
	curl_multi_cleanup(n->multi);
	while ((ns = LIST_FIRST(&n->socks)) != NULL) {
		LIST_REMOVE(ns, entry);
		event_free(ns->ev);
		free(ns);
	}
	event_free(n->curl_timer);
	event_free(n->tick);
	event_free(n->kick);
	free(n->consumer);
	free(n);
	curl_global_cleanup();
}
