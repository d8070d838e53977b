/*
 * Required literals of a PCRE2 pattern.  A small recursive-descent reader
 * follows the common syntax and gives up (no literal, the rule always runs)
 * on anything it does not follow exactly: a wrong literal would silently
 * drop matches, a missing one only costs a PCRE2 call.
 *
 * Every item of the pattern gets an "exact" set (each match of the item is
 * one of these strings) when it has one: a character, a small class, a
 * group of such, an optional such.  A sequence multiplies the exact sets of
 * neighbouring items into longer strings; where that stops, the run so far
 * is one candidate and the item's own required sets are others.  Each
 * candidate is required on its own, so the sequence keeps its few best as
 * a conjunction: a match contains a string of each.  An alternation needs a
 * set from every branch and takes the union of their best ones.
 *
 * The pattern is read twice: for folded text, and for squeezed text (only
 * ASCII letters and digits), where whatever never matches a letter or a
 * digit (\s, \W, punctuation) is exactly the empty string, so that
 * "v[\W_]{0,2}i[\W_]{0,2}a" gives the literal "via".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "literal.h"
#include "utf8.h"
#include "litset.h"
#include "xmalloc.h"

#define LITERAL_EXACT_MAX	64	/* strings in an exact set */
#define LITERAL_EXACT_LEN	64	/* bytes of an exact string */
#define LITERAL_REQ_MAX		64	/* strings in a required set */
#define LITERAL_CONJ_MAX	4	/* required sets kept together */
#define LITERAL_RULE_MAX	64	/* strings of all groups of a pattern */
#define LITERAL_MORE_MAX	8	/* strings of a group after the first */
#define LITERAL_MORE_LEN	3	/* bytes of its shortest string, at least */
#define LITERAL_LEN_MAX		6	/* bytes kept of a required string */
#define LITERAL_CLASS_MAX	8	/* characters of a class taken as exact */
#define LITERAL_DEPTH_MAX	32	/* group nesting */
#define LITERAL_UNBOUNDED	UINT32_MAX

struct literal_info {
	struct litset	 exact;
	struct litset	 req[LITERAL_CONJ_MAX];	/* best first */
	size_t			 nreq;
};

struct literal_parse {
	const unsigned char	*p, *end;
	bool			 squeeze;	/* literals of fold_squeeze */
	bool			 caseless;
	bool			 fail;
	unsigned int		 depth;
};

static void	literal_alt(struct literal_parse *, struct literal_info *);

static void
literal_info_free(struct literal_info *info)
{
	size_t i;

	litset_free(&info->exact);
	for (i = 0; i < info->nreq; i++)
		litset_free(&info->req[i]);
	info->nreq = 0;
}

/*
 * The strings one of which every match of the item contains: its exact set
 * unless that allows an empty match, else its best required set; NULL if
 * none.
 */
static const struct litset *
literal_info_req(const struct literal_info *info)
{
	if (info->exact.valid)
		return litset_minlen(&info->exact) > 0 ? &info->exact :
		    NULL;
	return info->nreq > 0 ? &info->req[0] : NULL;
}

/* Whether required set a filters better than b: longer, then fewer. */
static bool
literal_better(const struct litset *a, const struct litset *b)
{
	size_t amin, bmin;

	amin = litset_minlen(a);
	bmin = litset_minlen(b);
	/* Past a few bytes a literal is rare enough; fewer strings win. */
	if ((amin < 4 || bmin < 4) && amin != bmin)
		return amin > bmin;
	if (a->n != b->n)
		return a->n < b->n;
	return amin > bmin;
}

/*
 * Add a copy of cand to the required sets of info if it is usable and
 * among the best few.
 */
static void
literal_consider(struct literal_info *info, const struct litset *cand)
{
	size_t i;

	if (cand == NULL || !cand->valid || cand->n == 0 ||
	    cand->n > LITERAL_REQ_MAX || litset_minlen(cand) == 0)
		return;
	for (i = 0; i < info->nreq; i++)
		if (litset_same(&info->req[i], cand))
			return;
	for (i = 0; i < info->nreq; i++)
		if (literal_better(cand, &info->req[i]))
			break;
	if (i == LITERAL_CONJ_MAX)
		return;
	if (info->nreq == LITERAL_CONJ_MAX)
		litset_free(&info->req[--info->nreq]);
	memmove(&info->req[i + 1], &info->req[i], (info->nreq - i) *
	    sizeof *info->req);
	litset_copy(&info->req[i], cand);
	info->nreq++;
}

