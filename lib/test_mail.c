/* Unit tests for mail messages (lib/mail.c) and their templates (lib/template.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "mail.h"
#include "notice.h"
#include "template.h"
#include "utf8.h"

/* ---- decoders, so that every encoding is checked by reading it back ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable back to text with \n line breaks; NULL if malformed. */
static char *
qp_decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *w = out;
	int hi, lo;

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=') {
			if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0) {
				free(out);
				return NULL;
			}
			*w++ = (char)(hi << 4 | lo);
			s += 3;
		} else if (s[0] == '\r' && s[1] == '\n') {
			*w++ = '\n';
			s += 2;
		} else if (s[0] == '\r' || s[0] == '\n') {
			free(out);	/* bare CR or LF */
			return NULL;
		} else
			*w++ = *s++;
	}
	*w = '\0';
	return out;
}

/* Every physical line: at most 76 characters, no whitespace before CRLF. */
static void
assert_qp_lines(const char *s)
{
	const char *p = s, *e;

	while (*p != '\0') {
		e = strstr(p, "\r\n");
		if (e == NULL)
			e = p + strlen(p);
		assert_true(e - p <= 76);
		if (e > p)
			assert_true(e[-1] != ' ' && e[-1] != '\t');
		/* A soft-broken piece holds whole UTF-8 characters. */
		{
			char *piece = strndup(p, (size_t)(e - p) -
			    (e > p && e[-1] == '=' ? 1 : 0));
			char *dec = qp_decode(piece);

			assert_non_null(dec);
			assert_true(utf8_valid(dec, strlen(dec)));
			free(dec);
			free(piece);
		}
		p = *e != '\0' ? e + 2 : e;
	}
}

static void
qp_roundtrip(const char *in, const char *want_text)
{
	char *enc = mail_qp_encode(in, strlen(in));
	char *dec = qp_decode(enc);

	assert_non_null(dec);
	assert_string_equal(dec, want_text != NULL ? want_text : in);
	assert_qp_lines(enc);
	free(dec);
	free(enc);
}

static int
b64val(char c)
{
	const char *tab =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(tab, c) : NULL;

	return p != NULL ? (int)(p - tab) : -1;
}

/*
 * A header's value as a reader sees it: unfolded, encoded words decoded
 * (whitespace between two words dropped).  Each word must decode to whole
 * UTF-8 characters on its own.
 */
static char *
header_decode(const char *h)
{
	char *out = calloc(1, strlen(h) + 1), *w = out;
	const char *p = strchr(h, ':') + 1, *end;
	int last_word = 0, v, bits = 0;
	unsigned int acc = 0;
	char *word_start;

	while (*p == ' ')
		p++;
	while (*p != '\0') {
		if (p[0] == '\r' && p[1] == '\n') {
			p += 2;
			if (*p == '\0')
				break;
			assert_true(*p == ' ' || *p == '\t');	/* a fold */
			continue;
		}
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			if (last_word) {
				/* drop the folding space between two words */
				while (w > out && w[-1] == ' ')
					w--;
			}
			p += 10;
			end = strstr(p, "?=");
			assert_non_null(end);
			word_start = w;
			acc = 0;
			bits = 0;
			for (; p < end; p++) {
				if (*p == '=')
					continue;
				assert_true((v = b64val(*p)) >= 0);
				acc = acc << 6 | (unsigned int)v;
				bits += 6;
				if (bits >= 8) {
					bits -= 8;
					*w++ = (char)(acc >> bits & 0xff);
				}
			}
			assert_true(utf8_valid(word_start, (size_t)(w - word_start)));
			p = end + 2;
			last_word = 1;
			continue;
		}
		if (*p != ' ')
			last_word = 0;
		*w++ = *p++;
	}
	*w = '\0';
	return out;
}

/* Every line of a header at most max characters. */
static void
assert_header_lines(const char *h, size_t max)
{
	const char *p = h, *e;

	while ((e = strstr(p, "\r\n")) != NULL) {
		assert_true((size_t)(e - p) <= max);
		p = e + 2;
	}
	assert_string_equal(p, "");
}

/* ---- quoted-printable ---- */

