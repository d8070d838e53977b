/*
 * Asynchronous Redis.  The connection goes CLOSED -> CONNECTING -> LOADING
 * (scripts being loaded) -> READY.  Redis answers in order, so the
 * commands in flight form a FIFO and one timer watching its head is the
 * command timeout: when the head is late the connection is torn down and
 * hiredis calls every pending callback once with NULL.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "bayes_store.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "random.h"
#include "resp.h"
#include "sentinel.h"
#include "switchwatch.h"
#include "xmalloc.h"

#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_DOWN_LOG_MS 60000	/* repeat "still unreachable" this often */
#define DB_SENTINEL_BACKOFF_MAX_MS 500	/* a failover is over in seconds */

enum db_state { DB_CLOSED, DB_CONNECTING, DB_LOADING, DB_READY };

struct db_req {
	struct db *db;
	TAILQ_ENTRY(db_req) entry;
	struct store_cmd cmd;
	int script;		/* enum store_script or -1 */
	int retried;		/* sent again as EVAL after NOSCRIPT */
	uint64_t deadline_ms;
	db_reply_cb *cb;
	void *arg;
};

struct db {
	struct event_base *base;
	struct store_addr addr;
	unsigned int timeout_ms;
	unsigned int max_inflight;

	enum db_state state;
	redisAsyncContext *ac;
	struct event *timer;		/* command/connect timeout */
	struct event *retry;		/* reconnect backoff */
	unsigned int backoff_ms;
	uint64_t connect_deadline_ms;
	unsigned int loading;		/* SCRIPT LOADs and secret outstanding */
	char *secret_key;		/* {P}:secret */
	char *secret;			/* its value, NULL until read */
	struct store_cmd auth;		/* AUTH for the connection being made */

	char sha[DB_NSCRIPTS][41];
	TAILQ_HEAD(, db_req) inflight;
	struct db_stats stats;

	char *name;			/* the address for messages, no password */
	bool resolved;			/* a Sentinel has named a master */
	bool announced;			/* addr is a +switch-master's: no lookup */
	bool readonly;			/* a reply said READONLY: drop */
	struct switchwatch *watch;	/* +switch-master, with Sentinels */
	char *down_cause;		/* why Redis is out of reach, NULL when up */
	uint64_t down_since_ms;		/* monotonic */
	uint64_t down_logged_ms;
	char *resp;			/* the command being sent, in RESP */
	size_t resp_cap;
};

static void db_connect(struct db *db);
static int db_send(struct db *db, struct db_req *req);

/* Arm the timer for the earliest deadline: the connect, or the oldest command. */
static void
db_arm_timer(struct db *db)
{
	struct db_req *head;
	struct timeval tv;
	uint64_t deadline, now;

	if (db->state == DB_CONNECTING)
		deadline = db->connect_deadline_ms;
	else if ((head = TAILQ_FIRST(&db->inflight)) != NULL)
		deadline = head->deadline_ms;
	else {
		evtimer_del(db->timer);
		return;
	}
	now = clock_mono_ms();
	deadline = deadline > now ? deadline - now : 0;
	tv.tv_sec = deadline / 1000;
	tv.tv_usec = (deadline % 1000) * 1000;
	evtimer_add(db->timer, &tv);
}

static void
db_schedule_reconnect(struct db *db)
{
	struct timeval tv;

	tv.tv_sec = db->backoff_ms / 1000;
	tv.tv_usec = (db->backoff_ms % 1000) * 1000;
	evtimer_add(db->retry, &tv);
	db->backoff_ms *= 2;
	if (db->backoff_ms > DB_BACKOFF_MAX_MS)
		db->backoff_ms = DB_BACKOFF_MAX_MS;
	if (db->addr.sentinels != NULL &&
	    db->backoff_ms > DB_SENTINEL_BACKOFF_MAX_MS)
		db->backoff_ms = DB_SENTINEL_BACKOFF_MAX_MS;
}

/*
 * Connecting failed: say why at warning level the first time and whenever
 * the cause changes, then once a minute while it lasts.
 */
