/* Unit tests for heinzel.conf parsing, defaults and dumping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

/* Every key set to a valid value other than its default. */
static const char all_other[] =
    "[server]\n"
    "socket = /tmp/h.sock\n"
    "socket_mode = 0600\n"
    "socket_group = www-data\n"
    "listen = 127.0.0.1:8025\n"
    "metrics_listen = 127.0.0.1:9125\n"
    "allowed_origins = https://blog.example.org, http://localhost:8080\n"
    "trusted_proxies = 10.0.0.1\n"
    "max_body = 1M\n"
    "max_headers = 16k\n"
    "max_connections = 50\n"
    "timeout = 30\n"
    "shutdown_timeout = 0\n"
    "user = heinzel\n"
    "group = nogroup\n"
    "[redis]\n"
    "address = redis://127.0.0.1:6379/2\n"
    "prefix = hz.test-1\n"
    "timeout_ms = 500\n"
    "max_inflight = 10\n"
    "[rules]\n"
    "dir = /srv/rules\n"
    "hold_score = -2.5\n"
    "reject_score = 1e1\n"
    "[captcha]\n"
    "required = off\n"
    "ttl = 120\n"
    "min_solve_seconds = 0\n"
    "lang = en\n"
    "[comments]\n"
    "body_max_chars = 500\n"
    "duplicate_window = 0\n"
    "request_id_ttl = 3600\n"
    "[checks]\n"
    "honeypot_score = 7.5\n"
    "max_links = 2\n"
    "max_links_score = 4\n"
    "flood_ip_limit = 3\n"
    "flood_ip_window = 30\n"
    "flood_ipv6_prefix = 56\n"
    "flood_email_limit = 0\n"
    "flood_email_window = 600\n"
    "[bayes]\n"
    "enabled = no\n"
    "min_spam = 5\n"
    "min_ham = 7\n"
    "learn = no\n"
    "[moderation]\n"
    "auto_approve = known_author\n"
    "spam_keep_days = 0\n"
    "[privacy]\n"
    "ip_keep = 36h\n"
    "refused_email_keep = 2w\n"
    "[smtp]\n"
    "relay = smtps://mail.example.org:465\n"
    "from = \"Heinzel <heinzel@example.org>\"\n"
    "[notify]\n"
    "admin = a@example.org b@example.org\n"
    "author_on_approve = false\n"
    "author_on_receipt = TRUE\n"
    "receipt_interval = 60\n"
    "[log]\n"
    "level = debug\n"
    "syslog = 1\n";

static int
load(struct config *cfg, const char *text, char **errors)
{
	return config_load_buffer(cfg, "test.conf", text, strlen(text), errors);
}

static size_t
list_len(char **list)
{
	size_t n;

	assert_non_null(list);
	for (n = 0; list[n] != NULL; n++)
		;
	return n;
}

static void
assert_list(char **list, ...)
{
	const char *want;
	va_list ap;
	size_t i = 0;

	va_start(ap, list);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_non_null(list[i]);
		assert_string_equal(list[i], want);
		i++;
	}
	va_end(ap);
	assert_null(list[i]);
}

