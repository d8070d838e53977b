/*
 * heinzelctl: moderation and ops from the command line.  One table of
 * commands, one function each; every state change goes through the store
 * scripts that heinzeld uses too, so the two never disagree.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "ctl.h"
#include "heinzel-build.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"

#define CTL_FILTER_HELP \
	"  --all                every comment the filters select, instead of IDs\n" \
	"  --status STATUS      with --all: the queue (default pending)\n" \
	"  --post POST          with --all: comments of this post\n" \
	"  --older-than AGE     with --all: written more than AGE ago (30m, 2h, 7d)\n" \
	"  --rule NAME          with --all: the rule NAME hit\n" \
	"  --ip IP              with --all: sent from IP\n" \
	"  -y, --yes            do not ask before acting on --all\n" \
	"  -n, --dry-run        list what --all selects, change nothing\n" \
	"  --json               print {\"results\": [...]} for scripts\n"

static const struct ctl_cmd ctl_cmds[] = {
	{ "list", "[--status STATUS] [--post POST] [--limit N] [--json]",
	  "list comments of a queue",
	  "Pending comments come oldest first (the order review takes), the\n"
	  "other queues newest first.\n\n"
	  "  --status STATUS  pending (default), approved, spam, rejected or all\n"
	  "  --post POST      only comments of this post\n"
	  "  --limit N        at most N comments (default 50, 0 for all)\n"
	  "  --json           print an array of comment objects\n",
	  ctl_list_exec },
	{ "show", "ID [--json]",
	  "the comment in full, its score and the rules that hit",
	  "Every field, e-mail and IP included, the score with each rule hit,\n"
	  "the status, when it was written and who moderated it when.\n\n"
	  "  --json  print the comment as one JSON object\n",
	  ctl_list_show },
	{ "approve", "ID... | --all [FILTERS] [--yes] [--force] [--json]",
	  "publish comments (pending, or rescued from spam)",
	  "Publishes each comment on GET /v1/comments?post= and records who and\n"
	  "when.  Approves pending and spam comments; --force also approves\n"
	  "rejected ones.  The author's e-mail becomes known (see auto_approve).\n\n"
	  CTL_FILTER_HELP
	  "  --force              also act on comments already rejected\n",
	  ctl_moderate_exec },
	{ "reject", "ID... | --all [FILTERS] [--yes] [--json]",
	  "refuse comments (pending or spam)",
	  "Moves pending or spam comments to the rejected queue; they are never\n"
	  "published.  An approved comment is taken back with unpublish.\n\n"
	  CTL_FILTER_HELP,
	  ctl_moderate_exec },
	{ "unpublish", "ID... | --all [FILTERS] [--yes] [--json]",
	  "take approved comments back (to rejected)",
	  "Moves approved comments to the rejected queue: they leave\n"
	  "GET /v1/comments?post= at once.  Unlike spam, it teaches the\n"
	  "classifier nothing.  With --all, --status is approved.\n\n"
	  CTL_FILTER_HELP,
	  ctl_moderate_exec },
	{ "spam", "ID... | --all [FILTERS] [--yes] [--force] [--json]",
	  "move comments to spam (unpublishes approved ones)",
	  "Moves pending or approved comments to the spam folder, which is\n"
	  "purged after [moderation] spam_keep_days.  --force also moves\n"
	  "rejected ones.\n\n" CTL_FILTER_HELP
	  "  --force              also act on comments already rejected\n",
	  ctl_moderate_exec },
	{ "delete", "ID... | --all [FILTERS] [--yes] [--json]",
	  "remove comments for good",
	  "Removes every trace of each comment, whatever its state.\n\n"
	  CTL_FILTER_HELP,
	  ctl_moderate_exec },
	{ "review", "[--post POST]",
	  "go through the pending queue one by one",
	  "Shows each pending comment in full, oldest first, and reads one key:\n"
	  "a approve, r reject, s spam, d delete (asks first), n next, q quit.\n"
	  "When stdin is not a terminal, reads one line per decision instead.\n\n"
	  "  --post POST  only comments of this post\n",
	  ctl_review_exec },
	{ "stats", "[--json] [--warn-pending N] [--crit-pending N] "
	  "[--warn-age AGE] [--crit-age AGE]",
	  "queue depths and totals; a monitoring check",
	  "With a threshold it is a monitoring plugin (Nagios, Icinga): one\n"
	  "status line with performance data, such as\n"
	  "  HEINZEL WARNING - pending 60 (more than 50) | "
	  "pending=60;50;100;0 oldest=1800s;3600;86400;0\n"
	  "and the exit status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (a usage\n"
	  "error, Redis unreachable).  Without one, the report for people.\n\n"
	  "  --warn-pending N     more than N pending comments is a warning\n"
	  "  --crit-pending N     ... is critical\n"
	  "  --warn-age AGE       a pending comment older than AGE (30m, 2h, 1d)\n"
	  "                       is a warning\n"
	  "  --crit-age AGE       ... is critical\n"
	  "  --max-pending N      the same as --crit-pending (older name)\n"
	  "  --max-age AGE        the same as --crit-age (older name)\n"
	  "  --json               print one JSON object, with \"status\"\n",
	  ctl_stats_exec },
	{ "purge", "[--days N] [--json]",
	  "delete spam older than spam_keep_days",
	  "Deletes for good the spam written more than N days ago (default\n"
	  "[moderation] spam_keep_days, where 0 keeps spam); a comment moved\n"
	  "to spam later stays N days from then.  heinzeld does the same on a\n"
	  "timer.\n\n"
	  "  --days N  keep spam for N days instead (0 purges all spam)\n"
	  "  --json    print {\"purged\": N, \"days\": N}\n",
	  ctl_moderate_purge },
	{ "learn", "[--spam|--ham] [--csv|--wxr] FILE...|- | --stats [--json]",
	  "teach the Bayes classifier, or show what it learned",
	  "Approving a comment teaches the classifier a good comment, moving it\n"
	  "to spam teaches it spam ([bayes] learn).  This imports more at once:\n"
	  "FILE holds one JSON object a line with the fields of POST\n"
	  "/v1/comments (body at least; author, url, email, lang are used too),\n"
	  "or, named *.csv or with --csv, CSV with a header line: a body (or\n"
	  "CONTENT) column, author, email, url, lang if there, and CLASS (1 or\n"
	  "spam, 0 or ham) when neither --spam nor --ham is given; or, named\n"
	  "*.xml or with --wxr, WordPress's export file (Tools > Export):\n"
	  "approved comments are learned as good ones, spam as spam, the rest\n"
	  "left alone.  A row that is not a comment is skipped, named by its\n"
	  "line on stderr; an export that is not well-formed teaches nothing.\n"
	  "The classifier scores once it learned [bayes] min_spam spam and\n"
	  "min_ham good comments.\n\n"
	  "  --spam   the comments are spam\n"
	  "  --ham    the comments are good\n"
	  "  --csv    read FILE (or stdin) as CSV whatever its name\n"
	  "  --wxr    read FILE (or stdin) as a WordPress export whatever its name\n"
	  "  --stats  how many of each it learned, and the tokens it knows\n"
	  "  --json   print the result as JSON\n",
	  ctl_learn_exec },
	{ "outbox", "[list | retry ID... | retry --all | drop ID...] [--json]",
	  "notifications waiting, and those given up on",
	  "Lists the notifications heinzeld has not delivered yet: events to\n"
	  "expand, notifications ready to send, those waiting for another try\n"
	  "(with when) and the dead letters it gave up on (with why).\n\n"
	  "  list             the default\n"
	  "  retry ID...      send dead or waiting notifications again now, with\n"
	  "                   their tries counted from zero\n"
	  "  retry --all      the same for every dead notification\n"
	  "  drop ID...       forget dead or waiting notifications\n"
	  "  --json           print JSON for scripts\n",
	  ctl_outbox_exec },
	{ "privacy export", "EMAIL",
	  "everything heinzel holds for one e-mail address, as JSON",
	  "Prints one JSON object: the address's comments in every queue,\n"
	  "the notifications holding it, its known-author entries and the\n"
	  "keys named by a hash of it or of its comments (duplicate markers,\n"
	  "flood counters), read in one atomic step.  The answer to a reader\n"
	  "who asks what is stored about them (DSGVO Art. 15).  The address\n"
	  "is matched without regard to case.  Comments stored before this\n"
	  "version are found once heinzeld has indexed them (docs/privacy.md).\n",
	  ctl_privacy_export },
	{ "privacy erase", "EMAIL [--yes] [--json]",
	  "remove everything heinzel holds for one e-mail address",
	  "Deletes, in one atomic step, the address's comments in every queue\n"
	  "(published ones leave GET /v1/comments at once), the notifications\n"
	  "holding it (waiting, retried or dead), its known-author entries and\n"
	  "the keys named by a hash of it or of its comments.  The classifier's\n"
	  "token counts stay: they name no one (docs/privacy.md).  syslog gets\n"
	  "who erased how much, never the address (DSGVO Art. 17).\n\n"
	  "  -y, --yes  do not ask (needed without a terminal)\n"
	  "  --json     print the counts as one JSON object\n",
	  ctl_privacy_erase },
	{ "privacy policy", "[--lang de|en]",
	  "a paragraph for the blog's privacy policy, keep times filled in",
	  "Prints, in German or English (default [notify] lang), what heinzel\n"
	  "stores of a commenter and for how long, with this configuration's\n"
	  "[privacy] keep times and spam_keep_days: a paragraph to paste into a\n"
	  "Datenschutzerklärung.  docs/privacy.md has the same text.\n\n"
	  "  --lang de|en  the language\n",
	  ctl_privacy_policy },
	{ "rules check", "[DIR]",
	  "parse and compile the rules, report every error",
	  "Loads every *.rules file of DIR (default [rules] dir) the way\n"
	  "heinzeld does and prints \"N rules OK\", or every error as\n"
	  "FILE:LINE:COLUMN: message and exits 1.\n",
	  ctl_rules_check },
	{ "rules test", "[--rules DIR] [--no-bayes] [--json] [FILE|-]",
	  "score one comment (JSON) exactly as heinzeld would",
	  "Reads a comment as JSON, the body heinzeld takes on POST /v1/comments,\n"
	  "from FILE or stdin, and scores it as heinzeld does: the rules, the\n"
	  "built-in checks ([checks]: HONEYPOT, TOO_MANY_LINKS) and, once it\n"
	  "learned enough, the Bayes classifier, whose counts it reads from\n"
	  "Redis.  Prints the total, the verdict under [rules] hold_score and\n"
	  "reject_score, and what each part gave, hit by hit.\n\n"
	  "  --rules DIR  the rules to use (default [rules] dir)\n"
	  "  --no-bayes   leave the classifier out (no Redis needed)\n"
	  "  --json       print {\"total\", \"verdict\", \"parts\", \"bayes\",\n"
	  "               \"hits\": [...]}\n",
	  ctl_rules_test },
	{ "rules stats", "[--since AGE] [--min-hits N] [--rules DIR] [--json]",
	  "what the moderators' decisions say of each rule",
	  "Every approve, reject, spam and unpublish counts the comment's hits\n"
	  "(rules, checks, the classifier's band) as published or refused;\n"
	  "a later change of decision moves the count.  Prints per rule its\n"
	  "hits on decided comments, how many were published and refused, the\n"
	  "precision (the share refused), and how many published comments its\n"
	  "points alone pushed over hold_score (OVER_HOLD) or reject_score\n"
	  "(OVER_REJECT).  Flags a rule that hurts (pushes towards spam, at\n"
	  "least --min-hits hits, precision under 50 %) and one of the rule set\n"
	  "that never fires.\n\n"
	  "  --since AGE   only decisions of the last AGE, in whole UTC days\n"
	  "                (1d to 400d; default: all time)\n"
	  "  --min-hits N  hits a rule needs before it can be flagged (10)\n"
	  "  --rules DIR   the rule set to compare with (default [rules] dir)\n"
	  "  --json        print {\"published\", \"refused\", \"rules\": [...]}\n",
	  ctl_rules_stats },
	{ "rules replay", "[--rules DIR] [--since AGE] [--no-bayes] [--json]",
	  "rescore decided comments with candidate rules; a deploy gate",
	  "Rescores every decided comment still stored (approved: published;\n"
	  "rejected and spam: refused), or those written within --since, with\n"
	  "the rules of DIR, the checks and the classifier as it is now, the\n"
	  "one scoring heinzeld uses, and compares with the score each got when\n"
	  "it came in.  Prints each published comment now over hold_score or\n"
	  "reject_score that was under it (a new false positive), each refused\n"
	  "one now under hold_score that was not (a new miss), and the totals\n"
	  "before and after.  Exits 2 when a published comment would now be\n"
	  "rejected, naming the first on stderr.\n\n"
	  "  --rules DIR   the candidate rules (default [rules] dir)\n"
	  "  --since AGE   only comments written within AGE (30d, 12h)\n"
	  "  --no-bayes    leave the classifier out (it learned from these\n"
	  "                very decisions)\n"
	  "  --json        print the totals and \"changes\": [...]\n",
	  ctl_rules_replay },
	{ "help", "[COMMAND]", "what each command does", NULL, NULL },
};
#define CTL_NCMDS (sizeof ctl_cmds / sizeof ctl_cmds[0])

static void ctl_vwarn(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static bool ctl_plugin;		/* see ctl_plugin_mode */

