/*
 * The HTTP API.  Each handler checks what it can without Redis (content
 * type, size, fields, rules), then sends one Redis command and answers from
 * its callback.  Errors in a request are answers, never fatal.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>	/* the HTTP version libevent parsed */
#include <event2/listener.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "bayes.h"
#include "bayes_store.h"
#include "captcha.h"
#include "clock.h"
#include "comment.h"
#include "config.h"
#include "connlimit.h"
#include "db.h"
#include "fault.h"
#include "frontend.h"
#include "learn.h"
#include "subject.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "rules.h"
#include "score.h"
#include "scoring.h"
#include "server.h"
#include "store.h"
#include "store_outbox.h"
#include "tally.h"
#include "tokenize.h"
#include "utf8.h"
#include "xmalloc.h"

#define SERVER_RETRY_AFTER "5"
#define SERVER_PUBLISHED_LIMIT 1000	/* comments per page, and the default */
#define SERVER_PUBLISHED_LIMIT_TEXT "1000"
#define SERVER_PUBLISHED_TRIES 10	/* asks before a changing page is given up */
#define SERVER_BAYES_RECHECK 10	/* seconds */
/* evhttp's own limit; bodies between max_body and this get our JSON 413. */
#define SERVER_HARD_BODY_FACTOR 4

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct db *db;
	const struct store *store;
	const struct config *cfg;
	struct ruleset *rules;
	struct metrics *metrics;
	struct tally *tally;		/* the outcome counters in {P}:stats */
	struct evhttp_bound_socket *bound[2];	/* Unix, TCP */
	struct evhttp *metrics_http;	/* metrics_listen: /metrics only */
	struct evhttp_bound_socket *metrics_bound;
	struct connlimit *conns;
	char *unix_path;
	unsigned int active;
	int stopping;
	int counting;			/* stopping: counts being written */
	struct frontend_key *frontend;	/* NULL: no frontend is trusted */
	struct captcha_key captcha_key;	/* from captcha_secret */
	char *captcha_secret;		/* the site's secret it was made of */
	int bayes_ready;		/* learned enough, when last asked */
	time_t bayes_checked;		/* monotonic seconds of that, 0 never */
	void (*done)(void *);
	void *done_arg;
};

/* One request from arrival to answer. */
struct request {
	struct server *srv;
	struct evhttp_request *req;
	const char *route;		/* for metrics and logs */
	struct timespec start;
	char *return_to;		/* form posts from a browser: 303 there */
	struct comment comment;
	struct ruleset *rules;		/* referenced while the comment is scored */
	struct score score;
	struct tokens tokens;		/* for the classifier */
	enum verdict verdict;
	char id[STORE_ID_LEN + 1];
	enum store_status stored;	/* while WAIT runs ([redis] min_replicas) */
	struct captcha captcha;
	char *post;
	char *after;		/* the public list's page starts after this id */
	unsigned int limit;	/* comments per page of the public list */
	int tries;		/* the public list's asks (store_published_need) */
	int scored;		/* rules ran: log verdict and score */
	char why[64];		/* a refusal's reason for the log: "captcha=wrong" */
	int vouched;		/* a trusted frontend vouches for the person: no captcha */
	struct learn_batch learn;	/* POST /v1/learn */
	enum bayes_learn learn_op;
};

static const struct {
	int code;
	const char *reason;
} server_reasons[] = {
	{ 200, "OK" }, { 202, "Accepted" }, { 303, "See Other" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 409, "Conflict" },
	{ 413, "Payload Too Large" }, { 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Entity" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
};

static const char *
server_reason(int code)
{
	size_t i;

	for (i = 0; i < sizeof server_reasons / sizeof server_reasons[0]; i++)
		if (server_reasons[i].code == code)
			return server_reasons[i].reason;
	return "Unknown";
}

static struct request *
request_new(struct server *srv, struct evhttp_request *req, const char *route)
{
	struct request *r = xcalloc(1, sizeof *r);

	r->srv = srv;
	r->req = req;
	r->route = route;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	comment_init(&r->comment);
	score_init(&r->score);
	tokenize_init(&r->tokens);
	srv->active++;
	return r;
}

static void server_counted_cb(void *);

/*
 * Stopping and nothing in flight: call done once every answer has left the
 * output buffers too, or the exit would cut them off, and the counts are
 * written.  shutdown_timeout bounds the wait.
 */
static void
server_flushed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { 0, 10000 };
	void (*done)(void *) = srv->done;

	(void)fd;
	(void)what;
	if (srv->active != 0 || done == NULL || srv->counting)
		return;
	if (connlimit_unsent(srv->conns) > 0) {
		event_base_once(srv->base, -1, EV_TIMEOUT, server_flushed_cb, srv, &tv);
		return;
	}
	if (!tally_idle(srv->tally)) {
		/*
		 * The counts of the answers given go to Redis first.  A request
		 * arriving meanwhile on a connection still open is answered
		 * before heinzeld exits (request_free calls this again), and
		 * its count written too.
		 */
		srv->counting = 1;
		tally_flush(srv->tally, server_counted_cb, srv);
		return;
	}
	srv->done = NULL;
	done(srv->done_arg);
}

static void
server_counted_cb(void *arg)
{
	struct server *srv = arg;

	srv->counting = 0;
	server_flushed_cb(-1, 0, srv);
}

static void
request_free(struct request *r)
{
	struct server *srv = r->srv;

	comment_free(&r->comment);
	if (r->rules != NULL)
		ruleset_unref(r->rules);
	score_free(&r->score);
	tokenize_free(&r->tokens);
	learn_batch_free(&r->learn);
	free(r->return_to);
	free(r->post);
	free(r->after);
	free(r);
	if (--srv->active == 0 && srv->stopping && srv->done != NULL)
		server_flushed_cb(-1, 0, srv);
}

static const char *
server_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	default:
		return "OTHER";
	}
}

/*
 * Send the answer, log it, count it and free r.  The body is body, or
 * what is already in the request's output buffer when body is NULL.
 */
static void
request_finish(struct request *r, int status, struct evbuffer *body)
{
	struct timespec now;
	double secs;
	char clen[24];
	enum evhttp_cmd_type method = evhttp_request_get_command(r->req);
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);

	if (method == EVHTTP_REQ_HEAD &&
	    (body != NULL || evbuffer_get_length(out) > 0)) {
		/*
		 * evhttp sends a HEAD answer's body but no Content-Length for
		 * it (libevent 2.1): a keep-alive client would read the body
		 * as the next answer.  The length GET would have, no body.
		 */
		snprintf(clen, sizeof clen, "%zu",
		    evbuffer_get_length(body != NULL ? body : out));
		evhttp_remove_header(evhttp_request_get_output_headers(r->req),
		    "Content-Length");
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Content-Length", clen);
		evbuffer_drain(out, evbuffer_get_length(out));
		body = NULL;
	}
	evhttp_send_reply(r->req, status, server_reason(status), body);
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - r->start.tv_sec) +
	    (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
	metrics_request(r->srv->metrics, r->route, status, secs);
	if (r->scored)
		log_info("%s %s %d%s%s verdict=%s score=%g%s%s %.1fms",
		    server_method_name(method), evhttp_request_get_uri(r->req),
		    status, r->id[0] ? " id=" : "", r->id,
		    verdict_name(r->verdict), r->score.total,
		    r->why[0] ? " " : "", r->why, secs * 1000);
	else
		log_info("%s %s %d%s%s %.1fms", server_method_name(method),
		    evhttp_request_get_uri(r->req), status,
		    r->why[0] ? " " : "", r->why, secs * 1000);
	request_free(r);
}

