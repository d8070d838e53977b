/*
 * The literal prefilter: literals of every rule in one automaton, each
 * literal with the list of rules it stands for.  A scan stamps the rules
 * whose literal it found in one of their fields; stamps instead of clearing
 * a bitmap keep the cost of a comment independent of the rule count.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acscan.h"
#include "literal.h"
#include "log.h"
#include "prefilter.h"
#include "xmalloc.h"

struct prefilter_rule {
	uint32_t	 fields;
	uint32_t	 stamp;		/* == pf->text: a literal was seen */
	bool		 literal;
};

struct prefilter_pair {
	uint32_t	 literal;
	uint32_t	 rule;
};

struct prefilter {
	struct acscan		*ac;
	struct prefilter_rule	*rules;
	size_t			 nrules, rulescap;
	size_t			 nliteral;	/* rules with literals */
	uint32_t		 fields;

	/* (literal, rule) while adding; then the rules of each literal. */
	struct prefilter_pair	*pairs;
	size_t			 npairs, pairscap;
	uint32_t		*off;		/* [literal], [nlit] = end */
	uint32_t		*list;
	uint32_t		*seen;		/* literal: scan it was seen in */
	bool			 built;

	/* Scanning. */
	uint32_t		 text;		/* counts prefilter_begin */
	uint32_t		 scan;		/* counts prefilter_scan */
	unsigned int		 field;
	char			*buf;
	size_t			 bufcap;
};

struct prefilter *
prefilter_new(void)
{
	struct prefilter *pf;

	pf = xcalloc(1, sizeof *pf);
	pf->ac = acscan_new();
	return pf;
}

void
prefilter_free(struct prefilter *pf)
{
	if (pf == NULL)
		return;
	acscan_free(pf->ac);
	free(pf->rules);
	free(pf->pairs);
	free(pf->off);
	free(pf->list);
	free(pf->seen);
	free(pf->buf);
	free(pf);
}

bool
prefilter_add(struct prefilter *pf, size_t rule, uint32_t fields,
    const char *pattern, size_t len, const char *flags)
{
	struct prefilter_rule *r;
	struct literal_set set;
	size_t i;

	if (pf->built || rule != pf->nrules || rule >= UINT32_MAX)
		fatalx("%s: rule %zu out of order", __func__, rule);
	if (pf->nrules == pf->rulescap) {
		pf->rulescap = pf->rulescap == 0 ? 64 : pf->rulescap * 2;
		pf->rules = xreallocarray(pf->rules, pf->rulescap,
		    sizeof *pf->rules);
	}
	r = &pf->rules[pf->nrules++];
	memset(r, 0, sizeof *r);
	r->fields = fields;
	if (fields == 0 || !literal_extract(pattern, len, flags, &set))
		return false;
	r->literal = true;
	pf->nliteral++;
	pf->fields |= fields;
	for (i = 0; i < set.n; i++) {
		if (pf->npairs == pf->pairscap) {
			pf->pairscap = pf->pairscap == 0 ? 256 :
			    pf->pairscap * 2;
			pf->pairs = xreallocarray(pf->pairs, pf->pairscap,
			    sizeof *pf->pairs);
		}
		pf->pairs[pf->npairs].literal = acscan_add(pf->ac, set.s[i],
		    set.len[i]);
		pf->pairs[pf->npairs].rule = (uint32_t)rule;
		pf->npairs++;
	}
	literal_set_free(&set);
	return true;
}

void
prefilter_build(struct prefilter *pf)
{
	unsigned int nlit = acscan_count(pf->ac);
	uint32_t *fill;
	size_t i;

	if (pf->built)
		fatalx("%s: built twice", __func__);
	pf->built = true;
	acscan_compile(pf->ac);

	/* Counting sort of the pairs by literal. */
	pf->off = xcalloc((size_t)nlit + 1, sizeof *pf->off);
	pf->list = xreallocarray(NULL, pf->npairs + 1, sizeof *pf->list);
	pf->seen = xcalloc((size_t)nlit + 1, sizeof *pf->seen);
	for (i = 0; i < pf->npairs; i++)
		pf->off[pf->pairs[i].literal + 1]++;
	for (i = 0; i < nlit; i++)
		pf->off[i + 1] += pf->off[i];
	fill = xcalloc((size_t)nlit + 1, sizeof *fill);
	for (i = 0; i < pf->npairs; i++) {
		uint32_t lit = pf->pairs[i].literal;

		pf->list[pf->off[lit] + fill[lit]++] = pf->pairs[i].rule;
	}
	free(fill);
	free(pf->pairs);
	pf->pairs = NULL;
	pf->npairs = pf->pairscap = 0;
}

uint32_t
prefilter_fields(const struct prefilter *pf)
{
	return pf->fields;
}

void
prefilter_begin(struct prefilter *pf)
{
	size_t i;

	if (++pf->text == 0) {
		/* Wrapped: no old stamp may equal a new one. */
		for (i = 0; i < pf->nrules; i++)
			pf->rules[i].stamp = 0;
		pf->text = 1;
	}
}

static void
prefilter_found_cb(unsigned int lit, void *arg)
{
	struct prefilter *pf = arg;
	struct prefilter_rule *r;
	uint32_t i, bit = (uint32_t)1 << pf->field;

	if (pf->seen[lit] == pf->scan)
		return;
	pf->seen[lit] = pf->scan;
	for (i = pf->off[lit]; i < pf->off[lit + 1]; i++) {
		r = &pf->rules[pf->list[i]];
		if (r->fields & bit)
			r->stamp = pf->text;
	}
}

void
prefilter_scan(struct prefilter *pf, unsigned int field, const char *text,
    size_t len)
{
	size_t n;

	if (!pf->built || field >= 32)
		fatalx("%s: field %u", __func__, field);
	if ((pf->fields & ((uint32_t)1 << field)) == 0)
		return;
	if (++pf->scan == 0) {
		memset(pf->seen, 0, ((size_t)acscan_count(pf->ac) + 1) *
		    sizeof *pf->seen);
		pf->scan = 1;
	}
	if (len > pf->bufcap) {
		free(pf->buf);
		pf->bufcap = len < 1024 ? 1024 : len;
		pf->buf = xmalloc(pf->bufcap);
	}
	n = literal_fold(text, len, pf->buf);
	pf->field = field;
	acscan_scan(pf->ac, pf->buf, n, prefilter_found_cb, pf);
}

bool
prefilter_wants(const struct prefilter *pf, size_t rule)
{
	const struct prefilter_rule *r = &pf->rules[rule];

	return !r->literal || r->stamp == pf->text;
}

void
prefilter_stats(const struct prefilter *pf, size_t *rules, size_t *literals,
    size_t *memory)
{
	if (rules != NULL)
		*rules = pf->nliteral;
	if (literals != NULL)
		*literals = acscan_count(pf->ac);
	if (memory != NULL)
		*memory = acscan_memory(pf->ac) + pf->nrules *
		    sizeof *pf->rules + (pf->built ? (acscan_count(pf->ac) *
		    2 + 2) * sizeof(uint32_t) + pf->off[acscan_count(pf->ac)] *
		    sizeof(uint32_t) : 0);
}
