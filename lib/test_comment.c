/* Unit tests for the comment model: JSON and form parsing, validation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comment.h"
#include "fault.h"

#define ID32	"0123456789abcdef0123456789abcdef"

static const struct comment_limits limits = { 10000, true };

static int
from_json(struct comment *c, const char *s, struct fault *f)
{
	comment_init(c);
	fault_clear(f);
	return comment_from_json(c, s, strlen(s), f);
}

static int
from_form(struct comment *c, const char *s, struct fault *f)
{
	comment_init(c);
	fault_clear(f);
	return comment_from_form(c, s, strlen(s), f);
}

static void
set(struct comment *c, enum comment_field i, const char *v)
{
	comment_set(c, i, v, v == NULL ? 0 : strlen(v));
}

/* A comment that passes validation. */
static void
base(struct comment *c)
{
	comment_init(c);
	set(c, CF_POST, "hello-world");
	set(c, CF_AUTHOR, "Jürgen Müller");
	set(c, CF_EMAIL, "juergen@example.org");
	set(c, CF_BODY, "Schöner Artikel!\nDanke.");
	set(c, CF_CAPTCHA_ID, ID32);
	set(c, CF_CAPTCHA_ANSWER, "sieben");
}

static void
assert_fault(const struct fault *f, int status, const char *error,
    const char *field)
{
	assert_int_equal(f->status, status);
	assert_string_equal(f->error, error);
	if (field == NULL)
		assert_null(f->field);
	else {
		assert_non_null(f->field);
		assert_string_equal(f->field, field);
	}
	assert_true(f->message[0] != '\0');
}

/* Validate base() with field i set to v; return the result. */
static int
validate_with(enum comment_field i, const char *v, struct fault *f)
{
	struct comment c;
	int rc;

	base(&c);
	set(&c, i, v);
	fault_clear(f);
	rc = comment_validate(&c, &limits, f);
	comment_free(&c);
	return rc;
}

static void
test_field_names(void **state)
{
	static const char *const names[] = { "post", "author", "email", "url",
	    "body", "ip", "user_agent", "referrer", "lang", "parent",
	    "honeypot", "request_id", "return_to", "captcha_id",
	    "captcha_answer", "post_title", "post_url" };
	int i;

	(void)state;
	assert_int_equal(sizeof names / sizeof names[0], CF__COUNT);
	for (i = 0; i < CF__COUNT; i++) {
		assert_string_equal(comment_field_name(i), names[i]);
		assert_int_equal(comment_field_lookup(names[i],
		    strlen(names[i])), i);
	}
	assert_null(comment_field_name(CF__COUNT));
	assert_null(comment_field_name((enum comment_field)-1));
	assert_int_equal(comment_field_lookup("pos", 3), -1);
	assert_int_equal(comment_field_lookup("posts", 5), -1);
	assert_int_equal(comment_field_lookup("post\0xyz", 8), -1);
	assert_int_equal(comment_field_lookup("Post", 4), -1);
	assert_int_equal(comment_field_lookup("", 0), -1);
	/* Only len bytes count. */
	assert_int_equal(comment_field_lookup("posting", 4), CF_POST);
}

static void
test_set_free(void **state)
{
	struct comment c;

	(void)state;
	comment_init(&c);
	comment_set(&c, CF_BODY, "abc\0def", 7);
	assert_int_equal(c.len[CF_BODY], 7);
	assert_memory_equal(c.field[CF_BODY], "abc\0def", 8);
	set(&c, CF_BODY, "x");
	assert_string_equal(c.field[CF_BODY], "x");
	comment_set(&c, CF_BODY, NULL, 0);
	assert_null(c.field[CF_BODY]);
	assert_int_equal(c.len[CF_BODY], 0);
	comment_set(&c, CF_URL, "", 0);
	assert_string_equal(c.field[CF_URL], "");
	comment_free(&c);
	assert_null(c.field[CF_URL]);
	comment_free(&c);	/* twice is harmless */
}

