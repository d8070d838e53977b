/*
 * A score: the total of the rules (and built-in checks) that hit one
 * comment, the list of hits, and the verdict the thresholds give it.
 */
#ifndef HEINZEL_SCORE_H
#define HEINZEL_SCORE_H

#include <stddef.h>

/* Which part of the scoring gave a hit (scoring.h). */
enum score_part { SCORE_RULE, SCORE_CHECK, SCORE_BAYES, SCORE__NPARTS };

struct score_hit {
	char *name;		/* copied */
	double points;		/* once, however many matches */
	unsigned int count;	/* matches seen; links for TOO_MANY_LINKS */
	enum score_part part;
};

struct score {
	double total;
	struct score_hit *hits;
	size_t nhits, cap;
};

enum verdict { VERDICT_CLEAN, VERDICT_HOLD, VERDICT_SPAM };

void score_init(struct score *s);
void score_free(struct score *s);
/* A rule's hit; score_add_part for the other parts. */
void score_add(struct score *s, const char *name, double points, unsigned int count);
void score_add_part(struct score *s, enum score_part part, const char *name,
    double points, unsigned int count);
/* "rules", "checks", "bayes" */
const char *score_part_name(enum score_part p);

/* total >= reject -> SPAM, >= hold -> HOLD, else CLEAN. */
enum verdict score_verdict(const struct score *s, double hold, double reject);
const char *verdict_name(enum verdict v);	/* "clean", "hold", "spam" */

/*
 * The hits as stored with a comment: "NAME=points NAME=points" (points
 * with %g), "" when none.  Caller frees.
 */
char *score_hits_format(const struct score *s);

/* Format a score number the way it is stored and shown ("%g"-like). */
void score_format_points(double v, char *buf, size_t size);

#endif