/* Headers and the body of a JSON answer, then finish. */
static void
request_reply_buffer(struct request *r, int status, struct evbuffer *buf)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

	evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	request_finish(r, status, buf);
}

/*
 * The hot answers (202, a captcha) hold only values that need no JSON
 * escaping: hex ids, digits, status words and the captcha's own words.
 * printf serves them without building and dumping a jansson tree.
 */
static void
request_reply_printf(struct request *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
request_reply_printf(struct request *r, int status, const char *fmt, ...)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);
	char text[512];
	va_list ap;
	int n, rc;

	/*
	 * Formatted on the stack and copied once into evhttp's output
	 * buffer: no buffer of our own to make and free per answer.
	 */
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof text)
		rc = evbuffer_add(out, text, (size_t)n);
	else {
		va_start(ap, fmt);
		rc = evbuffer_add_vprintf(out, fmt, ap);
		va_end(ap);
	}
	if (rc < 0)
		fatalx("out of memory");
	request_reply_buffer(r, status, NULL);
}

static void
request_reply_json(struct request *r, int status, json_t *obj)
{
	struct evbuffer *buf = evhttp_request_get_output_buffer(r->req);
	char *text;

	if (obj == NULL) {
		/*
		 * json_pack refused a value (text that is not UTF-8): a bug
		 * to log and a 500 to send, never a reason to stop.
		 */
		log_warnx("%s: cannot make the JSON answer (%d)", r->route,
		    status);
		obj = json_pack("{s:s, s:s}", "error", "internal", "message",
		    "heinzeld could not write its answer");
		status = 500;
	}
	text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(obj);
	if (buf == NULL || text == NULL)
		fatalx("out of memory");
	evbuffer_add(buf, text, strlen(text));
	evbuffer_add(buf, "\n", 1);
	free(text);
	request_reply_buffer(r, status, NULL);
}

/*
 * Answer a browser's form post: 303 back to return_to with the outcome in
 * the query ("comment=pending", "comment=error&field=email") and #comments.
 */
static void
request_redirect(struct request *r, const char *outcome, const char *field)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	char *base, *loc, *hash;

	base = xstrdup(r->return_to);
	if ((hash = strchr(base, '#')) != NULL)
		*hash = '\0';
	xasprintf(&loc, "%s%scomment=%s%s%s%s%s#comments", base,
	    strchr(base, '?') ? "&" : "?", outcome,
	    field ? "&field=" : "", field ? field : "",
	    r->id[0] ? "&id=" : "", r->id);
	evhttp_add_header(h, "Location", loc);
	evhttp_add_header(h, "Cache-Control", "no-store");
	free(loc);
	free(base);
	request_finish(r, 303, NULL);
}

static void
request_reply_fault(struct request *r, const struct fault *f)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	json_t *obj;

	if (f->status == 503)
		evhttp_add_header(h, "Retry-After", SERVER_RETRY_AFTER);
	/* The log line says why: "invalid=email", "error=too_large". */
	if (r->why[0] == '\0' && strcmp(f->error, "spam") != 0)
		snprintf(r->why, sizeof r->why, "%s=%s",
		    f->field != NULL ? f->error : "error",
		    f->field != NULL ? f->field : f->error);
	if (r->return_to != NULL) {
		request_redirect(r, strcmp(f->error, "invalid") == 0 ||
		    strcmp(f->error, "bad_request") == 0 ? "error" : f->error,
		    f->field);
		return;
	}
	obj = json_pack("{s:s, s:s}", "error", f->error, "message", f->message);
	if (f->field != NULL)
		json_object_set_new(obj, "field", json_string(f->field));
	if (r->id[0] != '\0' && strcmp(f->error, "spam") == 0)
		json_object_set_new(obj, "id", json_string(r->id));
	request_reply_json(r, f->status, obj);
}

static void
request_fail(struct request *r, int status, const char *error,
    const char *field, const char *message)
{
	struct fault f;

	fault_set(&f, status, error, field, "%s", message);
	request_reply_fault(r, &f);
}

static void
request_unavailable(struct request *r)
{
	request_fail(r, 503, "unavailable", NULL,
	    "the comment store is unreachable; nothing was stored, try again shortly");
}

/* Value of one query parameter, decoded; NULL if absent.  Caller frees. */
static char *
server_query_param(struct evhttp_request *req, const char *name)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *p, *amp, *eq;
	size_t nlen = strlen(name);
	char *out;
	long n, dlen;

	for (p = q; p != NULL && *p != '\0'; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		eq = memchr(p, '=', amp ? (size_t)(amp - p) : strlen(p));
		if (eq == NULL || (size_t)(eq - p) != nlen || memcmp(p, name, nlen) != 0)
			continue;
		eq++;
		n = amp ? amp - eq : (long)strlen(eq);
		out = xmalloc(n + 1);
		/* A %00 would cut the value short unnoticed: refuse it. */
		if ((dlen = comment_form_decode(eq, n, out)) < 0 ||
		    memchr(out, '\0', dlen) != NULL) {
			free(out);
			return NULL;
		}
		return out;
	}
	return NULL;
}

/* ---- GET /v1/health ---- */

static void
server_health(struct server *srv, struct evhttp_request *req)
{
	struct request *r = request_new(srv, req, "health");

	if (db_up(srv->db))
		request_reply_json(r, 200,
		    json_pack("{s:s, s:s}", "status", "ok", "redis", "up"));
	else
		request_reply_json(r, 503,
		    json_pack("{s:s, s:s}", "status", "unavailable", "redis", "down"));
}

/* ---- GET /v1/captcha ---- */

/* The key that seals captcha ids, made again when the secret changed. */
static const struct captcha_key *
server_captcha_key(struct server *srv)
{
	const char *secret = db_secret(srv->db);

	if (secret == NULL)
		return NULL;
	if (srv->captcha_secret == NULL ||
	    strcmp(srv->captcha_secret, secret) != 0) {
		free(srv->captcha_secret);
		srv->captcha_secret = xstrdup(secret);
		captcha_key_init(&srv->captcha_key, secret);
	}
	return &srv->captcha_key;
}

/*
 * The id seals the captcha (captcha_seal), so issuing one asks Redis
 * nothing; it is answered only while Redis is up, so neither is it issued
 * otherwise.
 */
static void
server_captcha(struct server *srv, struct evhttp_request *req)
{
	struct request *r = request_new(srv, req, "captcha");
	const struct config *cfg = srv->cfg;
	enum captcha_lang dflt, lang;
	const struct captcha_key *key = server_captcha_key(srv);
	char *l;

	if (!db_up(srv->db) || key == NULL) {
		request_unavailable(r);
		return;
	}
	dflt = captcha_lang_parse(cfg->captcha_lang, CAPTCHA_LANG_DE);
	l = server_query_param(req, "lang");
	lang = l ? captcha_lang_parse(l, dflt) : dflt;
	free(l);
	captcha_generate(&r->captcha, lang);
	captcha_seal(&r->captcha, key, clock_wall_ms());
	metrics_count(srv->metrics, METRIC_CAPTCHA_ISSUED);
	request_reply_printf(r, 200, "{\"id\":\"%s\",\"question\":\"%s\","
	    "\"question_text\":\"%s\",\"expires_in\":%u}\n", r->captcha.id,
	    r->captcha.question, r->captcha.question_text, cfg->captcha_ttl);
}

