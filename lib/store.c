/*
 * The Redis data model.  Every state change is one Lua script, so heinzeld
 * and heinzelctl share one implementation and Redis runs each atomically.
 *
 * Keys, all under "{PREFIX}:" (one Cluster slot per site):
 *	captcha:ID	string, marks a captcha id used until the id expires
 *	secret		string, the site's random secret that seals captcha ids (captcha.c)
 *	comment:ID	hash of the comment's fields, status, score and hits
 *	queue:STATUS	sorted set of ids by created_at ms (pending, approved, spam, rejected)
 *	post:POST	sorted set of every comment id of a post
 *	published:POST	sorted set of the approved ids of a post
 *	request:RID	string, the id stored for a client's request_id
 *	dup:HASH	string: a post+body's writers within the duplicate window
 *			(submit.lua), or marks a post+body+e-mail or post+body+IP
 *			seen (the IP's at most [privacy] ip_keep)
 *	flood:ip:HASH	string, submissions from one IP network in the flood window
 *			(at most ip_keep)
 *	flood:email:HASH	string, submissions with one e-mail address in the flood window
 *	known_authors	set of SHA1(lowercase e-mail LF lowercase name) of authors with an approved comment
 *	email:SHA1	set of what is held for one e-mail address (SHA1 of its
 *			lowercase form): "c:ID" its comments, "n:NID" notifications
 *			holding it, "k:HASH" its known_authors entries
 *	privacy:refused	sorted set of spam and rejected comment ids by time of refusal
 *	privacy:notes	sorted set of notification ids holding an IP, by the comment's created_at
 *	privacy:ip_mark	string, ms: comments created up to then hold no IP or user agent
 *	privacy:index	hash "until", "mark": entering older comments in email:SHA1 (privacy.c)
 *	stats		hash of counters
 *	rulestats	hash of per-rule counts of moderators' decisions (all time)
 *	rulestats:DAY	the same for the decisions of one UTC day (days since the epoch)
 *	outbox		stream of notification events and notifications to send
 *	outbox:seq	counter of notification ids
 *	receipt:SHA1	a receipt mail went to this address within receipt_interval
 *	outbox:retry	sorted set of notification ids by due time
 *	outbox:dead	sorted set of notification ids given up on, by time
 *	notification:NID	hash of one notification: channel, kind, to, attempts, ...
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comment.h"
#include "config.h"
#include "log.h"
#include "lua_scripts.h"
#include "random.h"
#include "score.h"
#include "sha1.h"
#include "store.h"
#include "store_outbox.h"
#include "xmalloc.h"

static const char *const store_status_names[STORE__NSTATUS] = {
	"pending", "approved", "spam", "rejected"
};

/* enum captcha_verdict as the submit script names it */
static const char *const store_captcha_verdicts[] = {
	"ok", "unknown", "wrong", "too_fast"
};

static const char *const store_action_names[] = {
	"approve", "reject", "spam", "delete", "unpublish"
};

const char *const store_public_fields[] = {
	"id", "post", "parent", "author", "url", "body", "created_at", NULL
};

static const char *const store_scripts[STORE_SCRIPT__COUNT] = {
	lua_submit, lua_transition, lua_published,
	lua_depths, lua_purge, lua_outbox_expand,
	lua_outbox_done, lua_outbox_fail, lua_outbox_due,
	lua_outbox_requeue, lua_outbox_drop, lua_outbox_trim
};

char *
store_addr_redact(const char *s)
{
	const char *at;
	char *out;

	if (strncmp(s, "redis://", 8) != 0 || (at = strrchr(s + 8, '@')) == NULL)
		return xstrdup(s);
	xasprintf(&out, "redis://***%s", at);
	return out;
}

int
store_addr_parse(const char *s, struct store_addr *a, char **cause)
{
	const char *p, *at, *colon, *slash, *q;
	char *end, *shown;
	long v;
	int rc = -1;

	memset(a, 0, sizeof *a);
	a->port = 6379;
	if (strncmp(s, "unix:", 5) == 0 || s[0] == '/') {
		p = s[0] == '/' ? s : s + 5;
		q = strchr(p, '?');
		if (*p != '/') {
			xasprintf(cause, "%s: a Unix socket path must be absolute", s);
			return -1;
		}
		a->path = q ? xstrndup(p, q - p) : xstrdup(p);
		if (q != NULL) {
			if (strncmp(q, "?db=", 4) != 0 ||
			    (v = strtol(q + 4, &end, 10), *end != '\0') ||
			    q[4] == '\0' || v < 0 || v > 65535) {
				xasprintf(cause, "%s: expected unix:/path[?db=N]", s);
				store_addr_free(a);
				return -1;
			}
			a->db = (int)v;
		}
		return 0;
	}
	/* The address as messages show it: never the password. */
	shown = store_addr_redact(s);
	if (strncmp(s, "redis://", 8) != 0) {
		xasprintf(cause, "%s: expected unix:/path or redis://host:port/db",
		    shown);
		goto out;
	}
	p = s + 8;
	if ((at = strrchr(p, '@')) != NULL) {
		/* redis://:password@host or redis://user:password@host */
		colon = memchr(p, ':', at - p);
		if (colon != NULL) {
			a->password = xstrndup(colon + 1, at - colon - 1);
			if (colon > p)
				a->user = xstrndup(p, colon - p);
		}
		p = at + 1;
	}
	slash = strchr(p, '/');
	colon = strchr(p, ':');
	if (colon != NULL && slash != NULL && colon > slash)
		colon = NULL;
	end = (char *)(colon ? colon : slash ? slash : p + strlen(p));
	if (end == p) {
		xasprintf(cause, "%s: no host", shown);
		goto bad;
	}
	a->host = xstrndup(p, end - p);
	if (colon != NULL) {
		v = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || (*end != '\0' && *end != '/') ||
		    v < 1 || v > 65535) {
			xasprintf(cause, "%s: bad port", shown);
			goto bad;
		}
		a->port = (int)v;
	}
	if (slash != NULL && slash[1] != '\0') {
		v = strtol(slash + 1, &end, 10);
		if (*end != '\0' || v < 0 || v > 65535) {
			xasprintf(cause, "%s: bad database number", shown);
			goto bad;
		}
		a->db = (int)v;
	}
	rc = 0;
	goto out;