static void
test_json_all_fields(void **state)
{
	struct comment c;
	struct fault f;
	const char *json = "{"
	    "\"post\": \"hello-world\", \"author\": \"J\\u00fcrgen\","
	    "\"email\": \"j@example.org\", \"url\": \"https://example.org/\","
	    "\"body\": \"Gr\\u00fc\\u00dfe\\nZeile 2 \xf0\x9f\x98\x80\","
	    "\"ip\": \"192.0.2.1\", \"user_agent\": \"Mozilla/5.0\","
	    "\"referrer\": \"https://blog.example.org/p\", \"lang\": \"de-AT\","
	    "\"parent\": \"0123456789abcdef0123\", \"honeypot\": \"\","
	    "\"request_id\": \"req-1-0123456789abcdef\", \"return_to\": \"/p#comments\","
	    "\"captcha_id\": \"" ID32 "\", \"captcha_answer\": \"7\","
	    "\"unknown\": {\"nested\": [1, 2, {\"x\": null}]}, \"other\": 5"
	    "}";

	(void)state;
	assert_int_equal(from_json(&c, json, &f), 0);
	assert_int_equal(f.status, 0);
	assert_string_equal(c.field[CF_POST], "hello-world");
	assert_string_equal(c.field[CF_AUTHOR], "Jürgen");
	assert_int_equal(c.len[CF_AUTHOR], strlen("Jürgen"));
	assert_string_equal(c.field[CF_EMAIL], "j@example.org");
	assert_string_equal(c.field[CF_URL], "https://example.org/");
	assert_string_equal(c.field[CF_BODY],
	    "Grüße\nZeile 2 \xf0\x9f\x98\x80");
	assert_string_equal(c.field[CF_IP], "192.0.2.1");
	assert_string_equal(c.field[CF_USER_AGENT], "Mozilla/5.0");
	assert_string_equal(c.field[CF_REFERRER], "https://blog.example.org/p");
	assert_string_equal(c.field[CF_LANG], "de-AT");
	assert_string_equal(c.field[CF_PARENT], "0123456789abcdef0123");
	assert_string_equal(c.field[CF_HONEYPOT], "");
	assert_int_equal(c.len[CF_HONEYPOT], 0);
	assert_string_equal(c.field[CF_REQUEST_ID], "req-1-0123456789abcdef");
	assert_string_equal(c.field[CF_RETURN_TO], "/p#comments");
	assert_string_equal(c.field[CF_CAPTCHA_ID], ID32);
	assert_string_equal(c.field[CF_CAPTCHA_ANSWER], "7");

	/* And it validates: trimmed, lang normalised, honeypot blank. */
	assert_int_equal(comment_validate(&c, &limits, &f), 0);
	assert_string_equal(c.field[CF_LANG], "de");
	assert_int_equal(c.len[CF_LANG], 2);
	assert_null(c.field[CF_HONEYPOT]);
	comment_free(&c);
}

static void
test_json_null_and_integer(void **state)
{
	struct comment c;
	struct fault f;

	(void)state;
	assert_int_equal(from_json(&c, "{\"url\": null, \"captcha_answer\": 7}",
	    &f), 0);
	assert_null(c.field[CF_URL]);
	assert_string_equal(c.field[CF_CAPTCHA_ANSWER], "7");
	assert_int_equal(c.len[CF_CAPTCHA_ANSWER], 1);
	comment_free(&c);

	assert_int_equal(from_json(&c, "{\"captcha_answer\": -12}", &f), 0);
	assert_string_equal(c.field[CF_CAPTCHA_ANSWER], "-12");
	comment_free(&c);

	assert_int_equal(from_json(&c, "{}", &f), 0);
	comment_free(&c);
}

static void
test_json_wrong_types(void **state)
{
	static const char *const values[] = { "1", "true", "false", "[]",
	    "{}", "1.5", "[\"x\"]" };
	struct comment c;
	struct fault f;
	char json[128];
	size_t v;
	int i;

	(void)state;
	for (i = 0; i < CF__COUNT; i++) {
		for (v = 0; v < sizeof values / sizeof values[0]; v++) {
			/* captcha_answer takes integers. */
			if (i == CF_CAPTCHA_ANSWER && v == 0)
				continue;
			snprintf(json, sizeof json, "{\"%s\": %s}",
			    comment_field_name(i), values[v]);
			assert_int_equal(from_json(&c, json, &f), -1);
			assert_fault(&f, 400, "bad_request",
			    comment_field_name(i));
			assert_non_null(strstr(f.message, "must be a string"));
			comment_free(&c);
		}
	}
}

static void
test_json_bad(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[]", "[{\"post\": \"x\"}]", "\"post\"",
		"42",
		"null", "{\"post\": \"x\",}", "{'post': 'x'}",
		"{\"post\": \"x\"} trailing", "{\"post\": \"a\\u0000b\"}",
		"{\"post\": \"\\ud800\"}", "{\"post\": \"x\", \"post\": \"y\"}",
		"{\"a\": 1, \"a\": 2}",
	};
	struct comment c;
	struct fault f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (from_json(&c, bad[i], &f) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_fault(&f, 400, "bad_request", NULL);
		comment_free(&c);
	}

	/* The message says where. */
	assert_int_equal(from_json(&c, "{\n\"post\": x}", &f), -1);
	assert_non_null(strstr(f.message, "body is not valid JSON: "));
	assert_non_null(strstr(f.message, " at line 2 column "));
	comment_free(&c);

	assert_int_equal(from_json(&c, "{\"body\": \"a\\u0000b\"}", &f), -1);
	assert_non_null(strstr(f.message, "\\u0000 is not allowed in strings"));
	comment_free(&c);

	/* A duplicate key says so. */
	assert_int_equal(from_json(&c, "{\"email\": \"a\", \"email\": \"b\"}",
	    &f), -1);
	assert_non_null(strstr(f.message, "duplicate"));
	comment_free(&c);
}

static void
test_json_bad_utf8(void **state)
{
	/* Bad UTF-8 inside a known field's value: the error names the field. */
	static const char *const in_field[] = {
		"{\"post\": \"\xc3\"}", "{\"post\": \"\xc0\xaf\"}",
		"{\"post\": \"\xed\xa0\x80\"}", "{\"author\": \"A\", \"post\": \"x\xffy\"}",
	};
	/* Elsewhere: the body as a whole is at fault. */
	static const char *const elsewhere[] = {
		"{\"x\xff\": 1}", "\xff", "{\"post\": \"\xff",
	};
	struct comment c;
	struct fault f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof in_field / sizeof in_field[0]; i++) {
		assert_int_equal(from_json(&c, in_field[i], &f), -1);
		assert_fault(&f, 422, "invalid", "post");
		assert_string_equal(f.message, "field \"post\" is not valid UTF-8");
		comment_free(&c);
	}
	for (i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++) {
		assert_int_equal(from_json(&c, elsewhere[i], &f), -1);
		assert_fault(&f, 422, "invalid", NULL);
		assert_string_equal(f.message,
		    "request body is not valid UTF-8");
		comment_free(&c);
	}
}