void
ctl_plugin_mode(void)
{
	ctl_plugin = true;
}

/* In plugin mode, the status line a monitoring system shows; exit 3. */
static void
ctl_plugin_unknown(const char *msg)
{
	if (!ctl_plugin)
		return;
	printf("HEINZEL UNKNOWN - %s\n", msg);
	fflush(stdout);
	exit(CTL_PLUGIN_UNKNOWN);
}

static void
ctl_vwarn(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("heinzelctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vwarn(fmt, ap);
	va_end(ap);
}

bool
ctl_ask(const char *fmt, ...)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	va_list ap;
	bool yes;

	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", stderr);
	len = getline(&line, &cap, stdin);
	yes = len > 0 && (strcmp(line, "y\n") == 0 ||
	    strcmp(line, "Y\n") == 0 || strcmp(line, "yes\n") == 0);
	free(line);
	return yes;
}

void
ctl_fatalx(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ctl_warnx("%s", msg);
	ctl_plugin_unknown(msg);
	exit(CTL_FAIL);
}

void
ctl_usage_errx(struct ctl *ctl, const char *fmt, ...)
{
	const char *name = ctl && ctl->cmd ? ctl->cmd->name : NULL;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (name != NULL)
		ctl_warnx("%s: %s (see 'heinzelctl help %s')", name, msg, name);
	else
		ctl_warnx("%s (see 'heinzelctl help')", msg);
	ctl_plugin_unknown(msg);
	exit(CTL_USAGE);
}

