/*
 * Aho-Corasick: which of many byte strings occur in a text, in one pass.
 * Add the strings, compile once, then scan any number of texts; a compiled
 * automaton is read-only.
 */
#ifndef HEINZEL_ACSCAN_H
#define HEINZEL_ACSCAN_H

#include <stddef.h>

struct acscan;

/* Called for every occurrence of string id in the text, at its end. */
typedef void acscan_cb(unsigned int id, void *arg);

struct acscan	*acscan_new(void);
void		 acscan_free(struct acscan *ac);

/*
 * Add a string of len >= 1 bytes (any bytes) before acscan_compile.
 * Returns its id: ids count from 0 in order of first addition, and adding
 * a string again returns the id it already has.
 */
unsigned int	 acscan_add(struct acscan *ac, const char *s, size_t len);
unsigned int	 acscan_count(const struct acscan *ac);

/*
 * Read text bytes through map before acscan_compile: byte b is seen as
 * map[b] (0-255), or skipped when map[b] is -1.  The default is identity.
 * A scan of text through the map finds what a scan of the mapped text
 * would, without rewriting it.
 */
void		 acscan_map(struct acscan *ac, const int map[256]);

/* Build the automaton; no acscan_add after this. */
void		 acscan_compile(struct acscan *ac);

/* Report every occurrence of every string in text[0..len). */
void		 acscan_scan(const struct acscan *ac, const char *text,
		    size_t len, acscan_cb *cb, void *arg);

/* States of the automaton and bytes of its tables, for benchmarks. */
size_t		 acscan_states(const struct acscan *ac);
size_t		 acscan_memory(const struct acscan *ac);

#endif