static void
test_json_deep(void **state)
{
	const size_t depth = 100000;
	struct comment c;
	struct fault f;
	char *buf;
	size_t i;

	(void)state;
	buf = malloc(2 * depth + 1);
	assert_non_null(buf);
	memset(buf, '[', depth);
	memset(buf + depth, ']', depth);
	buf[2 * depth] = '\0';
	assert_int_equal(from_json(&c, buf, &f), -1);
	assert_fault(&f, 400, "bad_request", NULL);
	comment_free(&c);

	/* Deep objects under a known key, and unterminated nesting. */
	for (i = 0; i + 5 <= 2 * depth; i += 5)
		memcpy(buf + i, "{\"a\":", 5);
	buf[i] = '\0';
	assert_int_equal(from_json(&c, buf, &f), -1);
	assert_fault(&f, 400, "bad_request", NULL);
	comment_free(&c);
	free(buf);
}

static void
test_form_decode(void **state)
{
	static const struct {
		const char *in, *out;
		long n;
	} t[] = {
		{ "", "", 0 },
		{ "abc", "abc", 3 },
		{ "a+b", "a b", 3 },
		{ "%41%62%63", "Abc", 3 },
		{ "J%C3%BCrgen", "Jürgen", 7 },
		{ "j%c3%bcrgen", "jürgen", 7 },
		{ "%2B+%25", "+ %", 3 },
		{ "100%", NULL, -1 },
		{ "%4", NULL, -1 },
		{ "%zz", NULL, -1 },
		{ "%g0", NULL, -1 },
		{ "ok%0", NULL, -1 },
	};
	char out[64];
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		n = comment_form_decode(t[i].in, strlen(t[i].in), out);
		assert_int_equal(n, t[i].n);
		if (n >= 0)
			assert_string_equal(out, t[i].out);
	}
	n = comment_form_decode("a%00b", 5, out);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "a\0b", 4);
}

static void
test_form(void **state)
{
	struct comment c;
	struct fault f;

	(void)state;
	assert_int_equal(from_form(&c, "post=hello-world&author=J%C3%BCrgen+M"
	    "%C3%BCller&email=j%40example.org&&body=Gr%c3%bc%c3%9fe%21%0D%0A"
	    "Zeile+2&unknown=%41&url&po%73t%5F=ignored&", &f), 0);
	assert_string_equal(c.field[CF_POST], "hello-world");
	assert_string_equal(c.field[CF_AUTHOR], "Jürgen Müller");
	assert_string_equal(c.field[CF_EMAIL], "j@example.org");
	assert_string_equal(c.field[CF_BODY], "Grüße!\r\nZeile 2");
	assert_int_equal(c.len[CF_BODY], strlen("Grüße!\r\nZeile 2"));
	/* A key without '=' is there, empty. */
	assert_non_null(c.field[CF_URL]);
	assert_int_equal(c.len[CF_URL], 0);
	assert_null(c.field[CF_IP]);
	comment_free(&c);

	/* An escaped key name is still the key. */
	assert_int_equal(from_form(&c, "%70ost=x", &f), 0);
	assert_string_equal(c.field[CF_POST], "x");
	comment_free(&c);

	assert_int_equal(from_form(&c, "", &f), 0);
	comment_free(&c);
	assert_int_equal(from_form(&c, "&&&", &f), 0);
	comment_free(&c);
	assert_int_equal(from_form(&c, "=x&post=", &f), 0);
	assert_string_equal(c.field[CF_POST], "");
	comment_free(&c);
}

