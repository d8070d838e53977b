/*
 * The prefilter changes no result: rule sets scored with it and without it
 * give the same hits, counts and totals, on random rules from a grammar of
 * literals, classes, groups, alternations, quantifiers, escapes and flags,
 * on the shipped rules, on the YouTube corpus (when present) and on random
 * texts full of case variants, umlauts, Kelvin signs and long s.  And every
 * single PCRE2 match contains one of the literals extracted for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "comment.h"
#include "fold.h"
#include "literal.h"
#include "log.h"
#include "prefilter.h"
#include "rules.h"
#include "score.h"

#define SEED		0x5eed2024u
#define NPATTERNS	3000	/* for the per-match check */
#define NRULES		1500	/* in the random rule set */
#define NTEXTS		1500

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "."
#endif

static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static unsigned int
rnd(unsigned int n)
{
	return rng() % n;
}

/* A growing string. */
struct buf {
	char	*s;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t len)
{
	while (b->len + len + 1 > b->cap) {
		b->cap = b->cap == 0 ? 256 : b->cap * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/*
 * Characters for patterns, as pattern source: plain, escaped, and the ones
 * with unusual case partners (Kelvin sign, long s, sharp s, Angstrom sign,
 * micro sign, Greek sigma, dotted and dotless i).
 */
static const char *const pat_chars[] = {
	"a", "b", "c", "e", "f", "i", "k", "s", "x", "A", "B", "K", "S", "I",
	"E", " ", "1", "0", "-", "#", ",", "'", "ä", "Ä", "ö", "Ü", "ß", "ẞ",
	"ſ", "\xe2\x84\xaa", "\xe2\x84\xab", "Å", "å", "µ", "Σ", "σ", "ς",
	"é", "É", "İ", "ı", "ÿ", "Ÿ", "\\.", "\\$", "\\/", "\\-", "\\#",
	"\\?", "\\(", "\\*", "\\t", "!", "@", "%",
};
#define NPAT_CHARS (sizeof pat_chars / sizeof pat_chars[0])

/* Inside a class: no ']', '\\', '^' or '-' unescaped. */
static const char *const class_chars[] = {
	"a", "b", "c", "k", "s", "K", "S", "1", "0", "ä", "Ä", "ß", "ſ",
	"\xe2\x84\xaa", "Σ", "µ", "é", "\\]", "\\-", "\\^", ".", "!", "@",
	" ", "\\\\", "$",
};
#define NCLASS_CHARS (sizeof class_chars / sizeof class_chars[0])

static const char *const words[] = {
	"free", "viagra", "casino", "kiss", "sex", "bitcoin", "Kasse",
	"straße", "STRASSE", "grüße", "café", "seo", "link", "click",
	"ask", "ks", "sk", "kk", "ss",
};
#define NWORDS (sizeof words / sizeof words[0])

struct gen {
	unsigned int	 groups;	/* capturing groups so far */
	unsigned int	 names;
};

static void	gen_alt(struct gen *, struct buf *, unsigned int);

static void
gen_class(struct buf *b)
{
	unsigned int n = 1 + rnd(4), i;

	buf_str(b, "[");
	if (rnd(6) == 0)
		buf_str(b, "^");
	for (i = 0; i < n; i++) {
		switch (rnd(10)) {
		case 0:
			buf_str(b, rnd(2) ? "a-c" : "0-9");
			break;
		case 1:
			buf_str(b, rnd(2) ? "\\d" : "\\w");
			break;
		case 2:
			buf_str(b, rnd(2) ? "\\s" : "\\p{Lu}");
			break;
		case 3:
			buf_str(b, rnd(2) ? "\\W" : "_");
			break;
		default:
			buf_str(b, class_chars[rnd(NCLASS_CHARS)]);
			break;
		}
	}
	buf_str(b, "]");
}

static void
gen_quantifier(struct buf *b)
{
	static const char *const q[] = { "?", "*", "+", "{2}", "{0,2}",
	    "{1,3}", "{2,}", "{1}", "{0}", "{1,}" };

	buf_str(b, q[rnd(sizeof q / sizeof q[0])]);
	switch (rnd(6)) {
	case 0:
		buf_str(b, "?");
		break;
	case 1:
		buf_str(b, "+");
		break;
	}
}

static void
gen_item(struct gen *g, struct buf *b, unsigned int depth)
{
	unsigned int r = rnd(100), n, i;
	char name[32];

	if (r < 35)
		buf_str(b, pat_chars[rnd(NPAT_CHARS)]);
	else if (r < 55) {
		n = 2 + rnd(3);
		for (i = 0; i < n; i++)
			buf_str(b, pat_chars[rnd(NPAT_CHARS)]);
	} else if (r < 62)
		buf_str(b, words[rnd(NWORDS)]);
	else if (r < 66) {
		/* Letters apart: v.i.a.g.r.a, as spammers write. */
		static const char *const gaps[] = { "[\\W_]{0,2}", "\\s*",
		    "[\\s._-]*", "\\W?", "[\\s\\W]+", "\\h*", "\\R?" };
		const char *gap = gaps[rnd(sizeof gaps / sizeof gaps[0])];

		n = 2 + rnd(4);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_str(b, gap);
			buf_str(b, pat_chars[rnd(NPAT_CHARS)]);
		}
	} else if (r < 70)
		gen_class(b);
	else if (r < 78) {
		static const char *const esc[] = { "\\w", "\\d", "\\s", "\\W",
		    "\\S", "\\b", "\\B", ".", "\\h", "\\R", "\\X" };

		buf_str(b, esc[rnd(sizeof esc / sizeof esc[0])]);
	} else if (r < 80)
		buf_str(b, rnd(2) ? "^" : "$");
	else if (r < 93 && depth < 3) {
		switch (rnd(9)) {
		case 0:
			buf_str(b, "(");
			g->groups++;
			break;
		case 1:
			snprintf(name, sizeof name, "(?<n%u>", g->names++);
			buf_str(b, name);
			g->groups++;
			break;
		case 2:
			buf_str(b, "(?>");
			break;
		case 3:
			buf_str(b, rnd(2) ? "(?i:" : "(?-i:");
			break;
		case 4:
			buf_str(b, "(?:(?i)");
			break;
		default:
			buf_str(b, "(?:");
			break;
		}
		gen_alt(g, b, depth + 1);
		buf_str(b, ")");
	} else if (r < 96 && depth < 3) {
		switch (rnd(4)) {
		case 0:
			buf_str(b, "(?=");
			gen_alt(g, b, depth + 1);
			break;
		case 1:
			buf_str(b, "(?!");
			gen_alt(g, b, depth + 1);
			break;
		case 2:
			buf_str(b, "(?<=");
			buf_str(b, pat_chars[rnd(NPAT_CHARS)]);
			break;
		default:
			buf_str(b, "(?<!");
			buf_str(b, pat_chars[rnd(NPAT_CHARS)]);
			break;
		}
		buf_str(b, ")");
		return;		/* no quantifier on assertions */
	} else {
		static const char *const odd[] = { "(?i)", "(?-i)", "(?s)",
		    "\\Qa.k\\E", "\\x{4b}", "\\x{212a}", "\\p{L}", "\\1",
		    "\\K", "(?#c)", "a{,2}", "\\N", "\\G" };

		buf_str(b, odd[rnd(sizeof odd / sizeof odd[0])]);
		return;
	}
	if (rnd(4) == 0)
		gen_quantifier(b);
}

static void
gen_seq(struct gen *g, struct buf *b, unsigned int depth)
{
	unsigned int n = 1 + rnd(depth == 0 ? 6 : 3), i;

	for (i = 0; i < n; i++)
		gen_item(g, b, depth);
}

static void
gen_alt(struct gen *g, struct buf *b, unsigned int depth)
{
	unsigned int n = rnd(5) == 0 ? 2 + rnd(3) : 1, i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_str(b, "|");
		/* Now and then an empty branch. */
		if (rnd(30) != 0)
			gen_seq(g, b, depth);
	}
}

