/*
 * The rule engine: every *.rules file of a directory, in name order, one
 * rule a line:
 *
 *	rule NAME FIELD /PCRE2/FLAGS score N [count>=K] ["description"]
 *
 * Patterns are compiled once with PCRE2 (UTF, JIT) and run under match,
 * depth and heap limits; a pattern that hits a limit counts as no match and
 * is logged.  A loaded rule set is refcounted so that a reload never pulls
 * the rules from under a running check.
 */
#ifndef HEINZEL_RULES_H
#define HEINZEL_RULES_H

#include <stdbool.h>
#include <stddef.h>

struct comment;
struct score;
struct ruleset;

/* Public view of one rule, for listing and metrics. */
struct rule_info {
	const char *name;
	const char *field;	/* "body", ..., "any" */
	const char *pattern;
	const char *flags;
	double score;
	unsigned int min_count;
	const char *description;	/* "" when none */
	const char *file;		/* basename of its file */
	unsigned int line;
};

/*
 * Load every *.rules file of dir (or one file when dir is a regular file).
 * Returns a rule set with one reference, or NULL with *errors set to every
 * error found, one per line as "FILE:LINE:COLUMN: message" (caller frees).
 */
struct ruleset *ruleset_load(const char *dir, char **errors);
/* Parse rules from a buffer; name is used in error messages. */
struct ruleset *ruleset_load_buffer(const char *name, const char *buf, size_t len, char **errors);

struct ruleset *ruleset_ref(struct ruleset *rs);
void ruleset_unref(struct ruleset *rs);

size_t ruleset_count(const struct ruleset *rs);
/* Borrowed view of rule i, valid while the rule set is referenced. */
void ruleset_rule(const struct ruleset *rs, size_t i, struct rule_info *out);

/*
 * The literal prefilter (prefilter.h), on in every loaded rule set: a rule
 * whose required literals are not all in its fields cannot match and is
 * not run.  Hits, counts and totals are the same either way (a skipped
 * rule cannot hit a limit, so ruleset_score may return fewer); off is for
 * tests and benchmarks.
 */
void ruleset_set_prefilter(struct ruleset *rs, bool on);

/*
 * Run every rule against c and add the hits to s.  Not thread-safe for one
 * rule set (match data is shared); heinzel runs one loop per process.
 * Returns the number of rules that hit limits (counted as no match).
 */
int ruleset_score(struct ruleset *rs, const struct comment *c, struct score *s);

#endif
