/* Unit tests for the math captcha. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "captcha.h"

/* Read "a OP b =" back; returns the result, or fails the test. */
static int
eval_question(const char *q, int *a, int *b, char *op)
{
	char sym[8];
	int n = 0;

	if (sscanf(q, "%d %7s %d =%n", a, sym, b, &n) != 3 || n == 0 ||
	    q[n] != '\0')
		fail_msg("question \"%s\" does not parse", q);
	if (strcmp(sym, "+") == 0) {
		*op = '+';
		return *a + *b;
	}
	if (strcmp(sym, "-") == 0) {
		*op = '-';
		return *a - *b;
	}
	if (strcmp(sym, "\xc3\x97") == 0) {
		*op = '*';
		return *a * *b;
	}
	fail_msg("question \"%s\": unknown operator", q);
	return -1;
}

/* Split "w1 OP w2" (w1, w2 without spaces) and parse both words. */
static void
check_question_text(const char *text, enum captcha_lang lang, int a, int b,
    char op)
{
	char w1[64], opw[16], w2[64];
	const char *want;

	if (sscanf(text, "%63s %15s %63s", w1, opw, w2) != 3)
		fail_msg("question_text \"%s\" does not parse", text);
	assert_int_equal(captcha_parse_answer(w1), a);
	assert_int_equal(captcha_parse_answer(w2), b);
	switch (op) {
	case '+':
		want = "plus";
		break;
	case '-':
		want = "minus";
		break;
	default:
		want = lang == CAPTCHA_LANG_DE ? "mal" : "times";
		break;
	}
	assert_string_equal(opw, want);
}

static int
hex_only(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static void
test_generate(void **state)
{
	struct captcha c, prev;
	enum captcha_lang lang;
	int i, a, b, seen[3] = { 0, 0, 0 };
	char op = 0;

	(void)state;
	memset(&prev, 0, sizeof prev);
	for (i = 0; i < 10000; i++) {
		lang = i % 2 ? CAPTCHA_LANG_EN : CAPTCHA_LANG_DE;
		captcha_generate(&c, lang);
		assert_int_equal(strlen(c.id), CAPTCHA_ID_LEN);
		assert_true(hex_only(c.id));
		assert_true(captcha_id_valid(c.id));
		assert_string_not_equal(c.id, prev.id);
		assert_in_range(c.answer, 0, 100);
		assert_int_equal(eval_question(c.question, &a, &b, &op),
		    c.answer);
		assert_in_range(a, 0, 19);
		assert_in_range(b, 0, 19);
		seen[op == '+' ? 0 : op == '-' ? 1 : 2]++;
		check_question_text(c.question_text, lang, a, b, op);
		prev = c;
	}
	/* All three kinds of question come up. */
	assert_true(seen[0] > 2000 && seen[1] > 2000 && seen[2] > 2000);
}

static void
test_question_format(void **state)
{
	struct captcha c;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		captcha_generate(&c, CAPTCHA_LANG_DE);
		if (strstr(c.question, "\xc3\x97") != NULL)
			break;
	}
	assert_non_null(strstr(c.question, " \xc3\x97 "));
	assert_non_null(strstr(c.question_text, " mal "));
}

