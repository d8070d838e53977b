/* Unit tests for the strict UTF-8 checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "utf8.h"

#define S(lit)	(lit), (sizeof(lit) - 1)

static void
test_valid(void **state)
{
	(void)state;
	assert_true(utf8_valid(S("")));
	assert_true(utf8_valid(S("plain ASCII, longer than a word")));
	assert_true(utf8_valid(S("Grüße aus Köln, Straße")));
	assert_true(utf8_valid(S("\xf0\x9f\x98\x80 emoji")));	/* U+1F600 */
	assert_true(utf8_valid(S("\xe2\x82\xac")));		/* U+20AC */
	assert_true(utf8_valid(S("\xef\xbf\xbf")));		/* U+FFFF */
	assert_true(utf8_valid(S("\xf4\x8f\xbf\xbf")));	/* U+10FFFF */
	assert_true(utf8_valid(S("\xed\x9f\xbf")));		/* U+D7FF */
	assert_true(utf8_valid(S("\xee\x80\x80")));		/* U+E000 */
	/* Controls are well-formed UTF-8. */
	assert_true(utf8_valid("a\0b", 3));
	assert_true(utf8_valid(S("\x01\x7f\xc2\x80")));
}

static void
test_invalid(void **state)
{
	(void)state;
	/* Overlong '/'. */
	assert_false(utf8_valid(S("\xc0\xaf")));
	assert_false(utf8_valid(S("\xc1\xbf")));
	assert_false(utf8_valid(S("\xe0\x80\xaf")));
	assert_false(utf8_valid(S("\xe0\x9f\xbf")));
	assert_false(utf8_valid(S("\xf0\x80\x80\xaf")));
	assert_false(utf8_valid(S("\xf0\x8f\xbf\xbf")));
	assert_false(utf8_valid(S("\xed\xa0\x80")));		/* U+D800 */
	assert_false(utf8_valid(S("\xed\xbf\xbf")));		/* U+DFFF */
	assert_false(utf8_valid(S("\xf4\x90\x80\x80")));	/* U+110000 */
	assert_false(utf8_valid(S("\xf5\x80\x80\x80")));
	assert_false(utf8_valid(S("\xf8\x88\x80\x80\x80")));
	assert_false(utf8_valid(S("\xfe")));
	assert_false(utf8_valid(S("\xff")));
	/* A lone continuation byte. */
	assert_false(utf8_valid(S("\x80")));
	assert_false(utf8_valid(S("abc\xbf")));
	/* Truncated sequences, at the end and in the middle. */
	assert_false(utf8_valid(S("\xc3")));
	assert_false(utf8_valid(S("\xe2\x82")));
	assert_false(utf8_valid(S("\xf0\x9f\x98")));
	assert_false(utf8_valid(S("\xc3" "a")));
	assert_false(utf8_valid(S("\xe2\x82" "abcdefgh")));
	/* After a long ASCII run (the fast path) and inside it. */
	assert_false(utf8_valid(S("0123456789abcdef\xc0\xaf")));
	assert_false(utf8_valid(S("01234567\xff" "9abcdef0123")));
	/* The length is respected: the bad byte lies beyond it. */
	assert_true(utf8_valid("abc\xff", 3));
	assert_false(utf8_valid("\xc3\xbc", 1));
}

