/*
 * The tokenizer of the Bayes classifier (see tokenize.h for the tokens).
 * One pass over the text: links and e-mail addresses are recognised where
 * a word could start, then the scan goes on through them so that their
 * parts count as words too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "comment.h"
#include "fault.h"
#include "tokenize.h"
#include "utf8.h"
#include "xmalloc.h"

#define TOKENIZE_SLOTS	1024	/* a power of two over 2 * TOKENIZE_MAX */
#define TOKENIZE_WORD	256	/* bytes of a word kept while it is read */

enum tokenize_class {
	TC_SEP,		/* white space, punctuation: ends a word */
	TC_WORD,	/* letter or digit */
	TC_IGNORE,	/* invisible: neither ends nor extends a word */
	TC_SYMBOL,	/* emoji and other symbols: a token of its own */
	TC_IDEO,	/* CJK: each character a token */
};

/* State of one tokenize_text() call. */
struct tokenize_scan {
	struct tokens *t;
	const char *prefix;
	char word[TOKENIZE_WORD];
	size_t wlen;		/* bytes of the word, may exceed what is kept */
	int latin, other;	/* scripts seen in the word */
	int last_digit;
	bool sparse;		/* the second pass: only pairs with a gap */
	/* The last words of the sentence, newest first, for word pairs. */
	char prev[TOKENIZE_PAIR_WINDOW][TOKENIZE_MAX_LEN + 1];
	size_t plen[TOKENIZE_PAIR_WINDOW];
};

/*
 * Top-level domains a bare name ("example.com" without http:// or www.)
 * must end in to count as a link.
 */
static const char *const tokenize_tlds[] = {
	"app", "at", "be", "biz", "br", "cc", "cf", "ch", "club", "cn", "co",
	"com", "de", "dev", "es", "eu", "fr", "ga", "gl", "gq", "in", "info",
	"io", "it", "ly", "me", "ml", "net", "nl", "online", "org", "pl",
	"pw", "ru", "shop", "site", "store", "tk", "top", "tv", "uk", "us",
	"ws", "xyz", NULL
};

/* Second-level labels under which a name is registered one level down. */
static const char *const tokenize_slds[] = {
	"ac", "co", "com", "edu", "gov", "gv", "ltd", "ne", "net", "or",
	"org", "plc", NULL
};

/* ---- the token set ---- */

static uint64_t
tokenize_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
tokenize_init(struct tokens *t)
{
	memset(t, 0, sizeof *t);
}

void
tokenize_free(struct tokens *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->len);
	free(t->slot);
	tokenize_init(t);
}

/* The slot holding s, or the free slot where it would go. */
static size_t
tokenize_find(const struct tokens *t, const char *s, size_t len)
{
	size_t i, j;

	i = (size_t)tokenize_hash(s, len) & (t->nslot - 1);
	for (;;) {
		if (t->slot[i] == 0)
			return i;
		j = t->slot[i] - 1;
		if (t->len[j] == len && memcmp(t->v[j], s, len) == 0)
			return i;
		i = (i + 1) & (t->nslot - 1);
	}
}

bool
tokenize_add(struct tokens *t, const char *prefix, const char *s, size_t len)
{
	char buf[TOKENIZE_WORD + 64], *tok;
	size_t plen = prefix != NULL ? strlen(prefix) : 0, i;

	if (plen + len > sizeof buf)
		return false;
	memcpy(buf, prefix != NULL ? prefix : "", plen);
	memcpy(buf + plen, s, len);
	len += plen;
	if (t->slot == NULL) {
		t->nslot = TOKENIZE_SLOTS;
		t->slot = xcalloc(t->nslot, sizeof *t->slot);
	}
	i = tokenize_find(t, buf, len);
	if (t->slot[i] != 0)
		return false;
	if (t->n == TOKENIZE_MAX) {
		t->full = true;
		return false;
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 64 : t->cap * 2;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
		t->len = xreallocarray(t->len, t->cap, sizeof *t->len);
	}
	tok = xmalloc(len + 1);
	memcpy(tok, buf, len);
	tok[len] = '\0';
	t->v[t->n] = tok;
	t->len[t->n] = len;
	t->slot[i] = ++t->n;
	return true;
}