static void
gen_flags(char *flags)
{
	size_t n = 0;

	if (rnd(2))
		flags[n++] = 'i';
	if (rnd(10) == 0)
		flags[n++] = 'm';
	if (rnd(10) == 0)
		flags[n++] = 's';
	if (rnd(20) == 0)
		flags[n++] = 'x';
	if (rnd(5) == 0)
		flags[n++] = 'u';
	flags[n] = '\0';
}

static uint32_t
options_of(const char *flags)
{
	uint32_t o = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C;

	if (strchr(flags, 'i') != NULL)
		o |= PCRE2_CASELESS;
	if (strchr(flags, 'm') != NULL)
		o |= PCRE2_MULTILINE;
	if (strchr(flags, 's') != NULL)
		o |= PCRE2_DOTALL;
	if (strchr(flags, 'x') != NULL)
		o |= PCRE2_EXTENDED;
	if (strchr(flags, 'u') != NULL)
		o |= PCRE2_UCP;
	return o;
}

/* A random pattern that PCRE2 compiles; caller frees. */
static char *
gen_pattern(char *flags, pcre2_code **code)
{
	struct gen g;
	struct buf b;
	PCRE2_SIZE erroff;
	int errcode;

	for (;;) {
		memset(&g, 0, sizeof g);
		memset(&b, 0, sizeof b);
		gen_alt(&g, &b, 0);
		gen_flags(flags);
		if (b.len == 0) {
			free(b.s);
			continue;
		}
		*code = pcre2_compile((PCRE2_SPTR)b.s, b.len,
		    options_of(flags), &errcode, &erroff, NULL);
		if (*code != NULL)
			return b.s;
		free(b.s);
	}
}

