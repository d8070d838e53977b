/*
 * Redis Sentinel lookups (see sentinel.h).  Sentinels that want a password
 * (requirepass) get AUTH with [redis] sentinel_password_file's first.
 */
#include <sys/time.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "sentinel.h"
#include "strbuf.h"
#include "xmalloc.h"

int
sentinel_parse(const char *s, char **host, int *port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;
	char *end;
	long v;

	if (colon == NULL || colon == s)
		return -1;
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 3 || colon[-1] != ']')
			return -1;
		h = s + 1;
		hlen -= 2;
	}
	v = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || v < 1 || v > 65535)
		return -1;
	if (host != NULL)
		*host = xstrndup(h, hlen);
	if (port != NULL)
		*port = (int)v;
	return 0;
}

const char *
sentinel_check(const char *s)
{
	return sentinel_parse(s, NULL, NULL) == 0 ? NULL :
	    "expected HOST:PORT of a Sentinel";
}

static void
sentinel_note(struct strbuf *why, const char *sentinel, const char *msg)
{
	strbuf_adds(why, "; ");
	strbuf_adds(why, sentinel);
	strbuf_adds(why, ": ");
	strbuf_adds(why, msg);
}

/*
 * The login auth (none when auth->argc is 0) on c; -1 with why appended
 * when it is refused.
 */
static int
sentinel_login(redisContext *c, const char *sentinel,
    const struct store_cmd *auth, struct strbuf *why)
{
	redisReply *r;
	int rc = 0;

	if (auth->argc == 0)
		return 0;
	r = redisCommandArgv(c, auth->argc, auth->argv, auth->argvlen);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		sentinel_note(why, sentinel, r == NULL ? (c->errstr[0] ?
		    c->errstr : "no answer") : "refused the login");
		if (r != NULL) {
			strbuf_adds(why, " (");
			strbuf_adds(why, r->str);
			strbuf_adds(why, "; check [redis] sentinel_password_file)");
		}
		rc = -1;
	}
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/*
 * Ask one Sentinel; 0 with *host and *port, or with why appended -2 when
 * it refused the login, else -1.
 */
static int
sentinel_ask(const char *sentinel, const char *name,
    const struct store_cmd *auth, struct timeval tv, char **host, int *port,
    struct strbuf *why)
{
	redisContext *c;
	redisReply *r = NULL;
	char *shost;
	int sport, rc = -1;

	if (sentinel_parse(sentinel, &shost, &sport) != 0)
		return -1;
	c = redisConnectWithTimeout(shost, sport, tv);
	free(shost);
	if (c == NULL || c->err) {
		sentinel_note(why, sentinel, c ? c->errstr : "out of memory");
		goto out;
	}
	redisSetTimeout(c, tv);
	if (sentinel_login(c, sentinel, auth, why) != 0) {
		rc = c->err ? -1 : -2;
		goto out;
	}
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", name);
	if (r == NULL)
		sentinel_note(why, sentinel, c->errstr[0] ? c->errstr :
		    "no answer");
	else if (r->type == REDIS_REPLY_ERROR)
		sentinel_note(why, sentinel, r->str);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    atoi(r->element[1]->str) < 1 || atoi(r->element[1]->str) > 65535)
		sentinel_note(why, sentinel, "knows no such master");
	else {
		*host = xstrdup(r->element[0]->str);
		*port = atoi(r->element[1]->str);
		rc = 0;
	}
out:
	if (r != NULL)
		freeReplyObject(r);
	if (c != NULL)
		redisFree(c);
	return rc;
}

int
sentinel_resolve(struct store_addr *a, unsigned int timeout_ms, char **cause)
{
	struct timeval tv;
	struct strbuf why = STRBUF_INIT;
	struct store_cmd auth;
	char *host, *text;
	int i, port, changed, asked, rc = -1;

	if (a->sentinels == NULL || a->sentinels[0] == NULL)
		return 0;
	if (store_addr_sentinel_auth(a, &auth, cause) != 0)
		return -2;
	/* A dead Sentinel must not hold the others up for long. */
	if (timeout_ms > 1000)
		timeout_ms = 1000;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	for (i = 0; a->sentinels[i] != NULL; i++) {
		if ((asked = sentinel_ask(a->sentinels[i], a->master_name,
		    &auth, tv, &host, &port, &why)) != 0) {
			if (asked == -2)
				rc = -2;
			continue;
		}
		store_cmd_free(&auth);
		changed = a->host == NULL || strcmp(a->host, host) != 0 ||
		    a->port != port;
		free(a->host);
		a->host = host;
		a->port = port;
		free(a->path);
		a->path = NULL;
		free(strbuf_finish(&why, NULL));
		return changed;
	}
	store_cmd_free(&auth);
	text = strbuf_finish(&why, NULL);
	xasprintf(cause, "no Sentinel named the master %s%s", a->master_name,
	    text);
	free(text);
	return rc;
}

redisContext *
sentinel_connect(const struct store_addr *a, const struct store_cmd *auth,
    struct timeval tv, char **cause, bool *refused)
{
	redisContext *c;
	redisReply *r;

	*refused = false;
	if (a->path != NULL)
		c = redisConnectUnixWithTimeout(a->path, tv);
	else
		c = redisConnectWithTimeout(a->host, a->port, tv);
	if (c == NULL || c->err) {
		*cause = xstrdup(c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (auth->argc == 0)
		return c;
	r = redisCommandArgv(c, auth->argc, auth->argv, auth->argvlen);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		*refused = r != NULL;
		*cause = xstrdup(r != NULL ? r->str : c->errstr[0] ? c->errstr :
		    "no answer");
		if (r != NULL)
			freeReplyObject(r);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	return c;
}
