/*
 * Internet messages.  Every header that carries outside text goes through
 * mail_clean(), which leaves no control character (so no CR or LF) behind,
 * and then either stays printable ASCII or becomes base64 encoded words;
 * addresses are checked against a strict dot-atom grammar instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mail.h"
#include "strbuf.h"
#include "utf8.h"
#include "xmalloc.h"

#define MAIL_LINE	76	/* RFC 2045 and 2047: at most 76 characters */
#define MAIL_FOLD	78	/* RFC 5322: fold plain headers before 78 */
#define MAIL_WORD_OVERHEAD 12	/* "=?UTF-8?B?" and "?=" */

static int
mail_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
mail_domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

bool
mail_address_valid(const char *addr)
{
	const char *at, *p, *label;
	size_t llen, dlen;

	if (addr == NULL || (at = strchr(addr, '@')) == NULL ||
	    strchr(at + 1, '@') != NULL)
		return false;
	llen = (size_t)(at - addr);
	dlen = strlen(at + 1);
	if (llen < 1 || llen > 64 || dlen < 1 || dlen > 253)
		return false;
	if (addr[0] == '.' || at[-1] == '.')
		return false;
	for (p = addr; p < at; p++) {
		if (*p == '.' && p[1] == '.')
			return false;
		if (*p != '.' && !mail_atext((unsigned char)*p))
			return false;
	}
	for (label = p = at + 1;; p++) {
		if (*p != '.' && *p != '\0') {
			if (!mail_domain_char((unsigned char)*p))
				return false;
			continue;
		}
		if (p == label || p - label > 63 || *label == '-' ||
		    p[-1] == '-')
			return false;
		if (*p == '\0')
			return true;
		label = p + 1;
	}
}

char *
mail_address(const char *from)
{
	const char *lt, *gt, *s, *e;
	char *a;

	if (from == NULL)
		return NULL;
	if ((lt = strchr(from, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL)
			return NULL;
		a = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	} else {
		for (s = from; *s == ' ' || *s == '\t'; s++)
			;
		for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		a = xstrndup(s, (size_t)(e - s));
	}
	if (!mail_address_valid(a)) {
		free(a);
		return NULL;
	}
	return a;
}

/* True for code points that must not reach a header: C0, DEL, C1, U+2028/9. */
static int
mail_control(unsigned int cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    cp == 0x2028 || cp == 0x2029;
}

/*
 * s on one line: control characters and whitespace runs as one space,
 * trimmed; a byte that is not UTF-8 as '?'.
 */
static char *
mail_clean(const char *s)
{
	struct strbuf b = STRBUF_INIT;
	size_t len = strlen(s), i = 0, n;
	unsigned int cp;
	int space = 0;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0) {
			n = 1;
			cp = '?';
		}
		if (cp == ' ' || mail_control(cp)) {
			space = 1;
			i += n;
			continue;
		}
		if (space && b.len > 0)
			strbuf_add(&b, " ", 1);
		space = 0;
		if (cp == '?' && n == 1)
			strbuf_add(&b, "?", 1);
		else
			strbuf_add(&b, s + i, n);
		i += n;
	}
	return strbuf_finish(&b, NULL);
}

static void
mail_base64(struct strbuf *b, const unsigned char *s, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];
	uint32_t v;
	size_t i;

	for (i = 0; i < len; i += 3) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		out[0] = tab[(v >> 18) & 63];
		out[1] = tab[(v >> 12) & 63];
		out[2] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[3] = i + 2 < len ? tab[v & 63] : '=';
		strbuf_add(b, out, 4);
	}
}

/*
 * Text as encoded words from column col: each word holds whole characters
 * and keeps its line within 76 characters; words are separated by a fold
 * (CRLF and a space), which decoders drop.  Returns the column after.
 */
