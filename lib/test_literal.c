/* Unit tests for literal extraction, folding and the Aho-Corasick scan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "acscan.h"
#include "fold.h"
#include "literal.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The literals of a pattern: each group sorted and joined by '|', groups
 * in order joined by " & "; "-" for none.
 */
static char *
extract(const char *pattern, const char *flags)
{
	struct literal_set set;
	char *out, **group;
	size_t i, n = 2, k;
	unsigned int g;

	if (!literal_extract(pattern, strlen(pattern), flags, &set))
		return strdup("-");
	assert_true(set.n > 0);
	assert_true(set.ngroups >= 1 && set.ngroups <= LITERAL_GROUPS);
	for (i = 0; i < set.n; i++) {
		assert_int_equal(strlen(set.s[i]), set.len[i]);
		assert_true(set.len[i] > 0);
		assert_true(set.group[i] < set.ngroups);
		n += set.len[i] + 4;
	}
	out = calloc(1, n);
	group = calloc(set.n, sizeof *group);
	for (g = 0; g < set.ngroups; g++) {
		for (i = 0, k = 0; i < set.n; i++)
			if (set.group[i] == g)
				group[k++] = set.s[i];
		assert_true(k > 0);
		qsort(group, k, sizeof *group, cmp_str);
		if (g > 0)
			strcat(out, " & ");
		if (set.squeezed & (1u << g))
			strcat(out, "~");
		for (i = 0; i < k; i++) {
			if (i > 0)
				strcat(out, "|");
			strcat(out, group[i]);
		}
	}
	free(group);
	literal_set_free(&set);
	return out;
}

