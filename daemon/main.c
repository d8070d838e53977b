/*
 * heinzeld: the comment-moderation daemon.  One libevent loop: HTTP on a
 * Unix socket, Redis asynchronously.  Signal handlers are libevent signal
 * events, so SIGHUP and SIGTERM are handled in the loop, never in between.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "db.h"
#include "frontend.h"
#include "heinzel-build.h"
#include "janitor.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "rules.h"
#include "sdnotify.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

struct heinzeld {
	struct event_base *base;
	const char *conf_path;
	struct config *cfg;
	struct ruleset *rules;
	struct store store;
	struct db *db;
	struct server *server;
	struct metrics *metrics;
	struct janitor *janitor;
	struct notify *notify;
	struct event *shutdown_timer;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: heinzeld [-htTV] [-c config] [-d level]\n"
	    "\n"
	    "Comment-moderation and spam-filter daemon; runs in the foreground.\n"
	    "\n"
	    "  -c, --config config      configuration file\n"
	    "                           (default %s/heinzel.conf)\n"
	    "  -d, --log-level level    error, warn, info or debug (overrides\n"
	    "                           [log] level)\n"
	    "  -t, --test               check the configuration and the rules,\n"
	    "                           print \"configuration OK\" or every\n"
	    "                           error, and exit\n"
	    "  -T, --dump-config        check as -t, then print every key with\n"
	    "                           the value in force, defaults included\n"
	    "  -V, --version            print the version and exit\n"
	    "  -h, --help               this help\n"
	    "\n"
	    "Signals: SIGHUP reloads config and rules, SIGTERM/SIGINT stop\n"
	    "after the requests in flight.  See heinzeld(8), heinzel.conf(5).\n",
	    HEINZEL_SYSCONFDIR);
}

/*
 * Errors: on stdout for -t, else one log line each (journal, syslog), as
 * errors at startup (they stop heinzeld) and warnings on a reload (the
 * configuration in force stays).
 */
enum heinzeld_load_mode { LOAD_TEST, LOAD_START, LOAD_RELOAD };

static void
heinzeld_errors(const char *errors, enum heinzeld_load_mode mode)
{
	const char *p, *nl;

	if (mode == LOAD_TEST) {
		printf("%s\n", errors);
		return;
	}
	for (p = errors; *p != '\0'; p = nl + (*nl != '\0')) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl <= p)
			continue;
		if (mode == LOAD_START)
			log_errx("%.*s", (int)(nl - p), p);
		else
			log_warnx("%.*s", (int)(nl - p), p);
	}
}

/* Load config, rules and the frontend key from disk; NULL with the errors logged. */
static struct config *
heinzeld_load(const char *path, struct ruleset **rules,
    struct frontend_key **key, enum heinzeld_load_mode mode)
{
	struct config *cfg = config_new();
	struct store_addr addr;
	char *errors = NULL, *cause;

	*rules = NULL;
	*key = NULL;
	if (config_load(cfg, path, &errors) != 0) {
		heinzeld_errors(errors, mode);
		if (mode == LOAD_RELOAD)
			log_warnx("%s: configuration not loaded", path);
		goto fail;
	}
	if (store_addr_config(&addr, cfg, &cause) != 0) {
		xasprintf(&errors, "%s: [redis] address: %s", path, cause);
		free(cause);
		heinzeld_errors(errors, mode);
		goto fail;
	}
	store_addr_free(&addr);
	if (frontend_key_load(cfg->frontend_key_file, key, &cause) != 0) {
		heinzeld_errors(cause, mode);
		free(cause);
		goto fail;
	}
	if ((*rules = ruleset_load(cfg->rules_dir, &errors)) == NULL) {
		heinzeld_errors(errors, mode);
		frontend_key_free(*key);
		*key = NULL;
		goto fail;
	}
	return cfg;
fail:
	free(errors);
	config_free(cfg);
	return NULL;
}

/*
 * What only a restart changes.  d->cfg always holds the values running,
 * so a file put back as it was is quiet again.
 */
static const struct {
	const char *name;
	size_t off;
} heinzeld_restart_keys[] = {
	{ "[server] socket", offsetof(struct config, socket) },
	{ "[server] listen", offsetof(struct config, listen) },
	{ "[server] metrics_listen", offsetof(struct config, metrics_listen) },
	{ "[redis] address", offsetof(struct config, redis_address) },
	{ "[redis] prefix", offsetof(struct config, redis_prefix) },
};

