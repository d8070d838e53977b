/*
 * The comment model.  Parsing only records what was sent (and refuses what
 * is not JSON, not a form or not UTF-8); every rule about what a field may
 * hold lives in comment_validate(), so JSON and form posts behave alike.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "captcha.h"
#include "comment.h"
#include "fault.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

static const char *const comment_field_names[CF__COUNT] = {
	[CF_POST] = "post",
	[CF_AUTHOR] = "author",
	[CF_EMAIL] = "email",
	[CF_URL] = "url",
	[CF_BODY] = "body",
	[CF_IP] = "ip",
	[CF_USER_AGENT] = "user_agent",
	[CF_REFERRER] = "referrer",
	[CF_LANG] = "lang",
	[CF_PARENT] = "parent",
	[CF_HONEYPOT] = "honeypot",
	[CF_REQUEST_ID] = "request_id",
	[CF_RETURN_TO] = "return_to",
	[CF_CAPTCHA_ID] = "captcha_id",
	[CF_CAPTCHA_ANSWER] = "captcha_answer",
	[CF_POST_TITLE] = "post_title",
	[CF_POST_URL] = "post_url",
};

/* Longest value in code points; the body's limit comes from the config. */
static const size_t comment_max_chars[CF__COUNT] = {
	[CF_POST] = 200,
	[CF_AUTHOR] = 100,
	[CF_EMAIL] = 254,
	[CF_URL] = 500,
	[CF_BODY] = 0,
	[CF_IP] = 45,
	[CF_USER_AGENT] = 512,
	[CF_REFERRER] = 2000,
	[CF_LANG] = 35,
	[CF_PARENT] = 64,
	[CF_HONEYPOT] = 1000,
	[CF_REQUEST_ID] = 128,
	[CF_RETURN_TO] = 2000,
	[CF_CAPTCHA_ID] = 64,
	[CF_CAPTCHA_ANSWER] = 32,
	[CF_POST_TITLE] = 300,
	[CF_POST_URL] = 2000,
};

/* Form field names longer than this (still escaped) cannot be ours. */
#define COMMENT_NAME_MAX	48

#define COMMENT_PARENT_LEN	20	/* STORE_ID_LEN */

enum comment_url_result { COMMENT_URL_OK, COMMENT_URL_SCHEME, COMMENT_URL_BAD };

const char *
comment_field_name(enum comment_field f)
{
	if ((unsigned int)f >= CF__COUNT)
		return NULL;
	return comment_field_names[f];
}

int
comment_field_lookup(const char *name, size_t len)
{
	int i;

	/* name may hold a NUL (a decoded "%00"), so compare by length. */
	for (i = 0; i < CF__COUNT; i++) {
		if (strlen(comment_field_names[i]) == len &&
		    memcmp(comment_field_names[i], name, len) == 0)
			return i;
	}
	return -1;
}

void
comment_init(struct comment *c)
{
	memset(c, 0, sizeof *c);
}

void
comment_free(struct comment *c)
{
	int i;

	for (i = 0; i < CF__COUNT; i++) {
		free(c->field[i]);
		c->field[i] = NULL;
		c->len[i] = 0;
	}
}

void
comment_set(struct comment *c, enum comment_field f, const char *value,
    size_t len)
{
	if ((unsigned int)f >= CF__COUNT)
		fatalx("%s: bad field %d", __func__, (int)f);
	free(c->field[f]);
	c->field[f] = NULL;
	c->len[f] = 0;
	if (value == NULL)
		return;
	c->field[f] = xmalloc(len + 1);
	memcpy(c->field[f], value, len);
	c->field[f][len] = '\0';
	c->len[f] = len;
}

/*
 * The field holding the first bad UTF-8 in a JSON body, so the error can
 * name it: parse a copy with each bad byte replaced by U+FFFD and find the
 * first known field whose text has one.  NULL when that does not tell.
 */