/* Decode one UTF-8 character; its length, 0 if invalid. */
static size_t
literal_utf8(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	size_t n, i, avail = (size_t)(end - p);
	uint32_t c;

	if (avail == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

static bool
literal_isalnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/*
 * The exact set of one character, or nothing if a caseless one may vary.
 * Squeezed, a character is itself if it is an ASCII letter or digit and
 * nothing otherwise; a caseless k or s may also be the Kelvin sign or the
 * long s, which squeezing drops.
 */
static void
literal_char(struct literal_parse *lp, uint32_t cp, struct literal_info *out)
{
	char buf[4];
	size_t n;

	memset(out, 0, sizeof *out);
	if (lp->caseless && !fold_caseless_safe(cp))
		return;
	out->exact.valid = true;
	if (!lp->squeeze) {
		n = utf8_encode(fold_cp(cp), buf);
		litset_add(&out->exact, buf, n);
		return;
	}
	if (lp->caseless)
		cp = fold_cp(cp);
	if (cp < 0x80 && literal_isalnum((unsigned char)cp)) {
		buf[0] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 0x20 : cp);
		litset_add(&out->exact, buf, 1);
		if (lp->caseless && (cp == 'k' || cp == 's'))
			litset_add(&out->exact, "", 0);
	} else
		litset_add(&out->exact, "", 0);
}

/* The control-character escapes: \t \n \r \f \e \a. */
static int
literal_control(unsigned char c)
{
	switch (c) {
	case 't':
		return '\t';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 'f':
		return '\f';
	case 'e':
		return 0x1b;
	case 'a':
		return 0x07;
	}
	return -1;
}

/* Skip the rest of \p or \P: one letter or {name}. */
static void
literal_property(struct literal_parse *lp)
{
	if (lp->p < lp->end && *lp->p == '{') {
		for (lp->p++; lp->p < lp->end && *lp->p != '}'; lp->p++) {
			if (!literal_isalnum(*lp->p) &&
			    strchr(" _&:=^-", *lp->p) == NULL) {
				lp->fail = true;
				return;
			}
		}
		if (lp->p == lp->end) {
			lp->fail = true;
			return;
		}
		lp->p++;
		return;
	}
	if (lp->p < lp->end && ((*lp->p >= 'a' && *lp->p <= 'z') ||
	    (*lp->p >= 'A' && *lp->p <= 'Z'))) {
		lp->p++;
		return;
	}
	lp->fail = true;
}

/* An escape outside a class, after the backslash. */
static void
literal_escape(struct literal_parse *lp, struct literal_info *out)
{
	unsigned char c;
	int ctl;

	memset(out, 0, sizeof *out);
	if (lp->p == lp->end || *lp->p >= 0x80) {
		lp->fail = true;
		return;
	}
	c = *lp->p++;
	if (!literal_isalnum(c)) {
		literal_char(lp, c, out);
		return;
	}
	if ((ctl = literal_control(c)) != -1) {
		literal_char(lp, (uint32_t)ctl, out);
		return;
	}
	/* Squeezed, what never matches a letter or digit is nothing. */
	if (lp->squeeze && strchr("sWhvR", c) != NULL) {
		litset_empty(&out->exact);
		return;
	}
	if (strchr("dDwWsShHvVRX", c) != NULL)
		return;				/* one or more characters */
	if (c == 'N' && (lp->p == lp->end || *lp->p != '{'))
		return;
	if (strchr("bBAzZG", c) != NULL) {
		litset_empty(&out->exact);	/* zero width */
		return;
	}
	if (c == 'p' || c == 'P') {
		literal_property(lp);
		return;
	}
	/* \Q, \E, \K, \x, \o, digits, \g, \k, \N{...} and the rest. */
	lp->fail = true;
}

/*
 * A class, after the '['.  Exact when it lists a few characters (and,
 * squeezed, classes that never match a letter or digit such as \s).
 */
static void
literal_class(struct literal_parse *lp, struct literal_info *out)
{
	struct literal_info member;
	uint32_t members[LITERAL_CLASS_MAX], cp;
	size_t nmembers = 0, items = 0, n, i;
	bool literal = true, empty = false;
	int ctl;

	memset(out, 0, sizeof *out);
	if (lp->p < lp->end && *lp->p == '^') {
		literal = false;
		lp->p++;
	}
	for (;;) {
		if (lp->p == lp->end) {
			lp->fail = true;
			return;
		}
		/* A ']' first in the class is a member. */
		if (*lp->p == ']' && items > 0) {
			lp->p++;
			break;
		}
		items++;
		if (*lp->p == '[' && lp->p + 1 < lp->end &&
		    strchr(":.=", lp->p[1]) != NULL) {
			lp->fail = true;	/* POSIX classes */
			return;
		}
		if (*lp->p == '\\') {
			lp->p++;
			if (lp->p == lp->end || *lp->p >= 0x80) {
				lp->fail = true;
				return;
			}
			cp = *lp->p++;
			if (!literal_isalnum((unsigned char)cp)) {
				/* a member, below */
			} else if ((ctl = literal_control((unsigned char)cp)) !=
			    -1)
				cp = (uint32_t)ctl;
			else if (lp->squeeze && strchr("sWhv", (int)cp) !=
			    NULL) {
				empty = true;
				continue;
			} else if (strchr("dDwWsShHvV", (int)cp) != NULL) {
				literal = false;
				continue;
			} else if (cp == 'p' || cp == 'P') {
				literal_property(lp);
				if (lp->fail)
					return;
				literal = false;
				continue;
			} else {
				/* \b (backspace here), \x, \Q, digits, ... */
				lp->fail = true;
				return;
			}
		} else if (*lp->p == '-' && items > 1 && lp->p + 1 < lp->end &&
		    lp->p[1] != ']') {
			/* A range: too many members to list. */
			lp->p++;
			literal = false;
			continue;
		} else {
			if ((n = literal_utf8(lp->p, lp->end, &cp)) == 0) {
				lp->fail = true;
				return;
			}
			lp->p += n;
		}
		if (!literal)
			continue;
		if (nmembers == LITERAL_CLASS_MAX)
			literal = false;
		else
			members[nmembers++] = cp;
	}
	if (!literal || (nmembers == 0 && !empty))
		return;
	/* The union of what each member is. */
	out->exact.valid = true;
	if (empty)
		litset_add(&out->exact, "", 0);
	for (i = 0; i < nmembers; i++) {
		literal_char(lp, members[i], &member);
		litset_union(&out->exact, &member.exact, SIZE_MAX);
		literal_info_free(&member);
	}
}

/* A group name up to its closing character. */
static bool
literal_group_name(struct literal_parse *lp, unsigned char close)
{
	const unsigned char *start = lp->p;

	while (lp->p < lp->end && (literal_isalnum(*lp->p) || *lp->p == '_'))
		lp->p++;
	if (lp->p == start || lp->p == lp->end || *lp->p != close)
		return false;
	lp->p++;
	return true;
}

/* A group, after the '('. */
static void
literal_group(struct literal_parse *lp, struct literal_info *out)
{
	struct literal_info inner;
	bool look = false;
	unsigned char c;

	memset(out, 0, sizeof *out);
	if (lp->p < lp->end && *lp->p == '*') {
		lp->fail = true;	/* verbs, (*positive_lookahead: ... */
		return;
	}
	if (lp->p < lp->end && *lp->p == '?') {
		lp->p++;
		if (lp->p == lp->end) {
			lp->fail = true;
			return;
		}
		c = *lp->p;
		if (c == ':' || c == '>')
			lp->p++;
		else if (c == '=' || c == '!') {
			look = true;
			lp->p++;
		} else if (c == '<' && lp->p + 1 < lp->end &&
		    (lp->p[1] == '=' || lp->p[1] == '!')) {
			look = true;
			lp->p += 2;
		} else if (c == '<' || c == '\'') {
			lp->p++;
			if (!literal_group_name(lp, c == '<' ? '>' : '\'')) {
				lp->fail = true;
				return;
			}
		} else if (c == 'P' && lp->p + 1 < lp->end &&
		    lp->p[1] == '<') {
			lp->p += 2;
			if (!literal_group_name(lp, '>')) {
				lp->fail = true;
				return;
			}
		} else {
			/*
			 * Option letters.  Only i changes literals: once it
			 * appears, treat the rest of the pattern as caseless
			 * (stricter than its scope, never looser).
			 */
			while (lp->p < lp->end && *lp->p != '\0' &&
			    strchr("imnsJU-^", *lp->p) != NULL) {
				if (*lp->p == 'i')
					lp->caseless = true;
				lp->p++;
			}
			if (lp->p == lp->end || (*lp->p != ')' &&
			    *lp->p != ':')) {
				lp->fail = true;	/* x, (?|, (?#, (?R ... */
				return;
			}
			if (*lp->p++ == ')') {
				litset_empty(&out->exact);
				return;
			}
		}
	}
	if (++lp->depth > LITERAL_DEPTH_MAX) {
		lp->fail = true;
		return;
	}
	literal_alt(lp, &inner);
	lp->depth--;
	if (lp->fail || lp->p == lp->end || *lp->p != ')') {
		literal_info_free(&inner);
		lp->fail = true;
		return;
	}
	lp->p++;
	if (look) {
		/* Lookarounds consume nothing. */
		literal_info_free(&inner);
		litset_empty(&out->exact);
		return;
	}
	*out = inner;
}

/* Parse digits of a {n,m} quantifier. */
static bool
literal_number(struct literal_parse *lp, uint32_t *n)
{
	const unsigned char *start = lp->p;

	*n = 0;
	while (lp->p < lp->end && *lp->p >= '0' && *lp->p <= '9') {
		if (lp->p - start >= 5)
			return false;
		*n = *n * 10 + (uint32_t)(*lp->p - '0');
		lp->p++;
	}
	return lp->p > start;
}

/*
 * A quantifier after an item, if any: true with min and max set.  Only the
 * strict forms {n}, {n,} and {n,m}: whether "{,m}" or "{ n }" quantify
 * depends on the PCRE2 version, so any other '{' gives up.
 */
static bool
literal_quantifier(struct literal_parse *lp, uint32_t *min, uint32_t *max)
{
	if (lp->p == lp->end)
		return false;
	switch (*lp->p) {
	case '*':
		*min = 0;
		*max = LITERAL_UNBOUNDED;
		break;
	case '+':
		*min = 1;
		*max = LITERAL_UNBOUNDED;
		break;
	case '?':
		*min = 0;
		*max = 1;
		break;
	case '{':
		lp->p++;
		if (!literal_number(lp, min))
			goto fail;
		*max = *min;
		if (lp->p < lp->end && *lp->p == ',') {
			lp->p++;
			*max = LITERAL_UNBOUNDED;
			if (lp->p < lp->end && *lp->p != '}' &&
			    !literal_number(lp, max))
				goto fail;
		}
		if (lp->p == lp->end || *lp->p != '}')
			goto fail;
		break;
	default:
		return false;
	}
	lp->p++;
	/* Lazy or possessive. */
	if (lp->p < lp->end && (*lp->p == '?' || *lp->p == '+'))
		lp->p++;
	if (lp->p < lp->end && strchr("*+?{", *lp->p) != NULL)
		goto fail;
	return true;
fail:
	lp->fail = true;
	return false;
}

/* One item: an atom and its quantifier. */
static void
literal_item(struct literal_parse *lp, struct literal_info *out)
{
	struct literal_info once;
	uint32_t min, max, cp;
	size_t n, i;

	memset(out, 0, sizeof *out);
	switch (*lp->p) {
	case '(':
		lp->p++;
		literal_group(lp, out);
		break;
	case '[':
		lp->p++;
		literal_class(lp, out);
		break;
	case '\\':
		lp->p++;
		literal_escape(lp, out);
		break;
	case '.':
		lp->p++;
		break;
	case '^':
	case '$':
		lp->p++;
		litset_empty(&out->exact);
		break;
	case '*':
	case '+':
	case '?':
	case '{':
		lp->fail = true;
		break;
	default:
		if ((n = literal_utf8(lp->p, lp->end, &cp)) == 0) {
			lp->fail = true;
			break;
		}
		lp->p += n;
		literal_char(lp, cp, out);
		break;
	}
	if (lp->fail || !literal_quantifier(lp, &min, &max) || lp->fail)
		return;
	if (min == 1 && max == 1)
		return;
	/* Nothing, repeated, is still nothing. */
	if (out->exact.valid && out->exact.n == 1 && out->exact.v[0].len == 0)
		return;
	if (min == 0 && max == 1 && out->exact.valid) {
		/* x? matches x or nothing. */
		if (out->exact.n < LITERAL_EXACT_MAX)
			litset_add(&out->exact, "", 0);
		else
			litset_free(&out->exact);
		return;
	}
	/* At least one copy: what one requires, the repeat does. */
	memset(&once, 0, sizeof once);
	if (min >= 1 && out->exact.valid)
		literal_consider(&once, &out->exact);
	else if (min >= 1) {
		for (i = 0; i < out->nreq; i++)
			literal_consider(&once, &out->req[i]);
	}
	literal_info_free(out);
	*out = once;
}

/* A sequence of items, up to '|', ')' or the end. */
static void
literal_seq(struct literal_parse *lp, struct literal_info *out)
{
	struct litset cur;
	struct literal_info item;
	bool exact = true;
	size_t i;

	memset(out, 0, sizeof *out);
	litset_empty(&cur);
	while (lp->p < lp->end && *lp->p != '|' && *lp->p != ')') {
		literal_item(lp, &item);
		if (lp->fail) {
			literal_info_free(&item);
			break;
		}
		if (item.exact.valid && litset_product(&cur, &item.exact,
		    LITERAL_EXACT_MAX, LITERAL_EXACT_LEN)) {
			literal_info_free(&item);
			continue;
		}
		exact = false;
		literal_consider(out, &cur);
		if (item.exact.valid)
			litset_move(&cur, &item.exact);
		else {
			for (i = 0; i < item.nreq; i++)
				literal_consider(out, &item.req[i]);
			litset_free(&cur);
			litset_empty(&cur);
		}
		literal_info_free(&item);
	}
	if (lp->fail) {
		litset_free(&cur);
		literal_info_free(out);
		return;
	}
	if (exact) {
		literal_info_free(out);
		out->exact = cur;
		return;
	}
	literal_consider(out, &cur);
	litset_free(&cur);
}

/* Branches separated by '|', up to ')' or the end. */
static void
literal_alt(struct literal_parse *lp, struct literal_info *out)
{
	struct literal_info branch;
	struct litset req;
	const struct litset *r;
	size_t i;

	literal_seq(lp, out);
	if (lp->fail || lp->p == lp->end || *lp->p != '|')
		return;
	/* Required set of the union so far. */
	memset(&req, 0, sizeof req);
	if ((r = literal_info_req(out)) != NULL)
		litset_copy(&req, r);
	while (!lp->fail && lp->p < lp->end && *lp->p == '|') {
		lp->p++;
		literal_seq(lp, &branch);
		if (lp->fail) {
			literal_info_free(&branch);
			break;
		}
		litset_union(&out->exact, &branch.exact,
		    LITERAL_EXACT_MAX);
		if ((r = literal_info_req(&branch)) != NULL) {
			litset_union(&req, r, SIZE_MAX);
			litset_minimize(&req);
			if (req.n > LITERAL_REQ_MAX)
				litset_free(&req);
		} else
			litset_free(&req);
		literal_info_free(&branch);
	}
	/* Only one set: which conjunct of each branch holds is unknown. */
	for (i = 0; i < out->nreq; i++)
		litset_free(&out->req[i]);
	out->nreq = 0;
	if (req.valid)
		out->req[out->nreq++] = req;
}

/*
 * Append the required sets of info to set as groups, those whose shortest
 * string is longer than min; returns the longest shortest string added.
 */
static size_t
literal_set_add(struct literal_set *set, const struct literal_info *info,
    bool squeezed, size_t min)
{
	const struct litset *r;
	struct litset keep;
	size_t i, g, nsets, longest = 0;

	if (literal_info_req(info) == NULL)
		return 0;
	nsets = info->exact.valid ? 1 : info->nreq;
	for (g = 0; g < nsets; g++) {
		r = info->exact.valid ? &info->exact : &info->req[g];
		/* Any substring of a required string is required too. */
		memset(&keep, 0, sizeof keep);
		keep.valid = true;
		for (i = 0; i < r->n; i++)
			litset_add(&keep, r->v[i].s, r->v[i].len <
			    LITERAL_LEN_MAX ? r->v[i].len : LITERAL_LEN_MAX);
		litset_minimize(&keep);
		/*
		 * Beyond the best group, only a few rare strings pay for
		 * themselves: a common one is found in nearly every text and
		 * costs a walk of its list of rules each time.
		 */
		if (litset_minlen(&keep) <= min ||
		    set->n + keep.n > LITERAL_RULE_MAX || (g > 0 &&
		    (keep.n > LITERAL_MORE_MAX ||
		    litset_minlen(&keep) < LITERAL_MORE_LEN))) {
			litset_free(&keep);
			continue;
		}
		if (litset_minlen(&keep) > longest)
			longest = litset_minlen(&keep);
		set->s = xreallocarray(set->s, set->n + keep.n,
		    sizeof *set->s);
		set->len = xreallocarray(set->len, set->n + keep.n,
		    sizeof *set->len);
		set->group = xreallocarray(set->group, set->n + keep.n,
		    sizeof *set->group);
		for (i = 0; i < keep.n; i++) {
			set->s[set->n] = keep.v[i].s;
			set->len[set->n] = keep.v[i].len;
			set->group[set->n++] = set->ngroups;
		}
		free(keep.v);
		if (squeezed)
			set->squeezed |= 1u << set->ngroups;
		set->ngroups++;
	}
	return longest;
}

/*
 * Put the best group first: the first squeezed one if any (it is longer
 * than every folded one), else the first folded one already is.
 */
static void
literal_set_best_first(struct literal_set *set)
{
	unsigned int q, g, squeezed = 0;
	size_t i;

	for (q = 0; q < set->ngroups; q++)
		if (set->squeezed & (1u << q))
			break;
	if (q == 0 || q == set->ngroups)
		return;
	for (i = 0; i < set->n; i++) {
		g = set->group[i];
		if (g == q)
			set->group[i] = 0;
		else if (g < q)
			set->group[i] = g + 1;
	}
	for (g = 0; g < set->ngroups; g++) {
		if ((set->squeezed & (1u << g)) == 0)
			continue;
		squeezed |= 1u << (g == q ? 0 : g < q ? g + 1 : g);
	}
	set->squeezed = squeezed;
}

bool
literal_extract(const char *pattern, size_t len, const char *flags,
    struct literal_set *set)
{
	struct literal_parse lp;
	struct literal_info info;
	size_t longest = 0;
	int squeeze;

	memset(set, 0, sizeof *set);
	if (strspn(flags, "imsu") != strlen(flags))
		return false;			/* x: whitespace and # */
	for (squeeze = 0; squeeze <= 1; squeeze++) {
		memset(&lp, 0, sizeof lp);
		lp.p = (const unsigned char *)pattern;
		lp.end = lp.p + len;
		lp.squeeze = squeeze;
		lp.caseless = strchr(flags, 'i') != NULL;
		literal_alt(&lp, &info);
		if (lp.fail || lp.p != lp.end) {
			literal_info_free(&info);
			literal_set_free(set);
			return false;
		}
		/*
		 * Squeezed literals only where they are longer than the
		 * folded ones: where they span a \s+ or a [\W_]{0,2}.
		 */
		longest = literal_set_add(set, &info, squeeze, squeeze ?
		    longest : 0);
		literal_info_free(&info);
	}
	literal_set_best_first(set);
	return set->ngroups > 0;
}

void
literal_set_free(struct literal_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->s[i]);
	free(set->s);
	free(set->len);
	free(set->group);
	memset(set, 0, sizeof *set);
}
