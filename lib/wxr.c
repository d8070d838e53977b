/*
 * WXR comments with expat (see wxr.h).  Namespace processing is on, so
 * element names arrive as "URI\x01local" and the wp: prefix may be any.
 */
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "log.h"
#include "strbuf.h"
#include "wxr.h"

#define WXR_NS		"http://wordpress.org/export/"
#define WXR_SEP		'\x01'
#define WXR_CHUNK	(1024 * 1024)	/* bytes handed to expat at a time */

static const char *const wxr_names[WXR__COUNT] = {
	"comment_author", "comment_author_email", "comment_author_url",
	"comment_content", "comment_approved", "comment_type",
};

struct wxr_state {
	XML_Parser p;
	wxr_comment_cb cb;
	void *arg;
	unsigned long depth;		/* of the element being read */
	unsigned long comment_depth;	/* of <wp:comment>, 0 outside one */
	int field;			/* being read, -1 for none */
	struct strbuf text[WXR__COUNT];
	bool truncated;
	unsigned long line;
	const char *cause;		/* why the parse was stopped */
	unsigned long cause_line;
};

/* The local name of a name in the WordPress namespace, or NULL. */
static const char *
wxr_wp_name(const XML_Char *name)
{
	const char *sep = strchr(name, WXR_SEP);

	if (sep == NULL || strncmp(name, WXR_NS, strlen(WXR_NS)) != 0)
		return NULL;
	return sep + 1;
}

static void
wxr_stop(struct wxr_state *st, const char *cause)
{
	if (st->cause == NULL) {
		st->cause = cause;
		st->cause_line = XML_GetCurrentLineNumber(st->p);
	}
	XML_StopParser(st->p, XML_FALSE);
}

static void XMLCALL
wxr_start(void *data, const XML_Char *name, const XML_Char **attr)
{
	struct wxr_state *st = data;
	const char *wp = wxr_wp_name(name);
	int i;

	(void)attr;
	st->depth++;
	if (st->depth == 1 && strcmp(name, "rss") != 0) {
		wxr_stop(st, "not a WordPress export: the root element is not <rss>");
		return;
	}
	if (wp == NULL)
		return;
	if (st->comment_depth == 0 && strcmp(wp, "comment") == 0) {
		st->comment_depth = st->depth;
		st->line = XML_GetCurrentLineNumber(st->p);
		st->truncated = false;
		for (i = 0; i < WXR__COUNT; i++) {
			st->text[i].len = 0;
			if (st->text[i].p != NULL)
				st->text[i].p[0] = '\0';
		}
		return;
	}
	/* Only the comment's own fields, not those of its <wp:commentmeta>. */
	if (st->comment_depth == 0 || st->depth != st->comment_depth + 1)
		return;
	for (i = 0; i < WXR__COUNT; i++)
		if (strcmp(wp, wxr_names[i]) == 0)
			st->field = i;
}

static void XMLCALL
wxr_end(void *data, const XML_Char *name)
{
	struct wxr_state *st = data;
	struct wxr_comment c;
	int i;

	(void)name;
	if (st->depth == st->comment_depth + 1)
		st->field = -1;
	if (st->depth-- != st->comment_depth)
		return;
	st->comment_depth = 0;
	if (st->cb == NULL)
		return;
	memset(&c, 0, sizeof c);
	for (i = 0; i < WXR__COUNT; i++) {
		c.field[i] = st->text[i].p != NULL ? st->text[i].p : "";
		c.len[i] = st->text[i].len;
	}
	c.truncated = st->truncated;
	c.line = st->line;
	st->cb(st->arg, &c);
}

static void XMLCALL
wxr_text(void *data, const XML_Char *s, int len)
{
	struct wxr_state *st = data;
	struct strbuf *b;
	size_t n = (size_t)len;

	if (st->field < 0)
		return;
	b = &st->text[st->field];
	if (b->len + n > WXR_FIELD_MAX) {
		st->truncated = true;
		n = WXR_FIELD_MAX - b->len;
	}
	strbuf_add(b, s, n);
}

/* A WordPress export declares no entities: refuse them (and their bombs). */
static void XMLCALL
wxr_entity(void *data, const XML_Char *name, int param, const XML_Char *value,
    int vlen, const XML_Char *base, const XML_Char *sysid,
    const XML_Char *pubid, const XML_Char *notation)
{
	(void)name; (void)param; (void)value; (void)vlen; (void)base;
	(void)sysid; (void)pubid; (void)notation;
	wxr_stop(data, "not a WordPress export: it declares entities");
}

enum wxr_label
wxr_label(const struct wxr_comment *c)
{
	const char *type = c->field[WXR_TYPE], *ok = c->field[WXR_APPROVED];

	if (*type != '\0' && strcmp(type, "comment") != 0)
		return WXR_LEAVE;
	if (strcmp(ok, "1") == 0)
		return WXR_HAM;
	if (strcmp(ok, "spam") == 0)
		return WXR_SPAM;
	return WXR_LEAVE;
}

int
wxr_parse(const char *buf, size_t len, wxr_comment_cb cb, void *arg,
    unsigned long *line, const char **cause)
{
	struct wxr_state st;
	size_t off = 0, n;
	int i, rc = 0, last;

	memset(&st, 0, sizeof st);
	st.cb = cb;
	st.arg = arg;
	st.field = -1;
	/* The file's own encoding declaration holds; expat hands on UTF-8. */
	if ((st.p = XML_ParserCreateNS(NULL, WXR_SEP)) == NULL)
		fatalx("expat: cannot create a parser");
	XML_SetUserData(st.p, &st);
	XML_SetElementHandler(st.p, wxr_start, wxr_end);
	XML_SetCharacterDataHandler(st.p, wxr_text);
	XML_SetEntityDeclHandler(st.p, wxr_entity);
	do {
		n = len - off < WXR_CHUNK ? len - off : WXR_CHUNK;
		last = off + n == len;
		if (XML_Parse(st.p, buf + off, (int)n, last) != XML_STATUS_OK) {
			*cause = st.cause != NULL ? st.cause :
			    XML_ErrorString(XML_GetErrorCode(st.p));
			*line = st.cause != NULL ? st.cause_line :
			    XML_GetCurrentLineNumber(st.p);
			rc = -1;
			break;
		}
		off += n;
	} while (!last);
	for (i = 0; i < WXR__COUNT; i++)
		free(st.text[i].p);
	XML_ParserFree(st.p);
	return rc;
}