/* Warn about each changed one and keep the running value in cfg. */
static void
heinzeld_keep_running(struct config *cfg, const struct config *running)
{
	char **v, *const *r;
	size_t i;

	for (i = 0; i < sizeof heinzeld_restart_keys /
	    sizeof heinzeld_restart_keys[0]; i++) {
		v = (char **)((char *)cfg + heinzeld_restart_keys[i].off);
		r = (char *const *)((const char *)running +
		    heinzeld_restart_keys[i].off);
		if (strcmp(*v, *r) == 0)
			continue;
		log_warnx("reload: %s differs from the one in use; the "
		    "change takes effect after a restart",
		    heinzeld_restart_keys[i].name);
		free(*v);
		*v = xstrdup(*r);
	}
}

/* Say whether mail goes out, and what switches it on. */
static void
heinzeld_mail_state(const struct config *cfg)
{
	if (config_mail_on(cfg))
		log_debug("notify: mail from %s through %s", cfg->smtp_from,
		    cfg->smtp_relay);
	else
		log_info("notify: no mail is sent until [smtp] from and "
		    "[notify] site are set");
}

static void
heinzeld_reload(struct heinzeld *d)
{
	struct ruleset *rules;
	struct frontend_key *key;
	struct config *cfg;

	log_info("reloading %s", d->conf_path);
	sdnotify_reloading();
	if ((cfg = heinzeld_load(d->conf_path, &rules, &key, LOAD_RELOAD)) == NULL) {
		log_warnx("reload failed: keeping the configuration and rules in force");
		metrics_reloaded(d->metrics, 0, ruleset_count(d->rules));
		sdnotify_ready();
		return;
	}
	heinzeld_keep_running(cfg, d->cfg);
	server_reload(d->server, cfg, rules);
	server_set_frontend_key(d->server, key);
	ruleset_unref(d->rules);
	config_free(d->cfg);
	d->cfg = cfg;
	d->rules = rules;
	log_set_level(cfg->log_level);
	heinzeld_mail_state(cfg);
	metrics_reloaded(d->metrics, 1, ruleset_count(rules));
	log_info("reloaded: %zu rules", ruleset_count(rules));
	sdnotify_ready();
}

static void
heinzeld_drained(void *arg)
{
	struct heinzeld *d = arg;

	log_info("all requests answered, exiting");
	event_base_loopexit(d->base, NULL);
}

static void
heinzeld_shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct heinzeld *d = arg;

	(void)fd;
	(void)what;
	log_warnx("shutdown: %u requests still in flight after %u s, exiting",
	    server_active(d->server), d->cfg->shutdown_timeout);
	event_base_loopexit(d->base, NULL);
}

static void
heinzeld_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct heinzeld *d = arg;
	struct timeval tv;

	(void)what;
	if (sig == SIGHUP) {
		heinzeld_reload(d);
		return;
	}
	if (d->shutdown_timer != NULL) {
		log_info("second signal: exiting now");
		event_base_loopexit(d->base, NULL);
		return;
	}
	log_info("%s: no longer accepting, finishing %u requests",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT", server_active(d->server));
	sdnotify_stopping();
	d->shutdown_timer = evtimer_new(d->base, heinzeld_shutdown_timeout_cb, d);
	tv.tv_sec = d->cfg->shutdown_timeout;
	tv.tv_usec = 0;
	evtimer_add(d->shutdown_timer, &tv);
	server_shutdown(d->server, heinzeld_drained, d);
}