/*
 * Case variants of the characters a pattern names, mixed with noise: texts
 * that match often, in every spelling PCRE2 treats as the same.
 */
static void
gen_text(struct buf *b, const char *pattern, size_t max)
{
	static const char *const noise[] = { "a", "k", "s", "K", "S", " ",
	    "ä", "Ä", "ß", "ẞ", "ſ", "\xe2\x84\xaa", "\xe2\x84\xab", "å",
	    "Σ", "σ", "ς", "µ", "\xce\xbc", "\xce\x9c", "İ", "ı", "ÿ", "Ÿ",
	    "1", "x", "e", "free", "FREE", ".", "-", "\n", "\t", "!" };
	const char *p = pattern;
	unsigned int cp;
	size_t n;

	while (b->len < max) {
		if (pattern == NULL || rnd(3) == 0) {
			buf_str(b, noise[rnd(sizeof noise / sizeof noise[0])]);
			continue;
		}
		if (*p == '\0')
			p = pattern;
		if (*p == '\\' && p[1] != '\0') {
			if (strchr(".$/-#?(*", p[1]) != NULL)
				buf_add(b, p + 1, 1);
			p += 2;
			continue;
		}
		if (strchr("()[]{}?*+|^$.", *p) != NULL) {
			p++;
			continue;
		}
		/* Now and then something between the letters. */
		if (rnd(8) == 0)
			buf_str(b, rnd(2) ? "." : rnd(2) ? " " : "_");
		n = 1;
		while (((unsigned char)p[n] & 0xc0) == 0x80)
			n++;
		cp = (unsigned char)*p;
		switch (rnd(4)) {
		case 0:
			if (cp == 'k' || cp == 'K')
				buf_str(b, "\xe2\x84\xaa");
			else if (cp == 's' || cp == 'S')
				buf_str(b, "ſ");
			else if (cp >= 'a' && cp <= 'z') {
				char up = (char)(cp - 0x20);

				buf_add(b, &up, 1);
			} else if (n == 2 && cp == 0xc3 && (unsigned char)p[1] >=
			    0xa0) {
				char up[2] = { p[0], (char)(p[1] - 0x20) };

				buf_add(b, up, 2);
			} else if (strncmp(p, "ß", 2) == 0)
				buf_str(b, "ẞ");
			else if (strncmp(p, "Σ", 2) == 0)
				buf_str(b, rnd(2) ? "σ" : "ς");
			else if (strncmp(p, "σ", 2) == 0 ||
			    strncmp(p, "ς", 2) == 0)
				buf_str(b, "Σ");
			else if (strncmp(p, "µ", 2) == 0)
				buf_str(b, rnd(2) ? "\xce\xbc" : "\xce\x9c");
			else
				buf_add(b, p, n);
			break;
		case 1:
			if (cp >= 'A' && cp <= 'Z') {
				char down = (char)(cp + 0x20);

				buf_add(b, &down, 1);
			} else
				buf_add(b, p, n);
			break;
		default:
			buf_add(b, p, n);
			break;
		}
		p += n;
	}
}

