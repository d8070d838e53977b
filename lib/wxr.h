/*
 * WordPress's export file (WXR: WordPress eXtended RSS, Tools -> Export):
 * the comments of each post, read with expat.  Only heinzelctl links it.
 *
 * A comment is a <wp:comment> inside an <item>, with <wp:comment_author>,
 * _author_email, _author_url, _content, _approved (1, 0, spam, trash, ...)
 * and _type ("" or "comment" for a reader's comment; pingback, trackback
 * and plugins' types such as WooCommerce's order notes are not).  Any
 * version of the http://wordpress.org/export/ namespace is accepted,
 * whatever prefix the file binds it to.
 */
#ifndef HEINZEL_WXR_H
#define HEINZEL_WXR_H

#include <stdbool.h>
#include <stddef.h>

enum wxr_field {
	WXR_AUTHOR, WXR_EMAIL, WXR_URL, WXR_CONTENT, WXR_APPROVED, WXR_TYPE,
	WXR__COUNT
};

#define WXR_FIELD_MAX	(2 * 1024 * 1024)	/* bytes kept of a field */

/* One comment; fields a file leaves out are "". */
struct wxr_comment {
	const char *field[WXR__COUNT];
	size_t len[WXR__COUNT];
	bool truncated;		/* a field was longer than WXR_FIELD_MAX */
	unsigned long line;	/* where its <wp:comment> starts */
};

/* What WordPress's status and type make of a comment. */
enum wxr_label { WXR_LEAVE, WXR_HAM, WXR_SPAM };
enum wxr_label wxr_label(const struct wxr_comment *c);

typedef void (*wxr_comment_cb)(void *arg, const struct wxr_comment *c);

/*
 * Parse buf[0..len), calling cb (may be NULL: check only) for each
 * comment in document order.  0, or -1 when the file is not well-formed
 * XML or not a WXR file (its root is not <rss>, or it declares entities):
 * *line gets the line and *cause (static) what is wrong.  Comments before
 * the fault were passed to cb: check the file first when that matters.
 */
int wxr_parse(const char *buf, size_t len, wxr_comment_cb cb, void *arg,
    unsigned long *line, const char **cause);

#endif
