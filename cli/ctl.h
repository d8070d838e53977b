/*
 * heinzelctl: the shared state of one run, the command table's entry, and
 * what the command files share (Redis access, output helpers).
 */
#ifndef HEINZEL_CTL_H
#define HEINZEL_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "store.h"

struct config;
struct ruleset;

/* Exit codes (SPEC.md). */
#define CTL_OK 0
#define CTL_FAIL 1
#define CTL_USAGE 2
/* rules replay: the candidate rules would reject a published comment. */
#define CTL_GATE 2

/* stats follows the monitoring-plugin convention (Nagios, Icinga). */
#define CTL_PLUGIN_OK 0
#define CTL_PLUGIN_WARNING 1
#define CTL_PLUGIN_CRITICAL 2
#define CTL_PLUGIN_UNKNOWN 3

struct ctl {
	char *conf_path;	/* the file read, NULL on the defaults */
	struct config *cfg;
	char *redis_hint;	/* where the address came from, for messages */
	struct store store;
	redisContext *rc;
	bool color;		/* stdout is a terminal and NO_COLOR unset */
	unsigned int width;	/* columns of stdout, 80 when not a terminal */
	char *actor;		/* "alice@heinzelctl" */
	char *redis_name;	/* the address without a password */
	const struct ctl_cmd *cmd;
	struct ruleset *rules;	/* for descriptions, loaded on first use */
	bool rules_tried;
};

struct ctl_cmd {
	const char *name;	/* "list", "rules check" */
	const char *args;	/* usage after the name */
	const char *summary;	/* one line for "heinzelctl help" */
	const char *help;	/* options and details for "help CMD" */
	int (*exec)(struct ctl *, int, char **);
};

/* heinzelctl.c */
void ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ask a yes/no question on stderr, answered on stdin: true for y or yes. */
bool ctl_ask(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void ctl_usage_errx(struct ctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), nonnull(2), noreturn));
/* getopt_long over a command's argv; unknown options are usage errors. */
int ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
    const struct option *longopts);
void ctl_print_help(const struct ctl_cmd *cmd, FILE *fp);
/*
 * From now on a usage error or a failure exits 3 with a plugin status line
 * "HEINZEL UNKNOWN - why" on stdout (and the message on stderr as ever).
 */
void ctl_plugin_mode(void);
unsigned long ctl_parse_number(struct ctl *ctl, const char *opt, const char *s,
    unsigned long max);
uint64_t ctl_parse_duration(struct ctl *ctl, const char *opt, const char *s);
void ctl_check_id(struct ctl *ctl, const char *id);
/*
 * The whole of path ("-": stdin), NUL-terminated, at most max bytes;
 * NULL with *cause (caller frees) naming the file and the error.
 */
char *ctl_read_file(const char *path, size_t max, size_t *len, char **cause);

/* Commands. */
int ctl_list_exec(struct ctl *, int, char **);
int ctl_list_show(struct ctl *, int, char **);
int ctl_moderate_exec(struct ctl *, int, char **);
int ctl_moderate_purge(struct ctl *, int, char **);
int ctl_review_exec(struct ctl *, int, char **);
int ctl_stats_exec(struct ctl *, int, char **);
int ctl_outbox_exec(struct ctl *, int, char **);
int ctl_rules_check(struct ctl *, int, char **);
int ctl_rules_test(struct ctl *, int, char **);
int ctl_rules_stats(struct ctl *, int, char **);
int ctl_rules_replay(struct ctl *, int, char **);
int ctl_learn_exec(struct ctl *, int, char **);
int ctl_privacy_export(struct ctl *, int, char **);
int ctl_privacy_erase(struct ctl *, int, char **);
int ctl_privacy_policy(struct ctl *, int, char **);
/* Train the classifier on a comment just moved to approved or spam. */
void ctl_learn_comment(struct ctl *ctl, const char *id, enum store_status to);
/* A rule's description from [rules] dir, loaded on first use; NULL if none. */
const char *ctl_rules_description(struct ctl *ctl, const char *name);