static const char *
comment_json_bad_utf8_field(const char *buf, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const char *found = NULL, *key;
	unsigned int cp;
	json_t *root, *v;
	size_t i, n, o = 0;
	char *copy;
	int fi;

	copy = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(buf + i, len - i, &cp)) == 0) {
			memcpy(copy + o, replacement, 3);
			o += 3;
			n = 1;
		} else {
			memcpy(copy + o, buf + i, n);
			o += n;
		}
	}
	root = json_loadb(copy, o, 0, NULL);
	free(copy);
	if (root == NULL)
		return NULL;
	json_object_foreach(root, key, v) {
		fi = comment_field_lookup(key, strlen(key));
		if (fi != -1 && json_is_string(v) &&
		    strstr(json_string_value(v), replacement) != NULL) {
			found = comment_field_names[fi];
			break;
		}
	}
	json_decref(root);
	return found;
}

/*
 * The flat reader: the body every form plugin sends, one object whose
 * values are strings, integers, null (and true or false for names not
 * ours), read in place without a jansson tree.  It declines whatever it
 * would not read exactly as jansson does: nesting, reals, integers of
 * over 18 digits, escaped names, \u escapes of NUL or a surrogate,
 * more than COMMENT_FLAT_OTHERS names not ours, and anything malformed;
 * jansson then reads the body, so every refusal keeps jansson's message.
 * fuzz_comment_json holds the two equal on every body this one takes.
 */
#define COMMENT_FLAT_OTHERS	32

static int comment_hex(unsigned char c);

struct comment_flat_value {
	const char *p;		/* NULL: not sent, or null */
	size_t len;
	bool escaped;
	bool integer;
	long long n;
};

