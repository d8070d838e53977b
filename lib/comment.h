/*
 * The comment model: the fields a blog frontend submits, parsed from JSON
 * or application/x-www-form-urlencoded, and validated.
 */
#ifndef HEINZEL_COMMENT_H
#define HEINZEL_COMMENT_H

#include <stdbool.h>
#include <stddef.h>

struct fault;

enum comment_field {
	CF_POST,
	CF_AUTHOR,
	CF_EMAIL,
	CF_URL,
	CF_BODY,
	CF_IP,
	CF_USER_AGENT,
	CF_REFERRER,
	CF_LANG,
	CF_PARENT,
	CF_HONEYPOT,
	CF_REQUEST_ID,
	CF_RETURN_TO,
	CF_CAPTCHA_ID,
	CF_CAPTCHA_ANSWER,
	CF_POST_TITLE,		/* the post's title, for the mails */
	CF_POST_URL,		/* the post's page, for the mails */
	CF__COUNT
};

/* A submitted comment.  Absent fields are NULL; present ones NUL-terminated. */
struct comment {
	char *field[CF__COUNT];
	size_t len[CF__COUNT];	/* bytes, without the NUL */
};

/* Limits that come from the configuration. */
struct comment_limits {
	size_t body_max_chars;		/* code points */
	bool captcha_required;
};

/* "post", "author", ...; NULL for an out-of-range index. */
const char *comment_field_name(enum comment_field f);
/* Index of a field name, or -1. */
int comment_field_lookup(const char *name, size_t len);

void comment_init(struct comment *c);
void comment_free(struct comment *c);	/* frees the fields, not c */
/* Replace a field's value (copied); value NULL removes it. */
void comment_set(struct comment *c, enum comment_field f, const char *value, size_t len);

/*
 * Parse a request body into c.  Unknown keys are ignored; a field given
 * twice, a non-string value (captcha_answer may be an integer), invalid
 * JSON or a form that does not decode give 400 "bad_request"; text that is
 * not valid UTF-8 gives 422 "invalid".  Return 0, or -1 with f set.
 */
int comment_from_json(struct comment *c, const char *buf, size_t len, struct fault *f);
/*
 * The two readers behind comment_from_json, apart for the fuzzer that holds
 * them equal.  The flat one takes the common body without a jansson tree
 * and returns -1, c untouched, for any other; the jansson one takes any
 * body.  Both expect valid UTF-8, which comment_from_json checks first.
 */
int comment_from_json_flat(struct comment *c, const char *buf, size_t len);
int comment_from_json_tree(struct comment *c, const char *buf, size_t len,
    struct fault *f);
int comment_from_form(struct comment *c, const char *buf, size_t len, struct fault *f);

/*
 * Check required fields, lengths, e-mail/URL/IP syntax, UTF-8 and control
 * characters; trims surrounding whitespace of single-line fields and
 * lowercases lang to its primary tag ("de-AT" -> "de").
 * Return 0, or -1 with f set to 422 "invalid" and the field.
 */
int comment_validate(struct comment *c, const struct comment_limits *lim, struct fault *f);

/* Syntax checks, exported for tests and the CLI. */
bool comment_email_valid(const char *s);
bool comment_url_valid(const char *s);	/* http(s)://host[:port][/...] */
bool comment_ip_valid(const char *s);

/* Room for any address comment_ip_canonical writes, and a "/NNN" prefix. */
#define COMMENT_IP_MAX 52
/*
 * request_ids are one namespace for every reader: too short ones collide
 * (and a guessed one answers with someone else's comment id).
 */
#define COMMENT_REQUEST_ID_MIN 16

/* The canonical text of an IPv4 or IPv6 address (inet_ntop); -1 if none. */
int comment_ip_canonical(const char *s, char *out, size_t outlen);
/*
 * The flood-control network of an address: IPv4 as itself, IPv6 as its
 * first prefix6 bits ("2001:db8:1:2::/64"); prefix6 0 or 128 keeps every
 * address apart.  -1 if s is not an address.
 */
int comment_ip_network(const char *s, unsigned int prefix6, char *out, size_t outlen);

/*
 * Decode application/x-www-form-urlencoded percent-escapes and '+' in place
 * style into out (at least len+1 bytes); returns the decoded length or -1
 * on a malformed escape.
 */
long comment_form_decode(const char *in, size_t len, char *out);

#endif