static void
db_unreachable(struct db *db, const char *cause)
{
	uint64_t now = clock_mono_ms();

	if (db->down_cause == NULL || strcmp(db->down_cause, cause) != 0) {
		log_warnx("redis: cannot reach %s: %s; retrying", db->name,
		    cause);
		if (db->down_cause == NULL)
			db->down_since_ms = now;
		free(db->down_cause);
		db->down_cause = xstrdup(cause);
		db->down_logged_ms = now;
	} else if (now - db->down_logged_ms >= DB_DOWN_LOG_MS) {
		log_warnx("redis: still cannot reach %s after %" PRIu64 "s: %s",
		    db->name, (now - db->down_since_ms) / 1000, cause);
		db->down_logged_ms = now;
	}
}

/* A working connection was lost (logged here, once). */
static void
db_lost(struct db *db, const char *why)
{
	log_warnx("redis: connection to %s dropped: %s", db->name, why);
	free(db->down_cause);
	db->down_cause = xstrdup(why);
	db->down_since_ms = db->down_logged_ms = clock_mono_ms();
}

/* Drop the connection: every pending callback runs once with NULL. */
static void
db_drop(struct db *db, const char *why)
{
	redisAsyncContext *ac = db->ac;

	if (ac == NULL)
		return;
	if (db->state == DB_READY)
		db_lost(db, why);
	else
		db_unreachable(db, why);
	db->ac = NULL;
	db->state = DB_CLOSED;
	ac->data = NULL;	/* the disconnect callback must not touch db */
	redisAsyncFree(ac);
	evtimer_del(db->timer);
	db_schedule_reconnect(db);
}

static void
db_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;

	(void)fd;
	(void)what;
	if (db->state == DB_CONNECTING) {
		db_drop(db, "connect timed out");
		return;
	}
	db->stats.timeouts++;
	db_drop(db, "command timed out");
}

static void
db_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	db_connect(arg);
}

static void
db_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct db_req *req = privdata;
	struct db *db = req->db;
	redisReply *reply = r;
	db_reply_cb *cb;
	void *cbarg;

	(void)ac;
	TAILQ_REMOVE(&db->inflight, req, entry);
	db->stats.inflight--;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    req->script >= 0 && !req->retried &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0 && db->ac != NULL) {
		/* The script cache was flushed: run it from source this once. */
		log_warnx("redis: script cache flushed, sending the script again");
		db->sha[req->script][0] = '\0';
		if (req->script < STORE_SCRIPT__COUNT)
			store_cmd_to_eval(&req->cmd, req->script);
		else if (req->script < DB_PRIVACY_SCRIPT(0))
			bayes_store_cmd_to_eval(&req->cmd,
			    req->script - STORE_SCRIPT__COUNT);
		else
			privacy_cmd_to_eval(&req->cmd,
			    req->script - DB_PRIVACY_SCRIPT(0));
		req->retried = 1;
		cb = req->cb;
		cbarg = req->arg;
		if (db_send(db, req) != 0)
			cb(NULL, cbarg);
		return;
	}
	if (reply == NULL)
		db->stats.failures++;
	else if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "READONLY", 8) == 0)
		db->readonly = true;
	db_arm_timer(db);
	req->cb(reply, req->arg);
	store_cmd_free(&req->cmd);
	free(req);
	if (db->readonly && db->ac != NULL) {
		/* The master became a replica (a failover): look again. */
		db->readonly = false;
		db_drop(db, "the server is a read-only replica now");
	}
}

/*
 * Queue req on the connection.  Fails only while hiredis tears the context
 * down; then req is freed and its callback not called.
 */