/* Every match of code in text must contain a literal of each group. */
static unsigned int
check_matches(const char *pattern, const pcre2_code *code,
    const struct literal_set *set, const char *text, size_t len,
    pcre2_match_data *md)
{
	PCRE2_SIZE start = 0, *ov;
	uint32_t options = 0;
	char *folded;
	size_t n, i;
	unsigned int matches = 0, g;
	int rc;

	while ((rc = pcre2_match(code, (PCRE2_SPTR)text, len, start, options,
	    md, NULL)) > 0) {
		ov = pcre2_get_ovector_pointer(md);
		folded = malloc(ov[1] - ov[0] + 1);
		for (g = 0; g < set->ngroups; g++) {
			if (set->squeezed & (1u << g))
				n = fold_squeeze(text + ov[0], ov[1] - ov[0],
				    folded);
			else
				n = fold_text(text + ov[0], ov[1] - ov[0],
				    folded);
			for (i = 0; i < set->n; i++)
				if (set->group[i] == g && memmem(folded, n,
				    set->s[i], set->len[i]) != NULL)
					break;
			if (i == set->n)
				print_error("/%s/: match \"%.*s\" holds no "
				    "literal of group %u%s\n", pattern,
				    (int)(ov[1] - ov[0]), text + ov[0], g,
				    set->squeezed & (1u << g) ? " (squeezed)" :
				    "");
			assert_true(i < set->n);
		}
		free(folded);
		matches++;
		options = 0;
		if (ov[0] == ov[1]) {
			if (ov[1] >= len)
				break;
			options = PCRE2_NOTEMPTY_ATSTART;
		}
		start = ov[1];
	}
	return matches;
}

static void
test_every_match_holds_a_literal(void **state)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	struct literal_set set;
	pcre2_code *code;
	struct buf text;
	char flags[8], *pattern;
	unsigned int i, t, with = 0, matches = 0;

	(void)state;
	rng_state = SEED;
	for (i = 0; i < NPATTERNS; i++) {
		pattern = gen_pattern(flags, &code);
		if (literal_extract(pattern, strlen(pattern), flags, &set)) {
			with++;
			for (t = 0; t < 20; t++) {
				memset(&text, 0, sizeof text);
				gen_text(&text, t % 5 == 0 ? NULL : pattern,
				    rnd(60));
				if (text.s != NULL)
					matches += check_matches(pattern, code,
					    &set, text.s, text.len, md);
				free(text.s);
			}
			literal_set_free(&set);
		}
		pcre2_code_free(code);
		free(pattern);
	}
	pcre2_match_data_free(md);
	print_message("%u of %u patterns with literals, %u matches checked\n",
	    with, NPATTERNS, matches);
	/* The check must have bitten: many patterns, many matches. */
	assert_true(with > NPATTERNS / 3);
	assert_true(matches > 10000);
}

static bool
pf_add(struct prefilter *pf, size_t rule, uint32_t fields, const char *pattern,
    const char *flags)
{
	return prefilter_add(pf, rule, fields, pattern, strlen(pattern), flags);
}

/* Scan texts as one comment's body and author. */
static void
pf_comment(struct prefilter *pf, const char *body, const char *author)
{
	prefilter_begin(pf);
	if (body != NULL)
		prefilter_scan(pf, CF_BODY, body, strlen(body));
	if (author != NULL)
		prefilter_scan(pf, CF_AUTHOR, author, strlen(author));
	prefilter_end(pf);
}