bad:
	store_addr_free(a);
out:
	free(shown);
	return rc;
}

char *
store_addr_name(const struct store_addr *a)
{
	char *s;

	if (a->path != NULL) {
		if (a->db != 0)
			xasprintf(&s, "unix:%s?db=%d", a->path, a->db);
		else
			xasprintf(&s, "unix:%s", a->path);
	} else
		xasprintf(&s, "redis://%s:%d/%d", a->host, a->port, a->db);
	return s;
}

void
store_addr_free(struct store_addr *a)
{
	size_t i;

	free(a->path);
	free(a->host);
	free(a->user);
	if (a->password != NULL)
		explicit_bzero(a->password, strlen(a->password));
	free(a->password);
	free(a->password_file);
	for (i = 0; a->sentinels != NULL && a->sentinels[i] != NULL; i++)
		free(a->sentinels[i]);
	free(a->sentinels);
	free(a->master_name);
	free(a->sentinel_password_file);
	memset(a, 0, sizeof *a);
}

int
store_addr_config(struct store_addr *a, const struct config *cfg,
    char **cause)
{
	const char *user = cfg->redis_user;
	const char *password_file = cfg->redis_password_file;
	size_t i;

	if (store_addr_parse(cfg->redis_address, a, cause) != 0)
		return -1;
	if (cfg->redis_sentinels != NULL && cfg->redis_sentinels[0] != NULL) {
		if (cfg->redis_master_name[0] == '\0') {
			xasprintf(cause, "[redis] sentinels needs master_name");
			goto bad;
		}
		for (i = 0; cfg->redis_sentinels[i] != NULL; i++)
			;
		a->sentinels = xcalloc(i + 1, sizeof *a->sentinels);
		for (i = 0; cfg->redis_sentinels[i] != NULL; i++)
			a->sentinels[i] = xstrdup(cfg->redis_sentinels[i]);
		a->master_name = xstrdup(cfg->redis_master_name);
		if (cfg->redis_sentinel_password_file[0] != '\0')
			a->sentinel_password_file =
			    xstrdup(cfg->redis_sentinel_password_file);
	}
	if (user != NULL && user[0] != '\0') {
		if (a->user != NULL && strcmp(a->user, user) != 0) {
			xasprintf(cause, "[redis] user %s contradicts the user in "
			    "the address (%s)", user, a->user);
			goto bad;
		}
		free(a->user);
		a->user = xstrdup(user);
	}
	if (password_file != NULL && password_file[0] != '\0') {
		if (a->password != NULL) {
			xasprintf(cause, "[redis] password_file and a password "
			    "in the address: set one");
			goto bad;
		}
		a->password_file = xstrdup(password_file);
	}
	if (a->user != NULL && a->password == NULL && a->password_file == NULL) {
		xasprintf(cause, "[redis] user %s needs a password_file",
		    a->user);
		goto bad;
	}
	return 0;
bad:
	store_addr_free(a);
	return -1;
}

#define STORE_PASSWORD_MAX 4096