/* ---- GET /v1/comments?post= ---- */

/* Unix ms as text to ISO 8601 UTC. */
static json_t *
server_iso_time(const char *ms)
{
	char buf[32];
	struct tm tm;
	time_t t;

	if (ms == NULL)
		return json_null();
	t = (time_t)(strtoull(ms, NULL, 10) / 1000);
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static void server_published_cb(redisReply *, void *);

/* The page: first without the comments' keys (need NULL), then with. */
static void
server_published_ask(struct request *r, const redisReply *need)
{
	struct store_cmd cmd;

	store_cmd_init(&cmd);
	store_cmd_published(r->srv->store, &cmd,
	    db_script_sha(r->srv->db, STORE_SCRIPT_PUBLISHED), r->post,
	    r->limit, r->after, need);
	if (db_command(r->srv->db, &cmd, STORE_SCRIPT_PUBLISHED,
	    server_published_cb, r) != 0)
		request_unavailable(r);
}

static void
server_published_cb(redisReply *reply, void *arg)
{
	struct request *r = arg;
	json_t *list, *obj, *v, *next = json_null();
	redisReply *row, *f;
	size_t i, j, n;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
		request_unavailable(r);
		return;
	}
	if (store_published_need(reply)) {
		/* The page's ids, to be named in KEYS; again if it changes. */
		if (++r->tries >= SERVER_PUBLISHED_TRIES) {
			log_warnx("redis: published %s: the page kept changing",
			    r->post);
			request_unavailable(r);
			return;
		}
		server_published_ask(r, reply);
		return;
	}
	list = json_array();
	/* One more than asked for: there is a next page, after the last shown. */
	n = reply->elements;
	if (n > r->limit) {
		n = r->limit;
		row = reply->element[n - 1];
		if (row->type == REDIS_REPLY_ARRAY && row->elements > 0 &&
		    row->element[0]->type == REDIS_REPLY_STRING) {
			json_decref(next);
			next = json_stringn(row->element[0]->str,
			    row->element[0]->len);
		}
	}
	for (i = 0; i < n; i++) {
		row = reply->element[i];
		if (row->type != REDIS_REPLY_ARRAY || row->elements < 7 ||
		    row->element[0]->type != REDIS_REPLY_STRING)
			continue;	/* deleted between ZRANGE and HMGET: cannot happen in one script */
		obj = json_object();
		for (j = 0; store_public_fields[j] != NULL && j < row->elements; j++) {
			f = row->element[j];
			if (strcmp(store_public_fields[j], "created_at") == 0)
				v = server_iso_time(f->type == REDIS_REPLY_STRING ? f->str : NULL);
			else if (f->type == REDIS_REPLY_STRING)
				v = json_stringn(f->str, f->len);
			else
				v = json_null();
			json_object_set_new(obj, store_public_fields[j], v ? v : json_null());
		}
		json_array_append_new(list, obj);
	}
	request_reply_json(r, 200, json_pack("{s:s, s:o, s:o}", "post", r->post,
	    "comments", list, "next", next ? next : json_null()));
}

/*
 * ?limit=N: 1 to SERVER_PUBLISHED_LIMIT, the most by default; 0 if
 * malformed.
 */
static unsigned int
server_published_limit(const char *s)
{
	unsigned long n;
	char *end;

	if (s == NULL)
		return SERVER_PUBLISHED_LIMIT;
	if (s[0] < '0' || s[0] > '9' || strlen(s) > 4)
		return 0;
	n = strtoul(s, &end, 10);
	if (*end != '\0' || n < 1 || n > SERVER_PUBLISHED_LIMIT)
		return 0;
	return (unsigned int)n;
}

static void
server_published(struct server *srv, struct evhttp_request *req)
{
	struct request *r = request_new(srv, req, "comments_list");
	char *limit;

	r->post = server_query_param(req, "post");
	if (r->post == NULL || r->post[0] == '\0' ||
	    !utf8_valid_text(r->post, strlen(r->post), false) ||
	    utf8_length(r->post, strlen(r->post)) > 200) {
		request_fail(r, 422, "invalid", "post",
		    "give the post as ?post=ID (at most 200 characters)");
		return;
	}
	limit = server_query_param(req, "limit");
	r->limit = server_published_limit(limit);
	free(limit);
	if (r->limit == 0) {
		request_fail(r, 422, "invalid", "limit", "give limit as a "
		    "number from 1 to " SERVER_PUBLISHED_LIMIT_TEXT);
		return;
	}
	r->after = server_query_param(req, "after");
	if (r->after != NULL && !store_id_valid(r->after)) {
		request_fail(r, 422, "invalid", "after",
		    "give after as the id of a comment (the last page's next)");
		return;
	}
	server_published_ask(r, NULL);
}

/* ---- trusted frontends ---- */

/*
 * 1: the request carries the frontend key; 0: no Authorization header (a
 * reader, or a proxied form); -1: a header without the key.
 */
static int
server_frontend(struct server *srv, struct evhttp_request *req)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");

	if (auth == NULL)
		return 0;
	return frontend_authorized(srv->frontend, auth) ? 1 : -1;
}

static void
server_unauthorized(struct request *r)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "WWW-Authenticate", "Bearer realm=\"heinzel\"");
	request_fail(r, 401, "unauthorized", NULL, r->srv->frontend == NULL ?
	    "no frontend key is configured ([server] frontend_key_file)" :
	    "the Authorization header does not carry the frontend key");
}

void
server_set_frontend_key(struct server *srv, struct frontend_key *key)
{
	frontend_key_free(srv->frontend);
	srv->frontend = key;
}

/* ---- POST /v1/learn ---- */

static void server_learn_next(struct request *r);

static void
server_learn_cb(redisReply *reply, void *arg)
{
	struct request *r = arg;
	struct bayes_learn_result res;
	const char *cause;

	if (bayes_store_learn_reply(reply, &res, &cause) == 0)
		r->learn.learned++;
	else {
		if (reply != NULL)
			log_warnx("redis: learn: %s", cause);
		r->learn.failed++;
	}
	server_learn_next(r);
}

/* One comment at a time to Redis; the answer once all are through. */
static void
server_learn_next(struct request *r)
{
	struct learn_batch *b = &r->learn;
	struct store_cmd cmd;

	while (b->next < b->n) {
		store_cmd_init(&cmd);
		bayes_store_cmd_learn(r->srv->store, &cmd, db_script_sha(r->srv->db,
		    DB_BAYES_SCRIPT(BAYES_SCRIPT_LEARN)), r->learn_op, NULL,
		    &b->tokens[b->next++], clock_wall_ms());
		if (db_command(r->srv->db, &cmd, DB_BAYES_SCRIPT(BAYES_SCRIPT_LEARN),
		    server_learn_cb, r) == 0)
			return;
		b->failed += b->n - b->next + 1;
		b->next = b->n;
	}
	if (b->failed > 0) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", SERVER_RETRY_AFTER);
		request_reply_json(r, 503, json_pack("{s:s, s:s, s:I, s:I, s:I}",
		    "error", "unavailable", "message", "Redis did not take every "
		    "comment; those counted as learned are learned",
		    "learned", (json_int_t)b->learned, "failed", (json_int_t)b->failed,
		    "skipped", (json_int_t)b->skipped));
		return;
	}
	request_reply_json(r, 200, json_pack("{s:s, s:I, s:I}", "as",
	    r->learn_op == BAYES_LEARN_SPAM ? "spam" : "ham",
	    "learned", (json_int_t)b->learned, "skipped", (json_int_t)b->skipped));
}

