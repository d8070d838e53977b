/*
 * The comment corpus.  A CSV file is recognised by a header line naming a
 * CONTENT column; anything else is read one comment a line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "csv.h"
#include "xmalloc.h"

static const struct {
	const char *author;
	const char *text;
	int spam;
} corpus_builtins[] = {
	{ "Anna", "Thank you for the clear explanation, the second example "
	    "finally made it click for me.", 0 },
	{ "Jonas", "Schöner Artikel! Ich hätte gern noch etwas mehr zu den "
	    "Grenzfällen gelesen.", 0 },
	{ "Mia", "I tried this with version 2 and it still works, only the "
	    "config file moved.", 0 },
	{ "Lukas", "Great post, bookmarked it for later.", 0 },
	{ "SuperDeals", "Check out my channel for FREE gift cards!!! "
	    "http://bit.ly/free-cards subscribe now", 1 },
	{ "Promo", "make money fast from home, visit www.example-cash.biz "
	    "and click here", 1 },
	{ "Beatz", "hey guys please subscribe to my channel, sub4sub!!", 1 },
	{ "Pharm", "cheap v1agra and c1alis online, no prescription, "
	    "http://pills.example.ru", 1 },
};

void
corpus_init(struct corpus *c)
{
	memset(c, 0, sizeof *c);
}

void
corpus_free(struct corpus *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].author);
		free(c->v[i].text);
		free(c->v[i].author_json);
		free(c->v[i].text_json);
	}
	free(c->v);
	free(c->spam);
	free(c->ham);
	corpus_init(c);
}

char *
corpus_json_escape(const char *s, size_t len)
{
	char *out = xmalloc(len * 6 + 1), *p = out;
	unsigned char ch;
	size_t i;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			*p++ = '\\';
			*p++ = (char)ch;
		} else if (ch == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if (ch < 0x20) {
			p += sprintf(p, "\\u%04x", ch);
		} else
			*p++ = (char)ch;
	}
	*p = '\0';
	return out;
}

static void
corpus_add(struct corpus *c, const char *author, size_t alen,
    const char *text, size_t tlen, int spam)
{
	struct corpus_entry *e;

	/* Trailing white space would be trimmed away by the server anyway. */
	while (tlen > 0 && (text[tlen - 1] == ' ' || text[tlen - 1] == '\r' ||
	    text[tlen - 1] == '\n' || text[tlen - 1] == '\t'))
		tlen--;
	if (tlen == 0)
		return;
	if (alen == 0) {
		author = "Reader";
		alen = 6;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = xreallocarray(c->v, c->cap, sizeof *c->v);
	}
	e = &c->v[c->n++];
	e->author = xstrndup(author, alen);
	e->text = xstrndup(text, tlen);
	e->text_len = tlen;
	e->author_json = corpus_json_escape(author, alen);
	e->text_json = corpus_json_escape(text, tlen);
	e->spam = spam;
}

static int
corpus_load_csv(struct corpus *c, char *buf, size_t len, const char *path,
    char **cause)
{
	struct csv_reader r;
	struct csv_record rec;
	int author, content, class;

	csv_init(&r, buf, len);
	csv_next(&r, &rec);
	author = csv_column(&rec, "AUTHOR");
	content = csv_column(&rec, "CONTENT");
	class = csv_column(&rec, "CLASS");
	if (content < 0) {
		xasprintf(cause, "%s: no CONTENT column in the header", path);
		return -1;
	}
	while (csv_next(&r, &rec) == 1) {
		if (csv_blank(&rec))
			continue;
		if (rec.error != NULL || rec.n <= content ||
		    rec.n > CSV_MAX_FIELDS) {
			xasprintf(cause, "%s:%lu: %s", path, rec.line,
			    rec.error ? rec.error : "too few or too many fields");
			return -1;
		}
		corpus_add(c, author >= 0 && author < rec.n ?
		    rec.field[author] : "", author >= 0 && author < rec.n ?
		    rec.len[author] : 0, rec.field[content], rec.len[content],
		    class >= 0 && class < rec.n && rec.field[class][0] == '1');
	}
	return 0;
}

int
corpus_load(struct corpus *c, const char *path, char **cause)
{
	FILE *fp;
	char *buf = NULL, *p, *nl, *end;
	size_t len = 0, cap = 0, got, before = c->n;
	int rc = 0;

	if ((fp = fopen(path, "rb")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 262144;
			buf = xreallocarray(buf, cap, 1);
		}
		got = fread(buf + len, 1, cap - len - 1, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		xasprintf(cause, "%s: read error", path);
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	buf[len] = '\0';

	p = buf;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	nl = memchr(p, '\n', (size_t)(buf + len - p));
	end = nl ? nl : buf + len;
	if (memmem(p, (size_t)(end - p), "CONTENT", 7) != NULL)
		rc = corpus_load_csv(c, buf, len, path, cause);
	else {
		while (p < buf + len) {
			nl = memchr(p, '\n', (size_t)(buf + len - p));
			end = nl ? nl : buf + len;
			corpus_add(c, "", 0, p, (size_t)(end - p), 0);
			p = nl ? nl + 1 : buf + len;
		}
	}
	free(buf);
	if (rc == 0 && c->n == before) {
		xasprintf(cause, "%s: no comments", path);
		rc = -1;
	}
	return rc;
}

void
corpus_builtin(struct corpus *c)
{
	size_t i;

	for (i = 0; i < sizeof corpus_builtins / sizeof corpus_builtins[0]; i++)
		corpus_add(c, corpus_builtins[i].author,
		    strlen(corpus_builtins[i].author), corpus_builtins[i].text,
		    strlen(corpus_builtins[i].text), corpus_builtins[i].spam);
}

void
corpus_index(struct corpus *c)
{
	size_t i;

	free(c->spam);
	free(c->ham);
	c->spam = xcalloc(c->n ? c->n : 1, sizeof *c->spam);
	c->ham = xcalloc(c->n ? c->n : 1, sizeof *c->ham);
	c->nspam = c->nham = 0;
	for (i = 0; i < c->n; i++) {
		if (c->v[i].spam)
			c->spam[c->nspam++] = i;
		else
			c->ham[c->nham++] = i;
	}
}

const struct corpus_entry *
corpus_pick(const struct corpus *c, double share, uint64_t r)
{
	double u;

	if (share < 0 || c->nspam == 0 || c->nham == 0)
		return &c->v[r % c->n];
	/* The top 24 bits choose the kind, the rest the entry. */
	u = (double)(r >> 40) / (double)(1ULL << 24);
	if (u < share)
		return &c->v[c->spam[(r & 0xffffffffffULL) % c->nspam]];
	return &c->v[c->ham[(r & 0xffffffffffULL) % c->nham]];
}
