/*
 * Notification templates.  The built-in texts live here so that heinzeld
 * works without any file; a file DIR/KIND.LANG.txt replaces one of them.
 * Each kind has a list of variables it may use, checked when a template
 * is loaded: the author's kinds never see the moderators' fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "template.h"
#include "utf8.h"
#include "xmalloc.h"

#define TEMPLATE_MAX	65536	/* bytes of a template file */
#define TEMPLATE_NAME	32	/* longest variable name */

static const char *const template_kinds[TEMPLATE__COUNT] = {
	"admin", "received", "published"
};

/*
 * What anybody may see: the comment as the author wrote it, the post
 * (title: post_title, else the post's id; link: its page, or empty) and
 * the site ([notify] site).
 */
static const char *const template_public_vars[] = {
	"id", "post", "title", "link", "site", "author", "url", "summary",
	"excerpt", "created", NULL
};

/*
 * What a receipt may quote.  Anyone can make heinzel send one to any
 * address by typing it into a form: so the author's name, the post and
 * the website stay out, and the subject holds no variable at all.  The
 * site is the configuration's, not the form's.
 */
static const char *const template_receipt_vars[] = {
	"id", "excerpt", "created", "site", NULL
};

/* What only the moderators see. */
static const char *const template_admin_vars[] = {
	"email", "ip", "user_agent", "score", "hits", "pending", "approve",
	"reject", "spam", NULL
};

static const char template_admin_de[] =
	"Subject: Neuer Kommentar zu \xe2\x80\x9e{{title}}\xe2\x80\x9c: \xe2\x80\x9e{{summary}}\xe2\x80\x9c\n"
	"\n"
	"Ein neuer Kommentar zu \xe2\x80\x9e{{title}}\xe2\x80\x9c auf {{site}} wartet auf Freischaltung.\n"
	"{{link}}\n"
	"\n"
	"Von:      {{author}} <{{email}}>\n"
	"Website:  {{url}}\n"
	"IP:       {{ip}}\n"
	"Browser:  {{user_agent}}\n"
	"Punkte:   {{score}}\n"
	"Regeln:   {{hits}}\n"
	"Datum:    {{created}}\n"
	"\n"
	"{{excerpt}}\n"
	"\n"
	"Freischalten:  {{approve}}\n"
	"Ablehnen:      {{reject}}\n"
	"Als Spam:      {{spam}}\n"
	"\n"
	"Kommentare in der Warteschlange: {{pending}}\n";

static const char template_admin_en[] =
	"Subject: New comment on \"{{title}}\": \"{{summary}}\"\n"
	"\n"
	"A new comment on \"{{title}}\" at {{site}} is waiting for moderation.\n"
	"{{link}}\n"
	"\n"
	"From:     {{author}} <{{email}}>\n"
	"Website:  {{url}}\n"
	"IP:       {{ip}}\n"
	"Browser:  {{user_agent}}\n"
	"Score:    {{score}}\n"
	"Rules:    {{hits}}\n"
	"Date:     {{created}}\n"
	"\n"
	"{{excerpt}}\n"
	"\n"
	"Approve:  {{approve}}\n"
	"Reject:   {{reject}}\n"
	"Spam:     {{spam}}\n"
	"\n"
	"Comments waiting for moderation: {{pending}}\n";

static const char template_received_de[] =
	"Subject: Ihr Kommentar ist eingegangen\n"
	"\n"
	"Guten Tag,\n"
	"\n"
	"vielen Dank f\xc3\xbcr Ihren Kommentar. Er erscheint, sobald er\n"
	"freigeschaltet ist. Er beginnt so:\n"
	"\n"
	"{{excerpt}}\n"
	"\n"
	"Wenn Sie keinen Kommentar geschrieben haben, hat jemand Ihre Adresse\n"
	"angegeben; Sie k\xc3\xb6nnen diese Nachricht dann einfach l\xc3\xb6schen.\n"
	"\n"
	"Diese Nachricht hat {{site}} automatisch verschickt.\n";