/*
 * POST /v1/learn?as=ham|spam, from a trusted frontend only: JSON lines
 * (heinzelctl learn's input) train the classifier.
 */
static void
server_learn(struct server *srv, struct evhttp_request *req)
{
	struct request *r = request_new(srv, req, "learn");
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body;
	char *as;
	struct fault f;

	if (server_frontend(srv, req) <= 0) {
		server_unauthorized(r);
		return;
	}
	as = server_query_param(req, "as");
	if (as == NULL || (strcmp(as, "ham") != 0 && strcmp(as, "spam") != 0)) {
		free(as);
		request_fail(r, 422, "invalid", "as", "say what the comments are: "
		    "?as=ham or ?as=spam");
		return;
	}
	r->learn_op = strcmp(as, "spam") == 0 ? BAYES_LEARN_SPAM : BAYES_LEARN_HAM;
	free(as);
	if (len > srv->cfg->max_body) {
		fault_set(&f, 413, "too_large", NULL,
		    "the request body is over %zu bytes; send fewer comments at once",
		    srv->cfg->max_body);
		request_reply_fault(r, &f);
		return;
	}
	body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	if (learn_parse(&r->learn, body, len) != 0) {
		fault_set(&f, 413, "too_large", NULL, "at most %d comments "
		    "at once", LEARN_MAX_COMMENTS);
		request_reply_fault(r, &f);
		return;
	}
	if (r->learn.n > 0 && !db_up(srv->db)) {
		request_unavailable(r);
		return;
	}
	server_learn_next(r);
}

/* ---- a reader's data: POST /v1/privacy/export|erase, GET /v1/privacy/policy ---- */

static void
server_subject_cb(int status, json_t *body, void *arg)
{
	struct request *r = arg;
	json_t *n;

	if (status != 200 || body == NULL) {
		json_decref(body);
		request_unavailable(r);
		return;
	}
	/* The log line: how much, never whose. */
	if ((n = json_object_get(body, "comments")) != NULL)
		snprintf(r->why, sizeof r->why, "comments=%lld",
		    json_is_integer(n) ? (long long)json_integer_value(n) :
		    (long long)json_array_size(n));
	request_reply_json(r, 200, body);
}

/*
 * From a trusted frontend only: {"email": ADDRESS} in the body (never in
 * the URL, which is logged).
 */
static void
server_subject(struct server *srv, struct evhttp_request *req,
    enum privacy_mode mode)
{
	struct request *r = request_new(srv, req, mode == PRIVACY_ERASE ?
	    "privacy_erase" : "privacy_export");
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *email = NULL;
	json_t *body;

	if (server_frontend(srv, req) <= 0) {
		server_unauthorized(r);
		return;
	}
	if (len > 4096 || (body = json_loadb(len ? (const char *)
	    evbuffer_pullup(in, -1) : "", len, 0, NULL)) == NULL) {
		request_fail(r, 400, "bad_request", NULL,
		    "expected a JSON object {\"email\": ADDRESS}");
		return;
	}
	if (json_unpack(body, "{s:s}", "email", &email) != 0 ||
	    !comment_email_valid(email)) {
		json_decref(body);
		request_fail(r, 422, "invalid", "email",
		    "expected an e-mail address");
		return;
	}
	if (!db_up(srv->db)) {
		json_decref(body);
		request_unavailable(r);
		return;
	}
	subject_run(srv->db, srv->store, srv->cfg->flood_ipv6_prefix, mode,
	    email, server_subject_cb, r);
	json_decref(body);
}

static void
server_privacy_export(struct server *srv, struct evhttp_request *req)
{
	server_subject(srv, req, PRIVACY_EXPORT);
}

static void
server_privacy_erase(struct server *srv, struct evhttp_request *req)
{
	server_subject(srv, req, PRIVACY_ERASE);
}

/* The privacy policy paragraph with the keep times: ?lang=de|en. */
static void
server_privacy_policy(struct server *srv, struct evhttp_request *req)
{
	struct request *r = request_new(srv, req, "privacy_policy");
	char *lang = server_query_param(req, "lang"), *text;
	bool de;

	if (lang != NULL && strcmp(lang, "de") != 0 && strcmp(lang, "en") != 0) {
		free(lang);
		request_fail(r, 422, "invalid", "lang", "expected de or en");
		return;
	}
	de = strcmp(lang != NULL ? lang : srv->cfg->notify_lang, "en") != 0;
	free(lang);
	text = privacy_policy(srv->cfg, de);
	request_reply_json(r, 200, json_pack("{s:s, s:s, s:I, s:I, s:I}",
	    "lang", de ? "de" : "en", "text", text,
	    "ip_keep_seconds", (json_int_t)srv->cfg->privacy_ip_keep,
	    "refused_email_keep_seconds",
	    (json_int_t)srv->cfg->privacy_refused_email_keep,
	    "spam_keep_days", (json_int_t)srv->cfg->spam_keep_days));
	free(text);
}

/* ---- POST /v1/comments ---- */

/* The comment r->id is stored (and replicated as asked): answer. */
static void
server_submit_stored(struct request *r, enum store_status status)
{
	struct fault f;

	metrics_outcome(r->srv->metrics, store_status_name(status));
	if (status == STORE_SPAM) {
		r->verdict = VERDICT_SPAM;
		fault_set(&f, 403, "spam", NULL, "the comment looks like "
		    "spam; it was kept for review and will not be published");
		request_reply_fault(r, &f);
		return;
	}
	if (r->return_to != NULL) {
		request_redirect(r, store_status_name(status), NULL);
		return;
	}
	request_reply_printf(r, 202, "{\"id\":\"%s\",\"status\":\"%s\"}\n",
	    r->id, store_status_name(status));
}

/* Stored, but not on enough replicas in time: the retry finds the id. */
static void
server_unreplicated(struct request *r)
{
	metrics_outcome(r->srv->metrics, "unavailable");
	request_fail(r, 503, "unavailable", NULL, "the comment was stored but "
	    "not yet confirmed by enough Redis replicas; send the same request "
	    "again (with its request_id it is not stored twice)");
}

static void
server_replicated_cb(redisReply *reply, void *arg)
{
	struct request *r = arg;

	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER ||
	    reply->integer < (long long)r->srv->cfg->redis_min_replicas) {
		if (reply != NULL)
			log_warnx("redis: comment %s reached %lld of %u replicas",
			    r->id, reply->type == REDIS_REPLY_INTEGER ?
			    reply->integer : -1LL,
			    r->srv->cfg->redis_min_replicas);
		server_unreplicated(r);
		return;
	}
	server_submit_stored(r, r->stored);
}

/*
 * [redis] min_replicas: WAIT for them, for at most half the command
 * timeout so that the connection's own timeout never fires first.
 */