/* AUTH [user] with the first line of path ([redis] key) appended to cmd. */
static int
store_auth_file(const char *key, const char *path, const char *user,
    struct store_cmd *cmd, char **cause)
{
	char buf[STORE_PASSWORD_MAX + 2];
	size_t len;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		xasprintf(cause, "[redis] %s %s: %s", key, path,
		    strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof buf, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	len = strcspn(buf, "\r\n");
	if (len == 0 || len > STORE_PASSWORD_MAX) {
		xasprintf(cause, "[redis] %s %s: expected the password on the "
		    "first line, 1 to %d bytes", key, path, STORE_PASSWORD_MAX);
		explicit_bzero(buf, sizeof buf);
		return -1;
	}
	store_cmd_adds(cmd, "AUTH");
	if (user != NULL)
		store_cmd_adds(cmd, user);
	store_cmd_add(cmd, buf, len);
	explicit_bzero(buf, sizeof buf);
	return 0;
}

int
store_addr_auth(const struct store_addr *a, struct store_cmd *cmd,
    char **cause)
{
	store_cmd_init(cmd);
	if (a->password_file == NULL) {
		if (a->password == NULL)
			return 0;
		store_cmd_adds(cmd, "AUTH");
		if (a->user != NULL)
			store_cmd_adds(cmd, a->user);
		store_cmd_adds(cmd, a->password);
		return 0;
	}
	return store_auth_file("password_file", a->password_file, a->user,
	    cmd, cause);
}

int
store_addr_sentinel_auth(const struct store_addr *a, struct store_cmd *cmd,
    char **cause)
{
	store_cmd_init(cmd);
	if (a->sentinel_password_file == NULL)
		return 0;
	return store_auth_file("sentinel_password_file",
	    a->sentinel_password_file, NULL, cmd, cause);
}

void
store_init(struct store *st, const char *prefix)
{
	st->prefix = xstrdup(prefix);
	xasprintf(&st->tag, "{%s}", prefix);
}

void
store_free(struct store *st)
{
	free(st->prefix);
	free(st->tag);
	st->prefix = st->tag = NULL;
}

const char *
store_status_name(enum store_status s)
{
	return (unsigned)s < STORE__NSTATUS ? store_status_names[s] : "unknown";
}

int
store_status_parse(const char *s)
{
	int i;

	for (i = 0; i < STORE__NSTATUS; i++)
		if (strcmp(s, store_status_names[i]) == 0)
			return i;
	return -1;
}

const char *
store_action_name(enum store_action a)
{
	return store_action_names[a];
}

void
store_new_id(char *out, uint64_t now_ms)
{
	snprintf(out, STORE_ID_LEN + 1, "%012" PRIx64 "%08" PRIx32,
	    (uint64_t)(now_ms & 0xffffffffffffULL), random_u32());
}

bool
store_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < STORE_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

char *
store_key(const struct store *st, const char *kind, const char *name)
{
	char *key;

	if (name == NULL)
		xasprintf(&key, "%s:%s", st->tag, kind);
	else
		xasprintf(&key, "%s:%s:%s", st->tag, kind, name);
	return key;
}

const char *
store_script_source(enum store_script s)
{
	return store_scripts[s];
}

void
store_cmd_init(struct store_cmd *cmd)
{
	memset(cmd, 0, sizeof *cmd);
}

void
store_cmd_free(struct store_cmd *cmd)
{
	free(cmd->argv);
	free(cmd->argvlen);
	free(cmd->off);
	free(cmd->buf);
	store_cmd_init(cmd);
}

/*
 * Room for one more argument of len bytes and its NUL at the end of the
 * buffer; the arguments before it are pointed at again if it moved.
 */
static char *
store_cmd_room(struct store_cmd *cmd, size_t len)
{
	size_t cap, size;
	int i;

	if (cmd->argc == cmd->cap) {
		cap = cmd->cap == 0 ? 64 : (size_t)cmd->cap * 2;
		if (cap > INT_MAX)
			fatalx("%s: %zu arguments", __func__, cap);
		cmd->argv = xreallocarray(cmd->argv, cap, sizeof *cmd->argv);
		cmd->argvlen = xreallocarray(cmd->argvlen, cap, sizeof *cmd->argvlen);
		cmd->off = xreallocarray(cmd->off, cap, sizeof *cmd->off);
		cmd->cap = (int)cap;
	}
	if (len >= SIZE_MAX / 2 - cmd->len)
		fatalx("%s: %zu bytes", __func__, len);
	if (cmd->len + len + 1 > cmd->size) {
		size = cmd->size == 0 ? 1024 : cmd->size;
		while (size < cmd->len + len + 1)
			size *= 2;
		cmd->buf = xreallocarray(cmd->buf, size, 1);
		cmd->size = size;
		for (i = 0; i < cmd->argc; i++)
			cmd->argv[i] = cmd->buf + cmd->off[i];
	}
	return cmd->buf + cmd->len;
}

/* The len bytes written at store_cmd_room's place are argument argc. */
static void
store_cmd_push(struct store_cmd *cmd, size_t len)
{
	cmd->buf[cmd->len + len] = '\0';
	cmd->off[cmd->argc] = cmd->len;
	cmd->argv[cmd->argc] = cmd->buf + cmd->len;
	cmd->argvlen[cmd->argc] = len;
	cmd->argc++;
	cmd->len += len + 1;
}

void
store_cmd_add(struct store_cmd *cmd, const char *s, size_t len)
{
	memcpy(store_cmd_room(cmd, len), s, len);
	store_cmd_push(cmd, len);
}

void
store_cmd_addf(struct store_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	size_t room = 64;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(store_cmd_room(cmd, room), room + 1, fmt, ap);
		va_end(ap);
		if (n < 0)
			fatal("%s", __func__);
		if ((size_t)n <= room)
			break;
		room = (size_t)n;
	}
	store_cmd_push(cmd, (size_t)n);
}

void
store_cmd_adds(struct store_cmd *cmd, const char *s)
{
	store_cmd_add(cmd, s, strlen(s));
}

/*
 * The submission's arguments without printf, which is most of the cost
 * of building one: a key TAG:kind[:name] and a decimal number.
 */
