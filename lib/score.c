/*
 * Scores: the hits of one comment, their total and the verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "xmalloc.h"

void
score_init(struct score *s)
{
	memset(s, 0, sizeof *s);
}

void
score_free(struct score *s)
{
	size_t i;

	for (i = 0; i < s->nhits; i++)
		free(s->hits[i].name);
	free(s->hits);
	score_init(s);
}

void
score_add(struct score *s, const char *name, double points, unsigned int count)
{
	score_add_part(s, SCORE_RULE, name, points, count);
}

const char *
score_part_name(enum score_part p)
{
	static const char *const names[SCORE__NPARTS] = {
		"rules", "checks", "bayes"
	};

	return (unsigned)p < SCORE__NPARTS ? names[p] : "unknown";
}

void
score_add_part(struct score *s, enum score_part part, const char *name,
    double points, unsigned int count)
{
	struct score_hit *h;

	if (s->nhits == s->cap) {
		s->cap = s->cap == 0 ? 8 : s->cap * 2;
		s->hits = xreallocarray(s->hits, s->cap, sizeof *s->hits);
	}
	h = &s->hits[s->nhits++];
	h->name = xstrdup(name);
	h->points = points;
	h->count = count;
	h->part = part;
	s->total += points;
}

enum verdict
score_verdict(const struct score *s, double hold, double reject)
{
	if (s->total >= reject)
		return VERDICT_SPAM;
	if (s->total >= hold)
		return VERDICT_HOLD;
	return VERDICT_CLEAN;
}

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_CLEAN:
		return "clean";
	case VERDICT_HOLD:
		return "hold";
	case VERDICT_SPAM:
		return "spam";
	}
	return "unknown";
}

void
score_format_points(double v, char *buf, size_t size)
{
	/* -0 and 0 compare equal; show both as "0". */
	if (v == 0)
		v = 0;
	snprintf(buf, size, "%g", v);
}

char *
score_hits_format(const struct score *s)
{
	char points[64], *out;
	size_t i, len, off, n;

	len = 1;
	for (i = 0; i < s->nhits; i++)
		len += strlen(s->hits[i].name) + 1 + sizeof points + 1;
	out = xmalloc(len);
	off = 0;
	out[0] = '\0';
	for (i = 0; i < s->nhits; i++) {
		score_format_points(s->hits[i].points, points, sizeof points);
		n = (size_t)snprintf(out + off, len - off, "%s%s=%s",
		    i == 0 ? "" : " ", s->hits[i].name, points);
		off += n;
	}
	return out;
}