static void
expect(const char *pattern, const char *flags, const char *want)
{
	char *got = extract(pattern, flags);

	if (strcmp(got, want) != 0)
		print_error("/%s/%s: got \"%s\", want \"%s\"\n", pattern, flags,
		    got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
test_extract_sequences(void **state)
{
	(void)state;
	expect("viagra", "", "viagra");
	expect("VIAGRA", "", "viagra");		/* folded, still required */
	expect("\\bfree\\s+(?:amazon)\\b", "i", "amazon & free");
	expect("\\bfree\\s+amazon\\b", "i", "amazon & free");
	expect("\\d+ dollars", "", " dolla");
	expect("colou?r", "", "color|colour");
	expect("ab?c", "", "abc|ac");
	expect("(?:abc)+d", "", "abc");
	expect("(?:abc)+\\w", "", "abc");
	expect("x{0,3}abc", "", "abc");
	expect("x{2}abc", "", "abc");
	expect("abc{2}d", "", "ab");
	expect("a*", "", "-");
	expect("(?:abc)*", "", "-");
	expect("(?:abc)?", "", "-");
	expect("\\w+", "", "-");
	expect("^$", "", "-");
	expect("\\b", "", "-");
	expect("(?s)foo.bar", "", "foo & bar");
	expect("foo.barbaz", "", "barbaz & foo");
	expect("\\.com\\b", "i", ".com");
	expect("https?:\\/\\/", "i", "http:/|https:");
	expect("a\\tb", "", "a\tb");
	/* Every candidate is required: the best four together. */
	expect("please\\s+double\\s+your\\s+money\\s+now\\s+ok", "",
	    "please & double & money & your");
	expect("(?:please\\s+cash)?\\s+bonus", "", "bonus");
	expect("(?:please\\s+cash)+\\s+bonus", "",
	    "please & bonus & cash");
	/* Further groups only when rare: three bytes, a few strings. */
	expect("ab.cdef", "", "cdef");
	expect("abc.cdef.[a-h]x[a-h]y", "", "cdef & abc");
	/* Squeezed: across blanks and punctuation, best first. */
	expect("\\bv[\\W_]{0,2}i[\\W_]{0,2}a[\\W_]{0,2}g[\\W_]{0,2}r[\\W_]{0,2}a\\b",
	    "i", "~viagra & v");
	expect("c[\\s._-]*o[\\s._-]*d[\\s._-]*e", "", "~code & c");
	expect("ab\\s*K\\s*S\\s*cd", "", "~abkscd & ab");
	/* Caseless k and s may be the Kelvin sign and the long s. */
	expect("ab\\s*K\\s*S\\s*cd", "i", "~abcd|abkcd|abkscd|abscd & ab");
	expect("ab\\h+cd\\v?ef\\R+gh", "", "~abcdef & ab");
	expect("über\\s+alles", "i", "~berall & über & alles");
	expect("foo\\w+bar", "", "foo & bar");
	expect("x[\\s\\d]y", "", "x");
	/* A set is minimal: where "sub" occurs, so does "subs". */
	expect("sub|subs|xsub", "", "sub");
	expect("(?:buy|order) (?:cheap )?pills", "",
	    "buy ch|buy pi|order ");
	/* Long literals: any prefix of a required string is required. */
	expect("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "", "abcdef");
}

static void
test_extract_alternations(void **state)
{
	(void)state;
	expect("foo|bar", "", "bar|foo");
	expect("foo|\\w+", "", "-");
	expect("foo|", "", "-");
	expect("(?:a|)b", "", "b");
	expect("x(?:care|service)y", "", "xcarey|xservi");
	expect("\\bcustomer\\s+(?:care|service)\\b", "i", "custom & care|servic");
	expect("\\b(?:SEO\\s+agency|link\\s?building)\\b", "i", "agency|buildi");
	expect("(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
	    "twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen)",
	    "", "eight|eleven|fiftee|five|four|nine|one|seven|six|ten|"
	    "thirte|three|twelve|two");
	/* Over the limit of alternatives: none. */
	{
		char many[512];
		size_t n = 0;
		int i;

		for (i = 0; i < 70; i++)
			n += (size_t)snprintf(many + n, sizeof many - n, "%sq%02d",
			    i > 0 ? "|" : "", i);
		expect(many, "", "-");
	}
}

static void
test_extract_classes(void **state)
{
	(void)state;
	expect("[a4@]b", "", "4b|@b|ab");
	expect("v[i1!|]agr[a@4]", "i",
	    "v!agr4|v!agr@|v!agra|v1agr4|v1agr@|v1agra|viagr4|viagr@|viagra|"
	    "v|agr4|v|agr@|v|agra");
	expect("[^a]bc", "", "bc");
	expect("[a-c]xyz", "", "xyz");
	expect("[-a]xyz", "", "-xyz|axyz");
	expect("[a-]xyz", "", "-xyz|axyz");
	expect("[]a]b", "", "]b|ab");
	expect("[\\]]b", "", "]b");
	expect("[\\w.]xyz", "", "xyz");
	expect("[[:alpha:]]xyz", "", "-");
	expect("[\\x41]xyz", "", "-");
	expect("[abcdefghij]xyz", "", "xyz");
	expect("[Kk]elvin", "", "kelvin");
}

static void
test_extract_groups(void **state)
{
	(void)state;
	expect("(?=abc)def", "", "def");
	expect("(?!abc)def", "", "def");
	expect("(?<=abc)d", "", "d");
	expect("(?<!abc)d", "", "d");
	expect("(?<name>hello) world", "", "hello ");
	expect("(?P<name>hello) world", "", "hello ");
	expect("(?'name'hello) world", "", "hello ");
	expect("(?>atomic)x", "", "atomic");
	expect("(capture)x", "", "captur");
	expect("(?i:abc)def", "", "abcdef");
	expect("(?-i:com)x", "i", "comx");
	expect("(?s)a.b", "", "a");
	/* Syntax the reader does not follow: the rule always runs. */
	expect("\\Qabc\\E", "", "-");
	expect("(a)\\1", "", "-");
	expect("(?<n>a)\\k<n>", "", "-");
	expect("(*UTF)abc", "", "-");
	expect("(?|a|b)", "", "-");
	expect("(?#note)abc", "", "-");
	expect("(?(1)a|b)", "", "-");
	expect("a(?R)?b", "", "-");
	expect("(?x)a b", "", "-");
	expect("abc", "x", "-");
	expect("a{,3}bc", "", "-");
	expect("a{ 1}bc", "", "-");
	expect("abc\\K", "", "-");
	expect("\\x{41}bc", "", "-");
	expect("\\N{U+41}bc", "", "-");
	expect("a\\pLbc", "", "bc");
	expect("a\\p{Lu}bcd", "", "bcd");
	expect("a\\P{^Lu}bcd", "", "bcd");
	expect("abc)", "", "-");
}

static void
test_extract_case(void **state)
{
	(void)state;
	expect("KISS", "i", "kiss");
	expect("Straße", "i", "straß");
	expect("STRAẞE", "i", "straß");
	expect("ÄRGER", "i", "ärger");
	expect("ÄRGER", "", "ärger");
	/* Greek has case partners the fold leaves alone. */
	expect("ΣΟΦΙΑ", "i", "-");
	expect("ΣΟΦΙΑ", "", "ΣΟΦ");
	expect("abΣcd", "i", "ab");
	expect("(?i)abΣcd", "", "ab");
	expect("abΣcd(?i)", "", "abΣcd");
	expect("1µg", "i", "1");
	expect("[aΣ]bc", "i", "bc");
	expect("[aΣ]bc", "", "abc|Σbc");
}

static void
test_fold(void **state)
{
	const char *in = "ABC xyz ÄÖÜ äöü ẞ ß \xe2\x84\xaa K \xc5\xbf \xc5\xb8 "
	    "\xe2\x84\xab × ÷ Σ µ";
	const char *want = "abc xyz äöü äöü ß ß k k s ÿ å × ÷ Σ µ";
	char out[128];
	size_t n;

	(void)state;
	n = fold_text(in, strlen(in), out);
	assert_true(n <= strlen(in));
	out[n] = '\0';
	assert_string_equal(out, want);
	/* Invalid UTF-8 is copied as it is. */
	n = fold_text("\xc3", 1, out);
	assert_int_equal(n, 1);
	assert_int_equal((unsigned char)out[0], 0xc3);
	n = fold_text("\xe2\x84", 2, out);
	assert_int_equal(n, 2);
	assert_int_equal(fold_cp(0x212a), 'k');
	assert_int_equal(fold_cp('S'), 's');
	assert_int_equal(fold_cp(0xd7), 0xd7);
}

static size_t
encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t
decode(const unsigned char *s)
{
	if (s[0] < 0x80)
		return s[0];
	if (s[0] < 0xe0)
		return ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
	if (s[0] < 0xf0)
		return ((uint32_t)(s[0] & 0x0f) << 12) |
		    ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
	return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
	    ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

/*
 * The proof behind caseless literals: for every character the extractor
 * takes in a caseless pattern, PCRE2 (UTF, with and without UCP) matches
 * it caselessly only against characters of the same fold, searched over
 * all of Unicode.  Conversely every character of the same fold must match,
 * or the fold would be needlessly coarse (a wasted PCRE2 call, no error):
 * checked too, to keep the fold honest.
 */
static void
test_caseless_proof(void **state)
{
	static const uint32_t extra[] = { 0x178, 0x17f, 0x1e9e, 0x212a,
	    0x212b };
	static const uint32_t options[] = { PCRE2_UTF | PCRE2_CASELESS,
	    PCRE2_UTF | PCRE2_CASELESS | PCRE2_UCP };
	unsigned char *all, pat[32], *p;
	uint32_t cp, c, *chars, partners_seen;
	size_t len = 0, nchars = 0, i, o, k, n;
	pcre2_code *code;
	pcre2_match_data *md;
	PCRE2_SIZE erroff, start, *ov;
	int errcode, rc;

	(void)state;
	all = malloc(0x110000 * 4);
	for (cp = 1; cp < 0x110000; cp++)
		if (cp < 0xd800 || cp > 0xdfff)
			len += encode(cp, all + len);
	chars = malloc(300 * sizeof *chars);
	for (cp = 0; cp < 0x100; cp++)
		if (fold_caseless_safe(cp))
			chars[nchars++] = cp;
	for (i = 0; i < sizeof extra / sizeof extra[0]; i++) {
		assert_true(fold_caseless_safe(extra[i]));
		chars[nchars++] = extra[i];
	}
	/* A few the extractor must refuse. */
	assert_false(fold_caseless_safe(0xb5));
	assert_false(fold_caseless_safe(0x3a3));
	assert_false(fold_caseless_safe(0x130));
	assert_false(fold_caseless_safe(0x131));

	md = pcre2_match_data_create(1, NULL);
	for (o = 0; o < sizeof options / sizeof options[0]; o++) {
		for (k = 0; k < nchars; k++) {
			c = chars[k];
			if (c == 0)
				continue;	/* the subject has no NUL */
			n = (size_t)snprintf((char *)pat, sizeof pat,
			    "\\x{%x}", c);
			code = pcre2_compile(pat, n, options[o], &errcode,
			    &erroff, NULL);
			assert_non_null(code);
			pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
			start = 0;
			partners_seen = 0;
			while ((rc = pcre2_match(code, all, len, start, 0, md,
			    NULL)) > 0) {
				ov = pcre2_get_ovector_pointer(md);
				p = all + ov[0];
				cp = decode(p);
				if (fold_cp(cp) != fold_cp(c))
					print_error("U+%04X matches U+%04X "
					    "caselessly, folds differ\n", c, cp);
				assert_int_equal(fold_cp(cp),
				    fold_cp(c));
				partners_seen++;
				start = ov[1];
			}
			assert_int_equal(rc, PCRE2_ERROR_NOMATCH);
			assert_true(partners_seen >= 1);
			/* Every character of the same fold matches. */
			for (cp = 1; cp < 0x2200; cp++) {
				unsigned char one[4];

				if (fold_cp(cp) != fold_cp(c))
					continue;
				n = encode(cp, one);
				assert_true(pcre2_match(code, one, n, 0, 0, md,
				    NULL) > 0);
			}
			pcre2_code_free(code);
		}
	}
	pcre2_match_data_free(md);
	free(chars);
	free(all);
}

struct found {
	unsigned int	 counts[64];
};

static void
found_cb(unsigned int id, void *arg)
{
	struct found *f = arg;

	assert_true(id < 64);
	f->counts[id]++;
}

static size_t
count_naive(const char *text, size_t len, const char *s, size_t slen)
{
	size_t i, n = 0;

	for (i = 0; i + slen <= len; i++)
		if (memcmp(text + i, s, slen) == 0)
			n++;
	return n;
}

static void
test_acscan_basic(void **state)
{
	struct acscan *ac = acscan_new();
	struct found f;
	const char *text = "ushers she said, he has his hers";

	(void)state;
	assert_int_equal(acscan_add(ac, "he", 2), 0);
	assert_int_equal(acscan_add(ac, "she", 3), 1);
	assert_int_equal(acscan_add(ac, "his", 3), 2);
	assert_int_equal(acscan_add(ac, "hers", 4), 3);
	assert_int_equal(acscan_add(ac, "she", 3), 1);	/* again */
	assert_int_equal(acscan_count(ac), 4);
	acscan_compile(ac);
	memset(&f, 0, sizeof f);
	acscan_scan(ac, text, strlen(text), found_cb, &f);
	assert_int_equal(f.counts[0], 4);
	assert_int_equal(f.counts[1], 2);
	assert_int_equal(f.counts[2], 1);
	assert_int_equal(f.counts[3], 2);
	assert_true(acscan_states(ac) > 1);
	acscan_free(ac);

	/* No strings: nothing found, no crash. */
	ac = acscan_new();
	acscan_compile(ac);
	memset(&f, 0, sizeof f);
	acscan_scan(ac, text, strlen(text), found_cb, &f);
	assert_int_equal(f.counts[0], 0);
	acscan_free(ac);
}

/* Random strings over a small alphabet against a naive search. */
static void
test_acscan_random(void **state)
{
	static const char alphabet[] = "abc\xc3\xa4\x00\xff";
	char strs[64][8], text[512];
	size_t lens[64], n, i, j, round, tlen;
	unsigned int ids[64];
	struct acscan *ac;
	struct found f;

	(void)state;
	srandom(7);
	for (round = 0; round < 300; round++) {
		ac = acscan_new();
		n = 1 + (size_t)random() % 60;
		for (i = 0; i < n; i++) {
			lens[i] = 1 + (size_t)random() % 6;
			for (j = 0; j < lens[i]; j++)
				strs[i][j] = alphabet[random() % 7];
			ids[i] = acscan_add(ac, strs[i], lens[i]);
		}
		acscan_compile(ac);
		tlen = (size_t)random() % sizeof text;
		for (j = 0; j < tlen; j++)
			text[j] = alphabet[random() % 7];
		memset(&f, 0, sizeof f);
		acscan_scan(ac, text, tlen, found_cb, &f);
		for (i = 0; i < n; i++) {
			/* Repeats share an id: count each once. */
			for (j = 0; j < i; j++)
				if (ids[j] == ids[i])
					break;
			if (j < i)
				continue;
			assert_int_equal(f.counts[ids[i]],
			    count_naive(text, tlen, strs[i], lens[i]));
		}
		acscan_free(ac);
	}
}

/* A map that lowers and skips: like scanning the mapped text. */
static void
test_acscan_map(void **state)
{
	static const char alphabet[] = "aAbB-1 \xc3";
	char strs[32][6], text[300], mapped[300];
	size_t lens[32], n, i, j, round, tlen, mlen;
	unsigned int ids[32];
	int map[256], b;
	struct acscan *ac;
	struct found f, want;

	(void)state;
	for (b = 0; b < 256; b++)
		map[b] = b >= 'A' && b <= 'Z' ? b + 0x20 : b == '-' ||
		    b == ' ' ? -1 : b;
	srandom(11);
	for (round = 0; round < 300; round++) {
		ac = acscan_new();
		acscan_map(ac, map);
		n = 1 + (size_t)random() % 30;
		for (i = 0; i < n; i++) {
			/* Strings in the mapped alphabet. */
			lens[i] = 1 + (size_t)random() % 5;
			for (j = 0; j < lens[i]; j++)
				strs[i][j] = "ab1\xc3"[random() % 4];
			ids[i] = acscan_add(ac, strs[i], lens[i]);
		}
		acscan_compile(ac);
		tlen = (size_t)random() % sizeof text;
		for (j = 0, mlen = 0; j < tlen; j++) {
			text[j] = alphabet[random() % 8];
			b = map[(unsigned char)text[j]];
			if (b >= 0)
				mapped[mlen++] = (char)b;
		}
		memset(&f, 0, sizeof f);
		acscan_scan(ac, text, tlen, found_cb, &f);
		memset(&want, 0, sizeof want);
		for (i = 0; i < n; i++)
			want.counts[ids[i]] = (unsigned int)count_naive(mapped,
			    mlen, strs[i], lens[i]);
		for (i = 0; i < n; i++)
			assert_int_equal(f.counts[ids[i]], want.counts[ids[i]]);
		acscan_free(ac);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_sequences),
		cmocka_unit_test(test_extract_alternations),
		cmocka_unit_test(test_extract_classes),
		cmocka_unit_test(test_extract_groups),
		cmocka_unit_test(test_extract_case),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_caseless_proof),
		cmocka_unit_test(test_acscan_basic),
		cmocka_unit_test(test_acscan_random),
		cmocka_unit_test(test_acscan_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
