/*
 * Aho-Corasick as a full DFA: one table lookup per byte of text.  The bytes
 * that occur in no string share one input class, which keeps the table at
 * states × (distinct bytes + 1) entries.  Entries hold the next state
 * premultiplied by the row width, and the top bit marks states where some
 * string ends, so the scan loop is a load, a mask and a test.  A byte map
 * lets the automaton read the text through a function of each byte (such
 * as lower case), and skip bytes (a column that stays in the same state),
 * without a pass to rewrite the text.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acscan.h"
#include "log.h"
#include "xmalloc.h"

#define ACSCAN_OUT	0x80000000u
#define ACSCAN_NONE	UINT32_MAX

struct acscan {
	/* The strings, and a hash of them to find repeats (id + 1, 0 free). */
	char		**str;
	size_t		 *len;
	unsigned int	  n, cap;
	unsigned int	 *hash;
	size_t		  hashcap;	/* power of two */

	/* The automaton. */
	bool		  compiled;
	int16_t		  map[256];	/* -1: skip the byte */
	uint8_t		  cls[256];	/* of a text byte, through map */
	uint32_t	  ncls;		/* columns, skip included */
	uint32_t	  nstates;
	uint32_t	 *delta;	/* [state * ncls + class] */
	uint32_t	 *term;		/* string ending at a state */
	uint32_t	 *dict;		/* next suffix state where one ends */
};

struct acscan *
acscan_new(void)
{
	struct acscan *ac;
	int i;

	ac = xcalloc(1, sizeof *ac);
	for (i = 0; i < 256; i++)
		ac->map[i] = (int16_t)i;
	return ac;
}

void
acscan_map(struct acscan *ac, const int map[256])
{
	int i;

	if (ac->compiled)
		fatalx("%s: compiled", __func__);
	for (i = 0; i < 256; i++)
		ac->map[i] = (int16_t)(map[i] < 0 ? -1 : map[i] & 0xff);
}

void
acscan_free(struct acscan *ac)
{
	unsigned int i;

	if (ac == NULL)
		return;
	for (i = 0; i < ac->n; i++)
		free(ac->str[i]);
	free(ac->str);
	free(ac->len);
	free(ac->hash);
	free(ac->delta);
	free(ac->term);
	free(ac->dict);
	free(ac);
}

static uint32_t
acscan_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void
acscan_hash_grow(struct acscan *ac)
{
	size_t cap = ac->hashcap == 0 ? 64 : ac->hashcap * 2, j;
	unsigned int i;

	free(ac->hash);
	ac->hash = xcalloc(cap, sizeof *ac->hash);
	ac->hashcap = cap;
	for (i = 0; i < ac->n; i++) {
		j = acscan_hash(ac->str[i], ac->len[i]) & (cap - 1);
		while (ac->hash[j] != 0)
			j = (j + 1) & (cap - 1);
		ac->hash[j] = i + 1;
	}
}

unsigned int
acscan_add(struct acscan *ac, const char *s, size_t len)
{
	unsigned int id;
	size_t j;

	if (ac->compiled || len == 0)
		fatalx("%s: %s", __func__, ac->compiled ? "compiled" :
		    "empty string");
	if ((ac->n + 1) * 2 > ac->hashcap)
		acscan_hash_grow(ac);
	j = acscan_hash(s, len) & (ac->hashcap - 1);
	while ((id = ac->hash[j]) != 0) {
		if (ac->len[id - 1] == len &&
		    memcmp(ac->str[id - 1], s, len) == 0)
			return id - 1;
		j = (j + 1) & (ac->hashcap - 1);
	}
	if (ac->n == ac->cap) {
		ac->cap = ac->cap == 0 ? 64 : ac->cap * 2;
		ac->str = xreallocarray(ac->str, ac->cap, sizeof *ac->str);
		ac->len = xreallocarray(ac->len, ac->cap, sizeof *ac->len);
	}
	ac->str[ac->n] = xmalloc(len);
	memcpy(ac->str[ac->n], s, len);
	ac->len[ac->n] = len;
	ac->hash[j] = ac->n + 1;
	return ac->n++;
}

unsigned int
acscan_count(const struct acscan *ac)
{
	return ac->n;
}