static size_t
mail_words(struct strbuf *b, const char *s, size_t col)
{
	size_t len = strlen(s), i = 0, take, n, raw;
	unsigned int cp;

	while (i < len) {
		if (MAIL_LINE < col + MAIL_WORD_OVERHEAD + 8) {
			strbuf_adds(b, "\r\n ");
			col = 1;
		}
		raw = (MAIL_LINE - col - MAIL_WORD_OVERHEAD) / 4 * 3;
		for (take = 0; i + take < len; take += n) {
			if ((n = utf8_decode(s + i + take, len - i - take, &cp)) == 0)
				n = 1;
			if (take + n > raw)
				break;
		}
		strbuf_adds(b, "=?UTF-8?B?");
		mail_base64(b, (const unsigned char *)s + i, take);
		strbuf_adds(b, "?=");
		col += MAIL_WORD_OVERHEAD + (take + 2) / 3 * 4;
		i += take;
		if (i < len) {
			strbuf_adds(b, "\r\n ");
			col = 1;
		}
	}
	return col;
}

/* Printable ASCII, no "=?" that a decoder could take for a word, short words. */
static int
mail_plain(const char *s)
{
	size_t word = 0;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e)
			return 0;
		if (s[0] == '=' && s[1] == '?')
			return 0;
		word = *s == ' ' ? 0 : word + 1;
		if (word > 60)
			return 0;
	}
	return 1;
}

/* Plain text folded at spaces before column 78. */
static void
mail_fold(struct strbuf *b, const char *s, size_t col)
{
	size_t wlen, start = col;

	while (*s != '\0') {
		wlen = strcspn(s, " ");
		if (col > start && col + 1 + wlen > MAIL_FOLD) {
			strbuf_adds(b, "\r\n");
			col = 0;
		}
		if (col != start) {
			strbuf_add(b, " ", 1);
			col++;
		}
		strbuf_add(b, s, wlen);
		col += wlen;
		s += wlen;
		s += strspn(s, " ");
	}
}

char *
mail_header(const char *name, const char *text)
{
	struct strbuf b = STRBUF_INIT;
	char *clean = mail_clean(text);

	strbuf_adds(&b, name);
	strbuf_adds(&b, ":");
	if (clean[0] != '\0') {
		strbuf_adds(&b, " ");
		if (mail_plain(clean))
			mail_fold(&b, clean, strlen(name) + 2);
		else
			mail_words(&b, clean, strlen(name) + 2);
	}
	strbuf_adds(&b, "\r\n");
	free(clean);
	return strbuf_finish(&b, NULL);
}

/* From: with the display name quoted or encoded, then the address. */
static void
mail_from(struct strbuf *b, const char *from, const char *addr)
{
	const char *lt = strchr(from, '<'), *s;
	char *name, *clean;
	size_t col = 6, n;

	strbuf_adds(b, "From: ");
	name = lt != NULL ? xstrndup(from, (size_t)(lt - from)) : xstrdup("");
	clean = mail_clean(name);
	free(name);
	n = strlen(clean);
	if (n >= 2 && clean[0] == '"' && clean[n - 1] == '"') {
		memmove(clean, clean + 1, n - 2);
		clean[n - 2] = '\0';
	}
	if (clean[0] != '\0' && mail_plain(clean) && strlen(clean) < 60) {
		strbuf_adds(b, "\"");
		for (s = clean; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				strbuf_add(b, "\\", 1);
			strbuf_add(b, s, 1);
		}
		strbuf_adds(b, "\"");
		col += strlen(clean) + 2;
	} else if (clean[0] != '\0')
		col = mail_words(b, clean, col);
	if (clean[0] != '\0') {
		if (col + strlen(addr) + 3 > MAIL_FOLD)
			strbuf_adds(b, "\r\n");
		strbuf_adds(b, " <");
		strbuf_adds(b, addr);
		strbuf_adds(b, ">");
	} else
		strbuf_adds(b, addr);
	strbuf_adds(b, "\r\n");
	free(clean);
}