static void
server_wait_replicas(struct request *r, enum store_status status)
{
	const struct config *cfg = r->srv->cfg;
	struct store_cmd cmd;

	r->stored = status;
	store_cmd_init(&cmd);
	store_cmd_adds(&cmd, "WAIT");
	store_cmd_addf(&cmd, "%u", cfg->redis_min_replicas);
	store_cmd_addf(&cmd, "%u", cfg->redis_timeout_ms / 2);
	if (db_command(r->srv->db, &cmd, -1, server_replicated_cb, r) != 0)
		server_unreplicated(r);
}

/* Stored (or stored before, under the same request_id) as status. */
static void
server_submit_done(struct request *r, enum store_status status)
{
	if (status != STORE_SPAM && r->srv->cfg->redis_min_replicas > 0)
		server_wait_replicas(r, status);
	else
		server_submit_stored(r, status);
}

static void
server_existing_cb(redisReply *reply, void *arg)
{
	struct request *r = arg;
	enum store_status status;
	const char *cause;

	if (store_comment_status_reply(reply, &status, &cause) == 0) {
		server_submit_done(r, status);
		return;
	}
	if (reply != NULL)
		log_warnx("redis: submit: %s", cause);
	metrics_outcome(r->srv->metrics, "unavailable");
	request_unavailable(r);
}

static void
server_submit_cb(redisReply *reply, void *arg)
{
	struct request *r = arg;
	struct store_submit_result res;
	struct store_cmd cmd;
	const char *cause;
	struct fault f;
	struct score flood;
	char retry[16];

	if (store_submit_reply(reply, &res, &cause) != 0) {
		if (reply != NULL)
			log_warnx("redis: submit: %s", cause);
		metrics_outcome(r->srv->metrics, "unavailable");
		request_unavailable(r);
		return;
	}
	switch (res.outcome) {
	case SUBMIT_STORED:
		memcpy(r->id, res.id, sizeof r->id);
		tally_add(r->srv->tally, res.status == STORE_APPROVED ?
		    TALLY_SUBMITTED_APPROVED : res.status == STORE_SPAM ?
		    TALLY_SUBMITTED_SPAM : TALLY_SUBMITTED_PENDING);
		metrics_rule_hits(r->srv->metrics, &r->score);
		server_submit_done(r, res.status);
		return;
	case SUBMIT_EXISTING:
		/* The first request's comment: its status is a second step. */
		memcpy(r->id, res.id, sizeof r->id);
		store_cmd_init(&cmd);
		store_cmd_comment_status(r->srv->store, &cmd, r->id);
		if (db_command(r->srv->db, &cmd, -1, server_existing_cb, r) != 0) {
			metrics_outcome(r->srv->metrics, "unavailable");
			request_unavailable(r);
		}
		return;
	case SUBMIT_CAPTCHA_UNKNOWN:
	case SUBMIT_CAPTCHA_WRONG:
	case SUBMIT_CAPTCHA_TOO_FAST:
		snprintf(r->why, sizeof r->why, "captcha=%s",
		    res.outcome == SUBMIT_CAPTCHA_WRONG ? "wrong" :
		    res.outcome == SUBMIT_CAPTCHA_TOO_FAST ? "too_fast" :
		    "unknown");
		tally_add(r->srv->tally, res.outcome == SUBMIT_CAPTCHA_WRONG ?
		    TALLY_CAPTCHA_WRONG : res.outcome == SUBMIT_CAPTCHA_TOO_FAST ?
		    TALLY_CAPTCHA_TOO_FAST : TALLY_CAPTCHA_UNKNOWN);
		metrics_outcome(r->srv->metrics, "captcha");
		metrics_count(r->srv->metrics, METRIC_CAPTCHA_FAILED);
		fault_set(&f, 403, "captcha",
		    res.outcome == SUBMIT_CAPTCHA_WRONG ? "captcha_answer" : "captcha_id",
		    "%s", res.outcome == SUBMIT_CAPTCHA_WRONG ?
		    "wrong answer to the math question; fetch a new one and try again" :
		    res.outcome == SUBMIT_CAPTCHA_TOO_FAST ?
		    "answered faster than a person could; fetch a new question and try again" :
		    "the math question is unknown, expired or already used; fetch a new one");
		request_reply_fault(r, &f);
		return;
	case SUBMIT_RATE_LIMITED:
		snprintf(r->why, sizeof r->why, "rate_limited=%s",
		    res.flood_email ? "email" : "ip");
		tally_add(r->srv->tally, res.flood_email ?
		    TALLY_RATE_LIMITED_EMAIL : TALLY_RATE_LIMITED_IP);
		metrics_outcome(r->srv->metrics, "rate_limited");
		/* Counted like a rule hit; the comment's own hits were not stored. */
		score_init(&flood);
		score_add(&flood, res.flood_email ? "FLOOD_EMAIL" : "FLOOD_IP", 0, 1);
		metrics_rule_hits(r->srv->metrics, &flood);
		score_free(&flood);
		snprintf(retry, sizeof retry, "%u", res.retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", retry);
		fault_set(&f, 429, "rate_limited", NULL, "too many comments from "
		    "this %s; try again in %u seconds",
		    res.flood_email ? "e-mail address" : "address", res.retry_after);
		request_reply_fault(r, &f);
		return;
	case SUBMIT_DUPLICATE:
		snprintf(r->why, sizeof r->why, "duplicate=body");
		tally_add(r->srv->tally, TALLY_DUPLICATE);
		metrics_outcome(r->srv->metrics, "duplicate");
		request_fail(r, 409, "duplicate", "body",
		    "the same comment was already submitted to this post");
		return;
	}
}

/* Media type of the request without parameters: 0 json, 1 form, -1 other. */
static int
server_media_type(struct evhttp_request *req)
{
	const char *ct;
	size_t n;

	ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (ct == NULL)
		return -1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	if (n == 16 && strncasecmp(ct, "application/json", n) == 0)
		return 0;
	if (n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0)
		return 1;
	return -1;
}

/* A return_to is allowed when it starts with an allowed origin and a path. */
static int
server_origin_allowed(const struct config *cfg, const char *url)
{
	char **o;
	size_t n;

	for (o = cfg->allowed_origins; o != NULL && *o != NULL; o++) {
		n = strlen(*o);
		if (strncasecmp(url, *o, n) == 0 &&
		    (url[n] == '\0' || url[n] == '/' || url[n] == '?' || url[n] == '#'))
			return 1;
	}
	return 0;
}

/*
 * The reader's IP.  A trusted peer (the Unix socket, or TCP from
 * trusted_proxies) is a frontend: its X-Real-IP header wins, since a form
 * proxied from a browser could carry any "ip" field, then the "ip" field.
 * An untrusted TCP peer is the reader itself.
 */
static void
server_client_ip(const struct config *cfg, struct evhttp_request *req,
    struct comment *c)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	const struct sockaddr *sa;
	const char *real;
	char *addr, ip[COMMENT_IP_MAX];
	ev_uint16_t port;
	char **t;

	if (evcon != NULL && (sa = evhttp_connection_get_addr(evcon)) != NULL &&
	    sa->sa_family != AF_UNIX) {
		evhttp_connection_get_peer(evcon, &addr, &port);
		for (t = cfg->trusted_proxies; t != NULL && *t != NULL; t++)
			if (strcmp(*t, addr) == 0)
				break;
		if (t == NULL || *t == NULL) {
			if (comment_ip_canonical(addr, ip, sizeof ip) == 0)
				comment_set(c, CF_IP, ip, strlen(ip));
			return;
		}
	}
	real = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Real-IP");
	if (real != NULL && comment_ip_canonical(real, ip, sizeof ip) == 0)
		comment_set(c, CF_IP, ip, strlen(ip));
}