void
store_cmd_key(struct store_cmd *cmd, const struct store *st, const char *kind,
    const char *name)
{
	size_t tl = strlen(st->tag), kl = strlen(kind);
	size_t nl = name != NULL ? strlen(name) : 0;
	size_t len = tl + 1 + kl + (name != NULL ? 1 + nl : 0);
	char *p = store_cmd_room(cmd, len);

	memcpy(p, st->tag, tl);
	p[tl] = ':';
	memcpy(p + tl + 1, kind, kl);
	if (name != NULL) {
		p[tl + 1 + kl] = ':';
		memcpy(p + tl + 2 + kl, name, nl);
	}
	store_cmd_push(cmd, len);
}

void
store_cmd_hmget(struct store_cmd *cmd, const struct store *st,
    const char *kind, const char *name, ...)
{
	const char *field;
	va_list ap;

	store_cmd_adds(cmd, "HMGET");
	store_cmd_key(cmd, st, kind, name);
	va_start(ap, name);
	while ((field = va_arg(ap, const char *)) != NULL)
		store_cmd_adds(cmd, field);
	va_end(ap);
}

static void
store_cmd_addu(struct store_cmd *cmd, uint64_t v)
{
	char buf[20], *p = buf + sizeof buf;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	store_cmd_add(cmd, p, (size_t)(buf + sizeof buf - p));
}

void
store_cmd_script_source(struct store_cmd *cmd, const char *sha,
    const char *source, int nkeys)
{
	if (sha != NULL) {
		store_cmd_adds(cmd, "EVALSHA");
		store_cmd_adds(cmd, sha);
	} else {
		store_cmd_adds(cmd, "EVAL");
		store_cmd_adds(cmd, source);
	}
	store_cmd_addf(cmd, "%d", nkeys);
}

void
store_cmd_script(struct store_cmd *cmd, enum store_script s, const char *sha, int nkeys)
{
	store_cmd_script_source(cmd, sha, store_scripts[s], nkeys);
}

void
store_cmd_eval_source(struct store_cmd *cmd, const char *source)
{
	struct store_cmd tail;
	int i;

	if (cmd->argc < 2 || strcmp(cmd->argv[0], "EVALSHA") != 0)
		return;
	/* Built again: EVAL source, then the arguments after the SHA. */
	store_cmd_init(&tail);
	store_cmd_add(&tail, "EVAL", 4);
	store_cmd_adds(&tail, source);
	for (i = 2; i < cmd->argc; i++)
		store_cmd_add(&tail, cmd->argv[i], cmd->argvlen[i]);
	store_cmd_free(cmd);
	*cmd = tail;
}

void
store_cmd_to_eval(struct store_cmd *cmd, enum store_script s)
{
	store_cmd_eval_source(cmd, store_scripts[s]);
}

/* FNV-1a, continued from h; lower folds ASCII letters. */
static uint64_t
store_fnv(uint64_t h, const char *s, size_t len, bool lower)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char ch;
	size_t i;

	for (i = 0; i < len; i++) {
		ch = p[i];
		if (lower && ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		h = (h ^ ch) * 0x100000001b3ULL;
	}
	return h;
}

#define STORE_FNV_INIT 0xcbf29ce484222325ULL

/*
 * post NUL body NUL kind NUL who: a duplicate marker's name, kind "e"
 * with the e-mail address (case-folded), "i" with the IP; who CF_BODY:
 * kind "t" and nothing after it, the text's own list of its writers.
 */
static uint64_t
store_dup_hash(const struct comment *c, enum comment_field who)
{
	uint64_t h;

	h = store_fnv(STORE_FNV_INIT, c->field[CF_POST], c->len[CF_POST], false);
	h = store_fnv(h, "", 1, false);
	h = store_fnv(h, c->field[CF_BODY], c->len[CF_BODY], false);
	h = store_fnv(h, who == CF_EMAIL ? "\0e" : who == CF_IP ? "\0i" :
	    "\0t", 3, false);
	if (who == CF_BODY || c->field[who] == NULL)
		return h;
	return store_fnv(h, c->field[who], c->len[who], who == CF_EMAIL);
}

/* The e-mail address, case-folded: its flood counter's name (no address in key names). */
static uint64_t
store_email_hash(const struct comment *c)
{
	if (c->field[CF_EMAIL] == NULL)
		return 0;
	return store_fnv(STORE_FNV_INIT, c->field[CF_EMAIL], c->len[CF_EMAIL], true);
}

/* The smaller of a window and the IP's keep time (0: no limit). */
static unsigned int
store_ip_ttl(unsigned int window, unsigned int keep)
{
	return keep != 0 && keep < window ? keep : window;
}

void
store_key_dup(const struct store *st, const struct comment *c,
    int who, char *out, size_t size)
{
	snprintf(out, size, "%s:dup:%016" PRIx64, st->tag,
	    store_dup_hash(c, (enum comment_field)who));
}

void
store_key_flood_email(const struct store *st, const struct comment *c,
    char *out, size_t size)
{
	snprintf(out, size, "%s:flood:email:%016" PRIx64, st->tag,
	    store_email_hash(c));
}

int
store_key_flood_ip(const struct store *st, const char *ip,
    unsigned int ipv6_prefix, char *out, size_t size)
{
	char net[COMMENT_IP_MAX];

	if (comment_ip_network(ip, ipv6_prefix, net, sizeof net) != 0)
		return -1;
	snprintf(out, size, "%s:flood:ip:%016" PRIx64, st->tag,
	    store_fnv(STORE_FNV_INIT, net, strlen(net), false));
	return 0;
}