/* ---- ctl-db.c: Redis ---- */

/* One comment as stored: the HGETALL reply, field/value pairs. */
struct ctl_comment {
	redisReply *r;
	char id[STORE_ID_LEN + 1];
	uint64_t created_ms;
};

/* Which comments: a list, review, a bulk action. */
struct ctl_filter {
	int status;		/* enum store_status, -1 for every queue */
	const char *post;
	uint64_t older_than_ms;	/* 0: any age */
	const char *rule;	/* hits contain it */
	const char *ip;
	size_t limit;		/* 0: all */
	bool newest_first;
};

/*
 * Connect (exit 1 with a message saying what to check on failure).  The
 * functions below connect on first use, so usage errors come first.
 */
void ctl_db_connect(struct ctl *ctl);
void ctl_db_close(struct ctl *ctl);
/* Run one command; a lost connection exits 1.  Caller frees the reply. */
redisReply *ctl_db_command(struct ctl *ctl, struct store_cmd *cmd);
redisReply *ctl_db_commandf(struct ctl *ctl, const char *fmt, ...);
/* Exit 1 on an error reply, naming what was being done. */
void ctl_db_check(struct ctl *ctl, const redisReply *r, const char *what);

/* The comment, or NULL when there is none. */
struct ctl_comment *ctl_db_comment(struct ctl *ctl, const char *id);
void ctl_comment_free(struct ctl_comment *c);
void ctl_comment_free_all(struct ctl_comment **v, size_t n);
const char *ctl_comment_get(const struct ctl_comment *c, const char *field);
bool ctl_comment_has_rule(const struct ctl_comment *c, const char *rule);

/*
 * The comments the filter selects, in order, at most limit; *more is set
 * to how many more match beyond the limit.
 */
struct ctl_comment **ctl_db_select(struct ctl *ctl, const struct ctl_filter *f,
    size_t *n, size_t *more);

/* ---- ctl-output.c: for people and for scripts ---- */

enum ctl_color { CTL_BOLD, CTL_DIM, CTL_RED, CTL_GREEN, CTL_YELLOW,
    CTL_MAGENTA, CTL_CYAN, CTL_RESET };

const char *ctl_color(const struct ctl *ctl, enum ctl_color c);
const char *ctl_status_color(const struct ctl *ctl, const char *status);
const char *ctl_score_color(const struct ctl *ctl, double score);
/* "45s", "3m", "2h", "5d" */
void ctl_output_age(uint64_t ms, char *buf, size_t size);
/* Columns s takes on a terminal. */
size_t ctl_output_width(const char *s);
/*
 * s on one line (whitespace runs to one space, control characters
 * dropped), cut to at most cols columns with "…".  Caller frees.
 */
char *ctl_output_fit(const char *s, size_t cols);
/* Write s padded with spaces to cols columns, in color c ("" for none). */
void ctl_output_cell(FILE *fp, const char *s, size_t cols, bool right,
    const char *color);
/* Text made safe for a terminal: control characters but \n, \t as '?'. */
void ctl_output_text(FILE *fp, const char *s);
/* Local time "2024-05-01 12:03:04 +0200". */
void ctl_output_time(uint64_t ms, char *buf, size_t size);

/* The comment in full: fields, score, hits, body. */
void ctl_output_comment(struct ctl *ctl, const struct ctl_comment *c, FILE *fp);
/* Every field, typed (score a number, hits an array, times ISO 8601). */
json_t *ctl_output_comment_json(const struct ctl_comment *c);
char *ctl_output_iso(uint64_t ms);
/* Print and free. */
void ctl_output_json(json_t *v);

/* ---- ctl-moderate.c ---- */

struct ctl_result {
	bool ok;
	int from, to;		/* enum store_status; to -1 after delete */
};

/*
 * One state change of one comment, told on stdout (done) or stderr (not
 * done) unless quiet; from_mask as store_cmd_transition_from.
 */
bool ctl_moderate_one(struct ctl *ctl, const char *id, enum store_action a,
    unsigned int from_mask, bool quiet, json_t *results);

#endif
