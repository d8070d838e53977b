/*
 * heinzel.conf.  One table describes every key (section, name, type, field,
 * default, range, extra check, one line of help); parsing, defaults, dumping
 * and freeing all walk it, so a key is described in exactly one place.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "sentinel.h"
#include "log.h"
#include "mail.h"
#include "utf8.h"
#include "xmalloc.h"

#define CONFIG_MAX_LINE	65536
#define CONFIG_MAX_ERRORS 100	/* a binary file would give thousands */
#define CONFIG_KIB	1024ULL
#define CONFIG_MIB	(1024ULL * 1024)
#define nitems(a)	(sizeof (a) / sizeof (a)[0])

enum config_type {
	CONFIG_STRING,
	CONFIG_LIST,		/* NULL-terminated char ** */
	CONFIG_BOOL,
	CONFIG_UINT,		/* unsigned int or size_t, decimal */
	CONFIG_SIZE,		/* size_t, bytes with optional k or M */
	CONFIG_MODE,		/* mode_t, octal */
	CONFIG_DURATION,	/* unsigned int seconds, 45s 30m 12h 7d 2w */
	CONFIG_DOUBLE,
	CONFIG_AUTO_APPROVE,
	CONFIG_LOG_LEVEL,
	CONFIG_STARTTLS,
};

/* What a value of each type looks like, for error messages. */
static const char *const config_expected[] = {
	[CONFIG_BOOL] = "expected yes or no",
	[CONFIG_UINT] = "expected a whole number",
	[CONFIG_SIZE] = "expected bytes, optionally with k or M",
	[CONFIG_MODE] = "expected an octal mode such as 0660",
	[CONFIG_DURATION] = "expected a duration such as 30s, 12h or 7d",
	[CONFIG_DOUBLE] = "expected a number",
	[CONFIG_AUTO_APPROVE] = "expected never, known_author or clean",
	[CONFIG_LOG_LEVEL] = "expected error, warn, info or debug",
	[CONFIG_STARTTLS] = "expected no, opportunistic or required",
};

static const char *const config_auto_approve_names[] = {
	"never", "known_author", "clean"
};
static const char *const config_log_level_names[] = {
	"error", "warn", "info", "debug"
};
static const char *const config_starttls_names[] = {
	"no", "opportunistic", "required"
};

/* Extra check of a string or of each list item: NULL or why it is wrong. */
typedef const char *(*config_check_fn)(const char *);

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	size_t off;
	size_t size;
	const char *def;
	double min;
	double max;
	config_check_fn check;
	const char *doc;
};

/* State of one config_load_buffer. */
struct config_parse {
	struct config *cfg;
	const char *name;
	unsigned int lineno;
	const char *section;	/* NULL before a header, after a bad one */
	int headers;		/* section headers seen */
	unsigned int *lines;	/* per key: line where it was set, or 0 */
	unsigned int nerrors;
	FILE *errfp;
};

static const char *
config_check_nonempty(const char *s)
{
	return *s == '\0' ? "must not be empty" : NULL;
}

/* A decimal port, 1 to 65535. */
static int
config_port(const char *s)
{
	char *end;
	long port;

	if (*s < '0' || *s > '9')
		return -1;
	port = strtol(s, &end, 10);
	return *end != '\0' || port < 1 || port > 65535 ? -1 : 0;
}

/* A host name, an IPv4 address or a bracketed IPv6 address up to end. */
static int
config_host(const char *s, const char *end)
{
	size_t len = end - s;

	if (len > 2 && *s == '[' && end[-1] == ']')
		return strspn(s + 1, "0123456789abcdefABCDEF:.") == len - 2 ?
		    0 : -1;
	return len > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") >= len ? 0 : -1;
}

static const char *
config_check_listen(const char *s)
{
	const char *colon = strrchr(s, ':');

	if (*s != '\0' && (colon == NULL || config_host(s, colon) != 0 ||
	    config_port(colon + 1) != 0))
		return "expected HOST:PORT, e.g. 127.0.0.1:8025";
	return NULL;
}

static const char *
config_check_origin(const char *s)
{
	const char *host, *end, *colon;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return "expected http://HOST[:PORT] or https://HOST[:PORT]";
	if (strpbrk(host, "/?#") != NULL)
		return "an origin has no path, query or fragment";
	end = host + strlen(host);
	colon = strrchr(host, ':');
	if (colon != NULL && strchr(colon, ']') == NULL) {
		if (config_port(colon + 1) != 0)
			return "port must be between 1 and 65535";
		end = colon;
	}
	if (config_host(host, end) != 0)
		return "expected http://HOST[:PORT] or https://HOST[:PORT]";
	return NULL;
}

static const char *
config_check_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return NULL;
	return "expected an IPv4 or IPv6 address";
}

/* True if s is prefix a or b followed by something. */
static int
config_scheme(const char *s, const char *a, const char *b)
{
	return (strncmp(s, a, strlen(a)) == 0 && s[strlen(a)] != '\0') ||
	    (strncmp(s, b, strlen(b)) == 0 && s[strlen(b)] != '\0');
}