static const char template_received_en[] =
	"Subject: Your comment was received\n"
	"\n"
	"Hello,\n"
	"\n"
	"thank you for your comment. It will appear once it has been\n"
	"approved. It begins:\n"
	"\n"
	"{{excerpt}}\n"
	"\n"
	"If you did not write a comment, someone gave your address; you can\n"
	"simply delete this message.\n"
	"\n"
	"This message was sent automatically by {{site}}.\n";

static const char template_published_de[] =
	"Subject: Ihr Kommentar zu \xe2\x80\x9e{{title}}\xe2\x80\x9c ist ver\xc3\xb6""ffentlicht\n"
	"\n"
	"Hallo {{author}},\n"
	"\n"
	"Ihr Kommentar zu \xe2\x80\x9e{{title}}\xe2\x80\x9c ist jetzt ver\xc3\xb6""ffentlicht:\n"
	"{{link}}\n"
	"\n"
	"{{excerpt}}\n"
	"\n"
	"Vielen Dank f\xc3\xbcrs Mitdiskutieren!\n"
	"\n"
	"Diese Nachricht hat {{site}} automatisch verschickt.\n";

static const char template_published_en[] =
	"Subject: Your comment on \"{{title}}\" is published\n"
	"\n"
	"Hello {{author}},\n"
	"\n"
	"your comment on \"{{title}}\" is now published:\n"
	"{{link}}\n"
	"\n"
	"{{excerpt}}\n"
	"\n"
	"Thank you for joining the discussion!\n"
	"\n"
	"This message was sent automatically by {{site}}.\n";

static const char *const template_builtins[TEMPLATE__COUNT][2] = {
	{ template_admin_de, template_admin_en },
	{ template_received_de, template_received_en },
	{ template_published_de, template_published_en },
};

const char *
template_kind_name(enum template_kind k)
{
	return (unsigned)k < TEMPLATE__COUNT ? template_kinds[k] : "unknown";
}

int
template_kind_parse(const char *s)
{
	int i;

	for (i = 0; i < TEMPLATE__COUNT; i++)
		if (strcmp(s, template_kinds[i]) == 0)
			return i;
	return -1;
}

static int
template_in(const char *const *list, const char *name)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

int
template_allowed(enum template_kind k, const char *name)
{
	if (k == TEMPLATE_RECEIVED)
		return template_in(template_receipt_vars, name);
	if (template_in(template_public_vars, name))
		return 1;
	return k == TEMPLATE_ADMIN && template_in(template_admin_vars, name);
}

const char *
template_builtin(enum template_kind k, const char *lang)
{
	return template_builtins[k][lang != NULL && strcmp(lang, "de") == 0 ? 0 : 1];
}

/* The length of the {{name}} at s, with name copied out; 0 if s starts none. */
static size_t
template_placeholder(const char *s, char *name)
{
	size_t n;

	if (strncmp(s, "{{", 2) != 0)
		return 0;
	n = strspn(s + 2, "abcdefghijklmnopqrstuvwxyz_");
	if (n == 0 || n >= TEMPLATE_NAME || strncmp(s + 2 + n, "}}", 2) != 0)
		return 0;
	memcpy(name, s + 2, n);
	name[n] = '\0';
	return n + 4;
}