bool
tokenize_has(const struct tokens *t, const char *token)
{
	size_t i, len = strlen(token);

	if (t->slot == NULL)
		return false;
	i = tokenize_find(t, token, len);
	return t->slot[i] != 0;
}

char *
tokenize_join(const struct tokens *t, size_t *len)
{
	size_t i, n = 0;
	char *out;

	for (i = 0; i < t->n; i++)
		n += t->len[i] + 1;
	out = xmalloc(n + 1);
	n = 0;
	for (i = 0; i < t->n; i++) {
		if (i > 0)
			out[n++] = '\n';
		memcpy(out + n, t->v[i], t->len[i]);
		n += t->len[i];
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* ---- characters ---- */

/* Letters and digits dressed up: fullwidth, circled, squared, bold... */
static unsigned int
tokenize_fancy(unsigned int cp)
{
	unsigned int r;

	if (cp >= 0xff21 && cp <= 0xff3a)
		return 'a' + (cp - 0xff21);
	if (cp >= 0xff41 && cp <= 0xff5a)
		return 'a' + (cp - 0xff41);
	if (cp >= 0xff10 && cp <= 0xff19)
		return '0' + (cp - 0xff10);
	if (cp >= 0x24b6 && cp <= 0x24cf)
		return 'a' + (cp - 0x24b6);
	if (cp >= 0x24d0 && cp <= 0x24e9)
		return 'a' + (cp - 0x24d0);
	if ((cp >= 0x1f130 && cp <= 0x1f149) || (cp >= 0x1f150 && cp <= 0x1f169) ||
	    (cp >= 0x1f170 && cp <= 0x1f189))
		return 'a' + (cp - 0x1f130) % 0x20;
	if (cp >= 0x1d400 && cp <= 0x1d6a3) {
		r = (cp - 0x1d400) % 52;
		return 'a' + (r < 26 ? r : r - 26);
	}
	if (cp >= 0x1d7ce && cp <= 0x1d7ff)
		return '0' + (cp - 0x1d7ce) % 10;
	return 0;
}

/* Invisible characters that hide words from filters. */
static bool
tokenize_invisible(unsigned int cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206f) ||
	    cp == 0xfeff || cp == 0x180e;
}

static enum tokenize_class
tokenize_class(unsigned int cp)
{
	if (cp < 0x80) {
		if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		    (cp >= 'A' && cp <= 'Z'))
			return TC_WORD;
		return TC_SEP;
	}
	if (cp < 0xc0) {
		switch (cp) {
		case 0xad:
			return TC_IGNORE;
		case 0xaa: case 0xb5: case 0xba:
			return TC_WORD;
		case 0xa2: case 0xa3: case 0xa5: case 0xa9: case 0xae:
			return TC_SYMBOL;
		}
		return TC_SEP;
	}
	if (cp == 0xd7 || cp == 0xf7)
		return TC_SEP;
	if (tokenize_invisible(cp) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
	    (cp >= 0x1f3fb && cp <= 0x1f3ff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
	    (cp >= 0xe0000 && cp <= 0xe01ef))
		return TC_IGNORE;
	if (tokenize_fancy(cp) != 0)
		return TC_WORD;
	if (cp < 0x2000)
		return cp == 0x1680 ? TC_SEP : TC_WORD;
	if (cp < 0x2070)
		return TC_SEP;
	if (cp < 0x20a0)
		return TC_WORD;
	if (cp < 0x2c00)
		return TC_SYMBOL;	/* currency, letterlike, arrows, dingbats */
	if (cp < 0x2e00)
		return TC_WORD;
	if (cp < 0x2e80)
		return TC_SEP;
	if (cp < 0x3000)
		return TC_IDEO;
	if (cp < 0x3040)
		return TC_SEP;
	if (cp < 0xa000)
		return TC_IDEO;
	if (cp >= 0xac00 && cp < 0xd7b0)
		return TC_IDEO;
	if (cp >= 0xe000 && cp < 0xf900)
		return TC_SYMBOL;
	if (cp >= 0xf900 && cp < 0xfb00)
		return TC_IDEO;
	if (cp >= 0xfe10 && cp < 0xfe70)
		return TC_SEP;
	if (cp >= 0xff00 && cp < 0xfff0)
		return cp >= 0xff66 && cp <= 0xff9f ? TC_IDEO : TC_SEP;
	if (cp >= 0xfff0 && cp < 0x10000)
		return TC_SEP;
	if (cp >= 0x1d000 && cp < 0x1d400)
		return TC_SYMBOL;
	if (cp >= 0x1f000 && cp < 0x1fc00)
		return TC_SYMBOL;
	if (cp >= 0x20000 && cp < 0x40000)
		return TC_IDEO;
	if (cp >= 0xf0000)
		return TC_SYMBOL;
	return TC_WORD;
}

/* The small letter of a capital, or cp itself.  (ß is done by the caller.) */
static unsigned int
tokenize_lower(unsigned int cp)
{
	if (cp < 0x80)
		return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
	if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
		return cp + 32;
	if (cp < 0x100)
		return cp;
	if (cp == 0x130)
		return 'i';
	if (cp == 0x178)
		return 0xff;
	if (cp == 0x17f)
		return 's';
	if ((cp <= 0x137 || (cp >= 0x14a && cp <= 0x177)) && cp % 2 == 0)
		return cp + 1;
	if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) &&
	    cp % 2 == 1)
		return cp + 1;
	if (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2)
		return cp + 32;
	if (cp == 0x386)
		return 0x3ac;
	if (cp >= 0x388 && cp <= 0x38a)
		return cp + 37;
	if (cp == 0x38c)
		return 0x3cc;
	if (cp == 0x38e || cp == 0x38f)
		return cp + 63;
	if (cp == 0x3c2)
		return 0x3c3;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 80;
	if (cp >= 0x410 && cp <= 0x42f)
		return cp + 32;
	if (((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48a && cp <= 0x4bf) ||
	    (cp >= 0x4d0 && cp <= 0x52f)) && cp % 2 == 0)
		return cp + 1;
	if (cp == 0x4c0)
		return 0x4cf;
	if (cp >= 0x4c1 && cp <= 0x4ce && cp % 2 == 1)
		return cp + 1;
	if (((cp >= 0x1e00 && cp <= 0x1e95) || (cp >= 0x1ea0 && cp <= 0x1eff)) &&
	    cp % 2 == 0)
		return cp + 1;
	return cp;
}