/*
 * getopt_long with errors as one usage line.  shortopts must start with ':'
 * (after a '+' if wanted) so that a missing argument is told apart.
 */
int
ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	const char *bad;
	int ch;

	opterr = 0;
	ch = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (ch != '?' && ch != ':')
		return ch;
	bad = argv[optind - 1];
	if (optopt > 0 && optopt < 128 && strchr(shortopts, optopt) != NULL &&
	    strncmp(bad, "--", 2) != 0) {
		if (ch == ':')
			ctl_usage_errx(ctl, "-%c needs an argument", optopt);
		ctl_usage_errx(ctl, "unknown option -%c", optopt);
	}
	if (ch == ':')
		ctl_usage_errx(ctl, "%s needs an argument", bad);
	if (optopt > 0 && optopt < 128 && strncmp(bad, "--", 2) != 0)
		ctl_usage_errx(ctl, "unknown option -%c", optopt);
	ctl_usage_errx(ctl, "unknown option %s", bad);
}

unsigned long
ctl_parse_number(struct ctl *ctl, const char *opt, const char *s,
    unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v > max)
		ctl_usage_errx(ctl, "%s %s: expected a number from 0 to %lu",
		    opt, s, max);
	return v;
}

uint64_t
ctl_parse_duration(struct ctl *ctl, const char *opt, const char *s)
{
	unsigned long long secs;

	if (config_duration(s, &secs) != 0 || secs > UINT64_MAX / 1000)
		ctl_usage_errx(ctl, "%s %s: expected a duration such as 45s, "
		    "30m, 2h or 7d", opt, s);
	return secs * 1000;
}