static void
test_text(void **state)
{
	(void)state;
	assert_true(utf8_valid_text(S("Hallo Welt, schöne Grüße!"), false));
	assert_true(utf8_valid_text(S("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"),
	    false));
	/* Zero-width space and joiner, BOM, NBSP: allowed. */
	assert_true(utf8_valid_text(S("a\xe2\x80\x8b" "b\xe2\x80\x8d" "c"),
	    false));
	assert_true(utf8_valid_text(S("\xef\xbb\xbf" "x\xc2\xa0y"), false));

	/* NUL and C0. */
	assert_false(utf8_valid_text("a\0b", 3, true));
	assert_false(utf8_valid_text("a\0b", 3, false));
	assert_false(utf8_valid_text(S("bell\a"), true));
	assert_false(utf8_valid_text(S("\x1b[31mred"), true));
	assert_false(utf8_valid_text(S("0123456789abcdef\x1f"), true));
	assert_false(utf8_valid_text(S("form\ffeed"), true));
	assert_false(utf8_valid_text(S("vertical\vtab"), true));

	/* \t \n \r only in multiline text. */
	assert_true(utf8_valid_text(S("one\r\ntwo\n\tindented"), true));
	assert_false(utf8_valid_text(S("line one\nline two"), false));
	assert_false(utf8_valid_text(S("tab\there"), false));
	assert_false(utf8_valid_text(S("cr\r"), false));
	assert_false(utf8_valid_text(S("a long line then a newline\n"), false));

	/* DEL and C1 (U+0080..U+009F); U+00A0 is the first one allowed. */
	assert_false(utf8_valid_text(S("del\x7f"), true));
	assert_false(utf8_valid_text(S("0123456789\x7f" "abcdef"), true));
	assert_false(utf8_valid_text(S("\xc2\x80"), true));
	assert_false(utf8_valid_text(S("x\xc2\x85y"), true));	/* NEL */
	assert_false(utf8_valid_text(S("\xc2\x9f"), true));
	assert_true(utf8_valid_text(S("\xc2\xa0"), false));

	/* Ill-formed input is never valid text. */
	assert_false(utf8_valid_text(S("\xc0\xaf"), true));
	assert_false(utf8_valid_text(S("\xed\xa0\x80"), true));
	assert_false(utf8_valid_text(S("\xf5\x80\x80\x80"), true));
	assert_false(utf8_valid_text(S("ok\xe2\x82"), true));
	assert_true(utf8_valid_text(S(""), false));
}