static int
db_send(struct db *db, struct db_req *req)
{
	size_t n = resp_command_size(req->cmd.argc, req->cmd.argvlen);

	req->deadline_ms = clock_mono_ms() + db->timeout_ms;
	/*
	 * Written in RESP here, into a buffer kept across commands: hiredis'
	 * own formatting (redisAsyncCommandArgv) builds a new string with a
	 * printf-like call per argument and costs more than the copy.
	 */
	if (n > db->resp_cap) {
		free(db->resp);
		db->resp_cap = n > 2 * db->resp_cap ? n : 2 * db->resp_cap;
		db->resp = xmalloc(db->resp_cap);
	}
	resp_command_write(db->resp, req->cmd.argc, req->cmd.argv,
	    req->cmd.argvlen);
	if (redisAsyncFormattedCommand(db->ac, db_reply, req, db->resp, n) !=
	    REDIS_OK) {
		store_cmd_free(&req->cmd);
		free(req);
		return -1;
	}
	TAILQ_INSERT_TAIL(&db->inflight, req, entry);
	db->stats.inflight++;
	db->stats.commands++;
	if (TAILQ_FIRST(&db->inflight) == req)
		db_arm_timer(db);
	return 0;
}

/* Script s of the combined table: the store's, the classifier's, privacy's. */
static const char *
db_script_source(int s)
{
	if (s < STORE_SCRIPT__COUNT)
		return store_script_source(s);
	if (s < DB_PRIVACY_SCRIPT(0))
		return bayes_store_script_source(s - STORE_SCRIPT__COUNT);
	return privacy_script_source(s - DB_PRIVACY_SCRIPT(0));
}

struct db_load {
	struct db *db;
	int script;		/* in the combined table */
};

/* One setup reply less outstanding; the last one makes us ready. */
static void
db_loaded(struct db *db)
{
	if (--db->loading == 0) {
		db->state = DB_READY;
		db->backoff_ms = DB_BACKOFF_MIN_MS;
		if (db->down_cause != NULL) {
			log_warnx("redis: %s is reachable again after %" PRIu64
			    "s", db->name,
			    (clock_mono_ms() - db->down_since_ms) / 1000);
			free(db->down_cause);
			db->down_cause = NULL;
		} else
			log_info("redis: connected to %s", db->name);
	}
}

