/*
 * The math captcha.  Questions stay small (sums and differences up to 19,
 * products up to 9 × 9) so people answer them in their head; answers are
 * read in digits or number words, German or English, in any spelling the
 * word generator makes plus the usual ASCII stand-ins for umlauts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "captcha.h"
#include "log.h"
#include "random.h"
#include "sha1.h"

#define CAPTCHA_MAX	100
#define CAPTCHA_WORDLEN	64

static const char *const captcha_de_small[20] = {
	"null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben",
	"acht", "neun", "zehn", "elf", "zwölf", "dreizehn", "vierzehn",
	"fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"
};
static const char *const captcha_de_tens[10] = {
	"", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig",
	"siebzig", "achtzig", "neunzig"
};
static const char *const captcha_en_small[20] = {
	"zero", "one", "two", "three", "four", "five", "six", "seven",
	"eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
	"fifteen", "sixteen", "seventeen", "eighteen", "nineteen"
};
static const char *const captcha_en_tens[10] = {
	"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
	"eighty", "ninety"
};

/* Normalised number words, filled on first use. */
static char captcha_table[2][CAPTCHA_MAX + 1][CAPTCHA_WORDLEN];
static int captcha_table_ready;

enum captcha_lang
captcha_lang_parse(const char *s, enum captcha_lang dflt)
{
	size_t n;

	if (s == NULL)
		return dflt;
	n = strcspn(s, "-_");
	if (n == 2 && strncasecmp(s, "de", 2) == 0)
		return CAPTCHA_LANG_DE;
	if (n == 2 && strncasecmp(s, "en", 2) == 0)
		return CAPTCHA_LANG_EN;
	return dflt;
}

const char *
captcha_number_words(int n, enum captcha_lang lang, char *buf, size_t size)
{
	if (n < 0 || n > CAPTCHA_MAX)
		return NULL;
	if (lang == CAPTCHA_LANG_DE) {
		if (n == 100)
			snprintf(buf, size, "hundert");
		else if (n < 20)
			snprintf(buf, size, "%s", captcha_de_small[n]);
		else if (n % 10 == 0)
			snprintf(buf, size, "%s", captcha_de_tens[n / 10]);
		else if (n % 10 == 1)
			snprintf(buf, size, "einund%s",
			    captcha_de_tens[n / 10]);
		else
			snprintf(buf, size, "%sund%s", captcha_de_small[n % 10],
			    captcha_de_tens[n / 10]);
	} else {
		if (n == 100)
			snprintf(buf, size, "one hundred");
		else if (n < 20)
			snprintf(buf, size, "%s", captcha_en_small[n]);
		else if (n % 10 == 0)
			snprintf(buf, size, "%s", captcha_en_tens[n / 10]);
		else
			snprintf(buf, size, "%s-%s", captcha_en_tens[n / 10],
			    captcha_en_small[n % 10]);
	}
	return buf;
}

/*
 * Fold a word for comparison: ASCII lowercase, ä ö ü to ae oe ue, ß to
 * ss, spaces and hyphens dropped.  Any other non-ASCII byte cannot be part
 * of a number word.  Returns -1 if the word does not fit or cannot match.
 */
static int
captcha_fold(const char *s, size_t len, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *rep;
	size_t i = 0, o = 0;
	unsigned char c;

	while (i < len) {
		c = p[i];
		rep = NULL;
		if (c == ' ' || c == '-') {
			i++;
			continue;
		}
		if (c < 0x80) {
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (o + 1 >= size)
				return -1;
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c == 0xc3 && i + 1 < len) {
			switch (p[i + 1]) {
			case 0x84: case 0xa4:	/* Ä ä */
				rep = "ae";
				break;
			case 0x96: case 0xb6:	/* Ö ö */
				rep = "oe";
				break;
			case 0x9c: case 0xbc:	/* Ü ü */
				rep = "ue";
				break;
			case 0x9f:		/* ß */
				rep = "ss";
				break;
			}
			i += 2;
		} else if (c == 0xe1 && i + 2 < len && p[i + 1] == 0xba &&
		    p[i + 2] == 0x9e) {		/* capital ẞ */
			rep = "ss";
			i += 3;
		}
		if (rep == NULL || o + 2 >= size)
			return -1;
		out[o++] = rep[0];
		out[o++] = rep[1];
	}
	out[o] = '\0';
	return 0;
}

static void
captcha_table_init(void)
{
	char word[CAPTCHA_WORDLEN];
	int n, l;

	for (l = 0; l < 2; l++) {
		for (n = 0; n <= CAPTCHA_MAX; n++) {
			captcha_number_words(n, (enum captcha_lang)l, word,
			    sizeof word);
			if (captcha_fold(word, strlen(word),
			    captcha_table[l][n], CAPTCHA_WORDLEN) != 0)
				fatalx("%s: bad number word %s", __func__,
				    word);
		}
	}
	captcha_table_ready = 1;
}

static int
captcha_isspace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