/* The prefilter's own decisions: groups, fields, rules without literals. */
static void
test_prefilter_api(void **state)
{
	const uint32_t body = 1u << CF_BODY, author = 1u << CF_AUTHOR;
	struct prefilter *pf = prefilter_new();
	size_t i, n;

	(void)state;
	assert_true(pf_add(pf, 0, body, "please\\s+cash\\s+bonus", "i"));
	assert_false(pf_add(pf, 1, body, "\\w+", ""));
	assert_true(pf_add(pf, 2, body | author, "kiss.{0,5}mouth", "i"));
	assert_true(pf_add(pf, 3, author, "KASSE", ""));
	for (i = 4; i < 200; i++)
		assert_true(pf_add(pf, i, body, "zzz\\d", ""));
	assert_true(pf_add(pf, 200, body, "bonus", ""));
	assert_true(pf_add(pf, 201, body,
	    "v[\\W_]{0,2}i[\\W_]{0,2}a[\\W_]{0,2}g[\\W_]{0,2}r[\\W_]{0,2}a", "i"));
	prefilter_build(pf);
	assert_int_equal(prefilter_fields(pf), body | author);

	/* One group missing: no run. */
	pf_comment(pf, "Please send CASH now", NULL);
	assert_false(prefilter_wants(pf, 0));
	assert_true(prefilter_wants(pf, 1));
	assert_false(prefilter_wants(pf, 2));
	assert_false(prefilter_wants(pf, 200));

	/* Every group, in any case and spelling PCRE2 folds alike. */
	pf_comment(pf, "PLEASE cash \xe2\x84\xaaI\xc5\xbfS BONUS", NULL);
	assert_true(prefilter_wants(pf, 0));
	assert_true(prefilter_wants(pf, 200));
	/* "kiss" is there, "mouth" is not. */
	assert_false(prefilter_wants(pf, 2));

	/* A literal in a field the rule does not look at counts for nothing. */
	pf_comment(pf, "kasse", NULL);
	assert_false(prefilter_wants(pf, 3));
	pf_comment(pf, "kasse", "kasse");
	assert_true(prefilter_wants(pf, 3));
	/* Groups seen in different fields of the rule: necessary, enough. */
	pf_comment(pf, "kiss", "mouth");
	assert_true(prefilter_wants(pf, 2));
	pf_comment(pf, "kiss mouth", NULL);
	assert_true(prefilter_wants(pf, 2));

	/* Squeezed: letters apart by dots and blanks, as written. */
	pf_comment(pf, "V.i.A.g_R a!", NULL);
	assert_true(prefilter_wants(pf, 201));
	pf_comment(pf, "v and i and a, g and r and a", NULL);
	assert_false(prefilter_wants(pf, 201));

	/* The next wanted rule, in order. */
	pf_comment(pf, "zzz1 bonus", NULL);
	for (i = 0, n = 0; prefilter_next(pf, &i); i++) {
		assert_true(prefilter_wants(pf, i));
		n++;
	}
	assert_int_equal(n, 1 + 196 + 1);
	i = 199;
	assert_true(prefilter_next(pf, &i));
	assert_int_equal(i, 199);
	i = 201;
	assert_false(prefilter_next(pf, &i));
	prefilter_free(pf);
}

/* Past the automaton's budget, rules run without a prefilter. */
static void
test_prefilter_budget(void **state)
{
	struct prefilter *pf = prefilter_new();
	char pattern[16];
	size_t i, with = 0, literals;

	(void)state;
	for (i = 0; i < 50000; i++) {
		snprintf(pattern, sizeof pattern, "%06zx", i);
		if (pf_add(pf, i, 1u << CF_BODY, pattern, ""))
			with++;
		else
			assert_true(i > 40000);
	}
	assert_true(with > 40000 && with < 50000);
	prefilter_build(pf);
	prefilter_stats(pf, NULL, &literals, NULL);
	assert_int_equal(literals, with);
	pf_comment(pf, "000abc 00c350", NULL);
	assert_true(prefilter_wants(pf, 0xabc));
	assert_false(prefilter_wants(pf, 0xabd));
	assert_true(prefilter_wants(pf, 49999));
	prefilter_free(pf);
}

/*
 * Hand-picked cases: every escape and class next to literals, squeezed
 * and folded, on texts that match.
 */
