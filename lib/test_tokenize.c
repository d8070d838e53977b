/* Unit tests of the Bayes tokenizer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comment.h"
#include "tokenize.h"

static void
tok(struct tokens *t, const char *s)
{
	tokenize_init(t);
	tokenize_text(t, NULL, s, strlen(s));
}

/* Fail naming the token and listing what there is. */
static void
want(const struct tokens *t, const char *token, int present)
{
	size_t i;

	if (tokenize_has(t, token) == (present != 0))
		return;
	print_error("token \"%s\" %s; tokens:", token,
	    present ? "missing" : "unexpected");
	for (i = 0; i < t->n; i++)
		print_error(" [%s]", t->v[i]);
	print_error("\n");
	fail();
}

static void
test_words_english(void **state)
{
	struct tokens t;

	(void)state;
	tok(&t, "Don't PANIC: it's 3.50 for 1,000 items at 3:40, I think.");
	want(&t, "don't", 1);
	want(&t, "panic", 1);
	want(&t, "it's", 1);
	want(&t, "3.50", 1);
	want(&t, "1,000", 1);
	want(&t, "3:40", 1);
	want(&t, "items", 1);
	want(&t, "think", 1);
	/* Single letters are too short. */
	want(&t, "i", 0);
	/* Word pairs within a sentence, not across its end. */
	want(&t, "don't panic", 1);
	want(&t, "for 1,000", 1);
	want(&t, "think", 1);
	want(&t, "panic it's", 0);
	/* Sparse pairs: up to three words between, within a sentence. */
	want(&t, "for ~1 items", 1);
	want(&t, "it's ~2 1,000", 1);
	want(&t, "it's ~3 items", 1);
	want(&t, "it's ~4 at", 0);
	want(&t, "don't ~1 it's", 0);
	/* Case folded, the original spelling gone. */
	want(&t, "PANIC", 0);
	/* meta:len:N is log2 of 58 characters. */
	want(&t, "meta:len:5", 1);
	tokenize_free(&t);
}

static void
test_words_german(void **state)
{
	struct tokens t;

	(void)state;
	tok(&t, "Grüße aus KÖLN! Die STRASSE heißt Äußere Straße; ẞ ist selten.");
	/* ß and ẞ fold to ss (Unicode full case folding). */
	want(&t, "grüsse", 1);
	want(&t, "grüße", 0);
	want(&t, "köln", 1);
	want(&t, "strasse", 1);
	want(&t, "heisst", 1);
	want(&t, "äussere", 1);
	want(&t, "ss", 1);
	want(&t, "aus köln", 1);
	/* Umlauts stay: "Köln" is not "koln". */
	want(&t, "koln", 0);
	tokenize_free(&t);

	tok(&t, "Grüsse");
	want(&t, "grüsse", 1);
	tokenize_free(&t);
}

static void
test_fold(void **state)
{
	char buf[8];
	size_t n;

	(void)state;
	n = tokenize_fold('A', buf);
	assert_int_equal(n, 1);
	assert_memory_equal(buf, "a", 1);
	n = tokenize_fold(0xc4, buf);		/* Ä */
	assert_memory_equal(buf, "ä", n);
	n = tokenize_fold(0xdf, buf);		/* ß */
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "ss", 2);
	n = tokenize_fold(0x1e9e, buf);		/* ẞ */
	assert_memory_equal(buf, "ss", n);
	n = tokenize_fold(0x178, buf);		/* Ÿ */
	assert_memory_equal(buf, "ÿ", n);
	n = tokenize_fold(0x141, buf);		/* Ł */
	assert_memory_equal(buf, "ł", n);
	n = tokenize_fold(0x416, buf);		/* Ж */
	assert_memory_equal(buf, "ж", n);
	n = tokenize_fold(0x3a3, buf);		/* Σ */
	assert_memory_equal(buf, "σ", n);
	n = tokenize_fold(0xff26, buf);		/* Ｆ */
	assert_memory_equal(buf, "f", n);
	n = tokenize_fold(0x1d41f, buf);	/* 𝐟 */
	assert_memory_equal(buf, "f", n);
	n = tokenize_fold(0x24bb, buf);		/* Ⓕ */
	assert_memory_equal(buf, "f", n);
	n = tokenize_fold(0x1f600, buf);	/* 😀 stays */
	assert_memory_equal(buf, "😀", n);
}