static void
test_number_words(void **state)
{
	static const struct {
		int n;
		const char *de, *en;
	} t[] = {
		{ 0, "null", "zero" },
		{ 1, "eins", "one" },
		{ 7, "sieben", "seven" },
		{ 12, "zwölf", "twelve" },
		{ 16, "sechzehn", "sixteen" },
		{ 17, "siebzehn", "seventeen" },
		{ 20, "zwanzig", "twenty" },
		{ 21, "einundzwanzig", "twenty-one" },
		{ 26, "sechsundzwanzig", "twenty-six" },
		{ 30, "dreißig", "thirty" },
		{ 37, "siebenunddreißig", "thirty-seven" },
		{ 40, "vierzig", "forty" },
		{ 55, "fünfundfünfzig", "fifty-five" },
		{ 81, "einundachtzig", "eighty-one" },
		{ 99, "neunundneunzig", "ninety-nine" },
		{ 100, "hundert", "one hundred" },
	};
	char buf[64];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_string_equal(captcha_number_words(t[i].n,
		    CAPTCHA_LANG_DE, buf, sizeof buf), t[i].de);
		assert_string_equal(captcha_number_words(t[i].n,
		    CAPTCHA_LANG_EN, buf, sizeof buf), t[i].en);
	}
	assert_null(captcha_number_words(-1, CAPTCHA_LANG_DE, buf, sizeof buf));
	assert_null(captcha_number_words(101, CAPTCHA_LANG_EN, buf,
	    sizeof buf));

	/* Every word the generator can make reads back. */
	for (n = 0; n <= 100; n++) {
		captcha_number_words(n, CAPTCHA_LANG_DE, buf, sizeof buf);
		assert_int_equal(captcha_parse_answer(buf), n);
		captcha_number_words(n, CAPTCHA_LANG_EN, buf, sizeof buf);
		assert_int_equal(captcha_parse_answer(buf), n);
	}
}

static void
test_parse_answer(void **state)
{
	static const struct {
		const char *s;
		int n;
	} good[] = {
		{ "7", 7 }, { " 7 ", 7 }, { "\t7\r\n", 7 }, { "007", 7 },
		{ "0", 0 }, { "100", 100 }, { "sieben", 7 }, { "Sieben", 7 },
		{ "SIEBEN", 7 }, { " sieben ", 7 }, { "seven", 7 },
		{ "Seven", 7 }, { "null", 0 }, { "zero", 0 },
		{ "einundzwanzig", 21 }, { "twenty-one", 21 },
		{ "twenty one", 21 }, { "twentyone", 21 }, { "Twenty-One", 21 },
		{ "dreißig", 30 }, { "dreissig", 30 }, { "DREIßIG", 30 },
		{ "DREI\xe1\xba\x9e" "IG", 30 },	/* capital sharp s */
		{ "fünf", 5 }, { "Fünf", 5 }, { "FÜNF", 5 }, { "fuenf", 5 },
		{ "zwölf", 12 }, { "zwoelf", 12 }, { "ZWÖLF", 12 },
		{ "fünfundfünfzig", 55 }, { "fuenfundfuenfzig", 55 },
		{ "hundert", 100 }, { "einhundert", 100 },
		{ "one hundred", 100 }, { "hundred", 100 },
		{ "eins", 1 }, { "one", 1 }, { "elf", 11 }, { "eleven", 11 },
	};
	static const char *const bad[] = {
		"", " ", "abc", "-1", "7.0", "1e1", "101", "+7", "sieben und",
		"0007", "7a", "a7", "1 0", "ein", "einundeinzig", "zwei drei",
		"\xc3\xa9", "f\xc3", "twenty-", "one hundred one", "1000",
		"sieben\xc2\xa0", "seven!", "999", "-seven", "- 7",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (captcha_parse_answer(good[i].s) != good[i].n)
			fail_msg("\"%s\" should read as %d, got %d", good[i].s,
			    good[i].n, captcha_parse_answer(good[i].s));
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (captcha_parse_answer(bad[i]) != -1)
			fail_msg("\"%s\" should not read as a number", bad[i]);
	}
}