static void
test_fixed_matches(void **state)
{
	static const struct {
		const char	*pattern, *flags, *text;
	} cases[] = {
		{ "ab\\Scd", "", "abxcd ab5cd" },
		{ "ab\\wcd", "", "abxcd" },
		{ "ab\\dcd", "", "ab5cd" },
		{ "ab\\Dcd", "", "abxcd" },
		{ "ab\\Hcd", "", "abxcd" },
		{ "ab\\Vcd", "", "abxcd" },
		{ "ab\\Ncd", "", "abxcd" },
		{ "ab\\Xcd", "", "abxcd" },
		{ "ab.cd", "s", "abxcd" },
		{ "ab[^z]cd", "", "abxcd" },
		{ "ab\\p{L}cd", "", "abxcd" },
		{ "ab[\\w.]cd", "", "abxcd" },
		{ "ab[\\W_x]cd", "", "abxcd ab_cd ab.cd" },
		{ "ab\\s*cd", "", "ab cd abcd" },
		{ "ab[\\s\\d]cd", "", "ab1cd" },
		{ "a1\\s*b2", "", "a1 b2 A1B2" },
		{ "ab1\\s*cd2", "", "ab1 cd2" },
		{ "k\\W*s\\W*x", "i", "\xe2\x84\xaa.\xc5\xbf.X K S x" },
		{ "KS\\s+X", "", "KS  X" },
		{ "ä\\s*x\\s*ö", "i", "Ä X Ö" },
		{ "\\bcheck\\s+(?:it\\s+|this\\s+)?out\\b", "i",
		    "check this out, CHECK OUT" },
		{ "v[\\W_]{0,2}[i1!|][\\W_]{0,2}a", "i", "v!a v.!.a V|A" },
	};
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	struct literal_set set;
	pcre2_code *code;
	PCRE2_SIZE erroff;
	unsigned int matches;
	size_t i;
	int errcode;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		code = pcre2_compile((PCRE2_SPTR)cases[i].pattern,
		    PCRE2_ZERO_TERMINATED, options_of(cases[i].flags), &errcode,
		    &erroff, NULL);
		assert_non_null(code);
		assert_true(literal_extract(cases[i].pattern,
		    strlen(cases[i].pattern), cases[i].flags, &set));
		matches = check_matches(cases[i].pattern, code, &set,
		    cases[i].text, strlen(cases[i].text), md);
		if (matches == 0)
			print_error("/%s/ does not match \"%s\"\n",
			    cases[i].pattern, cases[i].text);
		assert_true(matches > 0);
		literal_set_free(&set);
		pcre2_code_free(code);
	}
	pcre2_match_data_free(md);
}

/* Score c with the prefilter on and off; the results must agree. */
static void
compare(struct ruleset *rs, const struct comment *c, unsigned int *hits)
{
	struct score on, off;
	size_t i;
	int lon, loff;

	score_init(&on);
	score_init(&off);
	ruleset_set_prefilter(rs, true);
	lon = ruleset_score(rs, c, &on);
	ruleset_set_prefilter(rs, false);
	loff = ruleset_score(rs, c, &off);
	ruleset_set_prefilter(rs, true);

	if (on.nhits != off.nhits) {
		char *a = score_hits_format(&on), *b = score_hits_format(&off);

		print_error("prefilter on: %s\nprefilter off: %s\nbody: %s\n",
		    a, b, c->field[CF_BODY] != NULL ? c->field[CF_BODY] : "");
		free(a);
		free(b);
	}
	assert_int_equal(on.nhits, off.nhits);
	for (i = 0; i < on.nhits; i++) {
		assert_string_equal(on.hits[i].name, off.hits[i].name);
		assert_true(on.hits[i].points == off.hits[i].points);
		assert_int_equal(on.hits[i].count, off.hits[i].count);
	}
	assert_true(on.total == off.total);
	/* A skipped rule cannot hit a match limit; a run one can. */
	assert_true(lon <= loff);
	*hits += (unsigned int)on.nhits;
	score_free(&on);
	score_free(&off);
}

static const char *const field_names[] = { "body", "body", "body", "any",
    "author", "url", "email", "post", "user_agent", "referrer", "ip" };

