/*
 * The literal prefilter: the folded literals of every rule in one
 * automaton, the squeezed ones in another.  A rule's best group (its
 * trigger) lists the rule under each of its literals; its other groups are
 * only looked up when the trigger fired, so that a common word in a second
 * group ("for", "your") costs a stamp, not a walk of every rule it appears
 * in.  A rule whose groups were all seen in its fields gets its bit in a
 * bitmap that starts as the rules without literals, and the engine then
 * visits only the set bits: thousands of rules that cannot match cost a
 * few words.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acscan.h"
#include "fold.h"
#include "literal.h"
#include "log.h"
#include "prefilter.h"
#include "xmalloc.h"

enum { PREFILTER_FOLDED, PREFILTER_SQUEEZED, PREFILTER_NTEXTS };

/*
 * Bytes of literals in one automaton, at most: its table stays under
 * about 64 MiB.  Rules past that always run.
 */
#define PREFILTER_BYTES_MAX	(256 * 1024)

struct prefilter_rule {
	uint32_t	 fields;
	uint32_t	 stamp;		/* pf->text: pending this comment */
	uint32_t	 check;		/* its entries in pf->checks */
	uint16_t	 ncheck;
	uint8_t		 ngroups;
	bool		 literal;
};

/* A literal of a group after the first. */
struct prefilter_check {
	uint32_t	 literal;
	uint8_t		 text;		/* PREFILTER_FOLDED or _SQUEEZED */
	uint8_t		 group;
};

/* Where a literal was seen: the fields, for the comment of stamp. */
struct prefilter_seen {
	uint32_t	 stamp;
	uint32_t	 fields;
};

struct prefilter_pair {
	uint32_t	 literal;
	uint32_t	 rule;
};

/* One automaton and the rules each of its literals triggers. */
struct prefilter_ac {
	struct acscan		*ac;
	size_t			 bytes;		/* of its distinct literals */
	struct prefilter_pair	*pairs;		/* while adding */
	size_t			 npairs, pairscap;
	uint32_t		*off;		/* [literal], [nlit] = end */
	uint32_t		*list;		/* rules */
	struct prefilter_seen	*seen;
	struct prefilter	*pf;
};

struct prefilter {
	struct prefilter_ac	 texts[PREFILTER_NTEXTS];
	struct prefilter_rule	*rules;
	size_t			 nrules, rulescap;
	struct prefilter_check	*checks;
	size_t			 nchecks, checkscap;
	size_t			 nliteral;	/* rules with literals */
	uint32_t		 fields;
	bool			 built;

	/* Scanning. */
	uint64_t		*always;	/* rules without literals */
	uint64_t		*want;		/* rules to run */
	size_t			 nwords;
	uint32_t		*pending;	/* rules whose trigger fired */
	size_t			 npending;
	uint32_t		 text;		/* counts prefilter_begin */
	uint32_t		 field;		/* bit of the field scanned */
	char			*buf;
	size_t			 bufcap;
};