int
template_check(enum template_kind k, const char *text, char **cause)
{
	char name[TEMPLATE_NAME];
	const char *p, *nl;
	size_t n, line = 1;

	if (!utf8_valid_text(text, strlen(text), true)) {
		*cause = xstrdup("not UTF-8 text");
		return -1;
	}
	if (strncmp(text, "Subject:", 8) != 0) {
		*cause = xstrdup("line 1: expected \"Subject: ...\"");
		return -1;
	}
	if ((nl = strchr(text, '\n')) == NULL ||
	    (nl[1] != '\n' && strncmp(nl + 1, "\r\n", 2) != 0)) {
		*cause = xstrdup("line 2: expected an empty line after the subject");
		return -1;
	}
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n')
			line++;
		if (strncmp(p, "{{", 2) != 0)
			continue;
		if ((n = template_placeholder(p, name)) == 0) {
			xasprintf(cause, "line %zu: expected {{name}} with a name "
			    "of a-z and _", line);
			return -1;
		}
		if (k == TEMPLATE_RECEIVED && line == 1) {
			xasprintf(cause, "line 1: {{%s}}: the subject of a "
			    "received template holds no variables", name);
			return -1;
		}
		if (!template_allowed(k, name)) {
			xasprintf(cause, "line %zu: {{%s}} is %s in a %s template",
			    line, name, template_allowed(TEMPLATE_ADMIN, name) ?
			    "not allowed" : "unknown", template_kinds[k]);
			return -1;
		}
		p += n - 1;
	}
	return 0;
}

int
template_load(const char *dir, enum template_kind k, const char *lang,
    char **text, char **cause)
{
	char *path, *buf;
	size_t n;
	FILE *fp;

	*text = NULL;
	if (dir == NULL || dir[0] == '\0') {
		*text = xstrdup(template_builtin(k, lang));
		return 0;
	}
	xasprintf(&path, "%s/%s.%s.txt", dir, template_kinds[k],
	    lang != NULL && strcmp(lang, "de") == 0 ? "de" : "en");
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			free(path);
			*text = xstrdup(template_builtin(k, lang));
			return 0;
		}
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	buf = xmalloc(TEMPLATE_MAX + 1);
	n = fread(buf, 1, TEMPLATE_MAX + 1, fp);
	if (ferror(fp) || n > TEMPLATE_MAX) {
		xasprintf(cause, "%s: %s", path, ferror(fp) ?
		    "cannot read" : "longer than 64 KiB");
		fclose(fp);
		free(buf);
		free(path);
		return -1;
	}
	fclose(fp);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		xasprintf(cause, "%s: holds a NUL byte", path);
		free(buf);
		free(path);
		return -1;
	}
	if (template_check(k, buf, cause) != 0) {
		char *why = *cause;

		xasprintf(cause, "%s: %s", path, why);
		free(why);
		free(buf);
		free(path);
		return -1;
	}
	free(path);
	*text = buf;
	return 0;
}

/* Add v: on one line, or with line breaks as \n and no other control. */
static void
template_add_value(struct strbuf *b, const char *v, int one_line)
{
	const unsigned char *p = (const unsigned char *)v;

	for (; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n' || *p == '\r' || *p == '\t')
			strbuf_add(b, one_line ? " " : *p == '\t' ? "\t" : "\n", 1);
		else if (*p < 0x20 || *p == 0x7f)
			continue;
		else
			strbuf_add(b, (const char *)p, 1);
	}
}

static const char *
template_value(const struct template_var *vars, size_t nvars, const char *name)
{
	size_t i;

	for (i = 0; i < nvars; i++)
		if (strcmp(vars[i].name, name) == 0)
			return vars[i].value != NULL ? vars[i].value : "";
	return "";
}

/* Fill s[0..len) into b. */
static void
template_fill(struct strbuf *b, const char *s, size_t len,
    const struct template_var *vars, size_t nvars, int one_line)
{
	char name[TEMPLATE_NAME];
	const char *end = s + len, *brace;
	size_t n;

	while (s < end) {
		brace = memchr(s, '{', (size_t)(end - s));
		if (brace == NULL) {
			strbuf_add(b, s, (size_t)(end - s));
			break;
		}
		strbuf_add(b, s, (size_t)(brace - s));
		s = brace;
		if ((n = template_placeholder(s, name)) != 0 && s + n <= end) {
			template_add_value(b, template_value(vars, nvars, name),
			    one_line);
			s += n;
		} else {
			strbuf_add(b, "{", 1);
			s++;
		}
	}
}