char *
ctl_read_file(const char *path, size_t max, size_t *len, char **cause)
{
	FILE *fp = stdin;
	size_t cap = 4096, n;
	char *buf;

	if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(cap);
	*len = 0;
	while ((n = fread(buf + *len, 1, cap - 1 - *len, fp)) > 0) {
		*len += n;
		if (*len > max) {
			xasprintf(cause, "%s: more than %zu bytes", path, max);
			goto fail;
		}
		if (*len == cap - 1)
			buf = xreallocarray(buf, cap *= 2, 1);
	}
	if (ferror(fp)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fp != stdin)
		fclose(fp);
	buf[*len] = '\0';
	return buf;
fail:
	if (fp != stdin)
		fclose(fp);
	free(buf);
	return NULL;
}

void
ctl_check_id(struct ctl *ctl, const char *id)
{
	if (!store_id_valid(id))
		ctl_usage_errx(ctl, "%s: not a comment id (%d lowercase hex "
		    "digits)", id, STORE_ID_LEN);
}

static void
ctl_usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
	    "usage: heinzelctl [-c config] [--redis URL] [--prefix P] command [args]\n"
	    "\n"
	    "Moderate heinzel's comments and watch its queues.\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(fp, "  %-14s %s\n", ctl_cmds[i].name,
		    ctl_cmds[i].summary);
	fprintf(fp,
	    "\n"
	    "Options:\n"
	    "  -c, --config config  configuration file; default $HEINZEL_CONF, else\n"
	    "                       the first that exists of %s/heinzel.conf%s\n"
	    "  --redis URL          Redis address: unix:/path[?db=N] or\n"
	    "                       redis://host:port/db\n"
	    "  --prefix P           key prefix (default [redis] prefix)\n"
	    "  -h, --help           this help\n"
	    "  -V, --version        print the version\n"
	    "\n"
	    "'heinzelctl help COMMAND' or 'heinzelctl COMMAND --help' tells more.\n"
	    "Exit status: 0 done, 1 failed, 2 usage error; stats: 0 OK, 1 WARNING,\n"
	    "2 CRITICAL, 3 UNKNOWN.\n",
	    HEINZEL_SYSCONFDIR,
	    strcmp(HEINZEL_SYSCONFDIR, "/etc/heinzel") != 0 ?
	    "\n                       and /etc/heinzel/heinzel.conf" : "");
}

