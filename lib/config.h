/*
 * heinzel.conf: one INI-style file shared by heinzeld and heinzelctl.
 * Every key has a default; unknown sections and keys are errors.
 */
#ifndef HEINZEL_CONFIG_H
#define HEINZEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum auto_approve { AUTO_APPROVE_NEVER, AUTO_APPROVE_KNOWN_AUTHOR, AUTO_APPROVE_CLEAN };
enum smtp_starttls { STARTTLS_NO, STARTTLS_OPPORTUNISTIC, STARTTLS_REQUIRED };

struct config {
	/* [server] */
	char *socket;			/* /run/heinzel/heinzel.sock */
	mode_t socket_mode;		/* 0660 */
	char *socket_group;		/* "" = the daemon's group */
	char *listen;			/* "" = no TCP; "127.0.0.1:8025" */
	char *metrics_listen;		/* "" = none; /metrics only, for scrapers */
	char **allowed_origins;		/* NULL-terminated; "https://blog.example.org" */
	char **trusted_proxies;		/* NULL-terminated IPs whose "ip" field is believed */
	char *frontend_key_file;	/* the trusted frontend's key; "" = none */
	size_t max_body;		/* 65536 bytes of HTTP body */
	size_t max_headers;		/* 8192 bytes of HTTP headers */
	unsigned int max_connections;	/* 1024 */
	unsigned int timeout;		/* 10 s read/idle timeout per connection */
	unsigned int shutdown_timeout;	/* 10 s to drain on SIGTERM */
	char *user;			/* "" = keep; drop privileges after bind */
	char *group;

	/* [redis] */
	char *redis_address;		/* unix:/run/redis/redis.sock | redis://host:port/db */
	char *redis_user;		/* ACL user; "" = the default user */
	char *redis_password_file;	/* "" = no password, or the address's */
	char **redis_sentinels;		/* HOST:PORT of each; empty = none */
	char *redis_master_name;	/* the master they watch */
	char *redis_sentinel_password_file; /* "" = Sentinels want none */
	unsigned int redis_min_replicas;	/* WAIT for them before a 202 */
	char *redis_prefix;		/* heinzel */
	unsigned int redis_timeout_ms;	/* 2000: command timeout */
	unsigned int redis_max_inflight;	/* 1000 commands */

	/* [rules] */
	char *rules_dir;		/* /etc/heinzel/rules */
	double hold_score;		/* 3 */
	double reject_score;		/* 6 */

	/* [captcha] */
	bool captcha_required;		/* yes */
	unsigned int captcha_ttl;	/* 600 s */
	unsigned int captcha_min_solve;	/* 3 s */
	char *captcha_lang;		/* "de" default language */

	/* [comments] */
	size_t body_max_chars;		/* 10000 */
	unsigned int duplicate_window;	/* 86400 s */
	unsigned int request_id_ttl;	/* 86400 s */

	/* [checks]: built-in checks, scored like rules */
	double honeypot_score;		/* 10 */
	unsigned int max_links;		/* 5, 0 = off */
	double max_links_score;		/* 6 */
	unsigned int flood_ip_limit;	/* 20 per window, 0 = off */
	unsigned int flood_ip_window;	/* 60 s */
	unsigned int flood_ipv6_prefix;	/* 64: one counter per IPv6 /64 */
	unsigned int flood_email_limit;	/* 10 per window, 0 = off */
	unsigned int flood_email_window;	/* 60 s */

	/* [bayes] */
	bool bayes_enabled;		/* yes: score with BAYES_* once trained */
	unsigned int bayes_min_spam;	/* 50 spam trained before it scores */
	unsigned int bayes_min_ham;	/* 50 ham */
	bool bayes_learn;		/* yes: approve trains ham, spam trains spam */

	/* [moderation] */
	enum auto_approve auto_approve;	/* never */
	unsigned int spam_keep_days;	/* 14 */

	/* [privacy] */
	unsigned int privacy_ip_keep;	/* 7d: IP and user agent, from submission */
	unsigned int privacy_refused_email_keep;	/* 7d: e-mail of spam/rejected, from refusal */

	/* [smtp] */
	char *smtp_relay;		/* smtp://127.0.0.1:25 */
	char *smtp_from;		/* "" = no mail (config_mail_on) */
	enum smtp_starttls smtp_starttls;	/* opportunistic */
	char *smtp_user;		/* "" = no AUTH */
	char *smtp_password;		/* "" */
	char *smtp_password_file;	/* "" = none; first line is the password */
	unsigned int smtp_timeout;	/* 30 s per mail */

	/* [notify] */
	char **notify_admin;		/* NULL-terminated, may be empty */
	bool author_on_approve;		/* yes */
	bool author_on_receipt;		/* no */
	unsigned int receipt_interval;	/* 3600 s between receipts to one address */
	char *notify_webhook;		/* "" = none; http(s) URL for JSON POSTs */
	unsigned int notify_webhook_timeout;	/* 10 s */
	unsigned int notify_takeover;	/* s; 0 = from the timeouts */
	unsigned int notify_max_tries;	/* 8 attempts in all */
	unsigned int notify_retry_base;	/* 60 s before the first retry, doubling */
	unsigned int notify_retry_max;	/* 3600 s longest wait */
	char *notify_templates;		/* /etc/heinzel/templates */
	char *notify_lang;		/* "de": admin mails, comments without de or en */
	char *notify_site;		/* "" = no mail (config_mail_on) */

	/* [log] */
	int log_level;			/* enum log_level, info */
	bool log_syslog;		/* no */
};

/*
 * Mail goes out only once a sender ([smtp] from) and the site the mails
 * speak for ([notify] site) are configured: out of the box, nothing
 * reaches a reader through whatever MTA the host runs.
 */
bool config_mail_on(const struct config *cfg);

/* A config holding every default. */
struct config *config_new(void);
void config_free(struct config *cfg);

/*
 * Read path over the defaults in cfg.  Returns 0, or -1 with *errors set to
 * every error, one per line as "PATH:LINE: message" (caller frees).
 */
int config_load(struct config *cfg, const char *path, char **errors);
int config_load_buffer(struct config *cfg, const char *name, const char *buf, size_t len, char **errors);

/*
 * A duration: digits, then s, m, h, d or w (none: seconds).  0 with the
 * seconds, -1 if s is not one.
 */
int config_duration(const char *s, unsigned long long *secs);

/* Write every key with its current value, commented, as a config file. */
void config_dump(const struct config *cfg, FILE *fp);

/* Whether an [smtp] relay URL names this machine: localhost, 127.x, [::1]. */
bool config_smtp_relay_loopback(const char *relay);

#endif