/* A random rule set; the number of rules with literals in *literal. */
static struct ruleset *
random_rules(unsigned int n, unsigned int *literal)
{
	struct ruleset *rs;
	struct literal_set set;
	struct buf b;
	pcre2_code *code;
	char flags[8], line[64], *pattern, *errors = NULL;
	unsigned int i;

	memset(&b, 0, sizeof b);
	*literal = 0;
	for (i = 0; i < n; i++) {
		pattern = gen_pattern(flags, &code);
		pcre2_code_free(code);
		if (literal_extract(pattern, strlen(pattern), flags, &set)) {
			(*literal)++;
			literal_set_free(&set);
		}
		snprintf(line, sizeof line, "rule R%u %s /", i,
		    field_names[rnd(sizeof field_names /
		    sizeof field_names[0])]);
		buf_str(&b, line);
		buf_str(&b, pattern);
		snprintf(line, sizeof line, "/%s score %s%s\n", flags,
		    rnd(4) == 0 ? "-1.5" : "2", rnd(6) == 0 ? " count>=2" :
		    rnd(12) == 0 ? " count>=4" : "");
		buf_str(&b, line);
		free(pattern);
	}
	rs = ruleset_load_buffer("random.rules", b.s, b.len, &errors);
	if (rs == NULL)
		print_error("%s\n", errors);
	assert_non_null(rs);
	assert_int_equal(ruleset_count(rs), n);
	free(b.s);
	return rs;
}

/* A random comment: texts from patterns of the rule set and noise. */
static void
random_comment(struct ruleset *rs, struct comment *c, struct buf *bufs)
{
	static const enum comment_field fields[] = { CF_BODY, CF_AUTHOR,
	    CF_URL, CF_EMAIL, CF_POST, CF_USER_AGENT, CF_REFERRER, CF_IP };
	struct rule_info ri;
	size_t i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (fields[i] != CF_BODY && rnd(3) == 0)
			continue;
		bufs[i].len = 0;
		ruleset_rule(rs, rnd((unsigned int)ruleset_count(rs)), &ri);
		gen_text(&bufs[i], rnd(4) == 0 ? NULL : ri.pattern,
		    fields[i] == CF_BODY ? rnd(300) : rnd(40));
		if (bufs[i].s == NULL)
			buf_str(&bufs[i], "");
		/* Now and then bytes that are not UTF-8: no rule sees them. */
		if (rnd(50) == 0)
			buf_str(&bufs[i], "\xc3(");
		c->field[fields[i]] = bufs[i].s;
		c->len[fields[i]] = bufs[i].len;
	}
}

static void
test_random_rules(void **state)
{
	struct ruleset *rs;
	struct comment c;
	struct buf bufs[8];
	unsigned int i, literal, hits = 0;

	(void)state;
	log_init("test_prefilter", LOG_LEVEL_ERROR, 0);
	rng_state = SEED + 1;
	rs = random_rules(NRULES, &literal);
	memset(bufs, 0, sizeof bufs);
	for (i = 0; i < NTEXTS; i++) {
		random_comment(rs, &c, bufs);
		compare(rs, &c, &hits);
	}
	for (i = 0; i < 8; i++)
		free(bufs[i].s);
	print_message("%u random rules (%u with literals), %u comments, "
	    "%u hits\n", NRULES, literal, NTEXTS, hits);
	assert_true(literal > NRULES / 3);
	assert_true(hits > NTEXTS);
	ruleset_unref(rs);
}

/* One CSV record of the corpus: AUTHOR and CONTENT (RFC 4180 quoting). */
static bool
csv_record(const char **pp, const char *end, char **author, char **content)
{
	const char *p = *pp;
	struct buf field;
	unsigned int col = 0;
	bool quoted;

	*author = *content = NULL;
	if (p >= end)
		return false;
	for (;;) {
		memset(&field, 0, sizeof field);
		buf_str(&field, "");
		quoted = p < end && *p == '"';
		if (quoted) {
			for (p++; p < end; p++) {
				if (*p == '"' && p + 1 < end && p[1] == '"')
					buf_add(&field, p++, 1);
				else if (*p == '"') {
					p++;
					break;
				} else
					buf_add(&field, p, 1);
			}
		} else
			while (p < end && *p != ',' && *p != '\n' && *p != '\r')
				buf_add(&field, p++, 1);
		if (col == 1)
			*author = field.s;
		else if (col == 3)
			*content = field.s;
		else
			free(field.s);
		col++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
		break;
	}
	*pp = p;
	return true;
}