static int
list_equal(char **a, char **b)
{
	size_t i;

	if (list_len(a) != list_len(b))
		return 0;
	for (i = 0; a[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

/* Field by field, so a field the dump forgets shows up. */
static void
assert_config_equal(const struct config *a, const struct config *b)
{
	assert_string_equal(a->socket, b->socket);
	assert_int_equal(a->socket_mode, b->socket_mode);
	assert_string_equal(a->socket_group, b->socket_group);
	assert_string_equal(a->listen, b->listen);
	assert_string_equal(a->metrics_listen, b->metrics_listen);
	assert_true(list_equal(a->allowed_origins, b->allowed_origins));
	assert_true(list_equal(a->trusted_proxies, b->trusted_proxies));
	assert_int_equal(a->max_body, b->max_body);
	assert_int_equal(a->max_headers, b->max_headers);
	assert_int_equal(a->max_connections, b->max_connections);
	assert_int_equal(a->timeout, b->timeout);
	assert_int_equal(a->shutdown_timeout, b->shutdown_timeout);
	assert_string_equal(a->user, b->user);
	assert_string_equal(a->group, b->group);
	assert_string_equal(a->redis_address, b->redis_address);
	assert_string_equal(a->redis_prefix, b->redis_prefix);
	assert_int_equal(a->redis_timeout_ms, b->redis_timeout_ms);
	assert_int_equal(a->redis_max_inflight, b->redis_max_inflight);
	assert_string_equal(a->rules_dir, b->rules_dir);
	assert_true(a->hold_score == b->hold_score);
	assert_true(a->reject_score == b->reject_score);
	assert_int_equal(a->captcha_required, b->captcha_required);
	assert_int_equal(a->captcha_ttl, b->captcha_ttl);
	assert_int_equal(a->captcha_min_solve, b->captcha_min_solve);
	assert_string_equal(a->captcha_lang, b->captcha_lang);
	assert_int_equal(a->body_max_chars, b->body_max_chars);
	assert_int_equal(a->duplicate_window, b->duplicate_window);
	assert_int_equal(a->request_id_ttl, b->request_id_ttl);
	assert_true(a->honeypot_score == b->honeypot_score);
	assert_int_equal(a->max_links, b->max_links);
	assert_true(a->max_links_score == b->max_links_score);
	assert_int_equal(a->flood_ip_limit, b->flood_ip_limit);
	assert_int_equal(a->flood_ip_window, b->flood_ip_window);
	assert_int_equal(a->flood_ipv6_prefix, b->flood_ipv6_prefix);
	assert_int_equal(a->flood_email_limit, b->flood_email_limit);
	assert_int_equal(a->flood_email_window, b->flood_email_window);
	assert_int_equal(a->bayes_enabled, b->bayes_enabled);
	assert_int_equal(a->bayes_min_spam, b->bayes_min_spam);
	assert_int_equal(a->bayes_min_ham, b->bayes_min_ham);
	assert_int_equal(a->bayes_learn, b->bayes_learn);
	assert_int_equal(a->auto_approve, b->auto_approve);
	assert_int_equal(a->spam_keep_days, b->spam_keep_days);
	assert_int_equal(a->privacy_ip_keep, b->privacy_ip_keep);
	assert_int_equal(a->privacy_refused_email_keep,
	    b->privacy_refused_email_keep);
	assert_string_equal(a->smtp_relay, b->smtp_relay);
	assert_string_equal(a->smtp_from, b->smtp_from);
	assert_true(list_equal(a->notify_admin, b->notify_admin));
	assert_int_equal(a->author_on_approve, b->author_on_approve);
	assert_int_equal(a->author_on_receipt, b->author_on_receipt);
	assert_int_equal(a->receipt_interval, b->receipt_interval);
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->log_syslog, b->log_syslog);
}

static char *
dump(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	assert_non_null(fp = open_memstream(&buf, &len));
	config_dump(cfg, fp);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* Load text into a fresh config; it must fail with exactly want. */
static void
expect_errors(const char *text, const char *want)
{
	struct config *cfg = config_new();
	char *errors = NULL;

	assert_int_equal(load(cfg, text, &errors), -1);
	assert_non_null(errors);
	assert_string_equal(errors, want);
	free(errors);
	config_free(cfg);
}

/* Load text into a fresh config; it must succeed. */
static struct config *
expect_ok(const char *text)
{
	struct config *cfg = config_new();
	char *errors = NULL;

	if (load(cfg, text, &errors) != 0)
		fail_msg("unexpected errors: %s", errors);
	assert_null(errors);
	return cfg;
}

static void
test_defaults(void **state)
{
	struct config *cfg = config_new();

	(void)state;
	assert_string_equal(cfg->socket, "/run/heinzel/heinzel.sock");
	assert_int_equal(cfg->socket_mode, 0660);
	assert_string_equal(cfg->socket_group, "");
	assert_string_equal(cfg->listen, "");
	assert_list(cfg->allowed_origins, NULL);
	assert_list(cfg->trusted_proxies, "127.0.0.1", "::1", NULL);
	assert_int_equal(cfg->max_body, 65536);
	assert_int_equal(cfg->max_headers, 8192);
	assert_int_equal(cfg->max_connections, 1024);
	assert_int_equal(cfg->timeout, 10);
	assert_int_equal(cfg->shutdown_timeout, 10);
	assert_string_equal(cfg->user, "");
	assert_string_equal(cfg->group, "");
	assert_string_equal(cfg->redis_address, "unix:/run/redis/redis.sock");
	assert_string_equal(cfg->redis_prefix, "heinzel");
	assert_int_equal(cfg->redis_timeout_ms, 2000);
	assert_int_equal(cfg->redis_max_inflight, 1000);
	assert_string_equal(cfg->rules_dir, "/etc/heinzel/rules");
	assert_true(cfg->hold_score == 3.0);
	assert_true(cfg->reject_score == 6.0);
	assert_true(cfg->captcha_required);
	assert_int_equal(cfg->captcha_ttl, 600);
	assert_int_equal(cfg->captcha_min_solve, 3);
	assert_string_equal(cfg->captcha_lang, "de");
	assert_int_equal(cfg->body_max_chars, 10000);
	assert_int_equal(cfg->duplicate_window, 86400);
	assert_int_equal(cfg->request_id_ttl, 86400);
	assert_int_equal(cfg->auto_approve, AUTO_APPROVE_NEVER);
	assert_int_equal(cfg->spam_keep_days, 14);
	assert_int_equal(cfg->privacy_ip_keep, 7 * 86400);
	assert_int_equal(cfg->privacy_refused_email_keep, 7 * 86400);
	assert_string_equal(cfg->smtp_relay, "smtp://127.0.0.1:25");
	/* No mail until a sender and the site are configured. */
	assert_string_equal(cfg->smtp_from, "");
	assert_string_equal(cfg->notify_site, "");
	assert_false(config_mail_on(cfg));
	assert_list(cfg->notify_admin, NULL);
	assert_true(cfg->author_on_approve);
	assert_false(cfg->author_on_receipt);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_false(cfg->log_syslog);
	config_free(cfg);
}

static void
test_shipped(void **state)
{
	struct config *cfg, *def = config_new();
	char *errors = NULL;

	(void)state;
	cfg = config_new();
	if (config_load(cfg, TEST_SRCDIR "/etc/heinzel.conf", &errors) != 0)
		fail_msg("shipped heinzel.conf: %s", errors);
	assert_null(errors);
	assert_config_equal(cfg, def);
	config_free(cfg);

	/* Over a config where every key differs: every key is in the file. */
	cfg = expect_ok(all_other);
	assert_int_equal(config_load(cfg, TEST_SRCDIR "/etc/heinzel.conf",
	    &errors), 0);
	assert_config_equal(cfg, def);
	config_free(cfg);
	config_free(def);
}

/* The shipped file is a header comment and then exactly the default dump. */
static void
test_shipped_matches_dump(void **state)
{
	struct config *cfg = config_new();
	char *text, *want, *body;
	size_t len = 0;
	FILE *fp;

	(void)state;
	assert_non_null(fp = fopen(TEST_SRCDIR "/etc/heinzel.conf", "r"));
	text = NULL;
	assert_true(getdelim(&text, &len, '\0', fp) > 0);
	fclose(fp);
	assert_non_null(body = strstr(text, "\n\n[server]\n"));
	want = dump(cfg);
	assert_string_equal(body + 2, want);
	free(want);
	free(text);
	config_free(cfg);
}

/* A password never goes out in the clear to a relay elsewhere. */
static void
test_smtp_auth_needs_tls(void **state)
{
	struct config *cfg;
	char *errors = NULL;

	(void)state;
	cfg = config_new();
	assert_int_equal(load(cfg, "[smtp]\nrelay = smtp://mail.example.org\n"
	    "user = blog\npassword = x\nstarttls = no\n", &errors), -1);
	assert_non_null(strstr(errors, "test.conf:5:"));
	assert_non_null(strstr(errors, "in the clear"));
	free(errors);
	config_free(cfg);
	config_free(expect_ok("[smtp]\nrelay = smtp://127.0.0.1:2525\n"
	    "user = blog\nstarttls = no\n"));
	config_free(expect_ok("[smtp]\nrelay = smtps://mail.example.org\n"
	    "user = blog\nstarttls = no\n"));
	config_free(expect_ok("[smtp]\nrelay = smtp://mail.example.org\n"
	    "starttls = no\n"));
	assert_true(config_smtp_relay_loopback("smtp://localhost:25"));
	assert_true(config_smtp_relay_loopback("smtp://127.0.0.1"));
	assert_true(config_smtp_relay_loopback("smtp://127.1.2.3:25/"));
	assert_true(config_smtp_relay_loopback("smtp://[::1]:25"));
	assert_false(config_smtp_relay_loopback("smtp://127.0.0.1.example.org"));
	assert_false(config_smtp_relay_loopback("smtp://127.example.org"));
	assert_false(config_smtp_relay_loopback("smtp://localhost.example.org"));
	assert_false(config_smtp_relay_loopback("smtp://[::1]x"));
	assert_false(config_smtp_relay_loopback("smtp://mail.example.org"));
}

static void
test_good_values(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = expect_ok(all_other);
	assert_string_equal(cfg->socket, "/tmp/h.sock");
	assert_int_equal(cfg->socket_mode, 0600);
	assert_string_equal(cfg->socket_group, "www-data");
	assert_string_equal(cfg->listen, "127.0.0.1:8025");
	assert_list(cfg->allowed_origins, "https://blog.example.org",
	    "http://localhost:8080", NULL);
	assert_list(cfg->trusted_proxies, "10.0.0.1", NULL);
	assert_int_equal(cfg->max_body, 1048576);
	assert_int_equal(cfg->max_headers, 16384);
	assert_int_equal(cfg->max_connections, 50);
	assert_int_equal(cfg->timeout, 30);
	assert_int_equal(cfg->shutdown_timeout, 0);
	assert_string_equal(cfg->user, "heinzel");
	assert_string_equal(cfg->group, "nogroup");
	assert_string_equal(cfg->redis_address, "redis://127.0.0.1:6379/2");
	assert_string_equal(cfg->redis_prefix, "hz.test-1");
	assert_int_equal(cfg->redis_timeout_ms, 500);
	assert_int_equal(cfg->redis_max_inflight, 10);
	assert_string_equal(cfg->rules_dir, "/srv/rules");
	assert_true(cfg->hold_score == -2.5);
	assert_true(cfg->reject_score == 10.0);
	assert_false(cfg->captcha_required);
	assert_int_equal(cfg->captcha_ttl, 120);
	assert_int_equal(cfg->captcha_min_solve, 0);
	assert_string_equal(cfg->captcha_lang, "en");
	assert_int_equal(cfg->body_max_chars, 500);
	assert_int_equal(cfg->duplicate_window, 0);
	assert_int_equal(cfg->request_id_ttl, 3600);
	assert_int_equal(cfg->auto_approve, AUTO_APPROVE_KNOWN_AUTHOR);
	assert_int_equal(cfg->spam_keep_days, 0);
	assert_string_equal(cfg->smtp_relay, "smtps://mail.example.org:465");
	assert_string_equal(cfg->smtp_from, "Heinzel <heinzel@example.org>");
	assert_list(cfg->notify_admin, "a@example.org", "b@example.org", NULL);
	assert_false(cfg->author_on_approve);
	assert_true(cfg->author_on_receipt);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	assert_true(cfg->log_syslog);
	config_free(cfg);
}

static void
test_bools(void **state)
{
	static const struct {
		const char *text;
		bool want;
	} t[] = {
		{ "yes", true }, { "YES", true }, { "true", true },
		{ "On", true }, { "1", true }, { "no", false },
		{ "No", false }, { "FALSE", false }, { "off", false },
		{ "0", false },
	};
	struct config *cfg;
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(buf, sizeof buf, "[log]\nsyslog = %s\n", t[i].text);
		cfg = expect_ok(buf);
		assert_int_equal(cfg->log_syslog, t[i].want);
		config_free(cfg);
	}
}

static void
test_numbers(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = expect_ok("[server]\nmax_body = 1024\nmax_headers = 2K\n"
	    "max_connections = 1000000\ntimeout = 3600\n"
	    "socket_mode = 0\n");
	assert_int_equal(cfg->max_body, 1024);
	assert_int_equal(cfg->max_headers, 2048);
	assert_int_equal(cfg->max_connections, 1000000);
	assert_int_equal(cfg->timeout, 3600);
	assert_int_equal(cfg->socket_mode, 0);
	config_free(cfg);

	cfg = expect_ok("[server]\nmax_body = 16M\nmax_headers = 1m\n"
	    "socket_mode = 777\n[comments]\nbody_max_chars = 000123\n");
	assert_int_equal(cfg->max_body, 16 * 1024 * 1024);
	assert_int_equal(cfg->max_headers, 1024 * 1024);
	assert_int_equal(cfg->socket_mode, 0777);
	assert_int_equal(cfg->body_max_chars, 123);
	config_free(cfg);

	cfg = expect_ok("[rules]\nhold_score = -1000\nreject_score = 1000\n");
	assert_true(cfg->hold_score == -1000.0);
	assert_true(cfg->reject_score == 1000.0);
	config_free(cfg);

	cfg = expect_ok("[rules]\nhold_score = 0.5\nreject_score = .75\n");
	assert_true(cfg->hold_score == 0.5);
	assert_true(cfg->reject_score == 0.75);
	config_free(cfg);

	/* Durations: a unit or none (seconds). */
	cfg = expect_ok("[privacy]\nip_keep = 30s\nrefused_email_keep = 90\n");
	assert_int_equal(cfg->privacy_ip_keep, 30);
	assert_int_equal(cfg->privacy_refused_email_keep, 90);
	config_free(cfg);
	cfg = expect_ok("[privacy]\nip_keep = 12h\nrefused_email_keep = 2w\n");
	assert_int_equal(cfg->privacy_ip_keep, 12 * 3600);
	assert_int_equal(cfg->privacy_refused_email_keep, 14 * 86400);
	config_free(cfg);

	/* Equal thresholds are allowed. */
	cfg = expect_ok("[rules]\nhold_score = 4\nreject_score = 4\n");
	config_free(cfg);
}

static void
test_enums(void **state)
{
	static const char *const levels[] = {
		"error", "warn", "info", "debug"
	};
	struct config *cfg;
	char buf[64];
	int i;

	(void)state;
	cfg = expect_ok("[moderation]\nauto_approve = clean\n");
	assert_int_equal(cfg->auto_approve, AUTO_APPROVE_CLEAN);
	config_free(cfg);
	cfg = expect_ok("[moderation]\nauto_approve = never\n");
	assert_int_equal(cfg->auto_approve, AUTO_APPROVE_NEVER);
	config_free(cfg);
	for (i = 0; i < 4; i++) {
		snprintf(buf, sizeof buf, "[log]\nlevel = %s\n", levels[i]);
		cfg = expect_ok(buf);
		assert_int_equal(cfg->log_level, i);
		config_free(cfg);
	}
}

static void
test_lists(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = expect_ok("[server]\n"
	    "allowed_origins = https://a.example,https://b.example:8443,, "
	    "\thttp://[::1]:8080  \n"
	    "trusted_proxies =\n"
	    "[notify]\n"
	    "admin = \"a@example.org, b@example.org\" # quoted as a whole\n");
	assert_list(cfg->allowed_origins, "https://a.example",
	    "https://b.example:8443", "http://[::1]:8080", NULL);
	assert_list(cfg->trusted_proxies, NULL);
	assert_list(cfg->notify_admin, "a@example.org", "b@example.org", NULL);
	config_free(cfg);

	cfg = expect_ok("[server]\ntrusted_proxies = , ,\n"
	    "allowed_origins = \"\"\n[notify]\nadmin = x@y\n");
	assert_list(cfg->trusted_proxies, NULL);
	assert_list(cfg->allowed_origins, NULL);
	assert_list(cfg->notify_admin, "x@y", NULL);
	config_free(cfg);

	cfg = expect_ok("[server]\ntrusted_proxies = 192.0.2.1 2001:db8::1\n"
	    "listen = [::1]:8025\n");
	assert_list(cfg->trusted_proxies, "192.0.2.1", "2001:db8::1", NULL);
	assert_string_equal(cfg->listen, "[::1]:8025");
	config_free(cfg);
}

static void
test_comments_quoting(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = expect_ok(
	    "\xef\xbb\xbf# leading comment\r\n"
	    "; another\r\n"
	    "   # indented\r\n"
	    "\r\n"
	    "[server] # trailing comment\r\n"
	    "listen = 127.0.0.1:8025 # tcp too\r\n"
	    "socket = /tmp/a#b;c ; not part of it\r\n"
	    "socket_group = \"  we#ird ; \\\"x\\\" \\\\ \" # comment\r\n"
	    "user = a \"b\"\r\n"
	    "group = \"\"\r\n"
	    "[ smtp ]\r\n"
	    "from=x@y\r\n"
	    "relay\t=\tsmtp://mail.example.org:587\t\r\n"
	    "[rules]\n"
	    "dir = \"C:\\rules\"\n"
	    "[log]\n"
	    "level =   warn ;comment\n");
	assert_string_equal(cfg->listen, "127.0.0.1:8025");
	assert_string_equal(cfg->socket, "/tmp/a#b;c");
	assert_string_equal(cfg->socket_group, "  we#ird ; \"x\" \\ ");
	assert_string_equal(cfg->user, "a \"b\"");
	assert_string_equal(cfg->group, "");
	assert_string_equal(cfg->smtp_from, "x@y");
	assert_string_equal(cfg->smtp_relay, "smtp://mail.example.org:587");
	assert_string_equal(cfg->rules_dir, "C:\\rules");
	assert_int_equal(cfg->log_level, LOG_LEVEL_WARN);
	config_free(cfg);

	/* A value after '=' without a space keeps its '#'. */
	cfg = expect_ok("[server]\nsocket_group =#wheel\nuser = # empty\n");
	assert_string_equal(cfg->socket_group, "#wheel");
	assert_string_equal(cfg->user, "");
	config_free(cfg);
}

static void
test_error_kinds(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} t[] = {
		{ "[nope]\nx = 1\n", "test.conf:1: unknown section [nope]" },
		{ "[server]\nsockt = /x\n", "test.conf:2: unknown key server.sockt" },
		{ "[privacy]\nip_keep = 7 days\n", "test.conf:2: privacy.ip_keep: "
		  "expected a duration such as 30s, 12h or 7d" },
		{ "[privacy]\nip_keep = 0s\n", "test.conf:2: privacy.ip_keep: "
		  "must be between 1s and 3650d" },
		{ "[server]\ntimeout = 5\n\ntimeout = 6\n",
		  "test.conf:4: server.timeout given twice (first on line 2)" },
		{ "[server]\ntimeout 5\n",
		  "test.conf:2: missing '=' after \"timeout 5\"" },
		{ "[server]\n= 5\n", "test.conf:2: missing key before '='" },
		{ "timeout = 5\n[server]\n",
		  "test.conf:1: timeout: key before any [section]" },
		{ "[server\n", "test.conf:1: missing ']' in section header" },
		{ "[server] x\n", "test.conf:1: unexpected text after [server]" },
		{ "[server]#x\n", "test.conf:1: unexpected text after [server]" },
		{ "[smtp]\nfrom = \"a@b\n",
		  "test.conf:2: smtp.from: unterminated quoted value" },
		{ "[smtp]\nfrom = \"a@b\" x\n",
		  "test.conf:2: smtp.from: unexpected text after quoted value" },
		{ "[captcha]\nrequired = maybe\n",
		  "test.conf:2: captcha.required: expected yes or no" },
		{ "[captcha]\nrequired =\n",
		  "test.conf:2: captcha.required: expected yes or no" },
		{ "[server]\ntimeout = 0\n",
		  "test.conf:2: server.timeout: must be between 1 and 3600" },
		{ "[server]\ntimeout = 3601\n",
		  "test.conf:2: server.timeout: must be between 1 and 3600" },
		{ "[server]\ntimeout = 99999999999999999999999\n",
		  "test.conf:2: server.timeout: must be between 1 and 3600" },
		{ "[server]\ntimeout = ten\n",
		  "test.conf:2: server.timeout: expected a whole number" },
		{ "[server]\ntimeout = -1\n",
		  "test.conf:2: server.timeout: expected a whole number" },
		{ "[server]\ntimeout = 5s\n",
		  "test.conf:2: server.timeout: expected a whole number" },
		{ "[server]\ntimeout =\n",
		  "test.conf:2: server.timeout: expected a whole number" },
		{ "[server]\nmax_body = 64q\n",
		  "test.conf:2: server.max_body: expected bytes, optionally "
		  "with k or M" },
		{ "[server]\nmax_body = 1023\n",
		  "test.conf:2: server.max_body: must be between 1k and 16M" },
		{ "[server]\nmax_body = 16385k\n",
		  "test.conf:2: server.max_body: must be between 1k and 16M" },
		{ "[server]\nmax_body = 99999999999999999999M\n",
		  "test.conf:2: server.max_body: must be between 1k and 16M" },
		{ "[server]\nsocket_mode = 0999\n",
		  "test.conf:2: server.socket_mode: expected an octal mode "
		  "such as 0660" },
		{ "[server]\nsocket_mode = 01777\n",
		  "test.conf:2: server.socket_mode: must be between 0000 and 0777" },
		{ "[rules]\nhold_score = nan\n",
		  "test.conf:2: rules.hold_score: expected a number" },
		{ "[rules]\nhold_score = 1e999\n",
		  "test.conf:2: rules.hold_score: expected a number" },
		{ "[rules]\nhold_score = 2x\n",
		  "test.conf:2: rules.hold_score: expected a number" },
		{ "[rules]\nhold_score = -1000.5\n",
		  "test.conf:2: rules.hold_score: must be between -1000 and 1000" },
		{ "[rules]\nhold_score = 7\n",
		  "test.conf:2: rules.hold_score (7) must not be above "
		  "rules.reject_score (6)" },
		{ "[notify]\ntakeover_seconds = 59\n",
		  "test.conf:2: notify.takeover_seconds (59) must be 0 or at "
		  "least twice the longer of smtp.timeout and "
		  "notify.webhook_timeout (60): a delivery still at work would "
		  "be taken over and sent twice" },
		{ "[smtp]\ntimeout = 5\n[notify]\nwebhook_timeout = 1\n"
		  "takeover_seconds = 9\n",
		  "test.conf:5: notify.takeover_seconds (9) must be 0 or at "
		  "least twice the longer of smtp.timeout and "
		  "notify.webhook_timeout (10): a delivery still at work would "
		  "be taken over and sent twice" },
		{ "[rules]\nreject_score = 2\n\nhold_score = 2.5\n",
		  "test.conf:4: rules.hold_score (2.5) must not be above "
		  "rules.reject_score (2)" },
		{ "[moderation]\nauto_approve = sometimes\n",
		  "test.conf:2: moderation.auto_approve: expected never, "
		  "known_author or clean" },
		{ "[log]\nlevel = loud\n",
		  "test.conf:2: log.level: expected error, warn, info or debug" },
		{ "[redis]\nprefix = a b\n",
		  "test.conf:2: redis.prefix: expected 1 to 64 of "
		  "A-Z a-z 0-9 _ . -" },
		{ "[redis]\nprefix =\n",
		  "test.conf:2: redis.prefix: expected 1 to 64 of "
		  "A-Z a-z 0-9 _ . -" },
		{ "[redis]\nprefix = "
		  "0123456789012345678901234567890123456789012345678901234567890123"
		  "4\n",
		  "test.conf:2: redis.prefix: expected 1 to 64 of "
		  "A-Z a-z 0-9 _ . -" },
		{ "[redis]\naddress = tcp://x\n",
		  "test.conf:2: redis.address: expected unix:PATH or "
		  "redis://HOST:PORT/DB" },
		{ "[captcha]\nlang = fr\n",
		  "test.conf:2: captcha.lang: expected de or en" },
		{ "[server]\nallowed_origins = https://a.example/\n",
		  "test.conf:2: server.allowed_origins: \"https://a.example/\": "
		  "an origin has no path, query or fragment" },
		{ "[server]\nallowed_origins = https://a.example ftp://b\n",
		  "test.conf:2: server.allowed_origins: \"ftp://b\": "
		  "expected http://HOST[:PORT] or https://HOST[:PORT]" },
		{ "[server]\nallowed_origins = https://\n",
		  "test.conf:2: server.allowed_origins: \"https://\": "
		  "expected http://HOST[:PORT] or https://HOST[:PORT]" },
		{ "[server]\nallowed_origins = http://a.example:0\n",
		  "test.conf:2: server.allowed_origins: \"http://a.example:0\": "
		  "port must be between 1 and 65535" },
		{ "[server]\ntrusted_proxies = 127.0.0.1 localhost\n",
		  "test.conf:2: server.trusted_proxies: \"localhost\": "
		  "expected an IPv4 or IPv6 address" },
		{ "[server]\nlisten = 8025\n",
		  "test.conf:2: server.listen: expected HOST:PORT, "
		  "e.g. 127.0.0.1:8025" },
		{ "[server]\nlisten = 127.0.0.1:70000\n",
		  "test.conf:2: server.listen: expected HOST:PORT, "
		  "e.g. 127.0.0.1:8025" },
		{ "[server]\nsocket =\n",
		  "test.conf:2: server.socket: must not be empty" },
		{ "[rules]\ndir = \"\"\n",
		  "test.conf:2: rules.dir: must not be empty" },
		{ "[smtp]\nrelay = mail.example.org\n",
		  "test.conf:2: smtp.relay: expected smtp://HOST[:PORT] or "
		  "smtps://HOST[:PORT]" },
		{ "[smtp]\nfrom = heinzel\n",
		  "test.conf:2: smtp.from: expected an e-mail address" },
		{ "[notify]\nadmin = root@localhost nobody\n",
		  "test.conf:2: notify.admin: \"nobody\": expected an e-mail "
		  "address" },
		{ "[server]\n# \xff\n", "test.conf:2: not UTF-8 text" },
		{ "[server]\n# \xc0\xaf overlong\n", "test.conf:2: not UTF-8 text" },
		{ "[server]\n\n# bell \a\n", "test.conf:3: not UTF-8 text" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		expect_errors(t[i].text, t[i].want);
}

static void
test_nul_and_long_lines(void **state)
{
	static const char nul[] = "[server]\ntimeout = 5\0\n";
	struct config *cfg = config_new();
	char *buf, *errors = NULL;
	size_t n = 65536 + 2;

	(void)state;
	assert_int_equal(config_load_buffer(cfg, "nul.conf", nul,
	    sizeof nul - 1, &errors), -1);
	assert_string_equal(errors, "nul.conf:2: not UTF-8 text");
	free(errors);

	/* A line of exactly 64 KiB is fine, one byte more is not. */
	buf = malloc(2 * n + 32);
	assert_non_null(buf);
	buf[0] = '#';
	memset(buf + 1, 'x', 65535);
	memcpy(buf + 65536, "\n#", 2);
	memset(buf + 65538, 'x', 65536);
	strcpy(buf + 65538 + 65536, "\n[log]\nlevel = debug\n");
	assert_int_equal(load(cfg, buf, &errors), -1);
	assert_string_equal(errors, "test.conf:2: line longer than 65536 bytes");
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	free(errors);
	free(buf);
	config_free(cfg);
}

static void
test_many_errors(void **state)
{
	struct config *cfg = config_new();
	char *buf, *errors = NULL;
	size_t i;

	(void)state;
	assert_int_equal(load(cfg,
	    "[server]\n"
	    "timeout = 0\n"
	    "bogus = 1\n"
	    "max_connections = 7\n"
	    "[sever]\n"
	    "timeout = 1\n"
	    "[captcha]\n"
	    "required = perhaps\n"
	    "ttl 5\n"
	    "[rules]\n"
	    "hold_score = 9\n", &errors), -1);
	assert_string_equal(errors,
	    "test.conf:2: server.timeout: must be between 1 and 3600\n"
	    "test.conf:3: unknown key server.bogus\n"
	    "test.conf:5: unknown section [sever]\n"
	    "test.conf:8: captcha.required: expected yes or no\n"
	    "test.conf:9: missing '=' after \"ttl 5\"\n"
	    "test.conf:11: rules.hold_score (9) must not be above "
	    "rules.reject_score (6)");
	/* Good keys around the bad ones apply; bad ones keep the default. */
	assert_int_equal(cfg->max_connections, 7);
	assert_int_equal(cfg->timeout, 10);
	free(errors);

	/* A binary file does not bury the terminal in errors. */
	assert_int_equal(config_load_buffer(cfg, "bin", "\xff\n\xff\n\xff\n"
	    "\xff\n\xff\n\xff\n\xff\n\xff\n\xff\n\xff\n", 20, &errors), -1);
	assert_non_null(strstr(errors, "bin:10: not UTF-8 text"));
	free(errors);
	buf = calloc(1, 2 * 150 + 1);
	assert_non_null(buf);
	memset(buf, '\n', 2 * 150);
	for (i = 0; i < 150; i++)
		buf[2 * i] = '\xff';
	assert_int_equal(config_load_buffer(cfg, "bin", buf, 300, &errors), -1);
	assert_non_null(strstr(errors, "bin:100: not UTF-8 text\n"
	    "bin: too many errors, stopped after line 100"));
	assert_null(strstr(errors, "bin:101:"));
	free(errors);
	free(buf);

	/* errors may be NULL when only the result matters. */
	assert_int_equal(load(cfg, "[x]\n", NULL), -1);
	config_free(cfg);
}

static void
test_files(void **state)
{
	struct config *cfg = config_new();
	char *errors = NULL;

	(void)state;
	assert_int_equal(config_load(cfg, "/nonexistent/heinzel.conf",
	    &errors), -1);
	assert_string_equal(errors, "/nonexistent/heinzel.conf: cannot open: "
	    "No such file or directory");
	free(errors);

	assert_int_equal(config_load(cfg, TEST_SRCDIR "/etc", &errors), -1);
	assert_string_equal(errors, TEST_SRCDIR "/etc: cannot read: "
	    "Is a directory");
	free(errors);

	assert_int_equal(config_load(cfg, "/dev/null", &errors), 0);
	assert_null(errors);
	config_free(cfg);
}

static void
test_load_over(void **state)
{
	struct config *cfg;
	char *errors = NULL;

	(void)state;
	cfg = expect_ok("[captcha]\nttl = 100\n");
	assert_int_equal(load(cfg, "[captcha]\nttl = 200\n[notify]\n"
	    "admin = a@b\n", &errors), 0);
	assert_int_equal(cfg->captcha_ttl, 200);
	assert_list(cfg->notify_admin, "a@b", NULL);
	assert_int_equal(load(cfg, "[notify]\nadmin = c@d e@f\n", &errors), 0);
	assert_list(cfg->notify_admin, "c@d", "e@f", NULL);
	assert_int_equal(cfg->captcha_min_solve, 3);

	/* A bad list keeps the old list. */
	assert_int_equal(load(cfg, "[notify]\nadmin = g@h bad\n", &errors), -1);
	assert_list(cfg->notify_admin, "c@d", "e@f", NULL);
	free(errors);
	config_free(cfg);
}

static void
roundtrip(struct config *cfg)
{
	struct config *back;
	char *text, *again, *errors = NULL;

	text = dump(cfg);
	back = config_new();
	if (load(back, text, &errors) != 0)
		fail_msg("dump does not load: %s\n%s", errors, text);
	assert_config_equal(cfg, back);
	again = dump(back);
	assert_string_equal(text, again);
	free(again);
	free(text);
	config_free(back);
}

static void
test_dump_roundtrip(void **state)
{
	struct config *cfg;
	char *text;

	(void)state;
	cfg = config_new();
	text = dump(cfg);
	assert_non_null(strstr(text, "[server]\n"));
	assert_non_null(strstr(text, "\nmax_body = 64k\n"));
	assert_non_null(strstr(text, "\nsocket_mode = 0660\n"));
	assert_non_null(strstr(text, "\ntrusted_proxies = 127.0.0.1, ::1\n"));
	assert_non_null(strstr(text, "\nallowed_origins =\n"));
	assert_non_null(strstr(text, "\n[log]\n# "));
	free(text);
	roundtrip(cfg);
	config_free(cfg);

	cfg = expect_ok(all_other);
	roundtrip(cfg);
	config_free(cfg);

	cfg = expect_ok("[server]\n"
	    "socket_group = \"  sp#ace ; \\\"q\\\" \\\\ \"\n"
	    "user = \"#hash\"\n"
	    "group = \"x ;y\"\n"
	    "max_body = 3M\n"
	    "max_headers = 1025\n"
	    "[rules]\n"
	    "hold_score = 0.1\n"
	    "reject_score = 2.675\n"
	    "[notify]\n"
	    "admin = \"#a@b, c@d\"\n");
	assert_string_equal(cfg->group, "x ;y");
	assert_list(cfg->notify_admin, "#a@b", "c@d", NULL);
	roundtrip(cfg);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_shipped_matches_dump),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_smtp_auth_needs_tls),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_comments_quoting),
		cmocka_unit_test(test_error_kinds),
		cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_load_over),
		cmocka_unit_test(test_dump_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