size_t
tokenize_fold(unsigned int cp, char *out)
{
	unsigned int f;

	if (cp == 0xdf || cp == 0x1e9e) {
		out[0] = out[1] = 's';
		return 2;
	}
	if ((f = tokenize_fancy(cp)) != 0)
		cp = f;
	return utf8_encode(tokenize_lower(cp), out);
}

/* ---- links and addresses ---- */

static bool
tokenize_ascii_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static bool
tokenize_prefix(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && strncasecmp(s, word, n) == 0;
}

static bool
tokenize_in(const char *const *list, const char *s, size_t len)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0)
			return true;
	return false;
}

/* The start of the last label of host[0..len) (after its last dot). */
static size_t
tokenize_last_label(const char *host, size_t len)
{
	size_t i = len;

	while (i > 0 && host[i - 1] != '.')
		i--;
	return i;
}

/*
 * The registrable-ish part of a folded host: two labels, three under
 * co.uk; all of an IPv4 address.
 */
static size_t
tokenize_domain(const char *host, size_t len)
{
	size_t tld, sld, third;

	tld = tokenize_last_label(host, len);
	if (tld < 2 || (host[tld] >= '0' && host[tld] <= '9'))
		return 0;
	sld = tokenize_last_label(host, tld - 1);
	if (sld == 0 || !tokenize_in(tokenize_slds, host + sld, tld - 1 - sld) ||
	    len - tld != 2)
		return sld;
	third = tokenize_last_label(host, sld - 1);
	return third;
}

