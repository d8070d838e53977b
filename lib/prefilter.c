/*
 * The literal prefilter: literals of every rule in one automaton, each
 * literal with the list of (rule, group) it stands for.  A scan notes which
 * of a rule's groups it found in one of the rule's fields; once all are
 * there, it sets the rule's bit in a bitmap that starts as the rules
 * without literals.  The engine then visits only the set bits, so that
 * thousands of rules that cannot match cost a few words.
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

/* Groups as bits of a byte, the group in the low 3 bits of an entry. */
_Static_assert(LITERAL_GROUPS <= 8, "groups of a rule fit a byte");

struct prefilter_rule {
	uint32_t	 fields;
	uint32_t	 stamp;		/* pf->text when got was last reset */
	uint8_t		 got;		/* groups seen, a bit each */
	uint8_t		 all;		/* every group */
	bool		 literal;
};

struct prefilter_pair {
	uint32_t	 literal;
	uint32_t	 entry;		/* rule << 3 | group */
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
	uint32_t		*list;		/* rule << 3 | group */
	uint32_t		*seen;		/* literal: scan it was seen in */
	bool			 built;

	/* Scanning. */
	uint64_t		*always;	/* rules without literals */
	uint64_t		*want;		/* rules to run */
	size_t			 nwords;
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
	free(pf->always);
	free(pf->want);
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

	if (pf->built || rule != pf->nrules || rule >= (UINT32_MAX >> 3))
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
	r->all = (uint8_t)((1u << set.ngroups) - 1);
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
		pf->pairs[pf->npairs].entry = (uint32_t)rule << 3 |
		    set.group[i];
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

		pf->list[pf->off[lit] + fill[lit]++] = pf->pairs[i].entry;
	}
	free(fill);
	free(pf->pairs);

	pf->nwords = (pf->nrules + 63) / 64;
	pf->always = xcalloc(pf->nwords + 1, sizeof *pf->always);
	pf->want = xcalloc(pf->nwords + 1, sizeof *pf->want);
	for (i = 0; i < pf->nrules; i++)
		if (!pf->rules[i].literal)
			pf->always[i / 64] |= (uint64_t)1 << (i % 64);
	memcpy(pf->want, pf->always, pf->nwords * sizeof *pf->want);
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

	if (!pf->built)
		fatalx("%s: not built", __func__);
	memcpy(pf->want, pf->always, pf->nwords * sizeof *pf->want);
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
	uint32_t i, rule, bit = (uint32_t)1 << pf->field;

	if (pf->seen[lit] == pf->scan)
		return;
	pf->seen[lit] = pf->scan;
	for (i = pf->off[lit]; i < pf->off[lit + 1]; i++) {
		rule = pf->list[i] >> 3;
		r = &pf->rules[rule];
		if ((r->fields & bit) == 0)
			continue;
		if (r->stamp != pf->text) {
			r->stamp = pf->text;
			r->got = 0;
		}
		/* Groups may turn up in different fields: still necessary. */
		r->got |= (uint8_t)(1u << (pf->list[i] & 7));
		if (r->got == r->all)
			pf->want[rule / 64] |= (uint64_t)1 << (rule % 64);
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
	if (rule >= pf->nrules)
		return false;
	return (pf->want[rule / 64] >> (rule % 64)) & 1;
}

bool
prefilter_next(const struct prefilter *pf, size_t *rule)
{
	size_t w = *rule / 64;
	uint64_t bits;

	if (*rule >= pf->nrules)
		return false;
	bits = pf->want[w] & (~(uint64_t)0 << (*rule % 64));
	while (bits == 0) {
		if (++w >= pf->nwords)
			return false;
		bits = pf->want[w];
	}
	*rule = w * 64 + (size_t)__builtin_ctzll(bits);
	return true;
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
		    sizeof(uint32_t) + 2 * pf->nwords * sizeof(uint64_t) : 0);
}