/* Reply to one SCRIPT LOAD issued at connect. */
static void
db_loaded_cb(redisReply *reply, void *arg)
{
	struct db_load *load = arg;
	struct db *db = load->db;

	if (reply != NULL && reply->type == REDIS_REPLY_STRING && reply->len == 40)
		memcpy(db->sha[load->script], reply->str, 41);
	else if (reply != NULL)
		log_warnx("redis: SCRIPT LOAD failed: %s",
		    reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply");
	free(load);
	if (reply == NULL || db->state != DB_LOADING)
		return;
	db_loaded(db);
}

/* Reply to GET {P}:secret, after the SET NX that makes it. */
static void
db_secret_cb(redisReply *reply, void *arg)
{
	struct db *db = arg;

	if (reply == NULL || db->state != DB_LOADING)
		return;
	if (reply->type == REDIS_REPLY_STRING && reply->len >= 32) {
		if (db->secret == NULL || strcmp(db->secret, reply->str) != 0) {
			free(db->secret);
			db->secret = xstrdup(reply->str);
		}
	} else
		log_warnx("redis: cannot read %s: %s", db->secret_key,
		    reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply");
	db_loaded(db);
}

/* The SET NX's reply: nothing to do (the GET after it says what is there). */
static void
db_ignore_cb(redisReply *reply, void *arg)
{
	(void)reply;
	(void)arg;
}

/* A refused login: say which user and where the password comes from. */
static void
db_refused(struct db *db, const char *error)
{
	char *why;

	xasprintf(&why, "Redis refused the login%s%s: %s (check [redis] user "
	    "and password_file)", db->addr.user ? " as user " : "",
	    db->addr.user ? db->addr.user : "", error);
	db_drop(db, why);
	free(why);
}

/*
 * INFO persistence, once per connection: a 202 promises the comment is in
 * Redis, which is only as durable as Redis' own persistence.  The first
 * command after AUTH, so it also notices a Redis that wants a password.
 */
static void
db_persistence_cb(redisReply *reply, void *arg)
{
	struct db *db = arg;

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOAUTH", 6) == 0)
			db_refused(db, reply->str);
		else
			log_warnx("redis: cannot check persistence: %s",
			    reply->str);
		return;
	}
	if (reply == NULL || reply->type != REDIS_REPLY_STRING)
		return;
	if (strstr(reply->str, "aof_enabled:1") != NULL)
		log_debug("redis: AOF persistence is on");
	else
		log_warnx("redis: AOF persistence is off: comments acknowledged "
		    "with 202 can be lost if Redis stops before its next snapshot "
		    "(set appendonly yes, see README \"Durability\")");
}

/* SELECT failed: the address is wrong, not Redis down. */
static void
db_setup_cb(redisReply *reply, void *arg)
{
	struct db *db = arg;

	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		db_drop(db, reply->str);
}

/* With Sentinels: the server they named must still be the master. */
static void
db_role_cb(redisReply *reply, void *arg)
{
	struct db *db = arg;

	if (reply == NULL || db->ac == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(reply->element[0]->str, "master") != 0)
		db_drop(db, reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "the server the Sentinels named is not a master");
}

static void
db_auth_cb(redisReply *reply, void *arg)
{
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		db_refused(arg, reply->str);
}

/* Queue a command on the connection regardless of state (setup commands). */
static void
db_queue(struct db *db, struct store_cmd *cmd, db_reply_cb *cb, void *arg)
{
	struct db_req *req = xcalloc(1, sizeof *req);

	req->db = db;
	req->cmd = *cmd;
	store_cmd_init(cmd);
	req->script = -1;
	req->cb = cb;
	req->arg = arg;
	if (db_send(db, req) != 0)
		cb(NULL, arg);
}

static void
db_connect_cb(const redisAsyncContext *ac, int status)
{
	struct db *db = ac->data;
	unsigned char raw[32];
	char secret[2 * sizeof raw + 1];
	struct store_cmd cmd;
	struct db_load *load;
	int s;

	if (db == NULL)
		return;
	if (status != REDIS_OK) {
		db_unreachable(db, ac->errstr);
		/* hiredis frees the context after this callback. */
		db->ac = NULL;
		db->state = DB_CLOSED;
		evtimer_del(db->timer);
		db_schedule_reconnect(db);
		return;
	}
	db->state = DB_LOADING;
	store_cmd_init(&cmd);
	if (db->auth.argc > 0)
		db_queue(db, &db->auth, db_auth_cb, db);
	if (db->addr.db != 0) {
		store_cmd_add(&cmd, "SELECT", 6);
		store_cmd_addf(&cmd, "%d", db->addr.db);
		db_queue(db, &cmd, db_setup_cb, db);
	}
	if (db->addr.sentinels != NULL) {
		store_cmd_add(&cmd, "ROLE", 4);
		db_queue(db, &cmd, db_role_cb, db);
	}
	store_cmd_add(&cmd, "INFO", 4);
	store_cmd_add(&cmd, "persistence", 11);
	db_queue(db, &cmd, db_persistence_cb, db);
	db->loading = DB_NSCRIPTS + 1;
	random_bytes(raw, sizeof raw);
	for (s = 0; s < (int)sizeof raw; s++)
		snprintf(secret + 2 * s, 3, "%02x", raw[s]);
	store_cmd_add(&cmd, "SET", 3);
	store_cmd_adds(&cmd, db->secret_key);
	store_cmd_adds(&cmd, secret);
	store_cmd_add(&cmd, "NX", 2);
	db_queue(db, &cmd, db_ignore_cb, db);
	explicit_bzero(secret, sizeof secret);
	explicit_bzero(raw, sizeof raw);
	store_cmd_add(&cmd, "GET", 3);
	store_cmd_adds(&cmd, db->secret_key);
	db_queue(db, &cmd, db_secret_cb, db);
	for (s = 0; s < DB_NSCRIPTS; s++) {
		load = xmalloc(sizeof *load);
		load->db = db;
		load->script = s;
		store_cmd_add(&cmd, "SCRIPT", 6);
		store_cmd_add(&cmd, "LOAD", 4);
		store_cmd_add(&cmd, db_script_source(s), strlen(db_script_source(s)));
		db_queue(db, &cmd, db_loaded_cb, load);
	}
}

static void
db_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct db *db = ac->data;

	(void)status;
	if (db == NULL)
		return;	/* we dropped it ourselves */
	if (db->state == DB_READY)
		db_lost(db, ac->errstr[0] ? ac->errstr : "disconnected");
	else
		db_unreachable(db, ac->errstr[0] ? ac->errstr : "disconnected");
	db->ac = NULL;
	db->state = DB_CLOSED;
	evtimer_del(db->timer);
	db_schedule_reconnect(db);
}