/* Add prefix, kind and s as one token. */
static void
tokenize_put(struct tokenize_scan *sc, const char *kind, const char *s, size_t len)
{
	char pre[128];

	snprintf(pre, sizeof pre, "%s%s", sc->prefix != NULL ? sc->prefix : "", kind);
	tokenize_add(sc->t, pre, s, len);
}

/* The same in the first pass; the second one adds sparse pairs only. */
static void
tokenize_emit(struct tokenize_scan *sc, const char *kind, const char *s, size_t len)
{
	if (!sc->sparse)
		tokenize_put(sc, kind, s, len);
}

/*
 * Length of a host name at s: labels of letters, digits, '-' and '_' (any
 * letter, for internationalised names) joined by single dots, at least
 * two labels; a trailing dot is not part of it.  0 when there is none.
 */
static size_t
tokenize_host_len(const char *s, size_t len)
{
	size_t i = 0, end = 0, lab = 0, nlabels = 0, cplen;
	unsigned int cp;

	while (i < len) {
		if ((cplen = utf8_decode(s + i, len - i, &cp)) == 0)
			break;
		if (cp == '-' || cp == '_' || (tokenize_class(cp) == TC_WORD &&
		    (cp < 0x80 || tokenize_fancy(cp) == 0))) {
			if (lab == 0)
				nlabels++;
			lab++;
			end = i + cplen;
		} else if (cp == '.' && lab > 0)
			lab = 0;
		else
			break;
		i += cplen;
	}
	return nlabels >= 2 ? end : 0;
}

/* Fold a host name into out; its length, 0 if it does not fit. */
static size_t
tokenize_fold_host(const char *s, size_t len, char *out, size_t size)
{
	size_t i, n = 0, k, cplen;
	unsigned int cp;
	char buf[4];

	for (i = 0; i < len; i += cplen) {
		if ((cplen = utf8_decode(s + i, len - i, &cp)) == 0)
			return 0;
		k = tokenize_fold(cp, buf);
		if (n + k > size)
			return 0;
		memcpy(out + n, buf, k);
		n += k;
	}
	return n;
}

/* host:, url: and meta:link for a link to the host at s. */
static void
tokenize_link(struct tokenize_scan *sc, const char *s, size_t len)
{
	char host[TOKENIZE_WORD];
	size_t n, d;

	if ((n = tokenize_fold_host(s, len, host, sizeof host)) == 0)
		return;
	if (n <= TOKENIZE_MAX_HOST)
		tokenize_emit(sc, "host:", host, n);
	d = tokenize_domain(host, n);
	if (n - d <= TOKENIZE_MAX_HOST)
		tokenize_emit(sc, "url:", host + d, n - d);
	tokenize_emit(sc, "meta:", "link", 4);
}

/*
 * A link starting at s: http(s):// or www. followed by a host.  Returns
 * the length of the scheme to skip (0 for www.), or -1 when there is none.
 */
static int
tokenize_url(struct tokenize_scan *sc, const char *s, size_t len)
{
	size_t off, n;

	if (tokenize_prefix(s, len, "https://"))
		off = 8;
	else if (tokenize_prefix(s, len, "http://"))
		off = 7;
	else if (tokenize_prefix(s, len, "www."))
		off = 0;
	else
		return -1;
	if ((n = tokenize_host_len(s + off, len - off)) == 0)
		return -1;
	tokenize_link(sc, s + off, n);
	return (int)off;
}

/* A bare host name with a common top-level domain ("example.com"). */
static void
tokenize_bare(struct tokenize_scan *sc, const char *s, size_t len)
{
	size_t n, tld, sld;

	if (!tokenize_ascii_alnum((unsigned char)s[0]))
		return;
	if ((n = tokenize_host_len(s, len)) == 0 || (n < len && s[n] == '@'))
		return;
	tld = tokenize_last_label(s, n);
	if (!tokenize_in(tokenize_tlds, s + tld, n - tld))
		return;
	/* "it.it", "so.at": short words around a missing space are no link. */
	sld = tokenize_last_label(s, tld - 1);
	if (tld - 1 - sld < 3)
		return;
	tokenize_link(sc, s, n);
}