static const char *
comment_flat_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int
comment_flat_hex4(const char *p)
{
	int i, d, v = 0;

	for (i = 0; i < 4; i++) {
		if ((d = comment_hex((unsigned char)p[i])) < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* The closing quote of the string whose text starts at p, or NULL. */
static const char *
comment_flat_string(const char *p, const char *end, bool *escaped)
{
	int u;

	*escaped = false;
	while (p < end) {
		if (*p == '"')
			return p;
		if ((unsigned char)*p < 0x20)
			return NULL;		/* jansson refuses them raw */
		if (*p != '\\') {
			p++;
			continue;
		}
		*escaped = true;
		if (end - p < 2)
			return NULL;
		if (p[1] == 'u') {
			if (end - p < 6 || (u = comment_flat_hex4(p + 2)) <= 0 ||
			    (u >= 0xd800 && u <= 0xdfff))
				return NULL;
			p += 6;
		} else if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0')
			p += 2;
		else
			return NULL;
	}
	return NULL;
}

/* Decode a string checked by comment_flat_string into out; its length. */
static size_t
comment_flat_unescape(const char *p, size_t len, char *out)
{
	const char *end = p + len;
	size_t o = 0;
	int u;

	while (p < end) {
		if (*p != '\\') {
			out[o++] = *p++;
			continue;
		}
		switch (p[1]) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			u = comment_flat_hex4(p + 2);
			if (u < 0x80)
				out[o++] = (char)u;
			else if (u < 0x800) {
				out[o++] = (char)(0xc0 | u >> 6);
				out[o++] = (char)(0x80 | (u & 0x3f));
			} else {
				out[o++] = (char)(0xe0 | u >> 12);
				out[o++] = (char)(0x80 | (u >> 6 & 0x3f));
				out[o++] = (char)(0x80 | (u & 0x3f));
			}
			p += 6;
			continue;
		default: out[o++] = p[1]; break;	/* " \ / */
		}
		p += 2;
	}
	return o;
}

/* An integer as jansson reads one (no leading zeros), its end or NULL. */
static const char *
comment_flat_integer(const char *p, const char *end, long long *n)
{
	const char *start;
	bool neg = false;
	long long v = 0;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	start = p;
	while (p < end && *p >= '0' && *p <= '9') {
		if (p - start == 18)
			return NULL;	/* past what v holds: jansson's */
		v = v * 10 + (*p - '0');
		p++;
	}
	if (p == start || (*start == '0' && p - start > 1) ||
	    (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
		return NULL;
	*n = neg ? -v : v;
	return p;
}

static bool
comment_flat_word(const char *p, const char *end, const char *w, size_t n)
{
	return (size_t)(end - p) >= n && memcmp(p, w, n) == 0;
}

int
comment_from_json_flat(struct comment *c, const char *buf, size_t len)
{
	struct comment_flat_value val[CF__COUNT];
	const char *other[COMMENT_FLAT_OTHERS];
	size_t otherlen[COMMENT_FLAT_OTHERS], nother = 0, j, n;
	const char *p = buf, *end = buf + len, *key, *q;
	unsigned int seen = 0;
	bool escaped;
	long long num;
	char text[32], *out;
	int i;

	memset(val, 0, sizeof val);
	p = comment_flat_ws(p, end);
	if (p == end || *p++ != '{')
		return -1;
	p = comment_flat_ws(p, end);
	if (p < end && *p == '}')
		p++;
	else for (;;) {
		if (p == end || *p++ != '"' ||
		    (q = comment_flat_string(p, end, &escaped)) == NULL || escaped)
			return -1;
		key = p;
		n = (size_t)(q - p);
		p = comment_flat_ws(q + 1, end);
		if (p == end || *p++ != ':')
			return -1;
		p = comment_flat_ws(p, end);
		if ((i = comment_field_lookup(key, n)) >= 0) {
			if (seen & 1u << i)
				return -1;	/* jansson: duplicate */
			seen |= 1u << i;
		} else {
			for (j = 0; j < nother; j++)
				if (otherlen[j] == n && memcmp(other[j], key, n) == 0)
					return -1;
			if (nother == COMMENT_FLAT_OTHERS)
				return -1;
			other[nother] = key;
			otherlen[nother++] = n;
		}
		if (p == end)
			return -1;
		if (*p == '"') {
			if ((q = comment_flat_string(p + 1, end, &escaped)) == NULL)
				return -1;
			if (i >= 0) {
				val[i].p = p + 1;
				val[i].len = (size_t)(q - p - 1);
				val[i].escaped = escaped;
			}
			p = q + 1;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			if ((p = comment_flat_integer(p, end, &num)) == NULL ||
			    (i >= 0 && i != CF_CAPTCHA_ANSWER))
				return -1;
			if (i >= 0) {
				val[i].p = p;
				val[i].integer = true;
				val[i].n = num;
			}
		} else if (comment_flat_word(p, end, "null", 4))
			p += 4;
		else if (i < 0 && comment_flat_word(p, end, "true", 4))
			p += 4;
		else if (i < 0 && comment_flat_word(p, end, "false", 5))
			p += 5;
		else
			return -1;
		p = comment_flat_ws(p, end);
		if (p < end && *p == ',') {
			p = comment_flat_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		return -1;
	}
	if (comment_flat_ws(p, end) != end)
		return -1;

	/* Read: only now is c touched. */
	for (i = 0; i < CF__COUNT; i++) {
		if (val[i].p == NULL)
			continue;
		if (val[i].integer) {
			snprintf(text, sizeof text, "%lld", val[i].n);
			comment_set(c, i, text, strlen(text));
		} else if (!val[i].escaped)
			comment_set(c, i, val[i].p, val[i].len);
		else {
			out = xmalloc(val[i].len + 1);
			comment_set(c, i, out, comment_flat_unescape(val[i].p,
			    val[i].len, out));
			free(out);
		}
	}
	return 0;
}

int
comment_from_json(struct comment *c, const char *buf, size_t len,
    struct fault *f)
{
	const char *name;

	/* jansson checks UTF-8 too, but bad UTF-8 is a 422, not a 400. */
	if (!utf8_valid(buf, len)) {
		name = comment_json_bad_utf8_field(buf, len);
		if (name != NULL)
			return fault_set(f, 422, "invalid", name,
			    "field \"%s\" is not valid UTF-8", name);
		return fault_set(f, 422, "invalid", NULL,
		    "request body is not valid UTF-8");
	}
	if (comment_from_json_flat(c, buf, len) == 0)
		return 0;
	return comment_from_json_tree(c, buf, len, f);
}

int
comment_from_json_tree(struct comment *c, const char *buf, size_t len,
    struct fault *f)
{
	json_error_t err;
	json_t *root, *v;
	const char *key, *name;
	char num[32];
	int i;

	/* The parser's depth limit keeps deep nesting off the stack. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		/* jansson's own text names a flag nobody sending JSON knows. */
		if (json_error_code(&err) == json_error_null_character)
			snprintf(err.text, sizeof err.text,
			    "\\u0000 is not allowed in strings");
		return fault_set(f, 400, "bad_request", NULL,
		    "body is not valid JSON: %s at line %d column %d",
		    err.text, err.line, err.column);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return fault_set(f, 400, "bad_request", NULL,
		    "body must be a JSON object");
	}

	json_object_foreach(root, key, v) {
		if ((i = comment_field_lookup(key, strlen(key))) == -1)
			continue;
		name = comment_field_names[i];
		if (json_is_null(v))
			continue;
		if (json_is_string(v)) {
			comment_set(c, i, json_string_value(v),
			    json_string_length(v));
		} else if (json_is_integer(v) && i == CF_CAPTCHA_ANSWER) {
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			comment_set(c, i, num, strlen(num));
		} else {
			json_decref(root);
			if (i == CF_CAPTCHA_ANSWER)
				return fault_set(f, 400, "bad_request", name,
				    "field \"%s\" must be a string or an "
				    "integer", name);
			return fault_set(f, 400, "bad_request", name,
			    "field \"%s\" must be a string", name);
		}
	}
	json_decref(root);
	return 0;
}

static int
comment_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
comment_form_decode(const char *in, size_t len, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		switch (in[i]) {
		case '+':
			out[o++] = ' ';
			break;
		case '%':
			if (len - i < 3)
				return -1;
			hi = comment_hex((unsigned char)in[i + 1]);
			lo = comment_hex((unsigned char)in[i + 2]);
			if (hi == -1 || lo == -1)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
			break;
		default:
			out[o++] = in[i];
			break;
		}
	}
	out[o] = '\0';
	return (long)o;
}

/* True if every '%' in s[0..len) starts a well-formed escape. */
static int
comment_form_escapes_ok(const char *s, size_t len)
{
	const char *p, *end = s + len;

	while ((p = memchr(s, '%', (size_t)(end - s))) != NULL) {
		if (end - p < 3 || comment_hex((unsigned char)p[1]) == -1 ||
		    comment_hex((unsigned char)p[2]) == -1)
			return 0;
		s = p + 3;
	}
	return 1;
}

/* Store one name=value pair of a form. */
static int
comment_form_pair(struct comment *c, const char *s, size_t len,
    unsigned int *seen, struct fault *f)
{
	char key[COMMENT_NAME_MAX + 1], *value;
	const char *eq, *name;
	size_t nlen, vlen;
	long n;
	int i = -1;

	if ((eq = memchr(s, '=', len)) != NULL) {
		nlen = (size_t)(eq - s);
		vlen = len - nlen - 1;
		eq++;
	} else {
		nlen = len;
		vlen = 0;
		eq = s + len;
	}

	if (nlen <= COMMENT_NAME_MAX) {
		if ((n = comment_form_decode(s, nlen, key)) == -1)
			goto malformed;
		i = comment_field_lookup(key, (size_t)n);
	} else if (!comment_form_escapes_ok(s, nlen))
		goto malformed;
	if (i == -1) {
		/* Not ours, but a form that does not decode is no form. */
		if (!comment_form_escapes_ok(eq, vlen))
			goto malformed;
		return 0;
	}

	name = comment_field_names[i];
	if (*seen & (1U << i))
		return fault_set(f, 400, "bad_request", name,
		    "field \"%s\" given twice", name);
	*seen |= 1U << i;

	value = xmalloc(vlen + 1);
	if ((n = comment_form_decode(eq, vlen, value)) == -1) {
		free(value);
		return fault_set(f, 400, "bad_request", name,
		    "field \"%s\" has a malformed %%-escape", name);
	}
	if (memchr(value, '\0', (size_t)n) != NULL) {
		free(value);
		return fault_set(f, 422, "invalid", name,
		    "field \"%s\" contains a NUL byte", name);
	}
	if (!utf8_valid(value, (size_t)n)) {
		free(value);
		return fault_set(f, 422, "invalid", name,
		    "field \"%s\" is not valid UTF-8", name);
	}
	free(c->field[i]);
	c->field[i] = value;
	c->len[i] = (size_t)n;
	return 0;

malformed:
	return fault_set(f, 400, "bad_request", NULL,
	    "form body has a malformed %%-escape");
}

int
comment_from_form(struct comment *c, const char *buf, size_t len,
    struct fault *f)
{
	unsigned int seen = 0;
	const char *amp;
	size_t off = 0, n;

	while (off < len) {
		if ((amp = memchr(buf + off, '&', len - off)) != NULL)
			n = (size_t)(amp - (buf + off));
		else
			n = len - off;
		if (n > 0 && comment_form_pair(c, buf + off, n, &seen, f) != 0)
			return -1;
		off += n + 1;
	}
	return 0;
}

static int
comment_isspace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static int
comment_isalpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
comment_isdigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Letters, digits, '-' and (for IDN) any byte of a UTF-8 sequence. */
static int
comment_label_char(unsigned char c)
{
	return comment_isalpha(c) || comment_isdigit(c) || c == '-' ||
	    c >= 0x80;
}

/* A top-level domain: 2+ letters (or UTF-8), or punycode "xn--...". */
static int
comment_tld_valid(const char *s, size_t len)
{
	size_t i;

	if (len > 4 && strncasecmp(s, "xn--", 4) == 0)
		return 1;
	if (len < 2)
		return 0;
	for (i = 0; i < len; i++)
		if (!comment_isalpha((unsigned char)s[i]) &&
		    (unsigned char)s[i] < 0x80)
			return 0;
	return 1;
}

/*
 * A DNS name: labels of 1..63 bytes, no '-' at either end of one, no
 * empty label (so no leading, trailing or double dot), and a plausible
 * top-level domain.  need_dot asks for two labels at least.
 */
static int
comment_domain_valid(const char *s, size_t len, int need_dot)
{
	size_t i, start = 0, last = 0, labels = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!comment_label_char((unsigned char)s[i]))
				return 0;
			continue;
		}
		if (i == start || i - start > 63 || s[start] == '-' ||
		    s[i - 1] == '-')
			return 0;
		labels++;
		last = start;
		start = i + 1;
	}
	if (need_dot && labels < 2)
		return 0;
	return comment_tld_valid(s + last, len - last);
}