static void
test_form_bad(void **state)
{
	struct comment c;
	struct fault f;

	(void)state;
	assert_int_equal(from_form(&c, "post=x&body=100%zz", &f), -1);
	assert_fault(&f, 400, "bad_request", "body");
	comment_free(&c);

	assert_int_equal(from_form(&c, "body=50%", &f), -1);
	assert_fault(&f, 400, "bad_request", "body");
	comment_free(&c);

	/* Malformed where no field is named. */
	assert_int_equal(from_form(&c, "post=x&other=%zz", &f), -1);
	assert_fault(&f, 400, "bad_request", NULL);
	comment_free(&c);
	assert_int_equal(from_form(&c, "po%zzst=x", &f), -1);
	assert_fault(&f, 400, "bad_request", NULL);
	comment_free(&c);

	assert_int_equal(from_form(&c, "author=a%00b", &f), -1);
	assert_fault(&f, 422, "invalid", "author");
	comment_free(&c);

	assert_int_equal(from_form(&c, "post=x&body=%C3", &f), -1);
	assert_fault(&f, 422, "invalid", "body");
	comment_free(&c);

	assert_int_equal(from_form(&c, "author=%C0%AF", &f), -1);
	assert_fault(&f, 422, "invalid", "author");
	comment_free(&c);

	assert_int_equal(from_form(&c, "email=a&post=x&email=b", &f), -1);
	assert_fault(&f, 400, "bad_request", "email");
	comment_free(&c);

	/* Twice even when one spelling is escaped. */
	assert_int_equal(from_form(&c, "post=a&%70ost=b", &f), -1);
	assert_fault(&f, 400, "bad_request", "post");
	comment_free(&c);

	/* Unknown keys may repeat. */
	assert_int_equal(from_form(&c, "x=1&x=2", &f), 0);
	comment_free(&c);
}

static void
test_validate_newlines(void **state)
{
	struct comment c;
	struct fault f;

	(void)state;
	base(&c);
	set(&c, CF_BODY, "eins\r\nzwei\rdrei\n\r\nvier");
	assert_int_equal(comment_validate(&c, &limits, &f), 0);
	assert_string_equal(c.field[CF_BODY], "eins\nzwei\ndrei\n\nvier");
	assert_int_equal(c.len[CF_BODY], strlen(c.field[CF_BODY]));
	comment_free(&c);
}

static void
test_validate_ok(void **state)
{
	struct comment c;
	struct fault f;

	(void)state;
	base(&c);
	set(&c, CF_AUTHOR, "  \tJürgen Müller \r\n");
	set(&c, CF_BODY, "\n\n  Erste Zeile\n\tzweite Zeile\n\n ");
	set(&c, CF_EMAIL, " juergen@example.org ");
	fault_clear(&f);
	assert_int_equal(comment_validate(&c, &limits, &f), 0);
	assert_int_equal(f.status, 0);
	assert_string_equal(c.field[CF_AUTHOR], "Jürgen Müller");
	assert_int_equal(c.len[CF_AUTHOR], strlen("Jürgen Müller"));
	assert_string_equal(c.field[CF_BODY], "Erste Zeile\n\tzweite Zeile");
	assert_string_equal(c.field[CF_EMAIL], "juergen@example.org");
	/* Validating again changes nothing. */
	assert_int_equal(comment_validate(&c, &limits, &f), 0);
	assert_string_equal(c.field[CF_AUTHOR], "Jürgen Müller");
	comment_free(&c);
}

static void
test_validate_required(void **state)
{
	static const enum comment_field req[] = { CF_POST, CF_AUTHOR,
	    CF_EMAIL, CF_BODY, CF_CAPTCHA_ID, CF_CAPTCHA_ANSWER };
	static const char *const blank[] = { NULL, "", " ", " \t\r\n " };
	struct comment_limits nocaptcha = { 10000, false };
	struct comment c;
	struct fault f;
	char want[64];
	size_t i, b;

	(void)state;
	for (i = 0; i < sizeof req / sizeof req[0]; i++) {
		for (b = 0; b < sizeof blank / sizeof blank[0]; b++) {
			assert_int_equal(validate_with(req[i], blank[b], &f),
			    -1);
			assert_fault(&f, 422, "invalid",
			    comment_field_name(req[i]));
			snprintf(want, sizeof want, "%s is required",
			    comment_field_name(req[i]));
			assert_string_equal(f.message, want);
		}
	}

	/* Without the captcha its fields are optional. */
	base(&c);
	set(&c, CF_CAPTCHA_ID, NULL);
	set(&c, CF_CAPTCHA_ANSWER, " ");
	assert_int_equal(comment_validate(&c, &nocaptcha, &f), 0);
	assert_null(c.field[CF_CAPTCHA_ANSWER]);
	comment_free(&c);

	/* Optional fields left blank become absent. */
	base(&c);
	set(&c, CF_URL, "   ");
	set(&c, CF_HONEYPOT, "");
	assert_int_equal(comment_validate(&c, &limits, &f), 0);
	assert_null(c.field[CF_URL]);
	assert_null(c.field[CF_HONEYPOT]);
	comment_free(&c);

	/* Errors come in field order. */
	base(&c);
	set(&c, CF_BODY, NULL);
	set(&c, CF_AUTHOR, NULL);
	assert_int_equal(comment_validate(&c, &limits, &f), -1);
	assert_string_equal(f.field, "author");
	comment_free(&c);
}