static void
test_lang_and_id(void **state)
{
	(void)state;
	assert_int_equal(captcha_lang_parse("de", CAPTCHA_LANG_EN),
	    CAPTCHA_LANG_DE);
	assert_int_equal(captcha_lang_parse("DE-at", CAPTCHA_LANG_EN),
	    CAPTCHA_LANG_DE);
	assert_int_equal(captcha_lang_parse("en", CAPTCHA_LANG_DE),
	    CAPTCHA_LANG_EN);
	assert_int_equal(captcha_lang_parse("en-GB", CAPTCHA_LANG_DE),
	    CAPTCHA_LANG_EN);
	assert_int_equal(captcha_lang_parse("en_US", CAPTCHA_LANG_DE),
	    CAPTCHA_LANG_EN);
	assert_int_equal(captcha_lang_parse("fr", CAPTCHA_LANG_DE),
	    CAPTCHA_LANG_DE);
	assert_int_equal(captcha_lang_parse("fr", CAPTCHA_LANG_EN),
	    CAPTCHA_LANG_EN);
	assert_int_equal(captcha_lang_parse("deu", CAPTCHA_LANG_EN),
	    CAPTCHA_LANG_EN);
	assert_int_equal(captcha_lang_parse("", CAPTCHA_LANG_EN),
	    CAPTCHA_LANG_EN);
	assert_int_equal(captcha_lang_parse(NULL, CAPTCHA_LANG_DE),
	    CAPTCHA_LANG_DE);

	assert_true(captcha_id_valid("0123456789abcdef0123456789abcdef"));
	assert_false(captcha_id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(captcha_id_valid("0123456789abcdef0123456789abcde"));
	assert_false(captcha_id_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(captcha_id_valid("0123456789abcdeg0123456789abcdef"));
	assert_false(captcha_id_valid(""));
	assert_false(captcha_id_valid(NULL));
}

/* The id seals the captcha: only the key's holder can read or make one. */
static void
test_seal(void **state)
{
	struct captcha_key site, other;
	struct captcha c;
	uint64_t now = UINT64_C(1700000000000), exp;
	char forged[CAPTCHA_ID_LEN + 1];
	int i, n;

	(void)state;
	captcha_key_init(&site, "site secret");
	captcha_key_init(&other, "other secret");
	for (n = 0; n < 200; n++) {
		captcha_generate(&c, CAPTCHA_LANG_DE);
		captcha_seal(&c, &site, now);
		assert_true(captcha_id_valid(c.id));
		assert_int_equal(captcha_open(c.id, &site, c.answer,
		    now + 3000, 600, 2000, &exp), CAPTCHA_OK);
		assert_true(exp == now + 600000);
		assert_int_equal(captcha_open(c.id, &site,
		    (c.answer + 1) % 101, now + 3000, 600, 2000, &exp),
		    CAPTCHA_WRONG);
		assert_int_equal(captcha_open(c.id, &site, -1,
		    now + 3000, 600, 2000, &exp), CAPTCHA_WRONG);
		assert_int_equal(captcha_open(c.id, &site, c.answer,
		    now + 1999, 600, 2000, &exp), CAPTCHA_TOO_FAST);
		/* Expired, another site's key, any one hex digit changed. */
		assert_int_equal(captcha_open(c.id, &site, c.answer,
		    now + 600000, 600, 2000, &exp), CAPTCHA_UNKNOWN);
		assert_int_equal(captcha_open(c.id, &other, c.answer,
		    now + 3000, 600, 2000, &exp), CAPTCHA_UNKNOWN);
		i = n % CAPTCHA_ID_LEN;
		memcpy(forged, c.id, sizeof forged);
		forged[i] = forged[i] == '0' ? '1' : '0';
		assert_int_equal(captcha_open(forged, &site, c.answer,
		    now + 3000, 600, 2000, &exp), CAPTCHA_UNKNOWN);
	}
	assert_int_equal(captcha_open("0123456789abcdef0123456789abcdef",
	    &site, 7, now, 600, 0, &exp), CAPTCHA_UNKNOWN);
	assert_int_equal(captcha_open(NULL, &site, 7, now, 600, 0,
	    &exp), CAPTCHA_UNKNOWN);
	assert_int_equal(captcha_open("short", &site, 7, now, 600, 0,
	    &exp), CAPTCHA_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_question_format),
		cmocka_unit_test(test_number_words),
		cmocka_unit_test(test_parse_answer),
		cmocka_unit_test(test_lang_and_id),
		cmocka_unit_test(test_seal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
