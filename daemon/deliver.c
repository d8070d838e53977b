/*
 * libcurl's multi interface on libevent (CURLMOPT_SOCKETFUNCTION and
 * TIMERFUNCTION become events).  A mail is a CONNECT_ONLY transfer: curl
 * sets the connection up non-blocking, then smtp.c runs MAIL, RCPT and
 * DATA over it, because curl's own SMTP upload waits for the final reply
 * in a blocking loop.  curl also says QUIT and waits for the answer when
 * it closes an SMTP connection, so a mail's sockets are tracked and shut
 * down before curl lets go of them.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "config.h"
#include "deliver.h"
#include "heinzel-build.h"
#include "log.h"
#include "mail.h"
#include "smtp.h"
#include "xmalloc.h"

struct deliver_job {
	struct deliver *d;
	LIST_ENTRY(deliver_job) entry;
	int mail;
	CURL *easy;
	struct curl_slist *list;
	char *payload;
	size_t len;
	char errbuf[CURL_ERROR_SIZE];
	char reply[256];	/* the server's last line, for the reason */
	struct smtp *smtp;	/* the transaction, once connected */
	char *from, *to;
	unsigned int timeout_ms;
	uint64_t started_ms;
	curl_socket_t fd[2];	/* a mail's sockets curl has open */
	deliver_cb *cb;
	void *arg;
};

struct deliver_sock {
	struct event *ev;
	LIST_ENTRY(deliver_sock) entry;
};

struct deliver {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	LIST_HEAD(, deliver_sock) socks;
	LIST_HEAD(, deliver_job) jobs;
};

static struct deliver_job *
deliver_job_new(struct deliver *d, deliver_cb *cb, void *arg)
{
	struct deliver_job *j = xcalloc(1, sizeof *j);

	j->d = d;
	j->cb = cb;
	j->arg = arg;
	j->fd[0] = j->fd[1] = CURL_SOCKET_BAD;
	LIST_INSERT_HEAD(&d->jobs, j, entry);
	return j;
}