/* The comment fields stored in the hash (honeypot, return_to and the captcha are not). */
static const enum comment_field store_fields[] = {
	CF_POST, CF_AUTHOR, CF_EMAIL, CF_URL, CF_BODY, CF_IP, CF_USER_AGENT,
	CF_REFERRER, CF_LANG, CF_PARENT, CF_REQUEST_ID, CF_POST_TITLE,
	CF_POST_URL
};

/* ASCII lowercase, as Lua's string.lower in Redis: into SHA1 s. */
static void
store_sha1_lower(struct sha1 *s, const char *p, size_t len)
{
	char buf[256];
	size_t i, n;

	while (len > 0) {
		n = len < sizeof buf ? len : sizeof buf;
		for (i = 0; i < n; i++)
			buf[i] = p[i] >= 'A' && p[i] <= 'Z' ?
			    (char)(p[i] + ('a' - 'A')) : p[i];
		sha1_update(s, buf, n);
		p += n;
		len -= n;
	}
}

void
store_key_email(const struct store *st, const char *email, size_t len,
    char *out, size_t size)
{
	char hex[SHA1_HEX_LEN + 1];
	struct sha1 s;

	sha1_init(&s);
	store_sha1_lower(&s, email, len);
	sha1_hex(&s, hex);
	snprintf(out, size, "%s:email:%s", st->tag, hex);
}

void
store_known_author(const struct comment *c, char *out)
{
	struct sha1 s;

	sha1_init(&s);
	store_sha1_lower(&s, c->field[CF_EMAIL], c->len[CF_EMAIL]);
	sha1_update(&s, "\n", 1);
	if (c->field[CF_AUTHOR] != NULL)
		store_sha1_lower(&s, c->field[CF_AUTHOR], c->len[CF_AUTHOR]);
	sha1_hex(&s, out);
}

void
store_cmd_submit(const struct store *st, struct store_cmd *cmd,
    const char *sha, const struct store_submit *sub)
{
	const struct comment *c = sub->comment;
	const char *rid = c->field[CF_REQUEST_ID];
	const char *captcha = c->field[CF_CAPTCHA_ID];
	const char *post = c->field[CF_POST];
	const char *ip = c->field[CF_IP];
	const char *status = store_status_name(sub->status);
	char points[32], key[STORE_KEY_MAX], known[SHA1_HEX_LEN + 1];
	bool has_email = c->field[CF_EMAIL] != NULL && c->len[CF_EMAIL] > 0;
	bool has_rid = rid != NULL && rid[0] != '\0';
	char *hits;
	size_t i;

	/* Validation left only addresses here; anything else counts as none. */
	if (ip != NULL && store_key_flood_ip(st, ip, sub->flood_ipv6_prefix,
	    key, sizeof key) != 0)
		ip = NULL;
	store_cmd_script(cmd, STORE_SCRIPT_SUBMIT, sha, 16);
	store_cmd_key(cmd, st, "captcha", captcha ? captcha : "-");
	store_cmd_key(cmd, st, "request", has_rid ? rid : "-");
	store_cmd_addf(cmd, "%s:dup:%016" PRIx64, st->tag,
	    store_dup_hash(c, CF_EMAIL));
	store_cmd_addf(cmd, "%s:dup:%016" PRIx64, st->tag,
	    store_dup_hash(c, CF_IP));
	store_cmd_key(cmd, st, "comment", sub->id);
	store_cmd_key(cmd, st, "queue", status);
	store_cmd_key(cmd, st, "queue:approved", NULL);
	store_cmd_key(cmd, st, "post", post);
	store_cmd_key(cmd, st, "published", post);
	store_cmd_key(cmd, st, "known_authors", NULL);
	if (ip != NULL)
		store_cmd_adds(cmd, key);
	else
		store_cmd_key(cmd, st, "flood:ip", "-");
	store_cmd_addf(cmd, "%s:flood:email:%016" PRIx64, st->tag,
	    store_email_hash(c));
	store_cmd_key(cmd, st, "outbox", NULL);
	if (has_email) {
		store_key_email(st, c->field[CF_EMAIL], c->len[CF_EMAIL], key,
		    sizeof key);
		store_cmd_adds(cmd, key);
		store_known_author(c, known);
	} else {
		store_cmd_key(cmd, st, "email", "-");
		known[0] = '\0';
	}
	store_cmd_key(cmd, st, "privacy:refused", NULL);
	store_cmd_addf(cmd, "%s:dup:%016" PRIx64, st->tag,
	    store_dup_hash(c, CF_BODY));

	store_cmd_adds(cmd, sub->check_captcha ?
	    store_captcha_verdicts[sub->captcha] : "");
	store_cmd_addu(cmd, sub->captcha_expires_ms > sub->now_ms ?
	    sub->captcha_expires_ms - sub->now_ms : 1);
	store_cmd_addu(cmd, sub->now_ms);
	store_cmd_adds(cmd, sub->id);
	store_cmd_adds(cmd, status);
	store_cmd_adds(cmd, has_rid ? "1" : "0");
	store_cmd_addu(cmd, sub->request_id_ttl);
	store_cmd_addu(cmd, sub->duplicate_window);
	/* The IP in the text's list outlives its window by less than one. */
	if (ip != NULL && (sub->ip_keep == 0 ||
	    sub->ip_keep / 2 >= sub->duplicate_window))
		store_cmd_adds(cmd, "text");
	else
		store_cmd_addu(cmd, ip ? store_ip_ttl(sub->duplicate_window,
		    sub->ip_keep) : 0);
	store_cmd_adds(cmd, known);
	store_cmd_adds(cmd, sub->approve_known_author &&
	    sub->status == STORE_PENDING && !sub->hold ? "1" : "0");
	store_cmd_addu(cmd, ip ? sub->flood_ip_limit : 0);
	store_cmd_addu(cmd, store_ip_ttl(sub->flood_ip_window ?
	    sub->flood_ip_window : 1, sub->ip_keep));
	store_cmd_addu(cmd, sub->flood_email_limit);
	store_cmd_addu(cmd, sub->flood_email_window ? sub->flood_email_window : 1);
	store_cmd_adds(cmd, sub->tell_pending ? "1" : "0");
	store_cmd_adds(cmd, sub->tell_approved ? "1" : "0");

	store_cmd_adds(cmd, "id");
	store_cmd_adds(cmd, sub->id);
	for (i = 0; i < sizeof store_fields / sizeof store_fields[0]; i++) {
		if (c->field[store_fields[i]] == NULL)
			continue;
		store_cmd_adds(cmd, comment_field_name(store_fields[i]));
		store_cmd_add(cmd, c->field[store_fields[i]], c->len[store_fields[i]]);
	}
	score_format_points(sub->score->total, points, sizeof points);
	store_cmd_adds(cmd, "score");
	store_cmd_adds(cmd, points);
	hits = score_hits_format(sub->score);
	store_cmd_adds(cmd, "hits");
	store_cmd_adds(cmd, hits);
	free(hits);
	store_cmd_adds(cmd, "hold");
	store_cmd_adds(cmd, sub->hold ? "1" : "0");
	store_cmd_adds(cmd, "created_at");
	store_cmd_addu(cmd, sub->now_ms);
	/* Last: the script promotes a known author by replacing it. */
	store_cmd_adds(cmd, "status");
	store_cmd_adds(cmd, status);
}