/* The comment is scored: its verdict, then the one submit script. */
static void
server_store(struct request *r)
{
	struct server *srv = r->srv;
	const struct config *cfg = srv->cfg;
	struct store_submit sub;
	struct store_notify nt;
	struct store_cmd cmd;
	const struct captcha_key *key;
	const char *answer;

	r->verdict = score_verdict(&r->score, cfg->hold_score, cfg->reject_score);
	r->scored = 1;

	memset(&sub, 0, sizeof sub);
	sub.comment = &r->comment;
	sub.score = &r->score;
	sub.now_ms = clock_wall_ms();
	store_new_id(r->id, sub.now_ms);
	sub.id = r->id;
	sub.hold = r->verdict == VERDICT_HOLD;
	if (r->verdict == VERDICT_SPAM)
		sub.status = STORE_SPAM;
	else if (r->verdict == VERDICT_CLEAN &&
	    cfg->auto_approve == AUTO_APPROVE_CLEAN && r->score.total <= 0)
		sub.status = STORE_APPROVED;
	else
		sub.status = STORE_PENDING;
	sub.check_captcha = cfg->captcha_required && !r->vouched;
	answer = r->comment.field[CF_CAPTCHA_ANSWER];
	key = server_captcha_key(srv);
	/* No secret read yet: no id can be genuine. */
	sub.captcha = key == NULL ? CAPTCHA_UNKNOWN :
	    captcha_open(r->comment.field[CF_CAPTCHA_ID], key,
	    answer ? captcha_parse_answer(answer) : -1, sub.now_ms,
	    cfg->captcha_ttl, cfg->captcha_min_solve * 1000,
	    &sub.captcha_expires_ms);
	sub.request_id_ttl = cfg->request_id_ttl;
	sub.duplicate_window = cfg->duplicate_window;
	sub.approve_known_author = cfg->auto_approve == AUTO_APPROVE_KNOWN_AUTHOR;
	sub.flood_ip_limit = cfg->flood_ip_limit;
	sub.flood_ip_window = cfg->flood_ip_window;
	sub.ip_keep = cfg->privacy_ip_keep;
	sub.flood_ipv6_prefix = cfg->flood_ipv6_prefix;
	sub.flood_email_limit = cfg->flood_email_limit;
	sub.flood_email_window = cfg->flood_email_window;
	notify_channels(cfg, &nt);
	sub.tell_pending = store_notify_makes(&nt, "pending");
	sub.tell_approved = store_notify_makes(&nt, "approved");

	store_cmd_init(&cmd);
	store_cmd_submit(srv->store, &cmd,
	    db_script_sha(srv->db, STORE_SCRIPT_SUBMIT), &sub);
	r->id[0] = '\0';	/* known only once stored */
	if (db_command(srv->db, &cmd, STORE_SCRIPT_SUBMIT, server_submit_cb, r) != 0) {
		metrics_outcome(srv->metrics, "unavailable");
		request_unavailable(r);
	}
}

/*
 * Whether to fetch the classifier's counts for this submission.  Until it
 * has learned enough it cannot score, and one extra round trip per
 * comment would buy nothing: so while it was not ready, ask again only
 * every SERVER_BAYES_RECHECK seconds.
 */
static int
server_bayes_worth_asking(struct server *srv)
{
	struct timespec now;

	if (srv->bayes_ready)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return srv->bayes_checked == 0 ||
	    now.tv_sec - srv->bayes_checked >= SERVER_BAYES_RECHECK;
}

/* Score with the one function heinzelctl rules test uses too, then store. */
static void
server_score_and_store(struct request *r, const struct bayes_result *bayes)
{
	if (scoring_score(r->srv->cfg, r->rules, &r->comment, bayes,
	    &r->score) > 0)
		metrics_count(r->srv->metrics, METRIC_RULE_LIMIT);
	server_store(r);
}