static const char *
config_check_redis(const char *s)
{
	if (config_scheme(s, "unix:", "redis://"))
		return NULL;
	return "expected unix:PATH or redis://HOST:PORT/DB";
}

static const char *
config_check_smtp(const char *s)
{
	if (config_scheme(s, "smtp://", "smtps://"))
		return NULL;
	return "expected smtp://HOST[:PORT] or smtps://HOST[:PORT]";
}

bool
config_smtp_relay_loopback(const char *relay)
{
	const char *h = strstr(relay, "://");
	size_t n;

	if (h == NULL)
		return false;
	h += 3;
	if (*h == '[')
		return strncmp(h, "[::1]", 5) == 0 &&
		    (h[5] == '\0' || h[5] == ':' || h[5] == '/');
	n = strcspn(h, ":/");
	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return true;
	/* 127.0.0.0/8, as a dotted quad. */
	if (n < 9 || n > 15 || strncmp(h, "127.", 4) != 0 ||
	    strspn(h, "0123456789.") < n)
		return false;
	return true;
}

/* The prefix ends up in every key name, keep it plain. */
static const char *
config_check_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		return "expected 1 to 64 of A-Z a-z 0-9 _ . -";
	return NULL;
}

static const char *
config_check_lang(const char *s)
{
	if (strcmp(s, "de") == 0 || strcmp(s, "en") == 0)
		return NULL;
	return "expected de or en";
}

static const char *
config_check_webhook(const char *s)
{
	if (*s == '\0' || config_scheme(s, "http://", "https://"))
		return NULL;
	return "expected http://... or https://..., or nothing";
}

/* An address notifications can go to or come from ("Name <addr>" too). */
static const char *
config_check_email(const char *s)
{
	char *a;

	if ((a = mail_address(s)) == NULL)
		return "expected an e-mail address";
	free(a);
	return NULL;
}

static const char *
config_check_email_or_empty(const char *s)
{
	return *s == '\0' ? NULL : config_check_email(s);
}

/* Text that goes into a mail line as it is. */
static const char *
config_check_one_line(const char *s)
{
	if (!utf8_valid_text(s, strlen(s), false))
		return "expected one line of UTF-8 text";
	return NULL;
}