void
acscan_compile(struct acscan *ac)
{
	bool seen[256], skip = false;
	uint8_t cls[256];
	uint32_t *fail, *queue, *order, *delta, *term, *dict, s, t, f, c;
	uint32_t max = 1, head = 0, tail = 0, ncls = 1, width;
	size_t i, j, total = 1;

	if (ac->compiled)
		fatalx("%s: compiled twice", __func__);
	ac->compiled = true;

	/* Input classes: one per byte that occurs in a string, 0 for the rest. */
	memset(seen, 0, sizeof seen);
	for (i = 0; i < ac->n; i++) {
		for (j = 0; j < ac->len[i]; j++)
			seen[(unsigned char)ac->str[i][j]] = true;
		total += ac->len[i];
	}
	for (i = 0; i < 256; i++)
		cls[i] = seen[i] ? (uint8_t)ncls++ : 0;
	/* Text bytes through the map; skipped ones get a column of their own. */
	for (i = 0; i < 256; i++)
		if (ac->map[i] < 0)
			skip = true;
	width = ncls + (skip ? 1 : 0);
	for (i = 0; i < 256; i++)
		ac->cls[i] = ac->map[i] < 0 ? (uint8_t)ncls : cls[ac->map[i]];
	if (total * width >= ACSCAN_OUT)
		fatalx("%s: too many strings (%zu bytes)", __func__, total);
	ac->ncls = ncls;

	/* The trie; 0 in delta is "no child" (the root is nobody's child). */
	ac->delta = xcalloc(total * ac->ncls, sizeof *ac->delta);
	ac->term = xreallocarray(NULL, total, sizeof *ac->term);
	ac->dict = xcalloc(total, sizeof *ac->dict);
	ac->term[0] = ACSCAN_NONE;
	for (i = 0; i < ac->n; i++) {
		s = 0;
		for (j = 0; j < ac->len[i]; j++) {
			c = cls[(unsigned char)ac->str[i][j]];
			if (ac->delta[s * ac->ncls + c] == 0) {
				ac->term[max] = ACSCAN_NONE;
				ac->delta[s * ac->ncls + c] = max++;
			}
			s = ac->delta[s * ac->ncls + c];
		}
		ac->term[s] = (uint32_t)i;	/* strings are unique */
	}
	ac->nstates = max;

	/* Breadth first: fail links, dictionary links, the full DFA. */
	fail = xcalloc(max, sizeof *fail);
	queue = xreallocarray(NULL, max, sizeof *queue);
	for (c = 0; c < ac->ncls; c++)
		if ((t = ac->delta[c]) != 0)
			queue[tail++] = t;
	while (head < tail) {
		s = queue[head++];
		for (c = 0; c < ac->ncls; c++) {
			f = ac->delta[fail[s] * ac->ncls + c];
			if ((t = ac->delta[s * ac->ncls + c]) == 0) {
				ac->delta[s * ac->ncls + c] = f;
				continue;
			}
			fail[t] = f;
			ac->dict[t] = ac->term[f] != ACSCAN_NONE ? f :
			    ac->dict[f];
			queue[tail++] = t;
		}
	}
	free(fail);

	/*
	 * Number the states breadth first: the shallow ones, where a scan
	 * spends most of its time, share cache lines.  Then premultiply and
	 * mark the states where a string ends.
	 */
	order = xcalloc(max, sizeof *order);
	for (i = 0; i < tail; i++)
		order[queue[i]] = (uint32_t)i + 1;
	free(queue);
	delta = xreallocarray(NULL, (size_t)max * width, sizeof *delta);
	term = xreallocarray(NULL, max, sizeof *term);
	dict = xreallocarray(NULL, max, sizeof *dict);
	for (s = 0; s < max; s++) {
		term[order[s]] = ac->term[s];
		dict[order[s]] = order[ac->dict[s]];
		for (c = 0; c < ac->ncls; c++) {
			t = ac->delta[s * ac->ncls + c];
			delta[order[s] * width + c] = order[t] * width |
			    (ac->term[t] != ACSCAN_NONE || ac->dict[t] != 0 ?
			    ACSCAN_OUT : 0);
		}
		/* A skipped byte: same state, nothing new ends. */
		if (skip)
			delta[order[s] * width + ncls] = order[s] * width;
	}
	ac->ncls = width;
	free(order);
	free(ac->delta);
	free(ac->term);
	free(ac->dict);
	ac->delta = delta;
	ac->term = term;
	ac->dict = dict;

	free(ac->hash);
	ac->hash = NULL;
	ac->hashcap = 0;
}

void
acscan_scan(const struct acscan *ac, const char *text, size_t len,
    acscan_cb *cb, void *arg)
{
	const unsigned char *p = (const unsigned char *)text;
	const uint32_t *delta = ac->delta;
	uint32_t s = 0, v, t;
	size_t i;

	if (!ac->compiled)
		fatalx("%s: not compiled", __func__);
	if (ac->n == 0)
		return;
	for (i = 0; i < len; i++) {
		v = delta[s + ac->cls[p[i]]];
		s = v & ~ACSCAN_OUT;
		if ((v & ACSCAN_OUT) == 0)
			continue;
		t = s / ac->ncls;
		if (ac->term[t] == ACSCAN_NONE)
			t = ac->dict[t];
		while (t != 0) {
			cb(ac->term[t], arg);
			t = ac->dict[t];
		}
	}
}

size_t
acscan_states(const struct acscan *ac)
{
	return ac->nstates;
}

size_t
acscan_memory(const struct acscan *ac)
{
	return (size_t)ac->nstates * (ac->ncls + 2) * sizeof(uint32_t);
}