const char *
store_reply_str(const redisReply *r, size_t i)
{
	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return NULL;
	r = r->element[i];
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
		return NULL;
	return r->str;
}

/* Copy a well-formed id from the reply into out. */
static int
store_reply_id(const redisReply *r, size_t i, char *out)
{
	const char *s = store_reply_str(r, i);

	if (s == NULL || !store_id_valid(s))
		return -1;
	memcpy(out, s, STORE_ID_LEN + 1);
	return 0;
}

int
store_submit_reply(const redisReply *r, struct store_submit_result *res,
    const char **cause)
{
	const char *kind, *arg, *wait;
	int status;

	memset(res, 0, sizeof *res);
	if (r == NULL) {
		*cause = "no reply";
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*cause = r->str;
		return -1;
	}
	if ((kind = store_reply_str(r, 0)) == NULL)
		goto bad;
	if (strcmp(kind, "stored") == 0) {
		res->outcome = SUBMIT_STORED;
		if (store_reply_id(r, 1, res->id) != 0 ||
		    (arg = store_reply_str(r, 2)) == NULL ||
		    (status = store_status_parse(arg)) < 0)
			goto bad;
		res->status = (enum store_status)status;
		return 0;
	}
	if (strcmp(kind, "existing") == 0) {
		res->outcome = SUBMIT_EXISTING;
		if (store_reply_id(r, 1, res->id) != 0)
			goto bad;
		return 0;
	}
	if (strcmp(kind, "captcha") == 0) {
		if ((arg = store_reply_str(r, 1)) == NULL)
			goto bad;
		if (strcmp(arg, "wrong") == 0)
			res->outcome = SUBMIT_CAPTCHA_WRONG;
		else if (strcmp(arg, "too_fast") == 0)
			res->outcome = SUBMIT_CAPTCHA_TOO_FAST;
		else
			res->outcome = SUBMIT_CAPTCHA_UNKNOWN;
		return 0;
	}
	if (strcmp(kind, "rate_limited") == 0) {
		res->outcome = SUBMIT_RATE_LIMITED;
		if ((arg = store_reply_str(r, 1)) == NULL ||
		    (wait = store_reply_str(r, 2)) == NULL)
			goto bad;
		res->flood_email = strcmp(arg, "email") == 0;
		res->retry_after = (unsigned int)strtoul(wait, NULL, 10);
		if (res->retry_after == 0)
			res->retry_after = 1;
		return 0;
	}
	if (strcmp(kind, "duplicate") == 0) {
		res->outcome = SUBMIT_DUPLICATE;
		if (store_reply_id(r, 1, res->id) != 0)
			goto bad;
		return 0;
	}
bad:
	*cause = "unexpected reply from the submit script";
	return -1;
}

void
store_cmd_comment_status(const struct store *st, struct store_cmd *cmd,
    const char *id)
{
	store_cmd_adds(cmd, "HGET");
	store_cmd_addf(cmd, "%s:comment:%s", st->tag, id);
	store_cmd_adds(cmd, "status");
}

