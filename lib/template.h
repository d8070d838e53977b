/*
 * Notification texts: a built-in German and English template per kind,
 * overridable by files, filled with {{name}} placeholders.  A template
 * may use only the variables of its kind, so a template for the author
 * can never show what only the moderators may see (address, IP, score).
 */
#ifndef HEINZEL_TEMPLATE_H
#define HEINZEL_TEMPLATE_H

#include <stddef.h>

enum template_kind {
	TEMPLATE_ADMIN,		/* to [notify] admin: a comment waits */
	TEMPLATE_RECEIVED,	/* to the author: received */
	TEMPLATE_PUBLISHED,	/* to the author: published */
	TEMPLATE__COUNT
};

struct template_var {
	const char *name;
	const char *value;
};

/* "admin", "received", "published"; -1 if unknown. */
const char *template_kind_name(enum template_kind k);
int template_kind_parse(const char *s);

/* True if a template of kind k may use the variable name. */
int template_allowed(enum template_kind k, const char *name);

/* The built-in text of kind k in lang ("de" or "en"; anything else is en). */
const char *template_builtin(enum template_kind k, const char *lang);

/*
 * The text for kind k and lang: the file DIR/KIND.LANG.txt when dir is
 * not empty and the file exists, else the built-in one.  A file that
 * cannot be read or fails template_check() is -1 with *cause (caller
 * frees); the caller decides whether to fall back.  *text is the caller's.
 */
int template_load(const char *dir, enum template_kind k, const char *lang,
    char **text, char **cause);

/*
 * A template is "Subject: ..." on the first line, an empty line, then
 * the body; placeholders are {{name}} with a name kind k may use.
 * 0, or -1 with *cause (caller frees).
 */
int template_check(enum template_kind k, const char *text, char **cause);

/*
 * Fill in text: *subject (one line) and *body (caller frees both).
 * Values in the subject are put on one line; a placeholder without a
 * value in vars is empty.  -1 with *cause when the template is bad.
 */
int template_render(enum template_kind k, const char *text,
    const struct template_var *vars, size_t nvars, char **subject,
    char **body, char **cause);

/*
 * The start of a comment's text: at most max characters of whole words
 * with "…" when cut; one line (whitespace runs as one space) when
 * one_line, else the lines quoted with "> ".  Caller frees.
 */
char *template_excerpt(const char *text, size_t max, int one_line);

#endif