#define F(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct config_key config_keys[] = {
	{ "server", "socket", CONFIG_STRING, F(socket),
	  "/run/heinzel/heinzel.sock", 0, 0, config_check_nonempty,
	  "Unix socket the HTTP API listens on." },
	{ "server", "socket_mode", CONFIG_MODE, F(socket_mode),
	  "0660", 0, 0777, NULL,
	  "Permissions of the socket, octal." },
	{ "server", "socket_group", CONFIG_STRING, F(socket_group),
	  "", 0, 0, NULL,
	  "Group of the socket; empty keeps the daemon's group." },
	{ "server", "listen", CONFIG_STRING, F(listen),
	  "", 0, 0, config_check_listen,
	  "Also serve TCP on HOST:PORT, e.g. 127.0.0.1:8025; empty = no TCP." },
	{ "server", "metrics_listen", CONFIG_STRING, F(metrics_listen),
	  "", 0, 0, config_check_listen,
	  "Serve only /metrics on TCP HOST:PORT too, for scrapers; empty = no." },
	{ "server", "allowed_origins", CONFIG_LIST, F(allowed_origins),
	  "", 0, 0, config_check_origin,
	  "Origins return_to may point to, e.g. https://blog.example.org." },
	{ "server", "trusted_proxies", CONFIG_LIST, F(trusted_proxies),
	  "127.0.0.1 ::1", 0, 0, config_check_ip,
	  "Peers whose \"ip\" field is believed (a reverse proxy in front)." },
	{ "server", "frontend_key_file", CONFIG_STRING, F(frontend_key_file),
	  "", 0, 0, NULL,
	  "File with the key a trusted frontend sends as \"Authorization: Bearer KEY\"; empty = none." },
	{ "server", "max_body", CONFIG_SIZE, F(max_body),
	  "64k", 1024, 16 * CONFIG_MIB, NULL,
	  "Largest HTTP request body in bytes (k and M suffixes)." },
	{ "server", "max_headers", CONFIG_SIZE, F(max_headers),
	  "8k", 1024, CONFIG_MIB, NULL,
	  "Largest HTTP request header block in bytes." },
	{ "server", "max_connections", CONFIG_UINT, F(max_connections),
	  "1024", 1, 1000000, NULL,
	  "Connections served at once." },
	{ "server", "timeout", CONFIG_UINT, F(timeout),
	  "10", 1, 3600, NULL,
	  "Seconds a connection may stay idle or take to send a request." },
	{ "server", "shutdown_timeout", CONFIG_UINT, F(shutdown_timeout),
	  "10", 0, 3600, NULL,
	  "Seconds to finish requests in flight after SIGTERM." },
	{ "server", "user", CONFIG_STRING, F(user),
	  "", 0, 0, NULL,
	  "User to switch to after binding; empty = stay." },
	{ "server", "group", CONFIG_STRING, F(group),
	  "", 0, 0, NULL,
	  "Group to switch to after binding; empty = the user's group." },

	{ "redis", "address", CONFIG_STRING, F(redis_address),
	  "unix:/run/redis/redis.sock", 0, 0, config_check_redis,
	  "unix:PATH or redis://HOST:PORT/DB." },
	{ "redis", "user", CONFIG_STRING, F(redis_user),
	  "", 0, 0, NULL,
	  "Redis ACL user to log in as; empty = the default user." },
	{ "redis", "password_file", CONFIG_STRING, F(redis_password_file),
	  "", 0, 0, NULL,
	  "File with the Redis password on its first line; read at each connect." },
	{ "redis", "sentinels", CONFIG_LIST, F(redis_sentinels),
	  "", 0, 0, sentinel_check,
	  "HOST:PORT of Redis Sentinels that name the master; empty = use address." },
	{ "redis", "master_name", CONFIG_STRING, F(redis_master_name),
	  "", 0, 0, NULL,
	  "Name of the master the Sentinels watch." },
	{ "redis", "sentinel_password_file", CONFIG_STRING,
	  F(redis_sentinel_password_file), "", 0, 0, NULL,
	  "File with the Sentinels' password (requirepass) on its first line; read at each connect." },
	{ "redis", "min_replicas", CONFIG_UINT, F(redis_min_replicas),
	  "0", 0, 100, NULL,
	  "Replicas that must confirm a stored comment (WAIT) before its 202; 0 = none." },
	{ "redis", "prefix", CONFIG_STRING, F(redis_prefix),
	  "heinzel", 0, 0, config_check_prefix,
	  "Prefix of every Redis key: 1 to 64 of A-Z a-z 0-9 _ . -" },
	{ "redis", "timeout_ms", CONFIG_UINT, F(redis_timeout_ms),
	  "2000", 10, 600000, NULL,
	  "Milliseconds before a Redis command counts as failed." },
	{ "redis", "max_inflight", CONFIG_UINT, F(redis_max_inflight),
	  "1000", 1, 1000000, NULL,
	  "Redis commands pending at once; beyond it requests get 503." },

	{ "rules", "dir", CONFIG_STRING, F(rules_dir),
	  "/etc/heinzel/rules", 0, 0, config_check_nonempty,
	  "Directory of *.rules files, read in name order." },
	{ "rules", "hold_score", CONFIG_DOUBLE, F(hold_score),
	  "3", -1000, 1000, NULL,
	  "Score at or over which a comment is held and flagged." },
	{ "rules", "reject_score", CONFIG_DOUBLE, F(reject_score),
	  "6", -1000, 1000, NULL,
	  "Score at or over which a comment is spam (403)." },

	{ "captcha", "required", CONFIG_BOOL, F(captcha_required),
	  "yes", 0, 0, NULL,
	  "Ask the math question; no if the frontend has its own captcha." },
	{ "captcha", "ttl", CONFIG_UINT, F(captcha_ttl),
	  "600", 10, 86400, NULL,
	  "Seconds a captcha may be answered." },
	{ "captcha", "min_solve_seconds", CONFIG_UINT, F(captcha_min_solve),
	  "3", 0, 3600, NULL,
	  "Answers faster than this many seconds count as a bot." },
	{ "captcha", "lang", CONFIG_STRING, F(captcha_lang),
	  "de", 0, 0, config_check_lang,
	  "Language of questions without ?lang=: de or en." },

	{ "comments", "body_max_chars", CONFIG_UINT, F(body_max_chars),
	  "10000", 1, 1000000, NULL,
	  "Longest comment text in characters." },
	{ "comments", "duplicate_window", CONFIG_UINT, F(duplicate_window),
	  "86400", 0, 31536000, NULL,
	  "Seconds in which the same text on the same post is a duplicate." },
	{ "comments", "request_id_ttl", CONFIG_UINT, F(request_id_ttl),
	  "86400", 0, 31536000, NULL,
	  "Seconds a request_id is remembered." },

	{ "checks", "honeypot_score", CONFIG_DOUBLE, F(honeypot_score),
	  "10", -1000, 1000, NULL,
	  "Score of a filled-in honeypot field (HONEYPOT)." },
	{ "checks", "max_links", CONFIG_UINT, F(max_links),
	  "5", 0, 1000, NULL,
	  "Links in a comment above which TOO_MANY_LINKS scores; 0 = off." },
	{ "checks", "max_links_score", CONFIG_DOUBLE, F(max_links_score),
	  "6", -1000, 1000, NULL,
	  "Score of TOO_MANY_LINKS." },
	{ "checks", "flood_ip_limit", CONFIG_UINT, F(flood_ip_limit),
	  "20", 0, 1000000, NULL,
	  "Submissions per IP address and window before 429; 0 = off." },
	{ "checks", "flood_ip_window", CONFIG_UINT, F(flood_ip_window),
	  "60", 1, 86400, NULL,
	  "Seconds of the per-IP flood window." },
	{ "checks", "flood_ipv6_prefix", CONFIG_UINT, F(flood_ipv6_prefix),
	  "64", 32, 128, NULL,
	  "Leading bits of an IPv6 address counted as one for flood_ip_limit." },
	{ "checks", "flood_email_limit", CONFIG_UINT, F(flood_email_limit),
	  "10", 0, 1000000, NULL,
	  "Submissions per e-mail address and window before 429; 0 = off." },
	{ "checks", "flood_email_window", CONFIG_UINT, F(flood_email_window),
	  "60", 1, 86400, NULL,
	  "Seconds of the per-e-mail flood window." },

	{ "bayes", "enabled", CONFIG_BOOL, F(bayes_enabled),
	  "yes", 0, 0, NULL,
	  "Score comments with the BAYES_* pseudo-rules once trained enough." },
	{ "bayes", "min_spam", CONFIG_UINT, F(bayes_min_spam),
	  "50", 1, 1000000, NULL,
	  "Spam comments to learn before the classifier scores." },
	{ "bayes", "min_ham", CONFIG_UINT, F(bayes_min_ham),
	  "50", 1, 1000000, NULL,
	  "Good comments to learn before the classifier scores." },
	{ "bayes", "learn", CONFIG_BOOL, F(bayes_learn),
	  "yes", 0, 0, NULL,
	  "Learn from moderation: approve is ham, spam is spam." },

	{ "moderation", "auto_approve", CONFIG_AUTO_APPROVE, F(auto_approve),
	  "never", 0, 0, NULL,
	  "Publish without review: never, known_author or clean." },
	{ "moderation", "spam_keep_days", CONFIG_UINT, F(spam_keep_days),
	  "14", 0, 3650, NULL,
	  "Days spam is kept for review; 0 keeps it forever." },

	{ "privacy", "ip_keep", CONFIG_DURATION, F(privacy_ip_keep),
	  "7d", 1, 3650 * 86400.0, NULL,
	  "How long a comment's IP address, user agent and referrer are kept." },
	{ "privacy", "refused_email_keep", CONFIG_DURATION,
	  F(privacy_refused_email_keep), "7d", 1, 3650 * 86400.0, NULL,
	  "How long the e-mail address of a rejected or spam comment is kept." },

	{ "smtp", "relay", CONFIG_STRING, F(smtp_relay),
	  "smtp://127.0.0.1:25", 0, 0, config_check_smtp,
	  "Mail relay: smtp://HOST[:PORT] or smtps://HOST[:PORT]." },
	{ "smtp", "from", CONFIG_STRING, F(smtp_from),
	  "", 0, 0, config_check_email_or_empty,
	  "Sender address of notifications; empty = no mail is sent." },
	{ "smtp", "starttls", CONFIG_STARTTLS, F(smtp_starttls),
	  "opportunistic", 0, 0, NULL,
	  "TLS on smtp://: no, opportunistic (unverified) or required (verified)." },
	{ "smtp", "user", CONFIG_STRING, F(smtp_user),
	  "", 0, 0, NULL,
	  "User name for SMTP AUTH; empty = no AUTH." },
	{ "smtp", "password", CONFIG_STRING, F(smtp_password),
	  "", 0, 0, NULL,
	  "Password for SMTP AUTH (or use password_file)." },
	{ "smtp", "password_file", CONFIG_STRING, F(smtp_password_file),
	  "", 0, 0, NULL,
	  "File whose first line is the SMTP password, read at each delivery." },
	{ "smtp", "timeout", CONFIG_UINT, F(smtp_timeout),
	  "30", 1, 3600, NULL,
	  "Seconds one delivery to the relay may take." },

	{ "notify", "admin", CONFIG_LIST, F(notify_admin),
	  "", 0, 0, config_check_email,
	  "Addresses told of new pending comments; empty = nobody." },
	{ "notify", "author_on_approve", CONFIG_BOOL, F(author_on_approve),
	  "yes", 0, 0, NULL,
	  "Tell the comment's author when it is published." },
	{ "notify", "author_on_receipt", CONFIG_BOOL, F(author_on_receipt),
	  "no", 0, 0, NULL,
	  "Tell the comment's author that it was received." },
	{ "notify", "receipt_interval", CONFIG_UINT, F(receipt_interval),
	  "3600", 0, 604800, NULL,
	  "Seconds between two receipt mails to one address; 0 = no limit." },
	{ "notify", "webhook", CONFIG_STRING, F(notify_webhook),
	  "", 0, 0, config_check_webhook,
	  "URL that gets a JSON POST per new pending and approved comment; empty = none." },
	{ "notify", "webhook_timeout", CONFIG_UINT, F(notify_webhook_timeout),
	  "10", 1, 3600, NULL,
	  "Seconds one webhook request may take." },
	{ "notify", "takeover_seconds", CONFIG_UINT, F(notify_takeover),
	  "0", 0, 86400, NULL,
	  "Seconds a notification may stay unacknowledged with another heinzeld before this one takes it over; 0 = twice the longer delivery timeout plus 60." },
	{ "notify", "max_tries", CONFIG_UINT, F(notify_max_tries),
	  "8", 1, 1000, NULL,
	  "Delivery attempts before a notification goes to the dead letters." },
	{ "notify", "retry_base_seconds", CONFIG_UINT, F(notify_retry_base),
	  "60", 1, 86400, NULL,
	  "Wait before the first retry; doubled after each failure." },
	{ "notify", "retry_max_seconds", CONFIG_UINT, F(notify_retry_max),
	  "3600", 1, 604800, NULL,
	  "Longest wait between two attempts." },
	{ "notify", "templates", CONFIG_STRING, F(notify_templates),
	  "/etc/heinzel/templates", 0, 0, NULL,
	  "Directory of KIND.LANG.txt files replacing the built-in mail texts." },
	{ "notify", "site", CONFIG_STRING, F(notify_site),
	  "", 0, 0, config_check_one_line,
	  "The blog's name or address, named in every mail; empty = no mail is sent." },
	{ "notify", "lang", CONFIG_STRING, F(notify_lang),
	  "de", 0, 0, config_check_lang,
	  "Language of the admin's mails and of the author's when the comment has no lang de or en." },

	{ "log", "level", CONFIG_LOG_LEVEL, F(log_level),
	  "info", 0, 0, NULL,
	  "error, warn, info or debug." },
	{ "log", "syslog", CONFIG_BOOL, F(log_syslog),
	  "no", 0, 0, NULL,
	  "Log to syslog instead of stderr." },
};