int
store_comment_status_reply(const redisReply *r, enum store_status *status,
    const char **cause)
{
	int s;

	*status = STORE_REJECTED;
	if (r != NULL && r->type == REDIS_REPLY_NIL)
		return 0;	/* deleted since: refused, not stored */
	if (r == NULL || r->type != REDIS_REPLY_STRING ||
	    (s = store_status_parse(r->str)) < 0) {
		*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply reading a comment's status";
		return -1;
	}
	*status = (enum store_status)s;
	return 0;
}

void
store_cmd_transition_read(const struct store *st, struct store_cmd *cmd,
    const char *id)
{
	store_cmd_hmget(cmd, st, "comment", id, "post", "email", "counted", NULL);
}

void
store_cmd_transition_from(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *id, const redisReply *seen,
    enum store_action action, unsigned int from_mask,
    const struct store_thresholds *th, const char *actor, uint64_t now_ms)
{
	static const char *const fixed[] = {
		"stats", "queue:pending", "queue:approved", "queue:spam",
		"queue:rejected", "privacy:refused", "known_authors", "outbox",
		"rulestats"
	};
	const char *post, *email, *counted, *p;
	char from[64], key[STORE_KEY_MAX], day[24], wday[24];
	size_t off = 0, n;
	int i, nkeys;

	/* What the comment held when read: NULL where absent. */
	post = seen != NULL ? store_reply_str(seen, 0) : NULL;
	email = seen != NULL ? store_reply_str(seen, 1) : NULL;
	counted = seen != NULL ? store_reply_str(seen, 2) : NULL;
	if (email != NULL && email[0] == '\0')
		email = NULL;
	/* counted is "OUTCOME DAY HOLD REJECT": the day it was counted on. */
	wday[0] = '\0';
	if (counted != NULL && (p = strchr(counted, ' ')) != NULL &&
	    (n = strspn(p + 1, "0123456789")) > 0 && n < sizeof wday &&
	    p[1 + n] == ' ') {
		memcpy(wday, p + 1, n);
		wday[n] = '\0';
	}
	snprintf(day, sizeof day, "%" PRIu64, now_ms / 86400000);
	if (strcmp(wday, day) == 0)
		wday[0] = '\0';

	nkeys = 2 + (int)(sizeof fixed / sizeof fixed[0]) + (post ? 2 : 0) +
	    (email ? 1 : 0) + (wday[0] ? 1 : 0);
	store_cmd_script(cmd, STORE_SCRIPT_TRANSITION, sha, nkeys);
	store_cmd_key(cmd, st, "comment", id);
	for (i = 0; i < (int)(sizeof fixed / sizeof fixed[0]); i++)
		store_cmd_key(cmd, st, fixed[i], NULL);
	store_cmd_key(cmd, st, "rulestats", day);
	if (post != NULL) {
		store_cmd_key(cmd, st, "post", post);
		store_cmd_key(cmd, st, "published", post);
	}
	if (email != NULL) {
		store_key_email(st, email, strlen(email), key, sizeof key);
		store_cmd_adds(cmd, key);
	}
	if (wday[0] != '\0')
		store_cmd_key(cmd, st, "rulestats", wday);
	store_cmd_adds(cmd, store_action_names[action]);
	store_cmd_adds(cmd, actor);
	store_cmd_addf(cmd, "%" PRIu64, now_ms);
	store_cmd_addf(cmd, "%s:", st->tag);
	from[0] = '\0';
	for (i = 0; i < STORE__NSTATUS; i++)
		if (from_mask & (1U << i))
			off += (size_t)snprintf(from + off, sizeof from - off,
			    "%s%s", off ? " " : "", store_status_names[i]);
	/* No state at all: "-" matches none, so the script reports a conflict. */
	store_cmd_adds(cmd, from_mask == 0 ? "" : off ? from : "-");
	store_cmd_addf(cmd, "%.17g", th->hold_score);
	store_cmd_addf(cmd, "%.17g", th->reject_score);
	store_cmd_addf(cmd, "%d", STORE_RULESTATS_DAYS * 86400);
}

int
store_transition_reply(const redisReply *r, struct store_transition_result *res,
    const char **cause)
{
	const char *kind, *from, *to, *at;

	res->outcome = TRANSITION_NOT_FOUND;
	res->from = res->to = -1;
	res->by = "";
	res->at_ms = 0;
	if (r == NULL) {
		*cause = "no reply";
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*cause = r->str;
		return -1;
	}
	if ((kind = store_reply_str(r, 0)) == NULL)
		goto bad;
	if (strcmp(kind, "not_found") == 0)
		return 0;
	if (strcmp(kind, "retry") == 0) {
		res->outcome = TRANSITION_RETRY;
		return 0;
	}
	if ((from = store_reply_str(r, 1)) == NULL)
		goto bad;
	res->from = store_status_parse(from);
	if (strcmp(kind, "conflict") == 0) {
		res->outcome = TRANSITION_CONFLICT;
		if ((to = store_reply_str(r, 2)) != NULL)
			res->by = to;
		if ((at = store_reply_str(r, 3)) != NULL)
			res->at_ms = strtoull(at, NULL, 10);
		return 0;
	}
	if (strcmp(kind, "done") != 0 || (to = store_reply_str(r, 2)) == NULL)
		goto bad;
	res->outcome = TRANSITION_DONE;
	res->to = to[0] == '\0' ? -1 : store_status_parse(to);
	return 0;
bad:
	*cause = "unexpected reply from the transition script";
	return -1;
}