void
ctl_print_help(const struct ctl_cmd *cmd, FILE *fp)
{
	fprintf(fp, "usage: heinzelctl %s %s\n\n", cmd->name, cmd->args);
	fprintf(fp, "%c%s.\n", cmd->summary[0] - 'a' + 'A', cmd->summary + 1);
	if (cmd->help != NULL)
		fprintf(fp, "\n%s", cmd->help);
}

/* The entry argv names: one word, or two for "rules check". */
static const struct ctl_cmd *
ctl_find(int argc, char **argv, int *words)
{
	size_t i, n;
	const char *sp;

	for (i = 0; i < CTL_NCMDS; i++) {
		sp = strchr(ctl_cmds[i].name, ' ');
		if (sp == NULL) {
			if (strcmp(argv[0], ctl_cmds[i].name) == 0) {
				*words = 1;
				return &ctl_cmds[i];
			}
			continue;
		}
		n = (size_t)(sp - ctl_cmds[i].name);
		if (argc >= 2 && strlen(argv[0]) == n &&
		    strncmp(argv[0], ctl_cmds[i].name, n) == 0 &&
		    strcmp(argv[1], sp + 1) == 0) {
			*words = 2;
			return &ctl_cmds[i];
		}
	}
	return NULL;
}

static int
ctl_help(int argc, char **argv)
{
	const struct ctl_cmd *cmd;
	size_t i;
	int words;

	if (argc < 2 || argv[1][0] == '-') {
		ctl_usage(stdout);
		return CTL_OK;
	}
	if ((cmd = ctl_find(argc - 1, argv + 1, &words)) == NULL) {
		if (strcmp(argv[1], "rules") == 0 ||
		    strcmp(argv[1], "privacy") == 0) {
			for (i = 0; i < CTL_NCMDS; i++) {
				if (strncmp(ctl_cmds[i].name, argv[1],
				    strlen(argv[1])) != 0 ||
				    ctl_cmds[i].name[strlen(argv[1])] != ' ')
					continue;
				ctl_print_help(&ctl_cmds[i], stdout);
				printf("\n");
			}
			return CTL_OK;
		}
		ctl_usage_errx(NULL, "%s: unknown command", argv[1]);
	}
	ctl_print_help(cmd, stdout);
	return CTL_OK;
}