static void
test_validate_length(void **state)
{
	struct comment_limits lim = { 10, true };
	struct comment c;
	struct fault f;
	char buf[512];
	size_t i;

	(void)state;
	/* Ten umlauts are 20 bytes but 10 characters. */
	base(&c);
	set(&c, CF_BODY, "ääääääääää");
	assert_int_equal(comment_validate(&c, &lim, &f), 0);
	set(&c, CF_BODY, "äääääääääää");
	assert_int_equal(comment_validate(&c, &lim, &f), -1);
	assert_fault(&f, 422, "invalid", "body");
	assert_string_equal(f.message,
	    "body is too long (at most 10 characters)");
	/* Trimmed before counting. */
	set(&c, CF_BODY, "  ääääääääää\n\n");
	assert_int_equal(comment_validate(&c, &lim, &f), 0);
	comment_free(&c);

	/* author: 100 characters. */
	for (i = 0; i < 100; i++)
		memcpy(buf + 2 * i, "ü", 2);
	buf[200] = '\0';
	assert_int_equal(validate_with(CF_AUTHOR, buf, &f), 0);
	strcat(buf, "x");
	assert_int_equal(validate_with(CF_AUTHOR, buf, &f), -1);
	assert_fault(&f, 422, "invalid", "author");
	assert_string_equal(f.message,
	    "author is too long (at most 100 characters)");

	/* captcha_answer: 32. */
	memset(buf, '7', 33);
	buf[33] = '\0';
	assert_int_equal(validate_with(CF_CAPTCHA_ANSWER, buf, &f), -1);
	assert_fault(&f, 422, "invalid", "captcha_answer");
	buf[32] = '\0';
	assert_int_equal(validate_with(CF_CAPTCHA_ANSWER, buf, &f), 0);
}

static void
test_validate_controls(void **state)
{
	struct fault f;

	(void)state;
	assert_int_equal(validate_with(CF_AUTHOR, "Evil\x1b[0m", &f), -1);
	assert_fault(&f, 422, "invalid", "author");
	assert_string_equal(f.message,
	    "author contains control characters or invalid UTF-8");
	assert_int_equal(validate_with(CF_AUTHOR, "two\nlines", &f), -1);
	assert_fault(&f, 422, "invalid", "author");
	assert_int_equal(validate_with(CF_AUTHOR, "tab\there", &f), -1);
	assert_int_equal(validate_with(CF_AUTHOR, "c1\xc2\x85", &f), -1);
	assert_int_equal(validate_with(CF_POST, "del\x7f", &f), -1);
	assert_fault(&f, 422, "invalid", "post");
	assert_int_equal(validate_with(CF_BODY, "bad \xc0\xaf utf-8", &f), -1);
	assert_fault(&f, 422, "invalid", "body");
	assert_int_equal(validate_with(CF_BODY, "bell\a", &f), -1);
	assert_fault(&f, 422, "invalid", "body");
	assert_int_equal(validate_with(CF_BODY, "a\r\nb\n\tc", &f), 0);
	assert_int_equal(validate_with(CF_AUTHOR,
	    "zero\xe2\x80\x8bwidth \xf0\x9f\x98\x80", &f), 0);
	assert_int_equal(validate_with(CF_HONEYPOT, "x\ny", &f), -1);
	assert_fault(&f, 422, "invalid", "honeypot");
}

static void
test_email(void **state)
{
	static const char *const good[] = {
		"a@example.org", "juergen.mueller@example.de",
		"first.last+tag@sub.example.co.uk", "x_y-z@example.museum",
		"o'brien@example.ie", "user%host@example.com",
		"123@456.example.com", "a@b-c.de", "A.B@EXAMPLE.ORG",
		"mail@xn--bcher-kva.example", "mail@bücher.de",
		"root@example.xn--p1ai", "{weird}!#$&*=?^`|~@example.org",
		"a@a.io",
	};
	static const char *const bad[] = {
		"", "plain", "@example.org", "a@", "a@@example.org",
		"a@b@example.org", "a@example", "a@localhost", "a@.example.org",
		"a@example.org.", "a@example..org", ".a@example.org",
		"a.@example.org", "a..b@example.org", "a b@example.org",
		"a@exa mple.org", "\"a\"@example.org", "a(b)@example.org",
		"a,b@example.org", "a:b@example.org", "a;b@example.org",
		"a<b>@example.org", "a[b]@example.org", "a\\b@example.org",
		"a@-example.org", "a@example-.org", "a@example.o",
		"a@example.123", "a@1.2.3.4", "a@[1.2.3.4]", "a@exa_mple.org",
		"j\xc3\xbcrgen@example.org",
	};
	struct fault f;
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!comment_email_valid(good[i]))
			fail_msg("rejected good address \"%s\"", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (comment_email_valid(bad[i]))
			fail_msg("accepted bad address \"%s\"", bad[i]);
	assert_false(comment_email_valid(NULL));

	/* Local part up to 64, a label up to 63 bytes. */
	memset(buf, 'a', 64);
	strcpy(buf + 64, "@example.org");
	assert_true(comment_email_valid(buf));
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.org");
	assert_false(comment_email_valid(buf));
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 63);
	strcpy(buf + 65, ".org");
	assert_true(comment_email_valid(buf));
	memset(buf + 2, 'b', 64);
	strcpy(buf + 66, ".org");
	assert_false(comment_email_valid(buf));

	assert_int_equal(validate_with(CF_EMAIL, "nope", &f), -1);
	assert_fault(&f, 422, "invalid", "email");
	assert_int_equal(validate_with(CF_EMAIL, "\tyes@example.org ", &f), 0);
}