void
store_cmd_published(const struct store *st, struct store_cmd *cmd,
    const char *sha, const char *post, unsigned int limit, const char *after,
    const redisReply *need)
{
	size_t i, n = need != NULL ? need->elements - 1 : 0;

	store_cmd_script(cmd, STORE_SCRIPT_PUBLISHED, sha, 1 + (int)n);
	store_cmd_key(cmd, st, "published", post);
	for (i = 1; i <= n; i++)
		store_cmd_key(cmd, st, "comment", need->element[i]->str);
	store_cmd_addf(cmd, "%u", limit);
	store_cmd_addf(cmd, "%s:", st->tag);
	store_cmd_adds(cmd, after != NULL ? after : "");
}

bool
store_published_need(const redisReply *r)
{
	const char *s = r != NULL ? store_reply_str(r, 0) : NULL;
	size_t i;

	if (s == NULL || strcmp(s, "need") != 0)
		return false;
	for (i = 1; i < r->elements; i++)
		if (store_reply_str(r, i) == NULL || !store_id_valid(r->element[i]->str))
			return false;
	return true;
}

void
store_cmd_depths(const struct store *st, struct store_cmd *cmd, const char *sha)
{
	int i;

	store_cmd_script(cmd, STORE_SCRIPT_DEPTHS, sha, STORE__NSTATUS + 4);
	for (i = 0; i < STORE__NSTATUS; i++)
		store_cmd_addf(cmd, "%s:queue:%s", st->tag, store_status_names[i]);
	store_cmd_addf(cmd, "%s:outbox", st->tag);
	store_cmd_addf(cmd, "%s:outbox:retry", st->tag);
	store_cmd_addf(cmd, "%s:outbox:dead", st->tag);
	store_cmd_addf(cmd, "%s:rulestats", st->tag);
	store_cmd_adds(cmd, STORE_OUTBOX_GROUP);
}

int
store_depths_reply(const redisReply *r, struct store_depths *d, const char **cause)
{
	size_t i;

	memset(d, 0, sizeof *d);
	/*
	 * Queues and oldest, then (since notifications) the outbox's three,
	 * then (since per-rule counts) the HGETALL of rulestats.
	 */
	if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
	    (r->elements != STORE__NSTATUS + 1 &&
	    r->elements != STORE__NSTATUS + 4 &&
	    r->elements != STORE__NSTATUS + 5)) {
		*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply to the depths script";
		return -1;
	}
	if (r->elements == STORE__NSTATUS + 5) {
		d->rulestats = r->element[STORE__NSTATUS + 4];
		if (d->rulestats->type != REDIS_REPLY_ARRAY) {
			*cause = "unexpected reply to the depths script";
			return -1;
		}
	}
	for (i = 0; i < STORE__NSTATUS + 4 && i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER) {
			*cause = "unexpected reply to the depths script";
			return -1;
		}
	for (i = 0; i < STORE__NSTATUS; i++)
		d->count[i] = r->element[i]->integer;
	d->oldest_pending_ms = r->element[STORE__NSTATUS]->integer;
	if (r->elements >= STORE__NSTATUS + 4) {
		d->outbox = r->element[STORE__NSTATUS + 1]->integer;
		d->outbox_retry = r->element[STORE__NSTATUS + 2]->integer;
		d->outbox_dead = r->element[STORE__NSTATUS + 3]->integer;
	}
	return 0;
}

void
store_cmd_purge(const struct store *st, struct store_cmd *cmd,
    const char *sha, uint64_t before_ms, unsigned int limit,
    const redisReply *need)
{
	size_t i, n = need != NULL ? need->elements - 1 : 0;

	store_cmd_script(cmd, STORE_SCRIPT_PURGE, sha, 3 + (int)n);
	store_cmd_key(cmd, st, "queue", "spam");
	store_cmd_key(cmd, st, "stats", NULL);
	store_cmd_key(cmd, st, "privacy:refused", NULL);
	for (i = 1; i <= n; i++)
		store_cmd_add(cmd, need->element[i]->str, need->element[i]->len);
	store_cmd_addf(cmd, "%" PRIu64, before_ms);
	store_cmd_addf(cmd, "%u", limit);
	store_cmd_addf(cmd, "%s:", st->tag);
}

bool
store_need_reply(const struct store *st, const redisReply *r)
{
	const char *s = r != NULL ? store_reply_str(r, 0) : NULL;
	size_t i, tl = strlen(st->tag);

	if (s == NULL || strcmp(s, "need") != 0 || r->elements < 2)
		return false;
	for (i = 1; i < r->elements; i++) {
		s = store_reply_str(r, i);
		if (s == NULL || strncmp(s, st->tag, tl) != 0 || s[tl] != ':')
			return false;
	}
	return true;
}

int
store_purge_reply(const redisReply *r, long long *purged, const char **cause)
{
	*purged = 0;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply to the purge script";
		return -1;
	}
	*purged = r->integer;
	return 0;
}

int
store_integer_reply(const redisReply *r, long long *v, const char **cause)
{
	*v = 0;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply from Redis";
		return -1;
	}
	*v = r->integer;
	return 0;
}