/*
 * Fill the body line by line: a line that is nothing but a placeholder
 * without a value ({{link}} of a comment that named no page) is left out
 * rather than left empty.
 */
static void
template_fill_lines(struct strbuf *b, const char *s,
    const struct template_var *vars, size_t nvars)
{
	char name[TEMPLATE_NAME];
	const char *nl;
	size_t len, n;

	for (; *s != '\0'; s += len) {
		nl = strchr(s, '\n');
		len = nl != NULL ? (size_t)(nl - s) + 1 : strlen(s);
		n = template_placeholder(s, name);
		if (n != 0 && (s[n] == '\n' || s[n] == '\0' ||
		    (s[n] == '\r' && s[n + 1] == '\n')) &&
		    template_value(vars, nvars, name)[0] == '\0')
			continue;
		template_fill(b, s, len, vars, nvars, 0);
	}
}

int
template_render(enum template_kind k, const char *text,
    const struct template_var *vars, size_t nvars, char **subject,
    char **body, char **cause)
{
	struct strbuf sb = STRBUF_INIT, bb = STRBUF_INIT;
	const char *nl, *s;
	size_t slen;

	if (template_check(k, text, cause) != 0)
		return -1;
	nl = strchr(text, '\n');
	s = text + 8;
	s += strspn(s, " \t");
	slen = (size_t)(nl - s);
	if (slen > 0 && s[slen - 1] == '\r')
		slen--;
	template_fill(&sb, s, slen, vars, nvars, 1);
	s = nl + 1;
	s += *s == '\r' ? 2 : 1;
	template_fill_lines(&bb, s, vars, nvars);
	*subject = strbuf_finish(&sb, NULL);
	*body = strbuf_finish(&bb, NULL);
	return 0;
}

/* The byte length of the first max characters of s[0..len). */
static size_t
template_cut(const char *s, size_t len, size_t max, int *cut)
{
	size_t i = 0, chars = 0, n;
	unsigned int cp;

	while (i < len && chars < max) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			n = 1;
		i += n;
		chars++;
	}
	*cut = i < len;
	return i;
}

char *
template_excerpt(const char *text, size_t max, int one_line)
{
	struct strbuf flat = STRBUF_INIT, out = STRBUF_INIT;
	const char *p, *sp;
	size_t keep, i, start;
	int cut, space = 0;

	/* Normalise: \n line breaks, no other control characters. */
	for (p = text; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (one_line && (*p == '\n' || *p == '\r' || *p == '\t' ||
		    *p == ' ')) {
			space = flat.len > 0;
			continue;
		}
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
			continue;
		if (space)
			strbuf_add(&flat, " ", 1);
		space = 0;
		strbuf_add(&flat, p, 1);
	}
	strbuf_finish(&flat, NULL);
	keep = template_cut(flat.p, flat.len, max, &cut);
	if (cut) {
		/* Whole words where a space is near the cut. */
		for (sp = flat.p + keep; sp > flat.p + keep / 2; sp--)
			if (*sp == ' ' || *sp == '\n')
				break;
		if (sp > flat.p + keep / 2)
			keep = (size_t)(sp - flat.p);
	}
	while (keep > 0 && strchr(" \t\n", flat.p[keep - 1]) != NULL)
		keep--;
	flat.p[keep] = '\0';
	if (one_line) {
		strbuf_add(&out, flat.p, keep);
		if (cut)
			strbuf_add(&out, "\xe2\x80\xa6", 3);
	} else {
		for (i = start = 0; i <= keep; i++) {
			if (i < keep && flat.p[i] != '\n')
				continue;
			strbuf_add(&out, i > start ? "> " : ">", i > start ? 2 : 1);
			strbuf_add(&out, flat.p + start, i - start);
			if (i == keep && cut)
				strbuf_add(&out, " \xe2\x80\xa6", 4);
			if (i < keep)
				strbuf_add(&out, "\n", 1);
			start = i + 1;
		}
	}
	free(flat.p);
	return strbuf_finish(&out, NULL);
}