/*
 * An e-mail address at s: emits email:DOMAIN and returns the address'
 * length (no links are looked for inside it), or 0.
 */
static size_t
tokenize_email(struct tokenize_scan *sc, const char *s, size_t len)
{
	char host[TOKENIZE_WORD];
	size_t i, n, tld, hlen;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!tokenize_ascii_alnum(c) && strchr("._%+-", c) == NULL)
			break;
	}
	if (i == 0 || i == len || s[i] != '@')
		return 0;
	i++;
	if ((n = tokenize_host_len(s + i, len - i)) == 0)
		return 0;
	tld = tokenize_last_label(s + i, n);
	if (n - tld < 2)
		return 0;
	if ((hlen = tokenize_fold_host(s + i, n, host, sizeof host)) == 0 ||
	    hlen > TOKENIZE_MAX_HOST)
		return i + n;
	tokenize_emit(sc, "email:", host, hlen);
	return i + n;
}

/* ---- words ---- */

static void
tokenize_word_add(struct tokenize_scan *sc, unsigned int cp)
{
	char buf[4];
	size_t n;

	if (tokenize_fancy(cp) != 0)
		tokenize_emit(sc, "meta:", "fancy", 5);
	if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	    (cp >= 0xc0 && cp < 0x250))
		sc->latin = 1;
	else if (cp >= 0x370 && cp < 0x530)
		sc->other = 1;
	n = tokenize_fold(cp, buf);
	if (sc->wlen + n <= sizeof sc->word)
		memcpy(sc->word + sc->wlen, buf, n);
	sc->wlen += n;
	sc->last_digit = n == 1 && buf[0] >= '0' && buf[0] <= '9';
}

/*
 * Pairs of this word with each of the last TOKENIZE_PAIR_WINDOW words of
 * the sentence, rspamd's orthogonal sparse bigrams: "check out" for
 * neighbours, "check ~1 video" with one word between them ("check my
 * video"), up to ~3.  A skip pair survives the filler words spam
 * varies: "check out my video" and "check out this video" share
 * "check ~2 video".  Pairs with a gap come in the second pass over the
 * text, so they only fill what room the cap on tokens leaves.
 */
static void
tokenize_bigram(struct tokenize_scan *sc)
{
	char pair[2 * TOKENIZE_MAX_LEN + 8];
	size_t k, n;

	for (k = 0; k < TOKENIZE_PAIR_WINDOW && sc->plen[k] > 0; k++) {
		if (sc->sparse != (k > 0))
			continue;
		memcpy(pair, sc->prev[k], sc->plen[k]);
		n = sc->plen[k];
		if (k == 0)
			pair[n++] = ' ';
		else
			n += (size_t)snprintf(pair + n, sizeof pair - n, " ~%zu ", k);
		memcpy(pair + n, sc->word, sc->wlen);
		tokenize_put(sc, "", pair, n + sc->wlen);
	}
	memmove(sc->prev[1], sc->prev[0],
	    (TOKENIZE_PAIR_WINDOW - 1) * sizeof sc->prev[0]);
	memmove(sc->plen + 1, sc->plen,
	    (TOKENIZE_PAIR_WINDOW - 1) * sizeof sc->plen[0]);
	memcpy(sc->prev[0], sc->word, sc->wlen);
	sc->plen[0] = sc->wlen;
}

/* A sentence ends: no pairs across it. */
static void
tokenize_pairs_end(struct tokenize_scan *sc)
{
	memset(sc->plen, 0, sizeof sc->plen);
}

/* The word read so far becomes a token. */
static void
tokenize_word_end(struct tokenize_scan *sc)
{
	char buf[32];
	int n;

	if (sc->wlen == 0)
		return;
	if (sc->wlen > TOKENIZE_MAX_LEN) {
		tokenize_pairs_end(sc);
		n = snprintf(buf, sizeof buf, "%zu", sc->wlen / 10 * 10);
		tokenize_emit(sc, "long:", buf, (size_t)n);
	} else if (sc->wlen >= TOKENIZE_MIN_LEN)
	{
		tokenize_emit(sc, "", sc->word, sc->wlen);
		tokenize_bigram(sc);
	}
	if (sc->latin && sc->other)
		tokenize_emit(sc, "meta:", "mixedscript", 11);
	sc->wlen = 0;
	sc->latin = sc->other = sc->last_digit = 0;
}