/* The Sentinels named a master (another one, if we had one): log, count. */
static void
db_named(struct db *db)
{
	free(db->name);
	db->name = store_addr_name(&db->addr);
	if (db->resolved) {
		db->stats.switches++;
		log_warnx("redis: the Sentinels name %s the master of %s now",
		    db->name, db->addr.master_name);
	} else
		log_info("redis: the Sentinels name %s the master of %s",
		    db->name, db->addr.master_name);
	db->resolved = true;
}

static void
db_connect(struct db *db)
{
	redisAsyncContext *ac;
	char *cause;
	int changed = 0;

	/* The password file is read now, so a new password needs no restart. */
	store_cmd_free(&db->auth);
	if (store_addr_auth(&db->addr, &db->auth, &cause) != 0 ||
	    (!db->announced &&
	    (changed = sentinel_resolve(&db->addr, db->timeout_ms, &cause)) < 0)) {
		db_unreachable(db, cause);
		free(cause);
		db_schedule_reconnect(db);
		return;
	}
	db->announced = false;
	if (changed > 0 || (db->addr.sentinels != NULL && !db->resolved))
		db_named(db);
	if (db->addr.path != NULL)
		ac = redisAsyncConnectUnix(db->addr.path);
	else
		ac = redisAsyncConnect(db->addr.host, db->addr.port);
	if (ac == NULL)
		fatalx("redis: out of memory");
	if (ac->err) {
		db_unreachable(db, ac->errstr);
		redisAsyncFree(ac);
		db_schedule_reconnect(db);
		return;
	}
	ac->data = db;
	db->ac = ac;
	db->state = DB_CONNECTING;
	db->stats.reconnects++;
	memset(db->sha, 0, sizeof db->sha);
	redisLibeventAttach(ac, db->base);
	redisAsyncSetConnectCallback(ac, db_connect_cb);
	redisAsyncSetDisconnectCallback(ac, db_disconnect_cb);
	db->connect_deadline_ms = clock_mono_ms() + db->timeout_ms;
	db_arm_timer(db);
}

/*
 * A Sentinel announced a new master: go there now, without asking the
 * Sentinels again (the others may not know yet).  ROLE checks it.
 */
static void
db_follow(const char *host, int port, void *arg)
{
	struct db *db = arg;
	bool same = db->addr.host != NULL && strcmp(db->addr.host, host) == 0 &&
	    db->addr.port == port;

	if (same && db->state != DB_CLOSED)
		return;		/* there already (a READONLY answer was faster) */
	if (db->ac != NULL)
		db_drop(db, "a Sentinel announced another master");
	if (!same) {
		free(db->addr.host);
		db->addr.host = xstrdup(host);
		db->addr.port = port;
		free(db->addr.path);
		db->addr.path = NULL;
		db_named(db);
	}
	evtimer_del(db->retry);
	db->backoff_ms = DB_BACKOFF_MIN_MS;
	db->announced = true;
	db_connect(db);
}