/* Drop root after binding, when [server] user is set. */
static void
heinzeld_drop_privileges(const struct config *cfg)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (cfg->user[0] == '\0')
		return;
	if ((pw = getpwnam(cfg->user)) == NULL)
		fatalx("[server] user %s: no such user", cfg->user);
	gid = pw->pw_gid;
	if (cfg->group[0] != '\0') {
		if ((gr = getgrnam(cfg->group)) == NULL)
			fatalx("[server] group %s: no such group", cfg->group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", cfg->user);
	log_info("running as %s", cfg->user);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'd' },
		{ "test", no_argument, NULL, 't' },
		{ "dump-config", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct heinzeld d;
	struct frontend_key *key;
	struct store_addr addr;
	struct event *sigs[4];
	const int signums[4] = { SIGHUP, SIGTERM, SIGINT, 0 };
	char *cause = NULL, *name, *secret;
	int ch, test = 0, dump = 0, level = -1, i, probe = 0;

	memset(&d, 0, sizeof d);
	d.conf_path = HEINZEL_SYSCONFDIR "/heinzel.conf";
	while ((ch = getopt_long(argc, argv, "c:d:tThV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 'd':
			if ((level = log_level_parse(optarg)) < 0) {
				fprintf(stderr, "heinzeld: -d %s: expected error, "
				    "warn, info or debug\n", optarg);
				return 2;
			}
			break;
		case 't':
			test = 1;
			break;
		case 'T':
			test = dump = 1;
			break;
		case 'V':
			printf("heinzeld %s\n", HEINZEL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("heinzeld", LOG_LEVEL_INFO, 0);

	if ((d.cfg = heinzeld_load(d.conf_path, &d.rules, &key,
	    test ? LOAD_TEST : LOAD_START)) == NULL) {
		if (test)
			return 1;
		fatalx("%s: fix the errors above, check with heinzeld -t -c %s",
		    d.conf_path, d.conf_path);
	}
	if (dump) {
		config_dump(d.cfg, stdout);
		ruleset_unref(d.rules);
		config_free(d.cfg);
		return 0;
	}
	if (test) {
		/*
		 * Redis down is not a configuration error: heinzeld starts
		 * and waits for it.  Credentials it refuses are.
		 */
		if (store_addr_config(&addr, d.cfg, &cause) == 0) {
			probe = db_probe(&addr, d.cfg->redis_timeout_ms, &cause);
			name = store_addr_name(&addr);
			if (probe == -2)
				fprintf(stderr, "error: Redis at %s: %s (check "
				    "[redis] user and password_file)\n", name,
				    cause);
			else if (probe == -3)
				fprintf(stderr, "error: Redis at %s: %s\n",
				    name, cause);
			else if (probe != 0)
				fprintf(stderr, "warning: Redis at %s cannot be "
				    "reached: %s (heinzeld would start and "
				    "retry)\n", name, cause);
			free(name);
			store_addr_free(&addr);
		}
		free(cause);
		if (probe == -2 || probe == -3) {
			ruleset_unref(d.rules);
			frontend_key_free(key);
			config_free(d.cfg);
			return 1;
		}
		printf("configuration OK (%zu rules)\n", ruleset_count(d.rules));
		ruleset_unref(d.rules);
		frontend_key_free(key);
		config_free(d.cfg);
		return 0;
	}
	log_init("heinzeld", level >= 0 ? level : d.cfg->log_level, d.cfg->log_syslog);

	signal(SIGPIPE, SIG_IGN);
	if ((d.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	store_init(&d.store, d.cfg->redis_prefix);
	if (store_addr_config(&addr, d.cfg, &cause) != 0)
		fatalx("%s", cause);
	secret = store_key(&d.store, "secret", NULL);
	d.db = db_new(d.base, &addr, secret, d.cfg->redis_timeout_ms,
	    d.cfg->redis_max_inflight);
	free(secret);
	store_addr_free(&addr);
	d.metrics = metrics_new();
	d.server = server_new(d.base, d.db, &d.store, d.cfg, d.rules, d.metrics);
	server_set_frontend_key(d.server, key);
	if (server_listen(d.server, &cause) != 0)
		fatalx("%s", cause);
	heinzeld_drop_privileges(d.cfg);
	d.notify = notify_new(d.base, d.db, &d.store,
	    (const struct config *const *)&d.cfg, d.metrics);
	d.janitor = janitor_new(d.base, d.db, &d.store,
	    (const struct config *const *)&d.cfg);

	for (i = 0; signums[i] != 0; i++) {
		sigs[i] = evsignal_new(d.base, signums[i], heinzeld_signal_cb, &d);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0)
			fatalx("cannot watch signal %d", signums[i]);
	}
	sigs[i] = NULL;

	heinzeld_mail_state(d.cfg);
	name = store_addr_redact(d.cfg->redis_address);
	log_info("heinzeld %s listening on %s%s%s, %zu rules, redis %s",
	    HEINZEL_VERSION, d.cfg->socket, d.cfg->listen[0] ? " and " : "",
	    d.cfg->listen, ruleset_count(d.rules), name);
	free(name);
	sdnotify_ready();
	event_base_dispatch(d.base);

	for (i = 0; sigs[i] != NULL; i++)
		event_free(sigs[i]);
	if (d.shutdown_timer != NULL)
		event_free(d.shutdown_timer);
	/* Redis first: its pending callbacks answer requests and the janitor. */
	db_free(d.db);
	janitor_free(d.janitor);
	notify_free(d.notify);
	server_free(d.server);
	metrics_free(d.metrics);
	store_free(&d.store);
	ruleset_unref(d.rules);
	config_free(d.cfg);
	event_base_free(d.base);
	log_info("stopped");
	return 0;
}