char *
mail_qp_encode(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf b = STRBUF_INIT;
	size_t i = 0, end, stop, p, n, k, rlen, col;
	unsigned int cp;
	unsigned char c;
	char rep[16];

	while (i < len) {
		for (end = i; end < len && s[end] != '\n'; end++)
			;
		stop = end > i && s[end - 1] == '\r' ? end - 1 : end;
		col = 0;
		for (p = i; p < stop; p += n) {
			c = (unsigned char)s[p];
			if ((n = utf8_decode(s + p, stop - p, &cp)) == 0)
				n = 1;
			if (n == 1 && c >= 33 && c <= 126 && c != '=') {
				rep[0] = (char)c;
				rlen = 1;
			} else if (n == 1 && (c == ' ' || c == '\t') &&
			    p + 1 < stop) {
				rep[0] = (char)c;
				rlen = 1;
			} else {
				for (k = 0, rlen = 0; k < n; k++) {
					c = (unsigned char)s[p + k];
					rep[rlen++] = '=';
					rep[rlen++] = hex[c >> 4];
					rep[rlen++] = hex[c & 15];
				}
			}
			/* Room for the soft break's '=' unless this ends the line. */
			if (col + rlen > (p + n == stop ? MAIL_LINE : MAIL_LINE - 1)) {
				strbuf_adds(&b, "=\r\n");
				col = 0;
			}
			strbuf_add(&b, rep, rlen);
			col += rlen;
		}
		if (end == len)
			break;
		strbuf_adds(&b, "\r\n");
		i = end + 1;
	}
	return strbuf_finish(&b, NULL);
}

/* Keep the characters of s that are in allowed. */
static char *
mail_filter(const char *s, const char *allowed)
{
	char *out = xmalloc(strlen(s) + 1), *w = out;

	for (; *s != '\0'; s++)
		if (((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(allowed, *s) != NULL))
			*w++ = *s;
	*w = '\0';
	return out;
}

char *
mail_message_id(const char *id, const char *kind, const char *from)
{
	char *addr = mail_address(from), *fid, *fkind, *dom, *out;
	const char *at;

	at = addr != NULL ? strchr(addr, '@') : NULL;
	dom = mail_filter(at != NULL ? at + 1 : "", ".-");
	fid = mail_filter(id, "");
	fkind = mail_filter(kind, "-");
	xasprintf(&out, "<%s.%s@%s>", fid, fkind, dom[0] ? dom : "heinzel");
	free(dom);
	free(fid);
	free(fkind);
	free(addr);
	return out;
}

void
mail_date(time_t t, char *buf, size_t size)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "Name: value\r\n" for values we made ourselves, filtered all the same. */
static void
mail_simple(struct strbuf *b, const char *name, const char *v,
    const char *allowed)
{
	char *f = mail_filter(v, allowed);

	strbuf_adds(b, name);
	strbuf_adds(b, ": ");
	strbuf_adds(b, f);
	strbuf_adds(b, "\r\n");
	free(f);
}

char *
mail_build(const struct mail *m, size_t *len, const char **cause)
{
	struct strbuf b = STRBUF_INIT;
	char date[40], *from, *h, *body;

	if ((from = mail_address(m->from)) == NULL) {
		*cause = "the sender address is not a valid e-mail address";
		return NULL;
	}
	if (!mail_address_valid(m->to)) {
		free(from);
		*cause = "the recipient is not a valid e-mail address";
		return NULL;
	}
	mail_date(m->date, date, sizeof date);
	strbuf_adds(&b, "Date: ");
	strbuf_adds(&b, date);
	strbuf_adds(&b, "\r\n");
	mail_from(&b, m->from, from);
	strbuf_adds(&b, "To: ");
	strbuf_adds(&b, m->to);
	strbuf_adds(&b, "\r\n");
	h = mail_header("Subject", m->subject != NULL ? m->subject : "");
	strbuf_adds(&b, h);
	free(h);
	mail_simple(&b, "Message-ID", m->message_id, "<>@.-_");
	strbuf_adds(&b, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n");
	if (m->comment_id != NULL)
		mail_simple(&b, "X-Heinzel-Comment", m->comment_id, "");
	if (m->kind != NULL)
		mail_simple(&b, "X-Heinzel-Kind", m->kind, "-");
	strbuf_adds(&b, "\r\n");
	body = mail_qp_encode(m->body != NULL ? m->body : "",
	    m->body != NULL ? strlen(m->body) : 0);
	strbuf_adds(&b, body);
	if (b.len < 2 || memcmp(b.p + b.len - 2, "\r\n", 2) != 0)
		strbuf_adds(&b, "\r\n");
	free(body);
	free(from);
	return strbuf_finish(&b, len);
}