static void
test_decode(void **state)
{
	unsigned int cp = 0;

	(void)state;
	assert_int_equal(utf8_decode(S("A"), &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode(S("\xc3\xbc"), &cp), 2);
	assert_int_equal(cp, 0xfc);
	assert_int_equal(utf8_decode(S("\xe2\x82\xac"), &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(utf8_decode(S("\xf0\x9f\x98\x80"), &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(utf8_decode(S("\xf4\x8f\xbf\xbf"), &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(utf8_decode("", 0, &cp), 0);
	assert_int_equal(utf8_decode(S("\xc0\x80"), &cp), 0);
	assert_int_equal(utf8_decode(S("\xed\xa0\x80"), &cp), 0);
	assert_int_equal(utf8_decode(S("\xf4\x90\x80\x80"), &cp), 0);
	assert_int_equal(utf8_decode("\xe2\x82\xac", 2, &cp), 0);
}

static void
test_length(void **state)
{
	char buf[1000];
	size_t i;

	(void)state;
	assert_int_equal(utf8_length(S("")), 0);
	assert_int_equal(utf8_length(S("abc")), 3);
	assert_int_equal(utf8_length(S("Grüße")), 5);
	assert_int_equal(utf8_length(S("Grüße aus Köln, Straße")), 22);
	assert_int_equal(utf8_length(S("\xf0\x9f\x98\x80\xe2\x82\xac")), 2);
	/* Long enough to use the word loop, with a ragged tail. */
	for (i = 0; i + 2 <= 999; i += 2)
		memcpy(buf + i, "\xc3\xa4", 2);
	buf[998] = 'x';
	assert_int_equal(utf8_length(buf, 999), 500);
}

/* Encode cp the textbook way, for the exhaustive checks. */
static size_t
encode(unsigned int cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every code point round-trips; surrogates never do. */
static void
test_every_code_point(void **state)
{
	unsigned char buf[4];
	unsigned int cp, got;
	size_t n;
	bool surrogate, control;

	(void)state;
	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = encode(cp, buf);
		surrogate = cp >= 0xd800 && cp <= 0xdfff;
		control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
		if (utf8_valid((char *)buf, n) == surrogate)
			fail_msg("utf8_valid wrong for U+%04X", cp);
		if (surrogate)
			continue;
		got = 0;
		if (utf8_decode((char *)buf, n, &got) != n || got != cp)
			fail_msg("utf8_decode wrong for U+%04X", cp);
		if (utf8_valid_text((char *)buf, n, false) == control)
			fail_msg("utf8_valid_text wrong for U+%04X", cp);
		if (utf8_length((char *)buf, n) != 1)
			fail_msg("utf8_length wrong for U+%04X", cp);
	}
}

/*
 * Of all 2- and 3-byte strings exactly the well-formed ones are valid:
 * count them.  2 bytes: 128^2 ASCII pairs + 30 * 64 two-byte forms.
 * 3 bytes: 128^3 + 2 * 128 * 1920 + (0xf800 - 0x800) three-byte forms.
 */
static void
test_count_short_strings(void **state)
{
	unsigned char b[3];
	unsigned long n2 = 0, n3 = 0;
	unsigned int i;

	(void)state;
	for (i = 0; i < 1U << 16; i++) {
		b[0] = (unsigned char)(i >> 8);
		b[1] = (unsigned char)i;
		n2 += utf8_valid((char *)b, 2);
	}
	assert_int_equal(n2, 128 * 128 + 30 * 64);
	for (i = 0; i < 1U << 24; i++) {
		b[0] = (unsigned char)(i >> 16);
		b[1] = (unsigned char)(i >> 8);
		b[2] = (unsigned char)i;
		n3 += utf8_valid((char *)b, 3);
	}
	assert_int_equal(n3, 128UL * 128 * 128 + 2 * 128 * 1920 +
	    (0xf800 - 0x800));
}

/* The slow way: one code point at a time. */
static bool
ref_valid(const char *s, size_t len, int text, bool multiline)
{
	unsigned int cp;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return false;
		if (text && (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) &&
		    !(multiline && (cp == '\t' || cp == '\n' || cp == '\r')))
			return false;
		i += n;
	}
	return true;
}

/* The word-at-a-time fast paths agree with the slow way. */
static void
test_fast_paths(void **state)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "~", "abcdefgh", "\t", "\n", "\r", "\x1f",
		"\x7f", "\x01", "\xc2\x80", "\xc3\xbc", "\xe2\x82\xac",
		"\xf0\x9f\x98\x80", "\xc0", "\x80", "\xed\xa0\x80", "\xff",
	};
	char buf[256];
	size_t len, n, i, j, k;
	unsigned int seed = 1, cp;

	(void)state;
	for (i = 0; i < 200000; i++) {
		len = 0;
		k = 1 + (i % 24);
		for (j = 0; j < k; j++) {
			seed = seed * 1103515245 + 12345;
			/* Mostly ASCII, so the fast paths get to run. */
			n = (seed >> 16) % 64;
			if (n >= sizeof pieces / sizeof pieces[0])
				n = n % 5;
			memcpy(buf + len, pieces[n], strlen(pieces[n]));
			len += strlen(pieces[n]);
		}
		assert_int_equal(utf8_valid(buf, len),
		    ref_valid(buf, len, 0, 0));
		assert_int_equal(utf8_valid_text(buf, len, false),
		    ref_valid(buf, len, 1, false));
		assert_int_equal(utf8_valid_text(buf, len, true),
		    ref_valid(buf, len, 1, true));
		if (utf8_valid(buf, len)) {
			for (n = 0, j = 0; j < len; n++)
				j += utf8_decode(buf + j, len - j, &cp);
			assert_int_equal(utf8_length(buf, len), n);
		}
	}
}

static void
test_encode(void **state)
{
	unsigned int cp, back;
	char buf[4];
	size_t n;

	(void)state;
	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = utf8_encode(cp, buf);
		assert_int_equal(utf8_decode(buf, n, &back), n);
		assert_int_equal(back, cp);
		assert_int_equal(n, cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_count_short_strings),
		cmocka_unit_test(test_fast_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
