/*
 * Comments to send: the YouTube spam CSVs (COMMENT_ID,AUTHOR,DATE,CONTENT,
 * CLASS with RFC 4180 quoting) or a text file of one comment a line.
 * Author and text are kept JSON-escaped, ready to paste into a request.
 */
#ifndef HEINZEL_CORPUS_H
#define HEINZEL_CORPUS_H

#include <stddef.h>
#include <stdint.h>

struct corpus_entry {
	char *author;		/* raw text */
	char *text;
	size_t text_len;
	char *author_json;	/* JSON-escaped, without quotes */
	char *text_json;
	int spam;		/* CLASS 1, or 0 (text files: always 0) */
};

struct corpus {
	struct corpus_entry *v;
	size_t n, cap;
	size_t *spam, nspam;	/* indexes of spam and ham entries */
	size_t *ham, nham;
};

void corpus_init(struct corpus *c);
void corpus_free(struct corpus *c);

/* Add the comments of path; -1 with *cause (caller frees) on an error. */
int corpus_load(struct corpus *c, const char *path, char **cause);

/* A handful of built-in comments, for when no file is given. */
void corpus_builtin(struct corpus *c);

/* Build the spam and ham index lists; call after the last load. */
void corpus_index(struct corpus *c);

/*
 * Pick an entry: spam with probability share (0..1) while both kinds exist,
 * or any entry when share < 0.  r is a uniform random 64-bit number.
 */
const struct corpus_entry *corpus_pick(const struct corpus *c, double share, uint64_t r);

/* JSON-escape len bytes of s (no quotes added).  Caller frees. */
char *corpus_json_escape(const char *s, size_t len);

#endif