struct prefilter *
prefilter_new(void)
{
	struct prefilter *pf;
	int t, b, lower[256], squeeze[256];

	/*
	 * The automata read the text through maps: ASCII capitals as small
	 * letters (all the folding pure ASCII needs), and squeezed, only
	 * ASCII letters and digits (fold_squeeze, without a copy).
	 */
	for (b = 0; b < 256; b++) {
		lower[b] = b >= 'A' && b <= 'Z' ? b + 0x20 : b;
		squeeze[b] = (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ?
		    b : b >= 'A' && b <= 'Z' ? b + 0x20 : -1;
	}
	pf = xcalloc(1, sizeof *pf);
	for (t = 0; t < PREFILTER_NTEXTS; t++) {
		pf->texts[t].ac = acscan_new();
		pf->texts[t].pf = pf;
	}
	acscan_map(pf->texts[PREFILTER_FOLDED].ac, lower);
	acscan_map(pf->texts[PREFILTER_SQUEEZED].ac, squeeze);
	return pf;
}

void
prefilter_free(struct prefilter *pf)
{
	struct prefilter_ac *pa;
	int t;

	if (pf == NULL)
		return;
	for (t = 0; t < PREFILTER_NTEXTS; t++) {
		pa = &pf->texts[t];
		acscan_free(pa->ac);
		free(pa->pairs);
		free(pa->off);
		free(pa->list);
		free(pa->seen);
	}
	free(pf->rules);
	free(pf->checks);
	free(pf->always);
	free(pf->want);
	free(pf->pending);
	free(pf->buf);
	free(pf);
}

static void
prefilter_add_pair(struct prefilter_ac *pa, uint32_t literal, uint32_t rule)
{
	if (pa->npairs == pa->pairscap) {
		pa->pairscap = pa->pairscap == 0 ? 256 : pa->pairscap * 2;
		pa->pairs = xreallocarray(pa->pairs, pa->pairscap,
		    sizeof *pa->pairs);
	}
	pa->pairs[pa->npairs].literal = literal;
	pa->pairs[pa->npairs].rule = rule;
	pa->npairs++;
}

static void
prefilter_add_check(struct prefilter *pf, uint32_t literal, int text,
    unsigned int group)
{
	struct prefilter_check *c;

	if (pf->nchecks == pf->checkscap) {
		pf->checkscap = pf->checkscap == 0 ? 256 : pf->checkscap * 2;
		pf->checks = xreallocarray(pf->checks, pf->checkscap,
		    sizeof *pf->checks);
	}
	c = &pf->checks[pf->nchecks++];
	c->literal = literal;
	c->text = (uint8_t)text;
	c->group = (uint8_t)group;
}

bool
prefilter_add(struct prefilter *pf, size_t rule, uint32_t fields,
    const char *pattern, size_t len, const char *flags)
{
	struct prefilter_rule *r;
	struct literal_set set;
	uint32_t lit;
	unsigned int g;
	size_t i, n;
	int t;

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
	for (i = 0, n = 0; i < set.n; i++)
		n += set.len[i];
	if (pf->texts[PREFILTER_FOLDED].bytes + n > PREFILTER_BYTES_MAX ||
	    pf->texts[PREFILTER_SQUEEZED].bytes + n > PREFILTER_BYTES_MAX) {
		literal_set_free(&set);
		return false;
	}
	r->literal = true;
	r->ngroups = (uint8_t)set.ngroups;
	r->check = (uint32_t)pf->nchecks;
	pf->nliteral++;
	pf->fields |= fields;
	/* The checks in group order, for prefilter_end. */
	for (g = 0; g < set.ngroups; g++) {
		t = (set.squeezed >> g) & 1 ? PREFILTER_SQUEEZED :
		    PREFILTER_FOLDED;
		for (i = 0; i < set.n; i++) {
			if (set.group[i] != g)
				continue;
			n = acscan_count(pf->texts[t].ac);
			lit = acscan_add(pf->texts[t].ac, set.s[i], set.len[i]);
			if (acscan_count(pf->texts[t].ac) > n)
				pf->texts[t].bytes += set.len[i];
			if (g == 0)
				prefilter_add_pair(&pf->texts[t], lit,
				    (uint32_t)rule);
			else
				prefilter_add_check(pf, lit, t, g);
		}
	}
	r->ncheck = (uint16_t)(pf->nchecks - r->check);
	literal_set_free(&set);
	return true;
}

/* Compile one automaton and sort its pairs by literal. */
static void
prefilter_build_ac(struct prefilter_ac *pa)
{
	unsigned int nlit;
	uint32_t *fill, lit;
	size_t i;

	acscan_compile(pa->ac);
	nlit = acscan_count(pa->ac);
	pa->off = xcalloc((size_t)nlit + 1, sizeof *pa->off);
	pa->list = xreallocarray(NULL, pa->npairs + 1, sizeof *pa->list);
	pa->seen = xcalloc((size_t)nlit + 1, sizeof *pa->seen);
	for (i = 0; i < pa->npairs; i++)
		pa->off[pa->pairs[i].literal + 1]++;
	for (i = 0; i < nlit; i++)
		pa->off[i + 1] += pa->off[i];
	fill = xcalloc((size_t)nlit + 1, sizeof *fill);
	for (i = 0; i < pa->npairs; i++) {
		lit = pa->pairs[i].literal;
		pa->list[pa->off[lit] + fill[lit]++] = pa->pairs[i].rule;
	}
	free(fill);
	free(pa->pairs);
	pa->pairs = NULL;
	pa->npairs = pa->pairscap = 0;
}

void
prefilter_build(struct prefilter *pf)
{
	size_t i;
	int t;

	if (pf->built)
		fatalx("%s: built twice", __func__);
	pf->built = true;
	for (t = 0; t < PREFILTER_NTEXTS; t++)
		prefilter_build_ac(&pf->texts[t]);

	pf->nwords = (pf->nrules + 63) / 64;
	pf->always = xcalloc(pf->nwords + 1, sizeof *pf->always);
	pf->want = xcalloc(pf->nwords + 1, sizeof *pf->want);
	pf->pending = xcalloc(pf->nrules + 1, sizeof *pf->pending);
	for (i = 0; i < pf->nrules; i++)
		if (!pf->rules[i].literal)
			pf->always[i / 64] |= (uint64_t)1 << (i % 64);
	memcpy(pf->want, pf->always, pf->nwords * sizeof *pf->want);
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
	int t;

	if (!pf->built)
		fatalx("%s: not built", __func__);
	memcpy(pf->want, pf->always, pf->nwords * sizeof *pf->want);
	pf->npending = 0;
	if (++pf->text == 0) {
		/* Wrapped: no old stamp may equal a new one. */
		for (i = 0; i < pf->nrules; i++)
			pf->rules[i].stamp = 0;
		for (t = 0; t < PREFILTER_NTEXTS; t++)
			memset(pf->texts[t].seen, 0,
			    ((size_t)acscan_count(pf->texts[t].ac) + 1) *
			    sizeof *pf->texts[t].seen);
		pf->text = 1;
	}
}

static void
prefilter_found_cb(unsigned int lit, void *arg)
{
	struct prefilter_ac *pa = arg;
	struct prefilter *pf = pa->pf;
	struct prefilter_seen *seen = &pa->seen[lit];
	struct prefilter_rule *r;
	uint32_t i, rule;

	if (seen->stamp != pf->text) {
		seen->stamp = pf->text;
		seen->fields = 0;
	}
	if (seen->fields & pf->field)
		return;
	seen->fields |= pf->field;
	for (i = pa->off[lit]; i < pa->off[lit + 1]; i++) {
		rule = pa->list[i];
		r = &pf->rules[rule];
		if ((r->fields & pf->field) == 0 || r->stamp == pf->text)
			continue;
		r->stamp = pf->text;
		pf->pending[pf->npending++] = rule;
	}
}

/* Whether text is all ASCII: then folding is lower case, the map's job. */
static bool
prefilter_ascii(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char or = 0;
	size_t i;

	for (i = 0; i < len; i++)
		or |= p[i];
	return or < 0x80;
}

void
prefilter_scan(struct prefilter *pf, unsigned int field, const char *text,
    size_t len)
{
	struct prefilter_ac *pa;
	size_t n;

	if (!pf->built || field >= 32)
		fatalx("%s: field %u", __func__, field);
	if ((pf->fields & ((uint32_t)1 << field)) == 0)
		return;
	pf->field = (uint32_t)1 << field;
	pa = &pf->texts[PREFILTER_FOLDED];
	if (prefilter_ascii(text, len))
		acscan_scan(pa->ac, text, len, prefilter_found_cb, pa);
	else {
		if (len > pf->bufcap) {
			free(pf->buf);
			pf->bufcap = len < 1024 ? 1024 : len;
			pf->buf = xmalloc(pf->bufcap);
		}
		n = fold_text(text, len, pf->buf);
		acscan_scan(pa->ac, pf->buf, n, prefilter_found_cb, pa);
	}
	pa = &pf->texts[PREFILTER_SQUEEZED];
	acscan_scan(pa->ac, text, len, prefilter_found_cb, pa);
}

/* Whether every group after the first was seen in one of r's fields. */
static bool
prefilter_complete(const struct prefilter *pf, const struct prefilter_rule *r)
{
	const struct prefilter_check *c, *end;
	const struct prefilter_seen *seen;
	unsigned int g;

	if (r->ncheck == 0)
		return true;		/* one group: pf->checks may be NULL */
	c = &pf->checks[r->check];
	end = c + r->ncheck;

	for (g = 1; g < r->ngroups; g++) {
		for (; c < end && c->group == g; c++) {
			seen = &pf->texts[c->text].seen[c->literal];
			if (seen->stamp == pf->text &&
			    (seen->fields & r->fields) != 0)
				break;
		}
		if (c == end || c->group != g)
			return false;
		/* Found: skip the rest of the group. */
		while (c < end && c->group == g)
			c++;
	}
	return true;
}

void
prefilter_end(struct prefilter *pf)
{
	uint32_t rule;
	size_t i;

	for (i = 0; i < pf->npending; i++) {
		rule = pf->pending[i];
		if (prefilter_complete(pf, &pf->rules[rule]))
			pf->want[rule / 64] |= (uint64_t)1 << (rule % 64);
	}
	pf->npending = 0;
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
	const struct prefilter_ac *pa;
	size_t lits = 0, bytes, nlit;
	int t;

	bytes = pf->nrules * (sizeof *pf->rules + sizeof *pf->pending) +
	    pf->nchecks * sizeof *pf->checks + 2 * pf->nwords *
	    sizeof(uint64_t);
	for (t = 0; t < PREFILTER_NTEXTS; t++) {
		pa = &pf->texts[t];
		nlit = acscan_count(pa->ac);
		lits += nlit;
		bytes += acscan_memory(pa->ac);
		if (pf->built)
			bytes += (nlit + 1 + pa->off[nlit]) *
			    sizeof(uint32_t) + nlit * sizeof *pa->seen;
	}
	if (rules != NULL)
		*rules = pf->nliteral;
	if (literals != NULL)
		*literals = lits;
	if (memory != NULL)
		*memory = bytes;
}
