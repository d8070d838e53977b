/*
 * The math captcha: a small sum, difference or product, asked in digits
 * and in words (de, en), answered in digits or number words.
 */
#ifndef HEINZEL_CAPTCHA_H
#define HEINZEL_CAPTCHA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha1.h"

enum captcha_lang { CAPTCHA_LANG_DE, CAPTCHA_LANG_EN };

#define CAPTCHA_ID_LEN 32	/* hex characters */

struct captcha {
	char id[CAPTCHA_ID_LEN + 1];
	int answer;			/* 0..100, never negative */
	char question[32];		/* "6 + 1 =" ("×" for products, in UTF-8) */
	char question_text[128];	/* "sechs plus eins" / "six plus one" */
};

/* "de" or "en" (primary tag, any case); anything else gives dflt. */
enum captcha_lang captcha_lang_parse(const char *s, enum captcha_lang dflt);

/* Fill c with a fresh random question and a random id (arc4random). */
void captcha_generate(struct captcha *c, enum captcha_lang lang);

/* The number in words: 7 -> "sieben"/"seven"; buf of at least 64 bytes. */
const char *captcha_number_words(int n, enum captcha_lang lang, char *buf, size_t size);

/*
 * Parse an answer: digits or a number word in German or English, case and
 * surrounding whitespace ignored ("7", " Sieben ", "seven", "einundzwanzig",
 * "twenty-one").  Returns 0..100, or -1 when it is no number.
 */
int captcha_parse_answer(const char *s);

/* True if s looks like an id captcha_generate made (32 lowercase hex). */
bool captcha_id_valid(const char *s);

/*
 * A captcha's id carries the captcha itself, so that issuing one costs
 * Redis nothing: 4 random bytes, the time it was issued (ms, 6 bytes),
 * the answer sealed (1 byte, XOR a byte of HMAC-SHA1(key, "a" nonce
 * issued)) and 5 bytes of HMAC-SHA1(key, "m" nonce issued sealed), in
 * hex.  key is the site's secret (every heinzeld of a site shares it
 * through Redis): without it an id neither gives its answer away nor can
 * be made up.  That an id is answered only once is Redis's part: the
 * submission marks it used (store.c).
 */
struct captcha_key {
	struct sha1_hmac_key mac;
};

void captcha_key_init(struct captcha_key *k, const char *secret);
void captcha_seal(struct captcha *c, const struct captcha_key *key,
    uint64_t now_ms);

enum captcha_verdict {
	CAPTCHA_OK,
	CAPTCHA_UNKNOWN,	/* not made with key, or expired */
	CAPTCHA_WRONG,
	CAPTCHA_TOO_FAST,	/* answered before min_solve_ms had passed */
};

/*
 * Check answer (-1: no number) against id at now_ms.  *expires_ms is when
 * the id stops being valid (issued + ttl_s), for the used marker.
 */
enum captcha_verdict captcha_open(const char *id, const struct captcha_key *key,
    int answer,
    uint64_t now_ms, unsigned int ttl_s, unsigned int min_solve_ms,
    uint64_t *expires_ms);

#endif