/* The key's index in config_keys, or -1. */
static int
config_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < nitems(config_keys); i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    (key == NULL || strcmp(config_keys[i].key, key) == 0))
			return (int)i;
	return -1;
}

static int
config_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Digits in base, then for sizes an optional k or M; huge values saturate. */
static int
config_number(const char *s, int base, int suffix, unsigned long long *v)
{
	unsigned long long mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno == ERANGE)
		*v = ULLONG_MAX;
	if (suffix && (*end == 'k' || *end == 'K'))
		mult = CONFIG_KIB;
	else if (suffix && (*end == 'm' || *end == 'M'))
		mult = CONFIG_MIB;
	if (mult != 1)
		end++;
	if (*end != '\0')
		return -1;
	*v = *v > ULLONG_MAX / mult ? ULLONG_MAX : *v * mult;
	return 0;
}

static const struct {
	char suffix;
	unsigned long long seconds;
} config_units[] = {
	{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 },
	{ 's', 1 },
};

int
config_duration(const char *s, unsigned long long *secs)
{
	unsigned long long v, unit = 1;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end != '\0') {
		for (i = 0; i < nitems(config_units); i++)
			if (*end == config_units[i].suffix)
				break;
		if (i == nitems(config_units) || end[1] != '\0')
			return -1;
		unit = config_units[i].seconds;
	}
	if (v > ULLONG_MAX / unit)
		return -1;
	*secs = v * unit;
	return 0;
}