struct db *
db_new(struct event_base *base, const struct store_addr *addr,
    const char *secret_key, unsigned int timeout_ms, unsigned int max_inflight)
{
	struct db *db = xcalloc(1, sizeof *db);
	size_t i;

	db->base = base;
	db->addr.path = addr->path ? xstrdup(addr->path) : NULL;
	db->addr.host = addr->host ? xstrdup(addr->host) : NULL;
	db->addr.user = addr->user ? xstrdup(addr->user) : NULL;
	db->addr.password = addr->password ? xstrdup(addr->password) : NULL;
	db->addr.password_file = addr->password_file ?
	    xstrdup(addr->password_file) : NULL;
	if (addr->sentinels != NULL) {
		for (i = 0; addr->sentinels[i] != NULL; i++)
			;
		db->addr.sentinels = xcalloc(i + 1, sizeof *db->addr.sentinels);
		for (i = 0; addr->sentinels[i] != NULL; i++)
			db->addr.sentinels[i] = xstrdup(addr->sentinels[i]);
		db->addr.master_name = xstrdup(addr->master_name);
		db->addr.sentinel_password_file =
		    addr->sentinel_password_file != NULL ?
		    xstrdup(addr->sentinel_password_file) : NULL;
	}
	db->addr.port = addr->port;
	db->addr.db = addr->db;
	db->name = store_addr_name(addr);
	db->secret_key = xstrdup(secret_key);
	db->timeout_ms = timeout_ms;
	db->max_inflight = max_inflight;
	db->backoff_ms = DB_BACKOFF_MIN_MS;
	store_cmd_init(&db->auth);
	TAILQ_INIT(&db->inflight);
	db->timer = evtimer_new(base, db_timer_cb, db);
	db->retry = evtimer_new(base, db_retry_cb, db);
	if (db->timer == NULL || db->retry == NULL)
		fatalx("redis: cannot create timers");
	db_connect(db);
	db->stats.reconnects = 0;
	if (addr->sentinels != NULL)
		db->watch = switchwatch_new(base, &db->addr, db_follow, db);
	return db;
}

void
db_free(struct db *db)
{
	redisAsyncContext *ac = db->ac;

	if (db->watch != NULL)
		switchwatch_free(db->watch);
	if (ac != NULL) {
		db->ac = NULL;
		db->state = DB_CLOSED;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	event_free(db->timer);
	event_free(db->retry);
	store_cmd_free(&db->auth);
	store_addr_free(&db->addr);
	free(db->name);
	free(db->resp);
	free(db->secret_key);
	if (db->secret != NULL)
		explicit_bzero(db->secret, strlen(db->secret));
	free(db->secret);
	free(db->down_cause);
	free(db);
}

int
db_probe(struct store_addr *addr, unsigned int timeout_ms, char **cause)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct store_cmd auth;
	redisContext *c = NULL;
	redisReply *r = NULL;
	char *err;
	bool refused;
	int resolved, rc = -1;

	*cause = NULL;
	if (store_addr_auth(addr, &auth, cause) != 0)
		return -2;
	if ((resolved = sentinel_resolve(addr, timeout_ms, cause)) < 0) {
		store_cmd_free(&auth);
		return resolved == -2 ? -3 : -1;
	}
	c = sentinel_connect(addr, &auth, tv, &err, &refused);
	if (c == NULL) {
		if (refused) {
			xasprintf(cause, "Redis refused the login%s%s: %s",
			    addr->user ? " as user " : "",
			    addr->user ? addr->user : "", err);
			free(err);
			rc = -2;
		} else
			*cause = err;
		goto out;
	}
	r = c->err ? NULL : redisCommand(c, "PING");
	if (r == NULL)
		*cause = xstrdup(c->errstr[0] ? c->errstr : "no answer");
	else if (r->type == REDIS_REPLY_ERROR) {
		*cause = xstrdup(r->str);
		if (strncmp(r->str, "NOAUTH", 6) == 0)
			rc = -2;
	} else
		rc = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	if (c != NULL)
		redisFree(c);
	store_cmd_free(&auth);
	return rc;
}

const char *
db_secret(const struct db *db)
{
	return db->secret;
}

bool
db_up(const struct db *db)
{
	return db->state == DB_READY;
}

const struct db_stats *
db_stats(const struct db *db)
{
	return &db->stats;
}

const char *
db_script_sha(const struct db *db, int s)
{
	return db->sha[s][0] != '\0' ? db->sha[s] : NULL;
}

int
db_command(struct db *db, struct store_cmd *cmd, int script,
    db_reply_cb *cb, void *arg)
{
	struct db_req *req;

	if (db->state != DB_READY || db->stats.inflight >= db->max_inflight) {
		store_cmd_free(cmd);
		return -1;
	}
	req = xcalloc(1, sizeof *req);
	req->db = db;
	req->cmd = *cmd;
	store_cmd_init(cmd);
	req->script = script;
	req->cb = cb;
	req->arg = arg;
	return db_send(db, req);
}