void
deliver_cancel(struct deliver_job *j)
{
	int i;

	if (j->smtp != NULL)
		smtp_free(j->smtp);
	for (i = 0; i < 2; i++)
		if (j->fd[i] != CURL_SOCKET_BAD)
			shutdown(j->fd[i], SHUT_RDWR);
	if (j->easy != NULL) {
		curl_multi_remove_handle(j->d->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	LIST_REMOVE(j, entry);
	curl_slist_free_all(j->list);
	free(j->payload);
	free(j->from);
	free(j->to);
	free(j);
}

/* Tell the caller and forget the job. */
static void
deliver_done(struct deliver_job *j, int ok, int permanent, const char *reason)
{
	deliver_cb *cb = j->cb;
	void *arg = j->arg;
	char *why = xstrdup(reason != NULL ? reason : "");

	deliver_cancel(j);
	cb(ok, permanent, why, arg);
	free(why);
}

static void
deliver_smtp_done(int ok, int permanent, const char *reason, void *arg)
{
	deliver_done(arg, ok, permanent, reason);
}

/* A finished transfer: a mail's connection is ready, or an outcome. */
static void
deliver_finished(struct deliver_job *j, CURLcode rc)
{
	uint64_t spent = clock_mono_ms() - j->started_ms;
	const char *cause = NULL;
	char *why = NULL;
	long code = 0;
	int ok = 0, permanent = 0;

	if (j->mail && rc == CURLE_OK) {
		/* Connected, greeted, TLS and AUTH done: the mail itself. */
		j->smtp = smtp_start(j->d->base, j->easy, j->from, j->to,
		    j->payload, j->len, (unsigned int)(spent < j->timeout_ms ?
		    j->timeout_ms - spent : 1000), deliver_smtp_done, j, &cause);
		if (j->smtp != NULL)
			return;
	} else if (!j->mail) {
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
		ok = rc == CURLE_OK && code >= 200 && code < 300;
		permanent = rc == CURLE_OK && code >= 400 && code < 500 &&
		    code != 408 && code != 429;
	}
	if (cause != NULL)
		why = xstrdup(cause);
	else if (rc != CURLE_OK)
		xasprintf(&why, "%s%s%s", j->errbuf[0] ? j->errbuf :
		    curl_easy_strerror(rc), j->reply[0] ? ": " : "", j->reply);
	else if (!ok)
		xasprintf(&why, "HTTP status %ld", code);
	deliver_done(j, ok, permanent, why);
	free(why);
}

static void
deliver_check(struct deliver *d)
{
	struct deliver_job *j;
	CURLMsg *msg;
	char *p;
	int left;

	while ((msg = curl_multi_info_read(d->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		j = (struct deliver_job *)p;
		deliver_finished(j, msg->data.result);
	}
}

static void
deliver_sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deliver *d = arg;
	int running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(d->multi, fd, action, &running);
	deliver_check(d);
	if (running <= 0)
		evtimer_del(d->timer);
}

static int
deliver_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct deliver *d = userp;
	struct deliver_sock *ds = socketp;
	short kind;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (ds != NULL) {
			LIST_REMOVE(ds, entry);
			event_free(ds->ev);
			free(ds);
		}
		return 0;
	}
	kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
	    (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (ds == NULL) {
		ds = xcalloc(1, sizeof *ds);
		if ((ds->ev = event_new(d->base, s, kind, deliver_sock_event_cb,
		    d)) == NULL)
			fatalx("deliver: cannot create a socket event");
		LIST_INSERT_HEAD(&d->socks, ds, entry);
		curl_multi_assign(d->multi, s, ds);
	} else {
		event_del(ds->ev);
		event_assign(ds->ev, d->base, s, kind, deliver_sock_event_cb, d);
	}
	event_add(ds->ev, NULL);
	return 0;
}

static void
deliver_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deliver *d = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	deliver_check(d);
}

static int
deliver_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct deliver *d = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(d->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(d->timer, &tv);
	return 0;
}

/* A mail's sockets, so that deliver_cancel() can shut them down. */
static curl_socket_t
deliver_open_fn(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct deliver_job *j = arg;
	curl_socket_t fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd == CURL_SOCKET_BAD)
		return fd;
	if (j->fd[0] == CURL_SOCKET_BAD)
		j->fd[0] = fd;
	else if (j->fd[1] == CURL_SOCKET_BAD)
		j->fd[1] = fd;
	return fd;
}

/* curl closes a socket, maybe after its job is gone: look it up. */
static int
deliver_close_fn(void *arg, curl_socket_t fd)
{
	struct deliver *d = arg;
	struct deliver_job *j;
	int i;

	LIST_FOREACH(j, &d->jobs, entry)
		for (i = 0; i < 2; i++)
			if (j->fd[i] == fd)
				j->fd[i] = CURL_SOCKET_BAD;
	return close(fd);
}

static size_t
deliver_discard_fn(char *buf, size_t size, size_t nitems, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nitems;
}

/* Keep the server's last line: "535 5.7.8 bad credentials" says more than curl. */
static int
deliver_debug_fn(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
	struct deliver_job *j = arg;
	size_t i, n = 0;

	(void)e;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	for (i = 0; i < size && n + 1 < sizeof j->reply; i++) {
		if (data[i] == '\r' || data[i] == '\n')
			break;
		j->reply[n++] = (unsigned char)data[i] < 0x20 ||
		    (unsigned char)data[i] >= 0x7f ? '?' : data[i];
	}
	j->reply[n] = '\0';
	return 0;
}

/* The first line of [smtp] password_file, or NULL with *cause. */
static char *
deliver_password(const struct config *cfg, char **cause)
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

static void
deliver_easy(struct deliver_job *j, const char *url, unsigned int timeout,
    const char *payload, size_t len)
{
	CURL *e;

	if ((e = curl_easy_init()) == NULL)
		fatalx("deliver: curl_easy_init failed");
	j->payload = xmalloc(len + 1);
	memcpy(j->payload, payload, len);
	j->payload[len] = '\0';
	j->len = len;
	j->timeout_ms = timeout * 1000;
	j->started_ms = clock_mono_ms();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)j->timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, deliver_debug_fn);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, j);
	j->easy = e;
}