/* An integer as the file spells it: sizes as 64k, modes as 0660. */
static void
config_format_number(char *buf, size_t len, enum config_type type,
    unsigned long long v)
{
	size_t i;

	if (type == CONFIG_DURATION) {
		/* Days at most: "7d" reads better than "1w". */
		for (i = 1; v != 0 && v % config_units[i].seconds != 0; i++)
			;
		snprintf(buf, len, "%llu%c", v / config_units[i].seconds,
		    config_units[i].suffix);
	} else if (type == CONFIG_MODE)
		snprintf(buf, len, "%04llo", v);
	else if (type == CONFIG_SIZE && v != 0 && v % CONFIG_MIB == 0)
		snprintf(buf, len, "%lluM", v / CONFIG_MIB);
	else if (type == CONFIG_SIZE && v != 0 && v % CONFIG_KIB == 0)
		snprintf(buf, len, "%lluk", v / CONFIG_KIB);
	else
		snprintf(buf, len, "%llu", v);
}

/* Integer fields are unsigned int, mode_t or size_t: 32 or 64 bits. */
static void
config_store_uint(void *p, size_t size, unsigned long long v)
{
	uint32_t v32 = v;
	uint64_t v64 = v;

	if (size == sizeof v32)
		memcpy(p, &v32, sizeof v32);
	else
		memcpy(p, &v64, sizeof v64);
}

static unsigned long long
config_fetch_uint(const void *p, size_t size)
{
	uint32_t v32;
	uint64_t v64;

	if (size == sizeof v32) {
		memcpy(&v32, p, sizeof v32);
		return v32;
	}
	memcpy(&v64, p, sizeof v64);
	return v64;
}

static void
config_free_list(char **list)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* Split on commas and whitespace; every item passes the key's check. */
static char *
config_set_list(const struct config_key *k, char ***field, const char *v)
{
	static const char sep[] = ", \t";
	char **list, *cause;
	const char *why;
	size_t n = 0, len;

	list = xcalloc(strlen(v) / 2 + 2, sizeof *list);
	for (v += strspn(v, sep); *v != '\0'; v += strspn(v, sep)) {
		len = strcspn(v, sep);
		list[n] = xstrndup(v, len);
		v += len;
		if (k->check != NULL && (why = k->check(list[n])) != NULL) {
			xasprintf(&cause, "\"%s\": %s", list[n], why);
			config_free_list(list);
			return cause;
		}
		n++;
	}
	config_free_list(*field);
	*field = list;
	return NULL;
}