static void
test_url(void **state)
{
	static const char *const good[] = {
		"http://example.org", "https://example.org/",
		"HTTPS://Example.ORG/Path", "http://localhost",
		"http://localhost:8080/x", ("https://blog.example.org/2024/01/"
		"post?x=1&y=%20#c"), "http://192.0.2.1/", "http://10.0.0.1:80",
		"http://[::1]/", "http://[2001:db8::1]:443/x",
		"https://bücher.de/", "https://xn--bcher-kva.de",
		"https://example.org?q", "https://example.org#top",
		"https://example.org:65535", "https://a-b.example/ü/ß",
	};
	static const char *const bad[] = {
		"", "example.org", "example.org/x", "www.example.org",
		"ftp://example.org", "javascript:alert(1)", "http:/example.org",
		"http:example.org", "//example.org", "http://",
		"http:///path", "http://exa mple.org", "http://example.org/a b",
		"http://example.org/\t", "http://example.org/\"",
		"http://e.org/<x>",
		"http://e.org\\@evil.org", "http://user:pw@example.org/",
		"http://user@example.org", "http://example.org:",
		"http://example.org:0", "http://example.org:65536",
		"http://example.org:123456", "http://example.org:8a",
		"http://example.org:80:80", "http://-example.org",
		"http://example-.org", "http://example..org",
		"http://.example.org",
		"http://example.org.", "http://999.1.1.1", "http://1.2.3",
		"http://example.123", "http://[::1", "http://[zz::1]/",
		"http://[]/", "http://[::1]x/", "http://exa_mple.org",
		" http://example.org",
	};
	struct fault f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!comment_url_valid(good[i]))
			fail_msg("rejected good URL \"%s\"", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (comment_url_valid(bad[i]))
			fail_msg("accepted bad URL \"%s\"", bad[i]);
	assert_false(comment_url_valid(NULL));

	assert_int_equal(validate_with(CF_URL, "example.org/x", &f), -1);
	assert_fault(&f, 422, "invalid", "url");
	assert_non_null(strstr(f.message, "http:// or https://"));
	assert_int_equal(validate_with(CF_URL, "http://exa mple.org", &f), -1);
	assert_fault(&f, 422, "invalid", "url");
	assert_int_equal(validate_with(CF_URL, " https://example.org/ ", &f),
	    0);
}

static void
test_ip(void **state)
{
	static const char *const good[] = { "192.0.2.1", "0.0.0.0",
	    "255.255.255.255", "::1", "::", "2001:db8::1",
	    "fe80::1:2:3:4", "::ffff:192.0.2.1",
	    "2001:0db8:0000:0000:0000:ff00:0042:8329" };
	static const char *const bad[] = { "", "1.2.3", "256.1.1.1",
	    "1.2.3.4.5", "01.2.3.4x", "example.org", ":::1", "2001:db8::g",
	    "fe80::1%eth0", " 1.2.3.4", "1.2.3.4/24", "[::1]" };
	struct fault f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!comment_ip_valid(good[i]))
			fail_msg("rejected good address \"%s\"", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (comment_ip_valid(bad[i]))
			fail_msg("accepted bad address \"%s\"", bad[i]);
	assert_false(comment_ip_valid(NULL));
	assert_int_equal(validate_with(CF_IP, "300.1.1.1", &f), -1);
	assert_fault(&f, 422, "invalid", "ip");
	assert_int_equal(validate_with(CF_IP, "2001:db8::1", &f), 0);
}