/* The config: -c, else $HEINZEL_CONF, else the default file if present. */
static void
ctl_load_config(struct ctl *ctl, const char *path)
{
	char *errors = NULL;
	struct stat sb;

	ctl->cfg = config_new();
	if (path == NULL && (path = getenv("HEINZEL_CONF")) != NULL &&
	    path[0] == '\0')
		path = NULL;
	if (path == NULL) {
		path = HEINZEL_SYSCONFDIR "/heinzel.conf";
		if (stat(path, &sb) != 0) {
			path = "/etc/heinzel/heinzel.conf";
			if (stat(path, &sb) != 0)
				return;
		}
	}
	if (config_load(ctl->cfg, path, &errors) != 0) {
		fflush(stdout);
		fprintf(stderr, "%s\n", errors);
		ctl_fatalx("%s: configuration not loaded; fix it or give "
		    "another file with -c", path);
	}
	ctl->conf_path = xstrdup(path);
}

/* Who acts: the person behind sudo, else the user, else the uid. */
static char *
ctl_actor(void)
{
	const char *who = getenv("SUDO_USER");
	struct passwd *pw;
	char *s;

	if (who == NULL || *who == '\0')
		who = getenv("USER");
	if ((who == NULL || *who == '\0') && (pw = getpwuid(getuid())) != NULL)
		who = pw->pw_name;
	if (who == NULL || *who == '\0')
		xasprintf(&s, "%lu@heinzelctl", (unsigned long)getuid());
	else
		xasprintf(&s, "%s@heinzelctl", who);
	return s;
}