bool
comment_email_valid(const char *s)
{
	const char *at, *p;
	unsigned char ch;
	size_t llen;

	if (s == NULL || (at = strchr(s, '@')) == NULL ||
	    strchr(at + 1, '@') != NULL)
		return false;
	llen = (size_t)(at - s);
	if (llen < 1 || llen > 64 || s[0] == '.' || at[-1] == '.')
		return false;
	for (p = s; p < at; p++) {
		ch = (unsigned char)*p;
		if (ch < 0x21 || ch > 0x7e ||
		    strchr("\"(),:;<>[\\]", ch) != NULL)
			return false;
		if (ch == '.' && p[1] == '.')
			return false;
	}
	return comment_domain_valid(at + 1, strlen(at + 1), 1);
}

/* True if s[0..len) is a literal address of family af. */
static int
comment_inet_valid(int af, const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];

	if (len >= sizeof buf)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, addr) == 1;
}

static enum comment_url_result
comment_url_check(const char *s)
{
	const char *p, *q, *auth_end, *host_end;
	unsigned long port;
	size_t digits;

	if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else
		return COMMENT_URL_SCHEME;

	/* Never valid in a URL, and dangerous where one is echoed raw. */
	for (q = s; *q != '\0'; q++) {
		if ((unsigned char)*q <= 0x20 || *q == 0x7f ||
		    strchr("\"<>\\", *q) != NULL)
			return COMMENT_URL_BAD;
	}

	/* No userinfo: an '@' in the authority fails the host check. */
	auth_end = p + strcspn(p, "/?#");
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(auth_end - p));
		if (host_end == NULL || !comment_inet_valid(AF_INET6, p + 1,
		    (size_t)(host_end - p - 1)))
			return COMMENT_URL_BAD;
		p = host_end + 1;
	} else {
		if ((host_end = memchr(p, ':', (size_t)(auth_end - p))) == NULL)
			host_end = auth_end;
		if (!comment_domain_valid(p, (size_t)(host_end - p), 0) &&
		    !comment_inet_valid(AF_INET, p, (size_t)(host_end - p)))
			return COMMENT_URL_BAD;
		p = host_end;
	}
	if (p == auth_end)
		return COMMENT_URL_OK;
	if (*p++ != ':')
		return COMMENT_URL_BAD;
	port = 0;
	for (digits = 0; p < auth_end; p++, digits++) {
		if (!comment_isdigit((unsigned char)*p) || digits == 5)
			return COMMENT_URL_BAD;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port < 1 || port > 65535)
		return COMMENT_URL_BAD;
	return COMMENT_URL_OK;
}