/* One address, one spelling; IPv6 flood counters per network. */
static void
test_ip_canonical(void **state)
{
	static const struct {
		const char *in, *out, *net64;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1", "192.0.2.1" },
		{ "2001:DB8::1", "2001:db8::1", "2001:db8::/64" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1",
		    "2001:db8::/64" },
		{ "2001:db8:0:0::0:1", "2001:db8::1", "2001:db8::/64" },
		{ "2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6",
		    "2001:db8:1:2::/64" },
		{ "::ffff:192.0.2.1", "192.0.2.1", "192.0.2.1" },
		{ "::FFFF:c000:0201", "192.0.2.1", "192.0.2.1" },
		{ "::1", "::1", "::/64" },
	};
	char out[COMMENT_IP_MAX];
	struct comment c;
	struct fault f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(comment_ip_canonical(cases[i].in, out,
		    sizeof out), 0);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(comment_ip_network(cases[i].in, 64, out,
		    sizeof out), 0);
		assert_string_equal(out, cases[i].net64);
		base(&c);
		set(&c, CF_IP, cases[i].in);
		assert_int_equal(comment_validate(&c, &limits, &f), 0);
		assert_string_equal(c.field[CF_IP], cases[i].out);
		assert_int_equal(c.len[CF_IP], strlen(cases[i].out));
		comment_free(&c);
	}
	assert_int_equal(comment_ip_network("2001:db8:1:2:3:4:5:6", 48, out,
	    sizeof out), 0);
	assert_string_equal(out, "2001:db8:1::/48");
	assert_int_equal(comment_ip_network("2001:db8:1:2:3:4:5:6", 128, out,
	    sizeof out), 0);
	assert_string_equal(out, "2001:db8:1:2:3:4:5:6");
	assert_int_equal(comment_ip_network("2001:db8:1:2:3:4:5:6", 40, out,
	    sizeof out), 0);
	assert_string_equal(out, "2001:db8::/40");
	assert_int_equal(comment_ip_network("2001:db8:ffff::1", 41, out,
	    sizeof out), 0);
	assert_string_equal(out, "2001:db8:ff80::/41");
	assert_int_equal(comment_ip_canonical("nope", out, sizeof out), -1);
	assert_int_equal(comment_ip_canonical("::1", out, 8), -1);
	assert_int_equal(comment_ip_network("1.2.3", 64, out, sizeof out), -1);
}

static void
test_lang(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "de", "de" }, { "DE", "de" }, { "de-AT", "de" },
		{ "en-GB", "en" }, { "En-gb", "en" }, { "zh-Hant-TW", "zh" },
		{ "gsw", "gsw" }, { " fr ", "fr" }, { "de-1996", "de" },
		{ "sl-rozaj-biske", "sl" }, { "de_AT", "de" }, { "pt_BR", "pt" },
	};
	static const char *const bad[] = { "d", "deut", "deutsch", "de-",
	    "de_", "12", "-de", "de--at", "de-abcdefghi", "de AT", "dé" };
	struct comment c;
	struct fault f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		base(&c);
		set(&c, CF_LANG, good[i].in);
		if (comment_validate(&c, &limits, &f) != 0)
			fail_msg("rejected lang \"%s\"", good[i].in);
		assert_string_equal(c.field[CF_LANG], good[i].out);
		assert_int_equal(c.len[CF_LANG], strlen(good[i].out));
		comment_free(&c);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (validate_with(CF_LANG, bad[i], &f) != -1)
			fail_msg("accepted lang \"%s\"", bad[i]);
		assert_fault(&f, 422, "invalid", "lang");
	}
}

static void
test_other_fields(void **state)
{
	struct comment_limits nocaptcha = { 10000, false };
	struct comment c;
	struct fault f;

	(void)state;
	assert_int_equal(validate_with(CF_PARENT, "0123456789abcdef0123", &f),
	    0);
	assert_int_equal(validate_with(CF_PARENT, "0123456789ABCDEF0123", &f),
	    -1);
	assert_fault(&f, 422, "invalid", "parent");
	assert_int_equal(validate_with(CF_PARENT, "0123456789abcdef012", &f),
	    -1);
	assert_int_equal(validate_with(CF_PARENT, "0123456789abcdef01234", &f),
	    -1);
	assert_int_equal(validate_with(CF_PARENT, "../../etc/passwd0000", &f),
	    -1);

	assert_int_equal(validate_with(CF_REQUEST_ID, "abc-123_XYZ.~0123", &f),
	    0);
	assert_int_equal(validate_with(CF_REQUEST_ID, "abc 123 0123456789", &f),
	    -1);
	assert_fault(&f, 422, "invalid", "request_id");
	assert_int_equal(validate_with(CF_REQUEST_ID, "üüüüüüüüüüüüüüüü", &f),
	    -1);
	/* One namespace for every reader: a short one is too easy to hit. */
	assert_int_equal(validate_with(CF_REQUEST_ID, "0123456789abcde", &f),
	    -1);
	assert_fault(&f, 422, "invalid", "request_id");
	assert_int_equal(validate_with(CF_REQUEST_ID, "0123456789abcdef", &f),
	    0);

	/* A malformed captcha id is one we never issued. */
	assert_int_equal(validate_with(CF_CAPTCHA_ID, "nope", &f), -1);
	assert_fault(&f, 403, "captcha", "captcha_id");
	assert_string_equal(f.message, "unknown or expired captcha");
	assert_int_equal(validate_with(CF_CAPTCHA_ID,
	    "0123456789ABCDEF0123456789ABCDEF", &f), -1);
	assert_fault(&f, 403, "captcha", "captcha_id");
	base(&c);
	set(&c, CF_CAPTCHA_ID, "nope");
	assert_int_equal(comment_validate(&c, &nocaptcha, &f), 0);
	comment_free(&c);

	/* Free text: anything single-line within the limit. */
	assert_int_equal(validate_with(CF_HONEYPOT, "filled by a bot", &f), 0);
	assert_int_equal(validate_with(CF_RETURN_TO,
	    "https://blog.example.org/p?x=1#c", &f), 0);
	assert_int_equal(validate_with(CF_USER_AGENT, "Mozilla/5.0 (X11)", &f),
	    0);
	assert_int_equal(validate_with(CF_CAPTCHA_ANSWER, "Sieben", &f), 0);
}