static unsigned int
ctl_columns(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/* True when --help or -h comes before "--" among a command's arguments. */
static int
ctl_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "redis", required_argument, NULL, 'r' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = NULL, *redis = NULL, *prefix = NULL, *nc;
	struct ctl ctl;
	int ch, rc, words;
	size_t i;
	char *errors;
	struct store_addr addr;

	/* Widths of UTF-8 text for the columns, whatever LANG says. */
	if (setlocale(LC_CTYPE, "") == NULL ||
	    strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	log_init("heinzelctl", LOG_LEVEL_WARN, 0);
	memset(&ctl, 0, sizeof ctl);

	while ((ch = ctl_getopt(NULL, argc, argv, "+:c:hV", longopts)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'r':
			redis = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_OK;
		case 'V':
			printf("heinzelctl %s\n", HEINZEL_VERSION);
			return CTL_OK;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		ctl_usage(stderr);
		return CTL_USAGE;
	}
	if (strcmp(argv[0], "help") == 0)
		return ctl_help(argc, argv);
	if ((ctl.cmd = ctl_find(argc, argv, &words)) == NULL) {
		if (strcmp(argv[0], "rules") == 0)
			ctl_usage_errx(NULL, "rules: expected 'rules check', "
			    "'rules test', 'rules stats' or 'rules replay'");
		if (strcmp(argv[0], "privacy") == 0)
			ctl_usage_errx(NULL, "privacy: expected 'privacy export' "
			    "or 'privacy erase'");
		ctl_usage_errx(NULL, "%s: unknown command", argv[0]);
	}
	argc -= words - 1;
	argv += words - 1;
	/* stats is a monitoring check: its failures are UNKNOWN (3). */
	if (ctl.cmd->exec == ctl_stats_exec)
		ctl_plugin_mode();
	if (ctl_wants_help(argc, argv)) {
		ctl_print_help(ctl.cmd, stdout);
		return CTL_OK;
	}

	ctl_load_config(&ctl, conf);
	if (redis != NULL) {
		free(ctl.cfg->redis_address);
		ctl.cfg->redis_address = xstrdup(redis);
		/* The address given wins over the file's Sentinels too. */
		for (i = 0; ctl.cfg->redis_sentinels != NULL &&
		    ctl.cfg->redis_sentinels[i] != NULL; i++)
			free(ctl.cfg->redis_sentinels[i]);
		if (ctl.cfg->redis_sentinels != NULL)
			ctl.cfg->redis_sentinels[0] = NULL;
		ctl.redis_hint = xstrdup("--redis");
	} else if (ctl.conf_path != NULL)
		xasprintf(&ctl.redis_hint, "[redis] address in %s",
		    ctl.conf_path);
	else
		ctl.redis_hint = xstrdup("-c CONFIG or --redis; no "
		    "configuration file was found");
	if (store_addr_config(&addr, ctl.cfg, &errors) != 0)
		ctl_usage_errx(NULL, "Redis address %s (check %s)", errors,
		    ctl.redis_hint);
	store_addr_free(&addr);
	if (prefix != NULL) {
		free(ctl.cfg->redis_prefix);
		ctl.cfg->redis_prefix = xstrdup(prefix);
	}
	store_init(&ctl.store, ctl.cfg->redis_prefix);
	nc = getenv("NO_COLOR");
	ctl.color = isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0');
	ctl.width = ctl_columns();
	ctl.actor = ctl_actor();

	optind = 0;	/* glibc: start afresh for the command's options */
	rc = ctl.cmd->exec(&ctl, argc, argv);
	fflush(stdout);
	if (ferror(stdout)) {
		ctl_warnx("cannot write the output: %s", strerror(errno));
		rc = ctl_plugin ? CTL_PLUGIN_UNKNOWN : CTL_FAIL;
	}

	ctl_db_close(&ctl);
	if (ctl.rules != NULL)
		ruleset_unref(ctl.rules);
	store_free(&ctl.store);
	config_free(ctl.cfg);
	free(ctl.conf_path);
	free(ctl.redis_hint);
	free(ctl.actor);
	return rc;
}
