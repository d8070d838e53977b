/*
 * The checks fuzz_comment_json and fuzz_comment_form share: whatever the
 * parser accepts is NUL-terminated UTF-8 of the stated length, whatever it
 * refuses is a 400 or 422, and comment_validate (with the captcha required
 * and not) either refuses with a field or leaves a comment that meets every
 * documented rule and passes validation again unchanged.
 */
#include <stdbool.h>
#include <string.h>

#include "comment.h"
#include "fault.h"
#include "utf8.h"
#include "fuzz.h"

#define FUZZ_BODY_MAX	10000

static bool
fuzz_comment_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static bool
fuzz_comment_hex(const char *s, size_t len, size_t want)
{
	size_t i;

	if (len != want)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void
fuzz_comment_copy(struct comment *dst, const struct comment *src)
{
	int i;

	comment_init(dst);
	for (i = 0; i < CF__COUNT; i++)
		if (src->field[i] != NULL)
			comment_set(dst, i, src->field[i], src->len[i]);
}

static bool
fuzz_comment_equal(const struct comment *a, const struct comment *b)
{
	int i;

	for (i = 0; i < CF__COUNT; i++) {
		if ((a->field[i] == NULL) != (b->field[i] == NULL))
			return false;
		if (a->field[i] == NULL)
			continue;
		if (a->len[i] != b->len[i] ||
		    memcmp(a->field[i], b->field[i], a->len[i]) != 0)
			return false;
	}
	return true;
}

/* A fault as the API would send it. */
static void
fuzz_comment_fault(const struct fault *f)
{
	FUZZ_CHECK(f->error != NULL);
	FUZZ_CHECK(memchr(f->message, '\0', sizeof f->message) != NULL);
	FUZZ_CHECK(f->message[0] != '\0');
	if (f->field != NULL)
		FUZZ_CHECK(comment_field_lookup(f->field,
		    strlen(f->field)) != -1);
}

/* What comment_validate promises about a comment it accepted. */
static void
fuzz_comment_valid(const struct comment *c, const struct comment_limits *lim)
{
	const char *s;
	size_t len;
	int i;

	FUZZ_CHECK(c->field[CF_POST] != NULL);
	FUZZ_CHECK(c->field[CF_AUTHOR] != NULL);
	FUZZ_CHECK(c->field[CF_EMAIL] != NULL);
	FUZZ_CHECK(c->field[CF_BODY] != NULL);
	if (lim->captcha_required) {
		FUZZ_CHECK(c->field[CF_CAPTCHA_ANSWER] != NULL);
		FUZZ_CHECK(c->field[CF_CAPTCHA_ID] != NULL);
		FUZZ_CHECK(fuzz_comment_hex(c->field[CF_CAPTCHA_ID],
		    c->len[CF_CAPTCHA_ID], 32));
	}
	for (i = 0; i < CF__COUNT; i++) {
		if ((s = c->field[i]) == NULL)
			continue;
		len = c->len[i];
		FUZZ_CHECK(len > 0);
		FUZZ_CHECK(s[len] == '\0' && strlen(s) == len);
		FUZZ_CHECK(utf8_valid_text(s, len, i == CF_BODY));
		FUZZ_CHECK(!fuzz_comment_space((unsigned char)s[0]));
		FUZZ_CHECK(!fuzz_comment_space((unsigned char)s[len - 1]));
	}
	FUZZ_CHECK(utf8_length(c->field[CF_BODY], c->len[CF_BODY]) <=
	    lim->body_max_chars);
	FUZZ_CHECK(comment_email_valid(c->field[CF_EMAIL]));
	if (c->field[CF_URL] != NULL)
		FUZZ_CHECK(comment_url_valid(c->field[CF_URL]));
	if (c->field[CF_IP] != NULL)
		FUZZ_CHECK(comment_ip_valid(c->field[CF_IP]));
	if ((s = c->field[CF_LANG]) != NULL) {
		/* The primary subtag, lowercased. */
		FUZZ_CHECK(c->len[CF_LANG] == 2 || c->len[CF_LANG] == 3);
		for (len = 0; len < c->len[CF_LANG]; len++)
			FUZZ_CHECK(s[len] >= 'a' && s[len] <= 'z');
	}
	if (c->field[CF_PARENT] != NULL)
		FUZZ_CHECK(fuzz_comment_hex(c->field[CF_PARENT],
		    c->len[CF_PARENT], 20));
}

static void
fuzz_comment_validate(const struct comment *parsed, bool captcha_required)
{
	struct comment_limits lim = { FUZZ_BODY_MAX, captcha_required };
	struct comment c, again;
	struct fault f;

	fuzz_comment_copy(&c, parsed);
	fault_clear(&f);
	if (comment_validate(&c, &lim, &f) != 0) {
		fuzz_comment_fault(&f);
		FUZZ_CHECK(f.status == 422 || f.status == 403);
		FUZZ_CHECK(f.field != NULL);
		/* 403 only for a captcha id we cannot have issued. */
		if (f.status == 403)
			FUZZ_CHECK(captcha_required &&
			    strcmp(f.field, "captcha_id") == 0);
		comment_free(&c);
		return;
	}
	fuzz_comment_valid(&c, &lim);

	/* Validation normalises once: a second pass changes nothing. */
	fuzz_comment_copy(&again, &c);
	fault_clear(&f);
	FUZZ_CHECK(comment_validate(&again, &lim, &f) == 0);
	FUZZ_CHECK(fuzz_comment_equal(&again, &c));
	comment_free(&again);
	comment_free(&c);
}

void
fuzz_comment_run(fuzz_comment_parse_fn parse, const uint8_t *data, size_t len)
{
	struct comment c;
	struct fault f;
	int i;

	comment_init(&c);
	fault_clear(&f);
	if (parse(&c, (const char *)data, len, &f) != 0) {
		fuzz_comment_fault(&f);
		FUZZ_CHECK(f.status == 400 || f.status == 422);
		comment_free(&c);
		return;
	}
	FUZZ_CHECK(f.status == 0);
	for (i = 0; i < CF__COUNT; i++) {
		if (c.field[i] == NULL)
			continue;
		/* No NUL inside: both parsers refuse one. */
		FUZZ_CHECK(c.field[i][c.len[i]] == '\0');
		FUZZ_CHECK(strlen(c.field[i]) == c.len[i]);
		FUZZ_CHECK(utf8_valid(c.field[i], c.len[i]));
	}
	fuzz_comment_validate(&c, true);
	fuzz_comment_validate(&c, false);
	comment_free(&c);
}