/*
 * The flat reader takes the bodies form plugins send, with the same
 * fields as jansson, and leaves everything else to jansson untouched.
 */
static void
test_json_flat(void **state)
{
	static const char *const taken[] = {
		"{}",
		" {\"post\":\"p\",\"body\":\"Hallo\"} \n",
		"{\"post\":\"p\\u00e4\\u20ac\\n\",\"author\":\"A \\\"B\\\" \\\\ \\/\","
		    "\"captcha_answer\":-0,\"x\":true,\"y\":false,\"z\":12,"
		    "\"ip\":null,\"\":\"e\"}",
		"{\"captcha_answer\":-123456789012345678,\"body\":\"\\b\\f\\r\\t\\u0001\"}",
		"{\"body\":\"Schöner Artikel\",\"captcha_answer\":\"sieben\"}",
	};
	static const char *const declined[] = {
		"", "[]", "{", "{\"post\":\"p\"", "{\"post\":\"p\"}x",
		"{\"post\":\"p\",}", "{\"post\":{}}", "{\"x\":[1]}",
		"{\"post\":\"a\",\"post\":\"b\"}", "{\"x\":1,\"x\":2}",
		"{\"p\\u006fst\":\"p\"}", "{\"body\":\"\\u0000\"}",
		"{\"body\":\"\\ud83d\\ude00\"}", "{\"body\":\"\\x\"}",
		"{\"body\":\"a\tb\"}", "{\"captcha_answer\":1.5}",
		"{\"captcha_answer\":1e3}", "{\"captcha_answer\":01}",
		"{\"captcha_answer\":1234567890123456789}", "{\"post\":1}",
		"{\"post\":true}", "{\"x\":-}", "{\"x\":nul}",
	};
	struct comment flat, tree;
	struct fault f;
	size_t k;
	int i;

	(void)state;
	for (k = 0; k < sizeof taken / sizeof taken[0]; k++) {
		comment_init(&flat);
		comment_init(&tree);
		fault_clear(&f);
		assert_int_equal(comment_from_json_flat(&flat, taken[k],
		    strlen(taken[k])), 0);
		assert_int_equal(comment_from_json_tree(&tree, taken[k],
		    strlen(taken[k]), &f), 0);
		for (i = 0; i < CF__COUNT; i++) {
			assert_int_equal(flat.len[i], tree.len[i]);
			if (tree.field[i] == NULL)
				assert_null(flat.field[i]);
			else
				assert_memory_equal(flat.field[i], tree.field[i],
				    tree.len[i] + 1);
		}
		comment_free(&flat);
		comment_free(&tree);
	}
	comment_init(&flat);
	assert_int_equal(comment_from_json_flat(&flat, taken[2],
	    strlen(taken[2])), 0);
	assert_string_equal(flat.field[CF_POST], "p\xc3\xa4\xe2\x82\xac\n");
	assert_string_equal(flat.field[CF_AUTHOR], "A \"B\" \\ /");
	assert_string_equal(flat.field[CF_CAPTCHA_ANSWER], "0");
	assert_null(flat.field[CF_IP]);
	comment_free(&flat);
	for (k = 0; k < sizeof declined / sizeof declined[0]; k++) {
		comment_init(&flat);
		assert_int_equal(comment_from_json_flat(&flat, declined[k],
		    strlen(declined[k])), -1);
		for (i = 0; i < CF__COUNT; i++)
			assert_null(flat.field[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_set_free),
		cmocka_unit_test(test_json_all_fields),
		cmocka_unit_test(test_json_null_and_integer),
		cmocka_unit_test(test_json_wrong_types),
		cmocka_unit_test(test_json_bad),
		cmocka_unit_test(test_json_bad_utf8),
		cmocka_unit_test(test_json_deep),
		cmocka_unit_test(test_form_decode),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_form_bad),
		cmocka_unit_test(test_validate_ok),
		cmocka_unit_test(test_validate_newlines),
		cmocka_unit_test(test_validate_required),
		cmocka_unit_test(test_validate_length),
		cmocka_unit_test(test_validate_controls),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_ip_canonical),
		cmocka_unit_test(test_lang),
		cmocka_unit_test(test_other_fields),
		cmocka_unit_test(test_json_flat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