/* meta:len:N and meta:caps, from a first pass over the text. */
static void
tokenize_shape(struct tokenize_scan *sc, const char *s, size_t len)
{
	size_t i, cplen, chars = 0, letters = 0, upper = 0;
	unsigned int cp, lg = 0;
	char buf[16];
	int n;

	for (i = 0; i < len; i += cplen) {
		if ((cplen = utf8_decode(s + i, len - i, &cp)) == 0)
			cplen = 1;
		chars++;
		if (tokenize_class(cp) != TC_WORD || (cp >= '0' && cp <= '9'))
			continue;
		letters++;
		if (tokenize_lower(cp) != cp)
			upper++;
	}
	if (chars == 0)
		return;
	while (chars >>= 1)
		lg++;
	n = snprintf(buf, sizeof buf, "len:%u", lg);
	tokenize_emit(sc, "meta:", buf, (size_t)n);
	if (letters >= 10 && upper * 10 >= letters * 7)
		tokenize_emit(sc, "meta:", "caps", 4);
}

/* The code point after s[i..], or 0. */
static unsigned int
tokenize_peek(const char *s, size_t len, size_t i)
{
	unsigned int cp;

	if (i >= len || utf8_decode(s + i, len - i, &cp) == 0)
		return 0;
	return cp;
}

/* One pass over the text (see tokenize_text). */
static void
tokenize_pass(struct tokenize_scan *sc, const char *s, size_t len)
{
	enum tokenize_class cls;
	size_t i = 0, cplen, nohost = 0, n;
	unsigned int cp, next;
	bool boundary = true;
	char buf[4];
	int skip;

	while (i < len) {
		if ((cplen = utf8_decode(s + i, len - i, &cp)) == 0) {
			i++;	/* not reached with validated text */
			continue;
		}
		if (boundary && i >= nohost && cp < 0x80) {
			if ((n = tokenize_email(sc, s + i, len - i)) > 0)
				nohost = i + n;
			else if ((skip = tokenize_url(sc, s + i, len - i)) > 0) {
				tokenize_word_end(sc);
				i += (size_t)skip;
				continue;
			} else if (skip < 0)
				tokenize_bare(sc, s + i, len - i);
		}
		next = tokenize_peek(s, len, i + cplen);
		cls = tokenize_class(cp);
		switch (cls) {
		case TC_WORD:
			tokenize_word_add(sc, cp);
			break;
		case TC_IGNORE:
			if (tokenize_invisible(cp))
				tokenize_emit(sc, "meta:", "invisible", 9);
			break;
		case TC_SEP:
			/* don't, it’s; 3.50, 1,000, 3:40 */
			if (sc->wlen > 0 && (cp == '\'' || cp == 0x2019) &&
			    tokenize_class(next) == TC_WORD) {
				sc->word[sc->wlen < sizeof sc->word ? sc->wlen : 0] = '\'';
				sc->wlen++;
				break;
			}
			if (sc->last_digit && (cp == '.' || cp == ',' || cp == ':') &&
			    next >= '0' && next <= '9') {
				if (sc->wlen < sizeof sc->word)
					sc->word[sc->wlen] = (char)cp;
				sc->wlen++;
				break;
			}
			tokenize_word_end(sc);
			/* Pairs run within a sentence, across spaces and commas. */
			if (cp != ' ' && cp != ',')
				tokenize_pairs_end(sc);
			if (cp == '@' && boundary && tokenize_class(next) == TC_WORD)
				tokenize_emit(sc, "meta:", "mention", 7);
			break;
		case TC_SYMBOL:
			tokenize_word_end(sc);
			tokenize_pairs_end(sc);
			tokenize_emit(sc, "", s + i, cplen);
			break;
		case TC_IDEO:
			tokenize_word_end(sc);
			tokenize_pairs_end(sc);
			n = tokenize_fold(cp, buf);
			tokenize_emit(sc, "", buf, n);
			break;
		}
		if (cls != TC_IGNORE)
			boundary = cls != TC_WORD && strchr(".-_@/", (int)cp) == NULL;
		i += cplen;
	}
	tokenize_word_end(sc);
}