bool
comment_url_valid(const char *s)
{
	return s != NULL && comment_url_check(s) == COMMENT_URL_OK;
}

bool
comment_ip_valid(const char *s)
{
	char out[COMMENT_IP_MAX];

	return comment_ip_canonical(s, out, sizeof out) == 0;
}

/*
 * One spelling per address, so that "2001:DB8::1", "2001:db8:0::1" and
 * "2001:0db8::0001" are one flood counter, one duplicate marker and one
 * stored IP: inet_pton, then inet_ntop.  An IPv4-mapped IPv6 address is
 * the IPv4 address it maps.
 */
int
comment_ip_canonical(const char *s, char *out, size_t outlen)
{
	unsigned char a[sizeof(struct in6_addr)];
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (s == NULL || outlen < COMMENT_IP_MAX)
		return -1;
	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)outlen) ? 0 : -1;
	if (inet_pton(AF_INET6, s, a) != 1)
		return -1;
	if (memcmp(a, mapped, sizeof mapped) == 0)
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen) ? 0 : -1;
	return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) ? 0 : -1;
}

int
comment_ip_network(const char *s, unsigned int prefix6, char *out,
    size_t outlen)
{
	unsigned char a[sizeof(struct in6_addr)];
	char buf[COMMENT_IP_MAX];
	unsigned int i;

	if (comment_ip_canonical(s, buf, sizeof buf) != 0)
		return -1;
	if (prefix6 == 0 || prefix6 >= 128 || inet_pton(AF_INET6, buf, a) != 1) {
		/* IPv4, or every IPv6 address on its own. */
		if (strlen(buf) >= outlen)
			return -1;
		memcpy(out, buf, strlen(buf) + 1);
		return 0;
	}
	for (i = 0; i < 128; i++)
		if (i >= prefix6)
			a[i / 8] &= (unsigned char)~(0x80U >> (i % 8));
	if (inet_ntop(AF_INET6, a, buf, sizeof buf) == NULL)
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/%u", buf, prefix6) >= outlen)
		return -1;
	return 0;
}