static void
test_qp_basic(void **state)
{
	char *s;

	(void)state;
	s = mail_qp_encode("a=b", 3);
	assert_string_equal(s, "a=3Db");
	free(s);
	s = mail_qp_encode("Gr\xc3\xbc\xc3\x9f" "e", 7);
	assert_string_equal(s, "Gr=C3=BC=C3=9Fe");
	free(s);
	s = mail_qp_encode("", 0);
	assert_string_equal(s, "");
	free(s);
	/* Line breaks become CRLF; CRLF stays one break. */
	s = mail_qp_encode("one\ntwo\r\nthree\n", 15);
	assert_string_equal(s, "one\r\ntwo\r\nthree\r\n");
	free(s);
	/* A lone CR and other control characters are encoded. */
	s = mail_qp_encode("a\rb\x01", 4);
	assert_string_equal(s, "a=0Db=01");
	free(s);
}

static void
test_qp_trailing_space(void **state)
{
	char *s;

	(void)state;
	s = mail_qp_encode("end \nnext\t\nin side", 18);
	assert_string_equal(s, "end=20\r\nnext=09\r\nin side");
	free(s);
	s = mail_qp_encode("  ", 2);
	assert_string_equal(s, " =20");
	free(s);
}

static void
test_qp_soft_breaks(void **state)
{
	char line[300], *s;
	size_t i;

	(void)state;
	/* 76 characters fit on one line, 77 do not. */
	memset(line, 'x', 76);
	line[76] = '\0';
	s = mail_qp_encode(line, 76);
	assert_null(strchr(s, '\r'));
	free(s);
	memset(line, 'x', 77);
	line[77] = '\0';
	s = mail_qp_encode(line, 77);
	assert_non_null(strstr(s, "=\r\n"));
	assert_int_equal(strstr(s, "=\r\n") - s, 75);
	free(s);
	qp_roundtrip(line, NULL);

	/* =XX is never split by a soft break. */
	for (i = 0; i < 250; i++)
		line[i] = i % 3 == 0 ? '=' : 'y';
	line[250] = '\0';
	qp_roundtrip(line, NULL);

	/* UTF-8 characters stay whole on each line. */
	line[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(line, i % 2 ? "\xc3\xbc" : "\xe2\x80\x9e");
	qp_roundtrip(line, NULL);
	line[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(line, "a\xf0\x9f\x98\x80");
	qp_roundtrip(line, NULL);

	/* Spaces before a soft break are kept as they are. */
	for (i = 0; i < 200; i++)
		line[i] = i % 2 ? ' ' : 'z';
	line[200] = '\0';
	qp_roundtrip(line, NULL);
	qp_roundtrip("Sch\xc3\xb6ner Beitrag!\n\n. a dot line\n", NULL);
	qp_roundtrip("windows\r\nline\r\n", "windows\nline\n");
}

/* ---- RFC 2047 ---- */

static void
test_header_plain(void **state)
{
	char *h;

	(void)state;
	h = mail_header("Subject", "Hello world");
	assert_string_equal(h, "Subject: Hello world\r\n");
	free(h);
	h = mail_header("Subject", "  spaced \t out  ");
	assert_string_equal(h, "Subject: spaced out\r\n");
	free(h);
	h = mail_header("Subject", "");
	assert_string_equal(h, "Subject:\r\n");
	free(h);
	/* Long ASCII folds at spaces, every line under 78. */
	h = mail_header("Subject", "word word word word word word word word "
	    "word word word word word word word word word word word word word");
	assert_header_lines(h, 78);
	assert_non_null(strstr(h, "\r\n word"));
	free(h);
}

static void
test_header_encoded(void **state)
{
	const char *subj = "Neuer Kommentar wartet auf Freischaltung: "
	    "\xe2\x80\x9eGr\xc3\xbc\xc3\x9f" "e\xe2\x80\x9c";
	char *h, *d, longer[2000];
	size_t i;

	(void)state;
	h = mail_header("Subject", subj);
	assert_memory_equal(h, "Subject: =?UTF-8?B?", 19);
	assert_header_lines(h, 76);
	d = header_decode(h);
	assert_string_equal(d, subj);
	free(d);
	free(h);

	/* Long text of multi-byte characters: many words, each whole. */
	longer[0] = '\0';
	for (i = 0; i < 150; i++)
		strcat(longer, i % 3 ? "\xc3\xa4" : "\xe2\x82\xac ");
	h = mail_header("Subject", longer);
	assert_header_lines(h, 76);
	d = header_decode(h);
	assert_non_null(d);
	assert_true(strlen(d) > 300);
	free(d);
	free(h);

	/* ASCII that looks like an encoded word is encoded itself. */
	h = mail_header("Subject", "=?UTF-8?B?ZXZpbA==?=");
	d = header_decode(h);
	assert_string_equal(d, "=?UTF-8?B?ZXZpbA==?=");
	free(d);
	free(h);
}

/* ---- header injection ---- */

static void
test_header_injection(void **state)
{
	char *h, *d;

	(void)state;
	h = mail_header("Subject", "hi\r\nBcc: victim@example.org");
	assert_string_equal(h, "Subject: hi Bcc: victim@example.org\r\n");
	free(h);
	h = mail_header("Subject", "hi\nBcc: victim@example.org\n\nbody");
	assert_null(strstr(h, "\nBcc"));
	free(h);
	/* With non-ASCII, the line break cannot survive encoding either. */
	h = mail_header("Subject", "\xc3\xbc\r\nBcc: victim@example.org");
	d = header_decode(h);
	assert_string_equal(d, "\xc3\xbc Bcc: victim@example.org");
	free(d);
	free(h);
	/* Unicode line separators, NUL-free control characters, bad UTF-8. */
	h = mail_header("Subject", "a\xe2\x80\xa8" "b\x0b" "c\xc2\x85" "d\xff");
	d = header_decode(h);
	assert_string_equal(d, "a b c d?");
	free(d);
	free(h);
}

static void
test_addresses(void **state)
{
	char *a;

	(void)state;
	assert_true(mail_address_valid("anna@example.org"));
	assert_true(mail_address_valid("heinzel@localhost"));
	assert_true(mail_address_valid("a.b+tag@sub.example.co.uk"));
	assert_true(mail_address_valid("o'brien@example.ie"));
	assert_false(mail_address_valid("no-at-sign"));
	assert_false(mail_address_valid("two@@example.org"));
	assert_false(mail_address_valid("a@b@example.org"));
	assert_false(mail_address_valid("@example.org"));
	assert_false(mail_address_valid("anna@"));
	assert_false(mail_address_valid(".anna@example.org"));
	assert_false(mail_address_valid("an..na@example.org"));
	assert_false(mail_address_valid("anna@-example.org"));
	assert_false(mail_address_valid("anna@example..org"));
	assert_false(mail_address_valid("anna@example.org\r\nBcc: x@y.org"));
	assert_false(mail_address_valid("anna@example.org>"));
	assert_false(mail_address_valid("an na@example.org"));
	assert_false(mail_address_valid("anna@b\xc3\xbc" "cher.de"));
	assert_false(mail_address_valid(NULL));

	a = mail_address("Heinzel <heinzel@example.org>");
	assert_string_equal(a, "heinzel@example.org");
	free(a);
	a = mail_address("  heinzel@example.org ");
	assert_string_equal(a, "heinzel@example.org");
	free(a);
	assert_null(mail_address("Heinzel <heinzel@example.org"));
	assert_null(mail_address("nobody"));
}

static void
test_message_id(void **state)
{
	char *a, *b;

	(void)state;
	a = mail_message_id("0193a1b2c3d4e5f60718", "published",
	    "Heinzel <heinzel@blog.example.org>");
	assert_string_equal(a, "<0193a1b2c3d4e5f60718.published@blog.example.org>");
	b = mail_message_id("0193a1b2c3d4e5f60718", "published",
	    "Heinzel <heinzel@blog.example.org>");
	assert_string_equal(a, b);	/* derived, so duplicates show */
	free(b);
	b = mail_message_id("0193a1b2c3d4e5f60718", "admin",
	    "heinzel@blog.example.org");
	assert_string_not_equal(a, b);
	free(b);
	free(a);
	a = mail_message_id("01>\r\n<x", "ad min", "not an address");
	assert_string_equal(a, "<01x.admin@heinzel>");
	free(a);
}

static void
test_date(void **state)
{
	char buf[40];

	(void)state;
	mail_date(0, buf, sizeof buf);
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 +0000");
	mail_date(1717243384, buf, sizeof buf);
	assert_string_equal(buf, "Sat, 01 Jun 2024 12:03:04 +0000");
}

/* The header block: each line a known header or a fold. */
static void
assert_headers(const char *msg, const char *const *names)
{
	const char *p = msg, *e;
	size_t i, n = 0;

	while ((e = strstr(p, "\r\n")) != NULL && e != p) {
		if (*p != ' ') {
			for (i = 0; names[i] != NULL; i++)
				if (strncmp(p, names[i], strlen(names[i])) == 0 &&
				    p[strlen(names[i])] == ':')
					break;
			if (names[i] == NULL)
				fail_msg("unexpected header line: %.*s",
				    (int)(e - p), p);
			n++;
		}
		p = e + 2;
	}
	assert_non_null(e);
	for (i = 0; names[i] != NULL; i++)
		;
	assert_int_equal(n, i);
}

static void
test_build(void **state)
{
	static const char *const names[] = {
		"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
		"Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
		"X-Auto-Response-Suppress", "X-Heinzel-Comment",
		"X-Heinzel-Kind", NULL
	};
	struct mail m;
	const char *cause;
	char *msg, *body, *d;
	size_t len;

	(void)state;
	memset(&m, 0, sizeof m);
	m.from = "Heinzel Bl\xc3\xb6g <heinzel@example.org>";
	m.to = "anna@example.org";
	m.subject = "Ihr Kommentar zu \xe2\x80\x9eGr\xc3\xbc\xc3\x9f" "e\xe2\x80\x9c";
	m.body = "Hallo Anna,\n\nSch\xc3\xb6n =)\n";
	m.message_id = "<0193a1b2c3d4e5f60718.published@example.org>";
	m.date = 0;
	m.comment_id = "0193a1b2c3d4e5f60718";
	m.kind = "published";
	msg = mail_build(&m, &len, &cause);
	assert_non_null(msg);
	assert_int_equal(len, strlen(msg));
	assert_headers(msg, names);
	assert_non_null(strstr(msg, "\r\nTo: anna@example.org\r\n"));
	assert_non_null(strstr(msg, "\r\nAuto-Submitted: auto-generated\r\n"));
	assert_non_null(strstr(msg, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <0193a1b2c3d4e5f60718.published@example.org>\r\n"));
	assert_non_null(strstr(msg, "From: =?UTF-8?B?"));
	assert_non_null(strstr(msg, " <heinzel@example.org>\r\n"));
	body = strstr(msg, "\r\n\r\n") + 4;
	assert_string_equal(body, "Hallo Anna,\r\n\r\nSch=C3=B6n =3D)\r\n");
	d = qp_decode(body);
	assert_string_equal(d, m.body);
	free(d);
	free(msg);

	m.from = "\"Heinzel\" <heinzel@example.org>";
	msg = mail_build(&m, &len, &cause);
	assert_non_null(strstr(msg, "From: \"Heinzel\" <heinzel@example.org>\r\n"));
	free(msg);

	/* No valid address, no message. */
	m.to = "anna@example.org\r\nBcc: victim@example.org";
	assert_null(mail_build(&m, &len, &cause));
	assert_non_null(strstr(cause, "recipient"));
	m.to = "anna";
	assert_null(mail_build(&m, &len, &cause));
	m.to = "anna@example.org";
	m.from = "nobody";
	assert_null(mail_build(&m, &len, &cause));
	assert_non_null(strstr(cause, "sender"));
}

/* ---- templates ---- */

static void
test_template_builtin(void **state)
{
	char *cause = NULL;
	int k;

	(void)state;
	for (k = 0; k < TEMPLATE__COUNT; k++) {
		if (template_check(k, template_builtin(k, "de"), &cause) != 0)
			fail_msg("%s.de: %s", template_kind_name(k), cause);
		if (template_check(k, template_builtin(k, "en"), &cause) != 0)
			fail_msg("%s.en: %s", template_kind_name(k), cause);
		assert_int_equal(template_kind_parse(template_kind_name(k)), k);
	}
	assert_int_equal(template_kind_parse("nope"), -1);
	/* The author's kinds never see the moderators' fields. */
	assert_true(template_allowed(TEMPLATE_ADMIN, "ip"));
	assert_false(template_allowed(TEMPLATE_PUBLISHED, "ip"));
	assert_false(template_allowed(TEMPLATE_RECEIVED, "email"));
	assert_false(template_allowed(TEMPLATE_RECEIVED, "score"));
	/* A receipt quotes the excerpt, never name, post or website. */
	assert_false(template_allowed(TEMPLATE_RECEIVED, "author"));
	assert_false(template_allowed(TEMPLATE_RECEIVED, "post"));
	assert_false(template_allowed(TEMPLATE_RECEIVED, "url"));
	assert_false(template_allowed(TEMPLATE_RECEIVED, "summary"));
	assert_true(template_allowed(TEMPLATE_RECEIVED, "excerpt"));
	assert_true(template_allowed(TEMPLATE_PUBLISHED, "author"));
}

static void
test_template_render(void **state)
{
	const struct template_var vars[] = {
		{ "summary", "Gr\xc3\xbc\xc3\x9f" "e\naus K\xc3\xb6ln" },
		{ "post", "hello-world" },
		{ "author", "Anna" },
		{ "email", "anna@example.org" },
		{ "ip", "192.0.2.1" },
		{ "excerpt", "> line one\n> line two" },
		{ "approve", "heinzelctl approve 0193a1b2c3d4e5f60718" },
		{ "pending", "3" },
		{ "title", "Du musst nicht alles alleine machen" },
		{ "site", "Notizen aus K\xc3\xb6ln" },
		{ "link", "" },
	};
	struct template_var linked[sizeof vars / sizeof vars[0]];
	char *subject, *body, *cause = NULL;
	size_t nvars = sizeof vars / sizeof vars[0];

	(void)state;
	assert_int_equal(template_render(TEMPLATE_ADMIN,
	    template_builtin(TEMPLATE_ADMIN, "de"), vars, nvars, &subject,
	    &body, &cause), 0);
	/* A value with a line break stays on the subject's one line. */
	assert_string_equal(subject, "Neuer Kommentar zu \xe2\x80\x9e"
	    "Du musst nicht alles alleine machen\xe2\x80\x9c: "
	    "\xe2\x80\x9eGr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\xe2\x80\x9c");
	/* The line of an empty {{link}} is left out, not left empty. */
	assert_non_null(strstr(body, "auf Notizen aus K\xc3\xb6ln wartet auf "
	    "Freischaltung.\n\nVon:"));
	assert_non_null(strstr(body, "Anna <anna@example.org>"));
	assert_non_null(strstr(body, "192.0.2.1"));
	assert_non_null(strstr(body, "> line one\n> line two\n"));
	assert_non_null(strstr(body, "heinzelctl approve 0193a1b2c3d4e5f60718"));
	assert_non_null(strstr(body, "Warteschlange: 3"));
	assert_null(strstr(body, "{{"));
	free(subject);
	free(body);

	memcpy(linked, vars, sizeof vars);
	linked[nvars - 1].value = "https://blog.example.org/p/#comments";
	assert_int_equal(template_render(TEMPLATE_PUBLISHED,
	    template_builtin(TEMPLATE_PUBLISHED, "en"), linked, nvars, &subject,
	    &body, &cause), 0);
	assert_string_equal(subject, "Your comment on \"Du musst nicht alles "
	    "alleine machen\" is published");
	assert_non_null(strstr(body, "is now published:\n"
	    "https://blog.example.org/p/#comments\n\n"));
	assert_non_null(strstr(body, "sent automatically by Notizen aus "
	    "K\xc3\xb6ln.\n"));
	assert_null(strstr(body, "192.0.2.1"));
	assert_null(strstr(body, "anna@example.org"));
	free(subject);
	free(body);
}

static void
test_template_check(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_int_equal(template_check(TEMPLATE_PUBLISHED,
	    "Subject: hi {{author}}\n\nYour IP: {{ip}}\n", &cause), -1);
	assert_string_equal(cause, "line 3: {{ip}} is not allowed in a published template");
	free(cause);
	assert_int_equal(template_check(TEMPLATE_ADMIN,
	    "Subject: x\n\n{{nonsense}}\n", &cause), -1);
	assert_string_equal(cause, "line 3: {{nonsense}} is unknown in a admin template");
	free(cause);
	assert_int_equal(template_check(TEMPLATE_ADMIN,
	    "Subject: x\n\n{{Author}}\n", &cause), -1);
	free(cause);
	assert_int_equal(template_check(TEMPLATE_ADMIN, "Hello\n\nbody\n",
	    &cause), -1);
	free(cause);
	assert_int_equal(template_check(TEMPLATE_ADMIN, "Subject: x\nbody\n",
	    &cause), -1);
	free(cause);
	assert_int_equal(template_check(TEMPLATE_ADMIN, "Subject: x\r\n\r\nok {{ip}}\r\n",
	    &cause), 0);
	/* A receipt's subject quotes nothing, not even the id. */
	assert_int_equal(template_check(TEMPLATE_RECEIVED,
	    "Subject: got {{id}}\n\n{{excerpt}}\n", &cause), -1);
	assert_string_equal(cause, "line 1: {{id}}: the subject of a received "
	    "template holds no variables");
	free(cause);
	assert_int_equal(template_check(TEMPLATE_RECEIVED,
	    "Subject: got it\n\nHello {{author}}\n", &cause), -1);
	assert_string_equal(cause, "line 3: {{author}} is not allowed in a "
	    "received template");
	free(cause);
	assert_int_equal(template_check(TEMPLATE_RECEIVED,
	    "Subject: got it\n\n{{id}} {{created}}\n{{excerpt}}\n", &cause), 0);
}

static void
test_template_load(void **state)
{
	char dir[] = "/tmp/heinzel-test-mail-XXXXXX", path[128];
	char *text = NULL, *cause = NULL;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* No file: the built-in text. */
	assert_int_equal(template_load(dir, TEMPLATE_ADMIN, "de", &text, &cause), 0);
	assert_string_equal(text, template_builtin(TEMPLATE_ADMIN, "de"));
	free(text);
	assert_int_equal(template_load("", TEMPLATE_ADMIN, "fr", &text, &cause), 0);
	assert_string_equal(text, template_builtin(TEMPLATE_ADMIN, "en"));
	free(text);

	snprintf(path, sizeof path, "%s/published.de.txt", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("Subject: Eigener Text f\xc3\xbcr {{author}}\n\n{{excerpt}}\n", fp);
	fclose(fp);
	assert_int_equal(template_load(dir, TEMPLATE_PUBLISHED, "de", &text,
	    &cause), 0);
	assert_memory_equal(text, "Subject: Eigener", 16);
	free(text);

	/* An override that shows the author what is not theirs is refused. */
	assert_non_null(fp = fopen(path, "w"));
	fputs("Subject: hi\n\n{{ip}}\n", fp);
	fclose(fp);
	assert_int_equal(template_load(dir, TEMPLATE_PUBLISHED, "de", &text,
	    &cause), -1);
	assert_non_null(strstr(cause, "published.de.txt: line 3"));
	free(cause);
	unlink(path);
	rmdir(dir);
}

static void
test_excerpt(void **state)
{
	char *s;

	(void)state;
	s = template_excerpt("Hallo\n\nWelt", 100, 0);
	assert_string_equal(s, "> Hallo\n>\n> Welt");
	free(s);
	s = template_excerpt("  Gr\xc3\xbc\xc3\x9f" "e\r\n aus   K\xc3\xb6ln ", 100, 1);
	assert_string_equal(s, "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");
	free(s);
	/* Cut at a word, with an ellipsis, never inside a character. */
	s = template_excerpt("eins zwei drei vier f\xc3\xbcnf", 17, 1);
	assert_string_equal(s, "eins zwei drei\xe2\x80\xa6");
	free(s);
	s = template_excerpt("\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc", 2, 1);
	assert_string_equal(s, "\xc3\xbc\xc3\xbc\xe2\x80\xa6");
	free(s);
	s = template_excerpt("x\x01y", 10, 1);
	assert_string_equal(s, "xy");
	free(s);
}

/* ---- notices: what a stored notification becomes ---- */

/* An HGETALL reply of field/value pairs. */
static redisReply *
hash_reply(const char *const *kv)
{
	redisReply *r = calloc(1, sizeof *r);
	size_t i, n;

	for (n = 0; kv[n] != NULL; n++)
		;
	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n, sizeof *r->element);
	for (i = 0; i < n; i++) {
		r->element[i] = calloc(1, sizeof **r->element);
		r->element[i]->type = REDIS_REPLY_STRING;
		r->element[i]->str = strdup(kv[i]);
		r->element[i]->len = strlen(kv[i]);
	}
	return r;
}

static void
hash_free(redisReply *r)
{
	size_t i;

	for (i = 0; i < r->elements; i++) {
		free(r->element[i]->str);
		free(r->element[i]);
	}
	free(r->element);
	free(r);
}

/* A notification holding everything, as an admin's does. */
static const char *const full_notice[] = {
	"channel", "mail", "kind", "admin", "to", "editor@example.org",
	"comment", "0193a1b2c3d4e5f60718", "lang", "de", "attempts", "0",
	"post", "hello-world", "author", "Anna M\xc3\xbcller",
	"body", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", "created_at", "1717243384000",
	"email", "anna@example.org", "ip", "192.0.2.7", "user_agent", "Mozilla/5.0",
	"score", "4", "hits", "TEST_HOLDWORD=4 LINKS=-1", "hold", "1",
	"pending", "3", NULL
};

static struct config *
notice_config(void)
{
	struct config *cfg = config_new();

	free(cfg->notify_templates);
	cfg->notify_templates = strdup("");	/* the built-in texts */
	free(cfg->smtp_from);
	cfg->smtp_from = strdup("Blog <heinzel@blog.example.org>");
	return cfg;
}

/* The decoded body of a built message. */
static char *
notice_body(const char *msg)
{
	const char *b = strstr(msg, "\r\n\r\n");

	assert_non_null(b);
	return qp_decode(b + 4);
}

static void
test_notice_admin(void **state)
{
	struct config *cfg = notice_config();
	redisReply *h = hash_reply(full_notice);
	char *msg, *cause = NULL, *body;
	size_t len;
	int permanent;

	(void)state;
	assert_int_equal(notice_mail(h, cfg, 0, &msg, &len, &cause,
	    &permanent), 0);
	assert_non_null(strstr(msg, "\r\nTo: editor@example.org\r\n"));
	assert_non_null(strstr(msg, "Message-ID: <0193a1b2c3d4e5f60718.admin@blog.example.org>"));
	body = notice_body(msg);
	assert_non_null(strstr(body, "Anna M\xc3\xbcller <anna@example.org>"));
	assert_non_null(strstr(body, "192.0.2.7"));
	assert_non_null(strstr(body, "TEST_HOLDWORD (+4), LINKS (-1)"));
	assert_non_null(strstr(body, "2024-06-01 12:03 UTC"));
	assert_non_null(strstr(body, "heinzelctl approve 0193a1b2c3d4e5f60718"));
	assert_non_null(strstr(body, "Warteschlange: 3"));
	free(body);
	free(msg);
	hash_free(h);
	config_free(cfg);
}

static void
test_notice_author_sees_nothing_private(void **state)
{
	struct config *cfg = notice_config();
	const char *kv[sizeof full_notice / sizeof full_notice[0]];
	char *msg, *cause = NULL, *body;
	redisReply *h;
	size_t len, i;
	int permanent;

	(void)state;
	/* Even a notification that holds the private fields. */
	memcpy(kv, full_notice, sizeof kv);
	for (i = 0; kv[i] != NULL; i += 2) {
		if (strcmp(kv[i], "kind") == 0)
			kv[i + 1] = "published";
		if (strcmp(kv[i], "to") == 0)
			kv[i + 1] = "anna@example.org";
	}
	h = hash_reply(kv);
	assert_int_equal(notice_mail(h, cfg, 0, &msg, &len, &cause,
	    &permanent), 0);
	body = notice_body(msg);
	assert_non_null(strstr(body, "Hallo Anna M\xc3\xbcller,"));
	assert_non_null(strstr(body, "> Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln"));
	for (i = 0; i < 5; i++) {
		static const char *const secret[] = { "192.0.2.7",
		    "editor@example.org", "TEST_HOLDWORD", "heinzelctl",
		    "Mozilla" };

		assert_null(strstr(body, secret[i]));
		assert_null(strstr(msg, secret[i]));
	}
	free(body);
	free(msg);
	hash_free(h);
	config_free(cfg);
}

static void
test_notice_failures(void **state)
{
	struct config *cfg = notice_config();
	const char *kv[sizeof full_notice / sizeof full_notice[0]];
	char *msg = NULL, *cause = NULL;
	redisReply *h;
	size_t len, i;
	int permanent;

	(void)state;
	/* An address that cannot be mailed: for good. */
	memcpy(kv, full_notice, sizeof kv);
	for (i = 0; kv[i] != NULL; i += 2)
		if (strcmp(kv[i], "to") == 0)
			kv[i + 1] = "anna@b\xc3\xbc" "cher.de";
	h = hash_reply(kv);
	assert_int_equal(notice_mail(h, cfg, 0, &msg, &len, &cause,
	    &permanent), -1);
	assert_true(permanent);
	assert_string_equal(cause, "not a deliverable address");
	free(cause);
	hash_free(h);

	/* A bad [smtp] from: the configuration's, so worth another try. */
	h = hash_reply(full_notice);
	free(cfg->smtp_from);
	cfg->smtp_from = strdup("nobody");
	assert_int_equal(notice_mail(h, cfg, 0, &msg, &len, &cause,
	    &permanent), -1);
	assert_false(permanent);
	free(cause);
	hash_free(h);
	config_free(cfg);
}

static void
test_notice_webhook(void **state)
{
	const char *kv[sizeof full_notice / sizeof full_notice[0]];
	char *body, *key;
	json_t *j, *hit;
	redisReply *h;
	size_t len, i;

	(void)state;
	memcpy(kv, full_notice, sizeof kv);
	for (i = 0; kv[i] != NULL; i += 2) {
		if (strcmp(kv[i], "channel") == 0)
			kv[i + 1] = "webhook";
		if (strcmp(kv[i], "kind") == 0)
			kv[i + 1] = "pending";
	}
	h = hash_reply(kv);
	body = notice_webhook(h, &len, &key);
	assert_int_equal(len, strlen(body));
	assert_string_equal(key, "0193a1b2c3d4e5f60718.pending");
	assert_non_null(j = json_loads(body, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j, "event")), "pending");
	assert_string_equal(json_string_value(json_object_get(j, "approve")),
	    "heinzelctl approve 0193a1b2c3d4e5f60718");
	assert_true(json_is_true(json_object_get(j, "hold")));
	assert_int_equal(json_integer_value(json_object_get(j, "pending")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "created_at")),
	    "2024-06-01T12:03:04Z");
	hit = json_array_get(json_object_get(j, "hits"), 1);
	assert_string_equal(json_string_value(json_object_get(hit, "rule")), "LINKS");
	assert_true(json_real_value(json_object_get(hit, "score")) == -1.0);
	assert_null(json_object_get(j, "email"));
	assert_null(json_object_get(j, "ip"));
	assert_null(strstr(body, "192.0.2.7"));
	assert_null(strstr(body, "anna@example.org"));
	json_decref(j);
	free(body);
	free(key);
	hash_free(h);

	/* What Redis held makes no JSON: NULL, never an exit. */
	for (i = 0; kv[i] != NULL; i += 2) {
		if (strcmp(kv[i], "author") == 0)
			kv[i + 1] = "Anna \xff";
	}
	h = hash_reply(kv);
	key = NULL;
	assert_null(notice_webhook(h, &len, &key));
	assert_null(key);
	hash_free(h);
	for (i = 0; kv[i] != NULL; i += 2) {
		if (strcmp(kv[i], "author") == 0)
			kv[i + 1] = "Anna";
		if (strcmp(kv[i], "score") == 0)
			kv[i + 1] = "nan";
	}
	h = hash_reply(kv);
	assert_null(notice_webhook(h, &len, &key));
	hash_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qp_basic),
		cmocka_unit_test(test_qp_trailing_space),
		cmocka_unit_test(test_qp_soft_breaks),
		cmocka_unit_test(test_header_plain),
		cmocka_unit_test(test_header_encoded),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_template_builtin),
		cmocka_unit_test(test_template_render),
		cmocka_unit_test(test_template_check),
		cmocka_unit_test(test_template_load),
		cmocka_unit_test(test_excerpt),
		cmocka_unit_test(test_notice_admin),
		cmocka_unit_test(test_notice_author_sees_nothing_private),
		cmocka_unit_test(test_notice_failures),
		cmocka_unit_test(test_notice_webhook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