static void
server_bayes_cb(redisReply *reply, void *arg)
{
	struct request *r = arg;
	struct server *srv = r->srv;
	struct bayes_result res;
	struct timespec now;
	const char *cause;

	if (scoring_bayes_reply(srv->cfg, reply, &r->tokens, &res, NULL,
	    &cause) != 0) {
		if (reply != NULL)
			log_warnx("redis: bayes fetch: %s", cause);
		metrics_outcome(srv->metrics, "unavailable");
		request_unavailable(r);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	srv->bayes_ready = res.ready;
	srv->bayes_checked = now.tv_sec;
	server_score_and_store(r, &res);
}

static void
server_submit(struct server *srv, struct evhttp_request *req)
{
	struct request *r = request_new(srv, req, "comments_post");
	const struct config *cfg = srv->cfg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct comment_limits lim;
	struct store_cmd cmd;
	struct fault f;
	size_t len = evbuffer_get_length(in);
	const char *body, *rt;
	int type, rc, trust;

	fault_clear(&f);
	if ((trust = server_frontend(srv, req)) < 0) {
		server_unauthorized(r);
		return;
	}
	if ((type = server_media_type(req)) < 0) {
		request_fail(r, 415, "unsupported_media_type", NULL, "send "
		    "application/json or application/x-www-form-urlencoded");
		return;
	}
	if (len > cfg->max_body) {
		fault_set(&f, 413, "too_large", NULL,
		    "the request body is over %zu bytes", cfg->max_body);
		request_reply_fault(r, &f);
		return;
	}
	body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	rc = type == 0 ? comment_from_json(&r->comment, body, len, &f) :
	    comment_from_form(&r->comment, body, len, &f);
	rt = r->comment.field[CF_RETURN_TO];
	if (type == 1 && rt != NULL && rt[0] != '\0') {
		if (!utf8_valid_text(rt, r->comment.len[CF_RETURN_TO], false) ||
		    !server_origin_allowed(cfg, rt)) {
			request_fail(r, 400, "bad_request", "return_to",
			    "return_to is not a page of an allowed origin");
			return;
		}
		r->return_to = xstrdup(rt);
	}
	if (rc != 0) {
		request_reply_fault(r, &f);
		return;
	}
	/* A trusted frontend that sends no question vouches for the person. */
	r->vouched = trust > 0 && r->comment.field[CF_CAPTCHA_ID] == NULL;
	lim.body_max_chars = cfg->body_max_chars;
	lim.captcha_required = cfg->captcha_required && !r->vouched;
	if (comment_validate(&r->comment, &lim, &f) != 0) {
		if (f.status == 403)
			snprintf(r->why, sizeof r->why, "captcha=unknown");
		metrics_outcome(srv->metrics, f.status == 403 ? "captcha" : "invalid");
		if (f.status == 403)
			metrics_count(srv->metrics, METRIC_CAPTCHA_FAILED);
		request_reply_fault(r, &f);
		return;
	}
	/* Like return_to: a page of the blog, not a link into the mails. */
	if (r->comment.field[CF_POST_URL] != NULL &&
	    cfg->allowed_origins != NULL && cfg->allowed_origins[0] != NULL &&
	    !server_origin_allowed(cfg, r->comment.field[CF_POST_URL])) {
		metrics_outcome(srv->metrics, "invalid");
		request_fail(r, 422, "invalid", "post_url",
		    "post_url is not a page of an allowed origin");
		return;
	}
	server_client_ip(cfg, req, &r->comment);
	if (!db_up(srv->db)) {
		metrics_outcome(srv->metrics, "unavailable");
		request_unavailable(r);
		return;
	}

	r->rules = ruleset_ref(srv->rules);
	if (!cfg->bayes_enabled || !server_bayes_worth_asking(srv)) {
		server_score_and_store(r, NULL);
		return;
	}
	tokenize_comment(&r->tokens, &r->comment);
	store_cmd_init(&cmd);
	bayes_store_cmd_fetch(srv->store, &cmd, db_script_sha(srv->db,
	    DB_BAYES_SCRIPT(BAYES_SCRIPT_FETCH)), &r->tokens);
	if (db_command(srv->db, &cmd, DB_BAYES_SCRIPT(BAYES_SCRIPT_FETCH),
	    server_bayes_cb, r) != 0) {
		metrics_outcome(srv->metrics, "unavailable");
		request_unavailable(r);
	}
}

/* ---- GET /metrics ---- */

static void
server_metrics_cb(redisReply *reply, void *arg)
{
	struct request *r = arg;
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *buf = evbuffer_new();

	metrics_render(r->srv->metrics, r->srv->db, r->srv->rules, reply,
	    connlimit_open(r->srv->conns), buf);
	evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	request_finish(r, 200, buf);
	evbuffer_free(buf);
}

static void
server_metrics(struct server *srv, struct evhttp_request *req)
{
	struct request *r = request_new(srv, req, "metrics");
	struct store_cmd cmd;

	store_cmd_init(&cmd);
	store_cmd_depths(srv->store, &cmd,
	    db_script_sha(srv->db, STORE_SCRIPT_DEPTHS));
	if (db_command(srv->db, &cmd, STORE_SCRIPT_DEPTHS, server_metrics_cb, r) != 0)
		server_metrics_cb(NULL, r);
}

/* ---- routing ---- */

static const struct route {
	const char *path;
	enum evhttp_cmd_type method;
	void (*fn)(struct server *, struct evhttp_request *);
} server_routes[] = {
	{ "/v1/comments", EVHTTP_REQ_POST, server_submit },
	{ "/v1/comments", EVHTTP_REQ_GET, server_published },
	{ "/v1/captcha", EVHTTP_REQ_GET, server_captcha },
	{ "/v1/learn", EVHTTP_REQ_POST, server_learn },
	{ "/v1/privacy/export", EVHTTP_REQ_POST, server_privacy_export },
	{ "/v1/privacy/erase", EVHTTP_REQ_POST, server_privacy_erase },
	{ "/v1/privacy/policy", EVHTTP_REQ_GET, server_privacy_policy },
	{ "/v1/health", EVHTTP_REQ_GET, server_health },
	{ "/metrics", EVHTTP_REQ_GET, server_metrics },
};

/* The answer is out: the connection's next request has a deadline again. */
static void
server_answered_cb(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	if (evcon != NULL)
		connlimit_answered(srv->conns,
		    evhttp_connection_get_bufferevent(evcon));
}

/*
 * What evhttp lets through: NULL, or why the request is refused.  A
 * version such as "HTTP/-1.1" it takes for one, and would echo in the
 * answer.  Two Content-Lengths: which one frames the body is ambiguous.  A
 * body evhttp does not read (a GET with a Content-Length, an unknown
 * method's) would be taken for the next request: answer, then close.
 */
static const char *
server_framing(struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *why = NULL;
	int lengths = 0, body = 0;

	TAILQ_FOREACH(kv, in, next) {
		if (strcasecmp(kv->key, "Content-Length") == 0) {
			lengths++;
			body |= strcmp(kv->value, "0") != 0;
		} else if (strcasecmp(kv->key, "Transfer-Encoding") == 0)
			body = 1;
	}
	if (req->major != 1 || req->minor < 0)
		why = "the request line names no HTTP/1.x version";
	else if (lengths > 1)
		why = "Content-Length is given more than once";
	if (req->major != 1 || req->minor < 0 || req->minor > 1) {
		req->major = 1;
		req->minor = 1;
	}
	if (why != NULL || (body && method != EVHTTP_REQ_POST &&
	    method != EVHTTP_REQ_PUT && method != EVHTTP_REQ_PATCH))
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	return why;
}

static void
server_request_cb(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct evkeyvalq *h;
	struct request *r;
	const char *why;
	size_t i;
	int found = 0;

	if (evcon != NULL) {
		connlimit_request(srv->conns,
		    evhttp_connection_get_bufferevent(evcon));
		evhttp_request_set_on_complete_cb(req, server_answered_cb, srv);
	}
	if ((why = server_framing(req)) != NULL) {
		request_fail(request_new(srv, req, "other"), 400, "bad_request",
		    NULL, why);
		return;
	}
	/* No tunnels and no echo here, whatever the path. */
	if (method == EVHTTP_REQ_CONNECT || method == EVHTTP_REQ_TRACE) {
		h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Allow", "GET, HEAD, POST");
		evhttp_add_header(h, "Connection", "close");
		request_fail(request_new(srv, req, "other"), 405,
		    "method_not_allowed", NULL, "this method is not allowed here");
		return;
	}
	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET;
	for (i = 0; path != NULL && i < sizeof server_routes / sizeof server_routes[0]; i++) {
		if (strcmp(path, server_routes[i].path) != 0)
			continue;
		found = 1;
		if (server_routes[i].method == method) {
			server_routes[i].fn(srv, req);
			return;
		}
	}
	r = request_new(srv, req, "other");
	if (!found) {
		request_fail(r, 404, "not_found", NULL,
		    "no such resource; see /v1/comments, /v1/captcha, /v1/health, /metrics");
		return;
	}
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Allow", strcmp(path, "/v1/comments") == 0 ?
	    "GET, HEAD, POST" : strcmp(path, "/v1/learn") == 0 ||
	    strncmp(path, "/v1/privacy/e", 13) == 0 ? "POST" :
	    "GET, HEAD");
	request_fail(r, 405, "method_not_allowed", NULL,
	    "this method is not allowed here");
}

/* The scrapers' listener: /metrics and nothing else. */
static void
server_metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	if (path != NULL && strcmp(path, "/metrics") == 0 &&
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		server_metrics(srv, req);
		return;
	}
	request_fail(request_new(srv, req, "other"), 404, "not_found", NULL,
	    "only GET /metrics is served here");
}

/* ---- setup ---- */

/* At the connection limit: stop (or resume) accepting on every listener. */
static void
server_pause(void *arg, int paused)
{
	struct server *srv = arg;
	struct evconnlistener *l;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (srv->bound[i] == NULL)
			continue;
		l = evhttp_bound_socket_get_listener(srv->bound[i]);
		if (paused)
			evconnlistener_disable(l);
		else
			evconnlistener_enable(l);
	}
}