/* Score every comment of the corpus CSVs in dir; the number scored. */
static unsigned int
score_corpus(struct ruleset *rs, const char *dir, unsigned int *hits)
{
	struct dirent **list;
	struct comment c;
	char path[4096], *data, *author, *content;
	const char *p;
	FILE *f;
	long size;
	int i, n;
	unsigned int scored = 0;

	if ((n = scandir(dir, &list, NULL, alphasort)) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		size_t l = strlen(list[i]->d_name);

		if (l < 4 || strcmp(list[i]->d_name + l - 4, ".csv") != 0) {
			free(list[i]);
			continue;
		}
		snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
		free(list[i]);
		assert_non_null(f = fopen(path, "rb"));
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		rewind(f);
		data = malloc((size_t)size + 1);
		assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
		fclose(f);
		p = data;
		/* Skip the header line. */
		csv_record(&p, data + size, &author, &content);
		free(author);
		free(content);
		while (csv_record(&p, data + size, &author, &content)) {
			memset(&c, 0, sizeof c);
			if (content != NULL) {
				c.field[CF_BODY] = content;
				c.len[CF_BODY] = strlen(content);
			}
			if (author != NULL) {
				c.field[CF_AUTHOR] = author;
				c.len[CF_AUTHOR] = strlen(author);
			}
			compare(rs, &c, hits);
			scored++;
			free(author);
			free(content);
		}
		free(data);
	}
	free(list);
	return scored;
}

static const char *
corpus_dir(void)
{
	const char *dir = getenv("HEINZEL_CORPUS_DIR");

	return dir != NULL ? dir : TEST_SRCDIR "/../shared/data/youtube-spam";
}

static void
test_shipped_rules(void **state)
{
	struct ruleset *rs;
	struct comment c;
	struct buf bufs[8];
	char *errors = NULL;
	unsigned int i, hits = 0, scored;

	(void)state;
	rs = ruleset_load(TEST_SRCDIR "/rules", &errors);
	if (rs == NULL)
		print_error("%s\n", errors);
	assert_non_null(rs);
	rng_state = SEED + 2;
	memset(bufs, 0, sizeof bufs);
	for (i = 0; i < NTEXTS; i++) {
		random_comment(rs, &c, bufs);
		compare(rs, &c, &hits);
	}
	for (i = 0; i < 8; i++)
		free(bufs[i].s);
	scored = score_corpus(rs, corpus_dir(), &hits);
	print_message("shipped rules: %zu rules, %u random comments and %u "
	    "of the corpus, %u hits\n", ruleset_count(rs), NTEXTS, scored,
	    hits);
	assert_true(hits > 0);
	ruleset_unref(rs);
}

static void
test_corpus_random_rules(void **state)
{
	struct ruleset *rs;
	unsigned int literal, hits = 0, scored;

	(void)state;
	rng_state = SEED + 3;
	rs = random_rules(NRULES, &literal);
	scored = score_corpus(rs, corpus_dir(), &hits);
	ruleset_unref(rs);
	if (scored == 0) {
		print_message("no corpus in %s (set HEINZEL_CORPUS_DIR)\n",
		    corpus_dir());
		skip();
	}
	print_message("corpus: %u comments, %u random rules, %u hits\n",
	    scored, NRULES, hits);
	assert_true(scored > 1000);
}

/*
 * The rule sets of the benchmark (../shared/bench-peers/gen_rules.py) when
 * HEINZEL_BENCH_RULES names one of their directories.
 */
static void
test_corpus_bench_rules(void **state)
{
	const char *dir = getenv("HEINZEL_BENCH_RULES");
	struct ruleset *rs;
	char *errors = NULL;
	unsigned int hits = 0, scored;

	(void)state;
	if (dir == NULL) {
		print_message("HEINZEL_BENCH_RULES not set\n");
		skip();
	}
	rs = ruleset_load(dir, &errors);
	if (rs == NULL)
		print_error("%s\n", errors);
	assert_non_null(rs);
	scored = score_corpus(rs, corpus_dir(), &hits);
	print_message("%s: %zu rules, %u comments, %u hits\n", dir,
	    ruleset_count(rs), scored, hits);
	ruleset_unref(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefilter_api),
		cmocka_unit_test(test_prefilter_budget),
		cmocka_unit_test(test_fixed_matches),
		cmocka_unit_test(test_every_match_holds_a_literal),
		cmocka_unit_test(test_random_rules),
		cmocka_unit_test(test_shipped_rules),
		cmocka_unit_test(test_corpus_random_rules),
		cmocka_unit_test(test_corpus_bench_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