static void
test_urls(void **state)
{
	struct tokens t;

	(void)state;
	tok(&t, "See https://www.Example.co.uk/Path?x=1, or WWW.Shop.Test.ORG "
	    "and kidsmedia.com/toys today. http://192.0.2.7/x");
	want(&t, "host:www.example.co.uk", 1);
	want(&t, "url:example.co.uk", 1);
	want(&t, "host:www.shop.test.org", 1);
	want(&t, "url:test.org", 1);
	want(&t, "host:kidsmedia.com", 1);
	want(&t, "url:kidsmedia.com", 1);
	want(&t, "host:192.0.2.7", 1);
	want(&t, "url:192.0.2.7", 1);
	want(&t, "url:2.7", 0);
	want(&t, "meta:link", 1);
	/* The parts count as words; the scheme does not. */
	want(&t, "example", 1);
	want(&t, "path", 1);
	want(&t, "toys", 1);
	want(&t, "https", 0);
	tokenize_free(&t);

	/* A missing space after a full stop is no link; an e-mail is none. */
	tok(&t, "I love it.it was great. Mail a.b@Example.ORG now");
	want(&t, "meta:link", 0);
	want(&t, "host:it.it", 0);
	want(&t, "email:example.org", 1);
	want(&t, "host:example.org", 0);
	tokenize_free(&t);

	/* Internationalised host names fold like words. */
	tok(&t, "http://Bücher.Example.DE/");
	want(&t, "host:bücher.example.de", 1);
	want(&t, "url:example.de", 1);
	tokenize_free(&t);
}

static void
test_symbols(void **state)
{
	struct tokens t;

	(void)state;
	tok(&t, "Love it 😀😀 ❤️ 👍🏽 5 € ©");
	want(&t, "😀", 1);
	want(&t, "❤", 1);
	/* Without its skin-tone modifier or variation selector. */
	want(&t, "👍", 1);
	want(&t, "👍🏽", 0);
	want(&t, "€", 1);
	want(&t, "©", 1);
	want(&t, "love it", 1);
	tokenize_free(&t);

	tok(&t, "日本語");
	want(&t, "日", 1);
	want(&t, "語", 1);
	tokenize_free(&t);
}

static void
test_obfuscation(void **state)
{
	struct tokens t;

	(void)state;
	/* v<U+200B>iagra, ＦＲＥＥ, 𝐟𝐫𝐞𝐞, Cyrillic а in "pаypal" */
	tok(&t, "v\xe2\x80\x8biagra \xef\xbc\xa6\xef\xbc\xb2\xef\xbc\xa5\xef\xbc\xa5 "
	    "\xf0\x9d\x90\x9f\xf0\x9d\x90\xab\xf0\x9d\x90\x9e\xf0\x9d\x90\x9e "
	    "p\xd0\xb0ypal @anna");
	want(&t, "viagra", 1);
	want(&t, "meta:invisible", 1);
	want(&t, "free", 1);
	want(&t, "meta:fancy", 1);
	want(&t, "meta:mixedscript", 1);
	want(&t, "meta:mention", 1);
	want(&t, "anna", 1);
	tokenize_free(&t);

	tok(&t, "BUY NOW CHEAP WATCHES HERE!!!");
	want(&t, "meta:caps", 1);
	tokenize_free(&t);
	tok(&t, "Buy now cheap watches here, OK?");
	want(&t, "meta:caps", 0);
	tokenize_free(&t);
}