struct deliver_job *
deliver_mail(struct deliver *d, const struct config *cfg, const char *to,
    const char *msg, size_t len, deliver_cb *cb, void *arg, char **cause)
{
	struct deliver_job *j;
	char *from, *pw;
	CURL *e;

	if ((from = mail_address(cfg->smtp_from)) == NULL) {
		*cause = xstrdup("[smtp] from is not a valid address");
		return NULL;
	}
	if ((pw = deliver_password(cfg, cause)) == NULL) {
		free(from);
		return NULL;
	}
	j = deliver_job_new(d, cb, arg);
	j->mail = 1;
	j->from = from;
	j->to = xstrdup(to);
	deliver_easy(j, cfg->smtp_relay, cfg->smtp_timeout, msg, len);
	e = j->easy;
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    (long)cfg->smtp_timeout);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, deliver_open_fn);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, j);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, deliver_close_fn);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, d);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (cfg->smtp_user[0] != '\0' &&
	    cfg->smtp_starttls == STARTTLS_OPPORTUNISTIC) {
		/*
		 * A password never goes out in the clear, and not to whoever
		 * sits in between: with AUTH, TLS is required and verified,
		 * unless the relay is on this machine.  (starttls = no with
		 * AUTH is refused by the configuration unless on loopback.)
		 */
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		if (config_smtp_relay_loopback(cfg->smtp_relay)) {
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	} else {
		switch (cfg->smtp_starttls) {
		case STARTTLS_NO:
			curl_easy_setopt(e, CURLOPT_USE_SSL,
			    (long)CURLUSESSL_NONE);
			break;
		case STARTTLS_OPPORTUNISTIC:
			/*
			 * Against passive eavesdroppers only (RFC 7435):
			 * no verification.
			 */
			curl_easy_setopt(e, CURLOPT_USE_SSL,
			    (long)CURLUSESSL_TRY);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
			break;
		case STARTTLS_REQUIRED:
			curl_easy_setopt(e, CURLOPT_USE_SSL,
			    (long)CURLUSESSL_ALL);
			break;
		}
	}
	if (cfg->smtp_user[0] != '\0') {
		curl_easy_setopt(e, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, pw);
	}
	free(pw);
	curl_multi_add_handle(d->multi, e);
	return j;
}

struct deliver_job *
deliver_webhook(struct deliver *d, const struct config *cfg, const char *key,
    const char *body, size_t len, deliver_cb *cb, void *arg)
{
	struct deliver_job *j = deliver_job_new(d, cb, arg);
	char *h;
	CURL *e;

	deliver_easy(j, cfg->notify_webhook, cfg->notify_webhook_timeout, body,
	    len);
	e = j->easy;
	j->list = curl_slist_append(NULL,
	    "Content-Type: application/json; charset=utf-8");
	j->list = curl_slist_append(j->list, "Expect:");
	xasprintf(&h, "Idempotency-Key: %s", key);
	j->list = curl_slist_append(j->list, h);
	free(h);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->list);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->payload);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->len);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "heinzel/" HEINZEL_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, deliver_discard_fn);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_multi_add_handle(d->multi, e);
	return j;
}

struct deliver *
deliver_new(struct event_base *base)
{
	struct deliver *d = xcalloc(1, sizeof *d);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("deliver: curl_global_init failed");
	d->base = base;
	LIST_INIT(&d->socks);
	LIST_INIT(&d->jobs);
	if ((d->multi = curl_multi_init()) == NULL)
		fatalx("deliver: curl_multi_init failed");
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, deliver_sock_cb);
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, deliver_timer_fn);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
	if ((d->timer = evtimer_new(base, deliver_timer_cb, d)) == NULL)
		fatalx("deliver: cannot create a timer");
	return d;
}

void
deliver_free(struct deliver *d)
{
	struct deliver_sock *ds;

	while (!LIST_EMPTY(&d->jobs))
		deliver_cancel(LIST_FIRST(&d->jobs));
	curl_multi_cleanup(d->multi);
	while ((ds = LIST_FIRST(&d->socks)) != NULL) {
		LIST_REMOVE(ds, entry);
		event_free(ds->ev);
		free(ds);
	}
	event_free(d->timer);
	free(d);
	curl_global_cleanup();
}