/* Parse v as the key's type into cfg; NULL, or why v is wrong. */
static char *
config_set(struct config *cfg, const struct config_key *k, const char *v)
{
	void *p = (char *)cfg + k->off;
	unsigned long long n;
	char *cause, *end, lo[32], hi[32];
	const char *why;
	double d;
	int i = -1;

	switch (k->type) {
	case CONFIG_STRING:
		if (k->check != NULL && (why = k->check(v)) != NULL)
			return xstrdup(why);
		free(*(char **)p);
		*(char **)p = xstrdup(v);
		return NULL;
	case CONFIG_LIST:
		return config_set_list(k, p, v);
	case CONFIG_BOOL:
		if ((i = config_bool(v)) != -1)
			*(bool *)p = i;
		break;
	case CONFIG_UINT:
	case CONFIG_SIZE:
	case CONFIG_MODE:
	case CONFIG_DURATION:
		if (k->type == CONFIG_DURATION ? config_duration(v, &n) != 0 :
		    config_number(v, k->type == CONFIG_MODE ? 8 : 10,
		    k->type == CONFIG_SIZE, &n) != 0)
			break;
		if (n < k->min || n > k->max) {
			config_format_number(lo, sizeof lo, k->type, k->min);
			config_format_number(hi, sizeof hi, k->type, k->max);
			xasprintf(&cause, "must be between %s and %s", lo, hi);
			return cause;
		}
		config_store_uint(p, k->size, n);
		return NULL;
	case CONFIG_DOUBLE:
		d = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || !isfinite(d))
			break;
		if (d < k->min || d > k->max) {
			xasprintf(&cause, "must be between %g and %g",
			    k->min, k->max);
			return cause;
		}
		*(double *)p = d;
		return NULL;
	case CONFIG_AUTO_APPROVE:
		for (i = nitems(config_auto_approve_names) - 1; i >= 0; i--)
			if (strcasecmp(v, config_auto_approve_names[i]) == 0)
				break;
		if (i != -1)
			*(enum auto_approve *)p = i;
		break;
	case CONFIG_LOG_LEVEL:
		if ((i = log_level_parse(v)) != -1)
			*(int *)p = i;
		break;
	case CONFIG_STARTTLS:
		for (i = nitems(config_starttls_names) - 1; i >= 0; i--)
			if (strcasecmp(v, config_starttls_names[i]) == 0)
				break;
		if (i != -1)
			*(enum smtp_starttls *)p = i;
		break;
	}
	return i == -1 ? xstrdup(config_expected[k->type]) : NULL;
}

/* The value as the file would spell it; the caller frees. */
static char *
config_get(const struct config *cfg, const struct config_key *k)
{
	const char *p = (const char *)cfg + k->off;
	char buf[64], **list, *s, *w;
	size_t i, len = 1;

	switch (k->type) {
	case CONFIG_STRING:
		return xstrdup(*(char *const *)p);
	case CONFIG_LIST:
		list = *(char **const *)p;
		for (i = 0; list[i] != NULL; i++)
			len += strlen(list[i]) + 2;
		w = s = xcalloc(1, len);
		for (i = 0; list[i] != NULL; i++)
			w = stpcpy(stpcpy(w, i > 0 ? ", " : ""), list[i]);
		return s;
	case CONFIG_BOOL:
		return xstrdup(*(const bool *)p ? "yes" : "no");
	case CONFIG_UINT:
	case CONFIG_SIZE:
	case CONFIG_MODE:
	case CONFIG_DURATION:
		config_format_number(buf, sizeof buf, k->type,
		    config_fetch_uint(p, k->size));
		return xstrdup(buf);
	case CONFIG_DOUBLE:
		/* The shortest form that reads back as the same double. */
		snprintf(buf, sizeof buf, "%.15g", *(const double *)p);
		if (strtod(buf, NULL) != *(const double *)p)
			snprintf(buf, sizeof buf, "%.17g", *(const double *)p);
		return xstrdup(buf);
	case CONFIG_AUTO_APPROVE:
		return xstrdup(config_auto_approve_names[
		    *(const enum auto_approve *)p]);
	case CONFIG_LOG_LEVEL:
		return xstrdup(config_log_level_names[*(const int *)p]);
	case CONFIG_STARTTLS:
		return xstrdup(config_starttls_names[
		    *(const enum smtp_starttls *)p]);
	}
	fatalx("%s: bad type %d", __func__, k->type);
}

bool
config_mail_on(const struct config *cfg)
{
	return cfg->smtp_from[0] != '\0' && cfg->notify_site[0] != '\0';
}

struct config *
config_new(void)
{
	struct config *cfg;
	char *cause;
	size_t i;

	cfg = xcalloc(1, sizeof *cfg);
	for (i = 0; i < nitems(config_keys); i++) {
		cause = config_set(cfg, &config_keys[i], config_keys[i].def);
		if (cause != NULL)
			fatalx("%s: default of %s.%s: %s", __func__,
			    config_keys[i].section, config_keys[i].key, cause);
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	const struct config_key *k;
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < nitems(config_keys); i++) {
		k = &config_keys[i];
		if (k->type == CONFIG_STRING)
			free(*(char **)((char *)cfg + k->off));
		else if (k->type == CONFIG_LIST)
			config_free_list(*(char ***)((char *)cfg + k->off));
	}
	free(cfg);
}

