/*
 * The literal prefilter of the rule engine: Aho-Corasick scans of each
 * field, folded and squeezed, find the required literals (literal.h) that
 * occur, and only the rules with a literal of each of their groups in
 * their fields need PCRE2.  Rules without literals always run.  A rule
 * with a group absent cannot match, so skipping it changes no result.
 *
 * For each comment: prefilter_begin, prefilter_scan for each field,
 * prefilter_end, then prefilter_next or prefilter_wants.
 */
#ifndef HEINZEL_PREFILTER_H
#define HEINZEL_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prefilter;

struct prefilter *prefilter_new(void);
void		  prefilter_free(struct prefilter *pf);

/*
 * Add rule number rule (0, 1, 2, ... in order), which matches the fields
 * in the bit mask fields (bit n: field n, up to 32).  Returns true if it
 * got literals, false if it always runs.
 */
bool		  prefilter_add(struct prefilter *pf, size_t rule,
		    uint32_t fields, const char *pattern, size_t len,
		    const char *flags);
/* Build the automaton after the last prefilter_add. */
void		  prefilter_build(struct prefilter *pf);

/* The fields worth scanning: the union of the masks of literal rules. */
uint32_t	  prefilter_fields(const struct prefilter *pf);

/* Start a new comment: forget what the last one's scans found. */
void		  prefilter_begin(struct prefilter *pf);
/* Scan one field's text (UTF-8, folded and squeezed here). */
void		  prefilter_scan(struct prefilter *pf, unsigned int field,
		    const char *text, size_t len);
/* After the last field: settle which rules may match. */
void		  prefilter_end(struct prefilter *pf);
/* Whether rule may match what was scanned since prefilter_begin. */
bool		  prefilter_wants(const struct prefilter *pf, size_t rule);
/*
 * Move *rule forward to the first rule at or after it that may match;
 * false if there is none.
 */
bool		  prefilter_next(const struct prefilter *pf, size_t *rule);

/* Counts for benchmarks: rules with literals, literals, table bytes. */
void		  prefilter_stats(const struct prefilter *pf, size_t *rules,
		    size_t *literals, size_t *memory);

#endif