static void
test_limits(void **state)
{
	struct tokens t;
	char buf[8192];
	size_t i, n;

	(void)state;
	memset(buf, 'a', 45);
	buf[45] = '\0';
	tok(&t, buf);
	want(&t, "long:40", 1);
	assert_int_equal(t.n, 2);	/* meta:len:5 and long:40 */
	tokenize_free(&t);

	/* 40 bytes is still a word. */
	buf[40] = '\0';
	tok(&t, buf);
	want(&t, buf, 1);
	tokenize_free(&t);

	/* Repeats count once; the cap keeps the first TOKENIZE_MAX. */
	tok(&t, "spam spam spam spam");
	want(&t, "spam", 1);
	want(&t, "spam spam", 1);
	want(&t, "spam ~2 spam", 1);
	assert_int_equal(t.n, 5);	/* and spam ~1 spam, meta:len:4 */
	tokenize_free(&t);

	/*
	 * 200 words in one sentence: each word and neighbour pair fits under
	 * the cap; pairs with a gap fill the rest, from the start.
	 */
	for (i = 0, n = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "w%zu ", i);
	tok(&t, buf);
	assert_int_equal(t.n, TOKENIZE_MAX);
	want(&t, "w199", 1);
	want(&t, "w198 w199", 1);
	want(&t, "w0 ~1 w2", 1);
	want(&t, "w197 ~1 w199", 0);
	tokenize_free(&t);

	for (i = 0, n = 0; i < 2000 && n + 8 < sizeof buf; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "w%zu. ", i);
	tok(&t, buf);
	assert_int_equal(t.n, TOKENIZE_MAX);
	assert_true(t.full);
	want(&t, "w0", 1);
	want(&t, "w1999", 0);
	tokenize_free(&t);
}

static void
test_comment(void **state)
{
	struct comment c;
	struct tokens t;
	const char *body = "Nice post";

	(void)state;
	comment_init(&c);
	comment_set(&c, CF_BODY, body, strlen(body));
	comment_set(&c, CF_AUTHOR, "Best SEO Agency", 15);
	comment_set(&c, CF_EMAIL, "Someone@Mail.Example.NET", 24);
	comment_set(&c, CF_URL, "https://www.seo.example/offer", 29);
	comment_set(&c, CF_IP, "203.0.113.77", 12);
	comment_set(&c, CF_LANG, "de", 2);
	comment_set(&c, CF_POST, "hello-world", 11);
	tokenize_init(&t);
	tokenize_comment(&t, &c);
	want(&t, "nice", 1);
	want(&t, "nice post", 1);
	want(&t, "author:seo", 1);
	want(&t, "author:best seo", 1);
	want(&t, "from:mail.example.net", 1);
	/* Never the address itself. */
	want(&t, "someone", 0);
	want(&t, "urlfield:host:www.seo.example", 1);
	want(&t, "urlfield:url:seo.example", 1);
	want(&t, "urlfield:offer", 1);
	want(&t, "ip:203.0.113", 1);
	want(&t, "lang:de", 1);
	want(&t, "hello", 0);
	tokenize_free(&t);

	comment_set(&c, CF_IP, "2001:db8:85a3::8a2e:370:7334", 28);
	tokenize_init(&t);
	tokenize_comment(&t, &c);
	want(&t, "ip:2001:db8:85a3", 1);
	tokenize_free(&t);
	comment_set(&c, CF_IP, "2001:db8::1", 11);
	tokenize_init(&t);
	tokenize_comment(&t, &c);
	want(&t, "ip:2001:db8", 1);
	tokenize_free(&t);
	comment_free(&c);
}

static void
test_join(void **state)
{
	struct tokens t;
	size_t len;
	char *s;

	(void)state;
	tokenize_init(&t);
	s = tokenize_join(&t, &len);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
	assert_true(tokenize_add(&t, NULL, "a", 1));
	assert_true(tokenize_add(&t, "p:", "b", 1));
	assert_false(tokenize_add(&t, NULL, "a", 1));
	s = tokenize_join(&t, &len);
	assert_string_equal(s, "a\np:b");
	assert_int_equal(len, 5);
	free(s);
	tokenize_free(&t);

	/* No token holds a line break, so a join splits back exactly. */
	tok(&t, "line one\nline two\r\n\tthree\xe2\x80\xa8" "four");
	for (len = 0; len < t.n; len++) {
		assert_null(strchr(t.v[len], '\n'));
		assert_null(strchr(t.v[len], '\r'));
		assert_null(strchr(t.v[len], '\t'));
	}
	want(&t, "one line", 0);
	tokenize_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_english),
		cmocka_unit_test(test_words_german),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_obfuscation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_comment),
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