static void config_error(struct config_parse *, unsigned int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Add "NAME:LINE: message" ("NAME: message" for line 0), one a line. */
static void
config_error(struct config_parse *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (p->nerrors++ > 0)
		fputc('\n', p->errfp);
	if (line != 0)
		fprintf(p->errfp, "%s:%u: ", p->name, line);
	else
		fprintf(p->errfp, "%s: ", p->name);
	va_start(ap, fmt);
	vfprintf(p->errfp, fmt, ap);
	va_end(ap);
}

static int
config_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* A comment starts with # or ; at the line's start or after whitespace. */
static int
config_comment(const char *line, const char *s)
{
	return (*s == '#' || *s == ';') && (s == line || config_space(s[-1]));
}

/* Trim s up to end in place. */
static char *
config_trim(char *s, char *end)
{
	while (config_space(*s))
		s++;
	while (end > s && config_space(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* Unquote "..." in place (\" and \\ are escapes); NULL or why not. */
static const char *
config_unquote(const char *line, char *v)
{
	char *r = v + 1, *w = v;

	for (; *r != '\0' && *r != '"'; r++) {
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	if (*r != '"')
		return "unterminated quoted value";
	*w = '\0';
	for (r++; config_space(*r); r++)
		;
	if (*r != '\0' && !config_comment(line, r))
		return "unexpected text after quoted value";
	return NULL;
}

/* A "[section]" line; keys up to the next header go to the section. */
static void
config_section(struct config_parse *p, char *line, char *s)
{
	char *end, *name;
	int i;

	p->headers++;
	p->section = NULL;
	if ((end = strchr(s, ']')) == NULL) {
		config_error(p, p->lineno, "missing ']' in section header");
		return;
	}
	name = config_trim(s + 1, end);
	for (s = end + 1; config_space(*s); s++)
		;
	if (*s != '\0' && !config_comment(line, s))
		config_error(p, p->lineno, "unexpected text after [%s]", name);
	else if ((i = config_find(name, NULL)) == -1)
		config_error(p, p->lineno, "unknown section [%s]", name);
	else
		p->section = config_keys[i].section;
}

/* A "key = value" line; s is past the leading whitespace. */
static void
config_key(struct config_parse *p, char *line, char *s)
{
	const struct config_key *k;
	char *eq = NULL, *key, *v, *cause;
	const char *why;
	int i;

	for (; *s != '\0' && !config_comment(line, s) && eq == NULL; s++)
		if (*s == '=')
			eq = s;
	if (eq == NULL) {
		config_error(p, p->lineno, "missing '=' after \"%.40s\"",
		    config_trim(line, s));
		return;
	}
	if (*(key = config_trim(line, eq)) == '\0') {
		config_error(p, p->lineno, "missing key before '='");
		return;
	}
	if (p->headers == 0) {
		config_error(p, p->lineno, "%s: key before any [section]", key);
		return;
	}
	if (p->section == NULL)
		return;		/* the bad header was reported */
	if ((i = config_find(p->section, key)) == -1) {
		config_error(p, p->lineno, "unknown key %s.%s", p->section,
		    key);
		return;
	}
	k = &config_keys[i];
	if (p->lines[i] != 0) {
		config_error(p, p->lineno, "%s.%s given twice "
		    "(first on line %u)", k->section, k->key, p->lines[i]);
		return;
	}
	p->lines[i] = p->lineno;

	for (v = eq + 1; config_space(*v); v++)
		;
	if (*v == '"') {
		if ((why = config_unquote(line, v)) != NULL) {
			config_error(p, p->lineno, "%s.%s: %s", k->section,
			    k->key, why);
			return;
		}
	} else {
		for (s = v; *s != '\0' && !config_comment(line, s); s++)
			;
		v = config_trim(v, s);
	}
	if ((cause = config_set(p->cfg, k, v)) != NULL) {
		config_error(p, p->lineno, "%s.%s: %s", k->section, k->key,
		    cause);
		free(cause);
	}
}

/* One line without its newline. */
static void
config_line(struct config_parse *p, char *line)
{
	char *s;

	for (s = line; config_space(*s); s++)
		;
	if (*s == '\0' || config_comment(line, s))
		return;
	if (*s == '[')
		config_section(p, line, s);
	else
		config_key(p, line, s);
}

/* Checks that span keys, on the resulting config. */
static void
config_check_all(struct config_parse *p)
{
	const struct config *cfg = p->cfg;
	unsigned int hold, reject, longest;

	if (cfg->hold_score > cfg->reject_score) {
		hold = p->lines[config_find("rules", "hold_score")];
		reject = p->lines[config_find("rules", "reject_score")];
		config_error(p, hold > reject ? hold : reject,
		    "rules.hold_score (%g) must not be above "
		    "rules.reject_score (%g)", cfg->hold_score,
		    cfg->reject_score);
	}
	longest = cfg->smtp_timeout > cfg->notify_webhook_timeout ?
	    cfg->smtp_timeout : cfg->notify_webhook_timeout;
	if (cfg->notify_takeover != 0 && cfg->notify_takeover < 2 * longest)
		config_error(p, p->lines[config_find("notify", "takeover_seconds")],
		    "notify.takeover_seconds (%u) must be 0 or at least twice the "
		    "longer of smtp.timeout and notify.webhook_timeout (%u): a "
		    "delivery still at work would be taken over and sent twice",
		    cfg->notify_takeover, 2 * longest);
	if (cfg->smtp_password[0] != '\0' && cfg->smtp_password_file[0] != '\0')
		config_error(p, p->lines[config_find("smtp", "password_file")],
		    "smtp.password and smtp.password_file: give one of them");
	if (cfg->smtp_user[0] != '\0' && cfg->smtp_starttls == STARTTLS_NO &&
	    strncmp(cfg->smtp_relay, "smtps://", 8) != 0 &&
	    !config_smtp_relay_loopback(cfg->smtp_relay))
		config_error(p, p->lines[config_find("smtp", "starttls")],
		    "smtp.starttls = no with smtp.user would send the password "
		    "in the clear to %s: use opportunistic or required, or a "
		    "relay on loopback", cfg->smtp_relay);
}

int
config_load_buffer(struct config *cfg, const char *name, const char *buf,
    size_t len, char **errors)
{
	struct config_parse p;
	unsigned int lines[nitems(config_keys)] = { 0 };
	const char *end = buf + len, *nl;
	char *errbuf, *line;
	size_t errlen, n;

	memset(&p, 0, sizeof p);
	p.cfg = cfg;
	p.name = name;
	p.lines = lines;
	if ((p.errfp = open_memstream(&errbuf, &errlen)) == NULL)
		fatal("%s: open_memstream", __func__);

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		buf += 3;	/* a byte order mark some editors write */
	for (; buf < end; buf = nl != NULL ? nl + 1 : end) {
		if (p.nerrors >= CONFIG_MAX_ERRORS) {
			config_error(&p, 0, "too many errors, stopped after "
			    "line %u", p.lineno);
			break;
		}
		p.lineno++;
		nl = memchr(buf, '\n', end - buf);
		n = (nl != NULL ? nl : end) - buf;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
		if (n > CONFIG_MAX_LINE)
			config_error(&p, p.lineno, "line longer than %d bytes",
			    CONFIG_MAX_LINE);
		else if (!utf8_valid_text(buf, n, true))
			config_error(&p, p.lineno, "not UTF-8 text");
		else {
			line = xstrndup(buf, n);
			config_line(&p, line);
			free(line);
		}
	}
	if (p.nerrors <= CONFIG_MAX_ERRORS)
		config_check_all(&p);

	if (fclose(p.errfp) != 0)
		fatal("%s: closing error stream", __func__);
	if (errors != NULL && p.nerrors > 0)
		*errors = errbuf;
	else {
		if (errors != NULL)
			*errors = NULL;
		free(errbuf);
	}
	return p.nerrors == 0 ? 0 : -1;
}

int
config_load(struct config *cfg, const char *path, char **errors)
{
	char *buf = NULL, *cause, chunk[8192];
	size_t len = 0, n;
	FILE *fp;
	int rv;

	if ((fp = fopen(path, "r")) == NULL) {
		xasprintf(&cause, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		buf = xreallocarray(buf, len + n, 1);
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (ferror(fp)) {
		xasprintf(&cause, "%s: cannot read: %s", path, strerror(errno));
		fclose(fp);
		free(buf);
		goto fail;
	}
	fclose(fp);
	rv = config_load_buffer(cfg, path, len > 0 ? buf : "", len, errors);
	free(buf);
	return rv;

fail:
	if (errors != NULL)
		*errors = cause;
	else
		free(cause);
	return -1;
}

/* Write key = value, quoted where it would not read back as it is. */
static void
config_dump_value(FILE *fp, const char *key, const char *v)
{
	size_t len = strlen(v);
	const char *s;
	int quote;

	quote = len > 0 && (*v == '"' || config_space(*v) ||
	    config_space(v[len - 1]));
	for (s = v; *s != '\0' && !quote; s++)
		quote = config_comment(v, s);
	if (!quote) {
		fprintf(fp, "%s =%s%s\n", key, len > 0 ? " " : "", v);
		return;
	}
	fprintf(fp, "%s = \"", key);
	for (s = v; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputs("\"\n", fp);
}

void
config_dump(const struct config *cfg, FILE *fp)
{
	const struct config_key *k;
	size_t i;
	char *v;

	for (i = 0; i < nitems(config_keys); i++) {
		k = &config_keys[i];
		if (i == 0 ||
		    strcmp(k->section, config_keys[i - 1].section) != 0)
			fprintf(fp, "%s[%s]\n", i > 0 ? "\n" : "", k->section);
		fprintf(fp, "# %s\n", k->doc);
		v = config_get(cfg, k);
		config_dump_value(fp, k->key, v);
		free(v);
	}
}