/*
 * Two passes: words, neighbour pairs and the rest first, pairs with a
 * gap second, so that a long text keeps as many words under the cap as
 * it would without them.
 */
void
tokenize_text(struct tokens *t, const char *prefix, const char *s, size_t len)
{
	struct tokenize_scan sc;

	memset(&sc, 0, sizeof sc);
	sc.t = t;
	sc.prefix = prefix;
	tokenize_shape(&sc, s, len);
	tokenize_pass(&sc, s, len);
	if (t->full)
		return;
	memset(&sc, 0, sizeof sc);
	sc.t = t;
	sc.prefix = prefix;
	sc.sparse = true;
	tokenize_pass(&sc, s, len);
}

/* ip:A.B.C for IPv4, the first three groups for IPv6. */
static void
tokenize_ipnet(struct tokens *t, const char *ip, size_t len)
{
	char sep = memchr(ip, ':', len) != NULL ? ':' : '.';
	size_t i, seen = 0;

	for (i = 0; i < len; i++) {
		if (ip[i] != sep)
			continue;
		if (++seen == 3 || (i + 1 < len && ip[i + 1] == sep))
			break;
	}
	if (i > 0 && i <= 39)
		tokenize_add(t, "ip:", ip, i);
}

void
tokenize_comment(struct tokens *t, const struct comment *c)
{
	char host[TOKENIZE_WORD];
	const char *at;
	size_t n;

	/* The short fields first, so that a long body cannot crowd them out. */
	if (c->field[CF_AUTHOR] != NULL)
		tokenize_text(t, "author:", c->field[CF_AUTHOR], c->len[CF_AUTHOR]);
	if (c->field[CF_EMAIL] != NULL &&
	    (at = strrchr(c->field[CF_EMAIL], '@')) != NULL) {
		at++;
		n = tokenize_fold_host(at, strlen(at), host, sizeof host);
		if (n > 0 && n <= TOKENIZE_MAX_HOST)
			tokenize_add(t, "from:", host, n);
	}
	if (c->field[CF_IP] != NULL)
		tokenize_ipnet(t, c->field[CF_IP], c->len[CF_IP]);
	if (c->field[CF_LANG] != NULL && c->len[CF_LANG] <= 16)
		tokenize_add(t, "lang:", c->field[CF_LANG], c->len[CF_LANG]);
	if (c->field[CF_URL] != NULL)
		tokenize_text(t, "urlfield:", c->field[CF_URL], c->len[CF_URL]);
	if (c->field[CF_BODY] != NULL)
		tokenize_text(t, NULL, c->field[CF_BODY], c->len[CF_BODY]);
}

static void
tokenize_default(struct comment *c, enum comment_field fi, const char *v)
{
	if (c->field[fi] == NULL)
		comment_set(c, fi, v, strlen(v));
}

int
tokenize_learn_comment(struct tokens *t, struct comment *c, struct fault *f)
{
	struct comment_limits lim = { 1000000, false };

	fault_clear(f);
	/* Learning needs no post, name or address. */
	tokenize_default(c, CF_POST, "-");
	tokenize_default(c, CF_AUTHOR, "-");
	tokenize_default(c, CF_EMAIL, "learn@example.invalid");
	if (comment_validate(c, &lim, f) != 0)
		return -1;
	tokenize_comment(t, c);
	return 0;
}

int
tokenize_learn_json(struct tokens *t, const char *json, size_t len,
    struct fault *f)
{
	struct comment c;
	int rc = -1;

	fault_clear(f);
	comment_init(&c);
	if (comment_from_json(&c, json, len, f) == 0)
		rc = tokenize_learn_comment(t, &c, f);
	comment_free(&c);
	return rc;
}