int
captcha_parse_answer(const char *s)
{
	char word[CAPTCHA_WORDLEN];
	size_t len, i;
	int n, l;

	while (captcha_isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && captcha_isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return -1;

	if (s[0] >= '0' && s[0] <= '9') {
		if (len > 3)
			return -1;
		n = 0;
		for (i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			n = n * 10 + (s[i] - '0');
		}
		return n <= CAPTCHA_MAX ? n : -1;
	}

	/* Hyphens join words; "-seven" or "twenty-" are no numbers. */
	if (s[0] == '-' || s[len - 1] == '-')
		return -1;
	if (captcha_fold(s, len, word, sizeof word) != 0 || word[0] == '\0')
		return -1;
	if (!captcha_table_ready)
		captcha_table_init();
	for (l = 0; l < 2; l++)
		for (n = 0; n <= CAPTCHA_MAX; n++)
			if (strcmp(word, captcha_table[l][n]) == 0)
				return n;
	/* Spellings of 100 the generator does not use. */
	if (strcmp(word, "einhundert") == 0 || strcmp(word, "hundred") == 0)
		return 100;
	return -1;
}

bool
captcha_id_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	/* Stops at a NUL too: it is no hex digit. */
	for (i = 0; i < CAPTCHA_ID_LEN; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return false;
	return s[CAPTCHA_ID_LEN] == '\0';
}

void
captcha_generate(struct captcha *c, enum captcha_lang lang)
{
	static const char hex[] = "0123456789abcdef";
	static const char *const op_de[] = { "plus", "minus", "mal" };
	static const char *const op_en[] = { "plus", "minus", "times" };
	static const char *const op_sym[] = { "+", "-", "\xc3\x97" };
	unsigned char raw[CAPTCHA_ID_LEN / 2];
	char wa[32], wb[32];	/* operands stay below 20: short words */
	unsigned int op, a, b;
	size_t i;

	random_bytes(raw, sizeof raw);
	for (i = 0; i < sizeof raw; i++) {
		c->id[2 * i] = hex[raw[i] >> 4];
		c->id[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	c->id[CAPTCHA_ID_LEN] = '\0';

	op = random_uniform(3);
	switch (op) {
	case 0:
		a = 1 + random_uniform(9);
		b = 1 + random_uniform(9);
		c->answer = (int)(a + b);
		break;
	case 1:
		/* a >= b, so the answer is never negative. */
		b = random_uniform(10);
		a = (b > 0 ? b : 1);
		a += random_uniform(20 - a);
		c->answer = (int)(a - b);
		break;
	default:
		a = 2 + random_uniform(8);
		b = 2 + random_uniform(8);
		c->answer = (int)(a * b);
		break;
	}
	snprintf(c->question, sizeof c->question, "%u %s %u =", a, op_sym[op],
	    b);
	captcha_number_words((int)a, lang, wa, sizeof wa);
	captcha_number_words((int)b, lang, wb, sizeof wb);
	snprintf(c->question_text, sizeof c->question_text, "%s %s %s", wa,
	    lang == CAPTCHA_LANG_DE ? op_de[op] : op_en[op], wb);
}

/* 16 bytes from 32 lowercase hex digits; -1 if s is not that. */
static int
captcha_unhex(const char *s, unsigned char *out)
{
	size_t i;
	int hi, lo;

	if (!captcha_id_valid(s))
		return -1;
	for (i = 0; i < CAPTCHA_ID_LEN / 2; i++) {
		hi = s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10;
		lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' : s[2 * i + 1] - 'a' + 10;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
captcha_key_init(struct captcha_key *k, const char *secret)
{
	sha1_hmac_init(&k->mac, secret, strlen(secret));
}

/* HMAC-SHA1(key, what raw[0..n)) */
static void
captcha_mac(const struct captcha_key *key, char what, const unsigned char *raw,
    size_t n, unsigned char *out)
{
	unsigned char msg[16];

	msg[0] = (unsigned char)what;
	memcpy(msg + 1, raw, n);
	sha1_hmac_k(&key->mac, msg, n + 1, out);
}

/* raw: nonce 0..3, issued 4..9, sealed answer 10, MAC 11..15. */
void
captcha_seal(struct captcha *c, const struct captcha_key *key, uint64_t now_ms)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[CAPTCHA_ID_LEN / 2], mac[SHA1_LEN];
	size_t i;

	random_bytes(raw, 4);
	for (i = 0; i < 6; i++)
		raw[4 + i] = (unsigned char)(now_ms >> (40 - 8 * i));
	captcha_mac(key, 'a', raw, 10, mac);
	raw[10] = (unsigned char)c->answer ^ mac[0];
	captcha_mac(key, 'm', raw, 11, mac);
	memcpy(raw + 11, mac, 5);
	for (i = 0; i < sizeof raw; i++) {
		c->id[2 * i] = hex[raw[i] >> 4];
		c->id[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	c->id[CAPTCHA_ID_LEN] = '\0';
}

enum captcha_verdict
captcha_open(const char *id, const struct captcha_key *key, int answer,
    uint64_t now_ms, unsigned int ttl_s, unsigned int min_solve_ms,
    uint64_t *expires_ms)
{
	unsigned char raw[CAPTCHA_ID_LEN / 2], mac[SHA1_LEN], diff;
	uint64_t issued = 0;
	size_t i;

	*expires_ms = 0;
	if (captcha_unhex(id, raw) != 0)
		return CAPTCHA_UNKNOWN;
	captcha_mac(key, 'm', raw, 11, mac);
	for (diff = 0, i = 0; i < 5; i++)
		diff |= mac[i] ^ raw[11 + i];
	if (diff != 0)
		return CAPTCHA_UNKNOWN;
	for (i = 0; i < 6; i++)
		issued = issued << 8 | raw[4 + i];
	*expires_ms = issued + (uint64_t)ttl_s * 1000;
	if (now_ms >= *expires_ms)
		return CAPTCHA_UNKNOWN;
	captcha_mac(key, 'a', raw, 10, mac);
	if (answer < 0 || (raw[10] ^ mac[0]) != answer)
		return CAPTCHA_WRONG;
	if (now_ms < issued + min_solve_ms)
		return CAPTCHA_TOO_FAST;
	return CAPTCHA_OK;
}