struct server *
server_new(struct event_base *base, struct db *db, const struct store *st,
    const struct config *cfg, struct ruleset *rs, struct metrics *m)
{
	struct server *srv = xcalloc(1, sizeof *srv);

	srv->base = base;
	srv->db = db;
	srv->store = st;
	srv->metrics = m;
	srv->tally = tally_new(base, db, st);
	if ((srv->http = evhttp_new(base)) == NULL)
		fatalx("cannot create the HTTP server");
	/*
	 * Every method reaches server_request_cb, unknown ones too, so they
	 * get a JSON 405 (or 404) rather than libevent's HTML 501.
	 */
	evhttp_set_allowed_methods(srv->http, 0xffff);
	evhttp_set_gencb(srv->http, server_request_cb, srv);
	srv->conns = connlimit_new(base, cfg->max_connections, server_pause, srv);
	evhttp_set_bevcb(srv->http, connlimit_bev_cb, srv->conns);
	server_reload(srv, cfg, rs);
	return srv;
}

void
server_reload(struct server *srv, const struct config *cfg, struct ruleset *rs)
{
	srv->cfg = cfg;
	srv->rules = rs;
	evhttp_set_max_headers_size(srv->http, cfg->max_headers);
	evhttp_set_max_body_size(srv->http, cfg->max_body * SERVER_HARD_BODY_FACTOR);
	evhttp_set_timeout(srv->http, cfg->timeout);
	connlimit_set_timeout(srv->conns, cfg->timeout);
	connlimit_set_max(srv->conns, cfg->max_connections);
}

unsigned int
server_connections(const struct server *srv)
{
	return connlimit_open(srv->conns);
}

/*
 * Bind the Unix socket.  A socket file nobody answers on is left from a
 * crash and replaced; one that answers belongs to a running heinzeld.
 */
static int
server_listen_unix(struct server *srv, char **cause)
{
	const struct config *cfg = srv->cfg;
	struct sockaddr_un sun;
	struct stat sb;
	struct group *gr;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->socket) >= sizeof sun.sun_path) {
		xasprintf(cause, "%s: socket path too long", cfg->socket);
		return -1;
	}
	strcpy(sun.sun_path, cfg->socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	if (lstat(cfg->socket, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			xasprintf(cause, "%s exists and is not a socket; "
			    "remove it or choose another [server] socket", cfg->socket);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
			xasprintf(cause, "%s: another heinzeld is listening there",
			    cfg->socket);
			goto fail;
		}
		log_info("removing stale socket %s", cfg->socket);
		unlink(cfg->socket);
		close(fd);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
			xasprintf(cause, "socket: %s", strerror(errno));
			return -1;
		}
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		xasprintf(cause, "%s: bind: %s", cfg->socket, strerror(errno));
		goto fail;
	}
	if (chmod(cfg->socket, cfg->socket_mode) == -1) {
		xasprintf(cause, "%s: chmod: %s", cfg->socket, strerror(errno));
		unlink(cfg->socket);
		goto fail;
	}
	if (cfg->socket_group[0] != '\0') {
		if ((gr = getgrnam(cfg->socket_group)) == NULL) {
			xasprintf(cause, "[server] socket_group %s: no such group",
			    cfg->socket_group);
			unlink(cfg->socket);
			goto fail;
		}
		if (chown(cfg->socket, (uid_t)-1, gr->gr_gid) == -1) {
			xasprintf(cause, "%s: chown to group %s: %s", cfg->socket,
			    cfg->socket_group, strerror(errno));
			unlink(cfg->socket);
			goto fail;
		}
	}
	if (listen(fd, 1024) == -1 || evutil_make_socket_nonblocking(fd) == -1) {
		xasprintf(cause, "%s: listen: %s", cfg->socket, strerror(errno));
		unlink(cfg->socket);
		goto fail;
	}
	if ((srv->bound[0] = evhttp_accept_socket_with_handle(srv->http, fd)) == NULL) {
		xasprintf(cause, "%s: cannot accept", cfg->socket);
		unlink(cfg->socket);
		goto fail;
	}
	srv->unix_path = xstrdup(cfg->socket);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Bind http on "HOST:PORT" (IPv6 in brackets); NULL with *cause. */
static struct evhttp_bound_socket *
server_bind_tcp(struct evhttp *http, const char *key, const char *listen,
    char **cause)
{
	struct evhttp_bound_socket *bs;
	char *host, *colon;
	long port;

	host = xstrdup(listen);
	colon = strrchr(host, ':');
	port = colon ? strtol(colon + 1, NULL, 10) : 0;
	if (colon == NULL || port < 1 || port > 65535) {
		xasprintf(cause, "%s = %s: expected HOST:PORT", key, listen);
		free(host);
		return NULL;
	}
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if ((bs = evhttp_bind_socket_with_handle(http, host,
	    (ev_uint16_t)port)) == NULL)
		xasprintf(cause, "%s = %s: cannot bind: %s", key, listen,
		    strerror(errno));
	free(host);
	return bs;
}

int
server_listen(struct server *srv, char **cause)
{
	const struct config *cfg = srv->cfg;

	if (server_listen_unix(srv, cause) != 0)
		return -1;
	if (cfg->listen[0] != '\0' && (srv->bound[1] = server_bind_tcp(srv->http,
	    "listen", cfg->listen, cause)) == NULL)
		return -1;
	if (cfg->metrics_listen[0] == '\0')
		return 0;
	if ((srv->metrics_http = evhttp_new(srv->base)) == NULL)
		fatalx("cannot create the metrics listener");
	evhttp_set_allowed_methods(srv->metrics_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(srv->metrics_http, server_metrics_request_cb, srv);
	evhttp_set_max_headers_size(srv->metrics_http, cfg->max_headers);
	evhttp_set_max_body_size(srv->metrics_http, 4096);
	evhttp_set_timeout(srv->metrics_http, cfg->timeout);
	if ((srv->metrics_bound = server_bind_tcp(srv->metrics_http,
	    "metrics_listen", cfg->metrics_listen, cause)) == NULL)
		return -1;
	return 0;
}

unsigned int
server_active(const struct server *srv)
{
	return srv->active;
}

void
server_shutdown(struct server *srv, void (*done)(void *), void *arg)
{
	size_t i;

	srv->stopping = 1;
	srv->done = done;
	srv->done_arg = arg;
	for (i = 0; i < 2; i++) {
		if (srv->bound[i] != NULL)
			evhttp_del_accept_socket(srv->http, srv->bound[i]);
		srv->bound[i] = NULL;
	}
	if (srv->metrics_bound != NULL)
		evhttp_del_accept_socket(srv->metrics_http, srv->metrics_bound);
	srv->metrics_bound = NULL;
	if (srv->unix_path != NULL) {
		unlink(srv->unix_path);
		free(srv->unix_path);
		srv->unix_path = NULL;
	}
	server_flushed_cb(-1, 0, srv);
}

void
server_free(struct server *srv)
{
	if (srv->unix_path != NULL) {
		unlink(srv->unix_path);
		free(srv->unix_path);
	}
	if (srv->metrics_http != NULL)
		evhttp_free(srv->metrics_http);
	evhttp_free(srv->http);
	connlimit_free(srv->conns);
	frontend_key_free(srv->frontend);
	tally_free(srv->tally);
	free(srv->captcha_secret);
	explicit_bzero(&srv->captcha_key, sizeof srv->captcha_key);
	free(srv);
}