/* [A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*: a BCP 47 tag or a POSIX locale name. */
static int
comment_lang_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len && comment_isalpha((unsigned char)s[i]))
		i++;
	if (i < 2 || i > 3)
		return 0;
	while (i < len) {
		if (s[i] != '-' && s[i] != '_')
			return 0;
		i++;
		for (n = 0; i < len && (comment_isalpha((unsigned char)s[i]) ||
		    comment_isdigit((unsigned char)s[i])); i++)
			n++;
		if (n < 1 || n > 8)
			return 0;
	}
	return 1;
}

static int
comment_parent_valid(const char *s, size_t len)
{
	size_t i;

	if (len != COMMENT_PARENT_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!comment_isdigit((unsigned char)s[i]) &&
		    (s[i] < 'a' || s[i] > 'f'))
			return 0;
	return 1;
}

static int
comment_request_id_valid(const char *s, size_t len)
{
	size_t i;

	if (len < COMMENT_REQUEST_ID_MIN)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Trim ASCII whitespace at both ends, in place; a blank value is absent. */
static void
comment_trim(struct comment *c, enum comment_field i)
{
	char *s = c->field[i];
	size_t start = 0, end = c->len[i];

	if (s == NULL)
		return;
	while (start < end && comment_isspace((unsigned char)s[start]))
		start++;
	while (end > start && comment_isspace((unsigned char)s[end - 1]))
		end--;
	if (start == end) {
		comment_set(c, i, NULL, 0);
		return;
	}
	if (start > 0)
		memmove(s, s + start, end - start);
	s[end - start] = '\0';
	c->len[i] = end - start;
}

static int
comment_required(enum comment_field i, const struct comment_limits *lim)
{
	switch (i) {
	case CF_POST:
	case CF_AUTHOR:
	case CF_EMAIL:
	case CF_BODY:
		return 1;
	case CF_CAPTCHA_ID:
	case CF_CAPTCHA_ANSWER:
		return lim->captcha_required;
	default:
		return 0;
	}
}

/* Lowercase the primary subtag and drop the rest: "de-AT", "de_AT" -> "de". */
static void
comment_lang_normalise(struct comment *c)
{
	char *s = c->field[CF_LANG];
	size_t i;

	for (i = 0; i < c->len[CF_LANG] && s[i] != '-' && s[i] != '_'; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] += 'a' - 'A';
	s[i] = '\0';
	c->len[CF_LANG] = i;
}

static int
comment_validate_field(struct comment *c, enum comment_field i,
    const struct comment_limits *lim, struct fault *f)
{
	const char *name = comment_field_names[i], *s;
	char ip[COMMENT_IP_MAX];
	size_t len, max;

	comment_trim(c, i);
	if ((s = c->field[i]) == NULL) {
		if (comment_required(i, lim))
			return fault_set(f, 422, "invalid", name,
			    "%s is required", name);
		return 0;
	}
	len = c->len[i];

	if (!utf8_valid_text(s, len, i == CF_BODY))
		return fault_set(f, 422, "invalid", name,
		    "%s contains control characters or invalid UTF-8", name);
	max = i == CF_BODY ? lim->body_max_chars : comment_max_chars[i];
	/* A code point is at least one byte: count only when it may matter. */
	if (max != 0 && len > max && utf8_length(s, len) > max)
		return fault_set(f, 422, "invalid", name,
		    "%s is too long (at most %zu characters)", name, max);

	switch (i) {
	case CF_EMAIL:
		if (!comment_email_valid(s))
			return fault_set(f, 422, "invalid", name,
			    "email is not a valid e-mail address");
		break;
	case CF_URL:
	case CF_POST_URL:
		switch (comment_url_check(s)) {
		case COMMENT_URL_OK:
			break;
		case COMMENT_URL_SCHEME:
			return fault_set(f, 422, "invalid", name,
			    "%s must start with http:// or https://", name);
		case COMMENT_URL_BAD:
			return fault_set(f, 422, "invalid", name,
			    "%s is not a valid web address", name);
		}
		break;
	case CF_IP:
		if (comment_ip_canonical(s, ip, sizeof ip) != 0)
			return fault_set(f, 422, "invalid", name,
			    "ip is not an IPv4 or IPv6 address");
		comment_set(c, CF_IP, ip, strlen(ip));
		break;
	case CF_LANG:
		if (!comment_lang_valid(s, len))
			return fault_set(f, 422, "invalid", name,
			    "lang must be a language tag such as \"de\" or "
			    "\"en-GB\"");
		comment_lang_normalise(c);
		break;
	case CF_PARENT:
		if (!comment_parent_valid(s, len))
			return fault_set(f, 422, "invalid", name,
			    "parent must be a comment id (20 hex digits)");
		break;
	case CF_REQUEST_ID:
		if (!comment_request_id_valid(s, len))
			return fault_set(f, 422, "invalid", name,
			    "request_id must be %d to 128 printable ASCII "
			    "characters without spaces, random per submission",
			    COMMENT_REQUEST_ID_MIN);
		break;
	case CF_CAPTCHA_ID:
		/* A malformed id is one we never issued. */
		if (lim->captcha_required && !captcha_id_valid(s))
			return fault_set(f, 403, "captcha", name,
			    "unknown or expired captcha");
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Browsers send a textarea's line breaks as CRLF: store LF, so a form post
 * and a JSON post of the same text are the same text (and the same
 * duplicate).
 */
static void
comment_normalise_newlines(struct comment *c, enum comment_field fi)
{
	char *s = c->field[fi];
	size_t i, o = 0;

	if (s == NULL || memchr(s, '\r', c->len[fi]) == NULL)
		return;
	for (i = 0; i < c->len[fi]; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < c->len[fi] && s[i + 1] == '\n')
				i++;
		} else
			s[o++] = s[i];
	}
	s[o] = '\0';
	c->len[fi] = o;
}

int
comment_validate(struct comment *c, const struct comment_limits *lim,
    struct fault *f)
{
	int i;

	/* In field order, so the same comment always fails the same way. */
	for (i = 0; i < CF__COUNT; i++)
		if (comment_validate_field(c, i, lim, f) != 0)
			return -1;
	comment_normalise_newlines(c, CF_BODY);
	return 0;
}
