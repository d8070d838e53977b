/*
 * The tokenizer of the Bayes classifier: a comment becomes a set of unique
 * tokens, the features whose spam and ham counts the classifier keeps.
 *
 * Input is UTF-8 that comment_validate() has accepted.  Words are runs of
 * letters and digits (any letter from U+00C0 up counts, so umlauts and
 * Cyrillic are words too), case-folded: ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic capitals to small, fullwidth and mathematical
 * alphanumerics to ASCII, and "ß" and "ẞ" to "ss" as Unicode's full case
 * folding does, so that "Grüße", "GRÜSSE" and the Swiss "Grüsse" are one
 * token "grüsse".  Invisible characters (zero-width space and joiners,
 * U+2060, U+FEFF, the soft hyphen, variation selectors) are dropped inside
 * words, so "v\u200Biagra" is "viagra".
 *
 * Besides words:
 *	check out		a pair of neighbouring words in one sentence
 *	check ~1 video		a pair with k words between them (k = 1..3):
 *				each word pairs with the TOKENIZE_PAIR_WINDOW
 *				words before it in its sentence (rspamd's
 *				orthogonal sparse bigrams)
 *	host:www.example.org	the host of a link (http(s)://, www. or a
 *				bare name with a common top-level domain)
 *	url:example.org		its registrable-ish domain (last two labels,
 *				three under co.uk and the like)
 *	email:example.org	the domain of an e-mail address (never the
 *				address: counts kept in Redis hold no one's
 *				address)
 *	😀			an emoji or other symbol, one code point
 *	long:N			a word longer than 40 bytes, N its length
 *				rounded down to tens
 *	meta:...		shape of the text: meta:link, meta:invisible,
 *				meta:fancy (mathematical or fullwidth
 *				letters), meta:mixedscript (Latin and
 *				Cyrillic/Greek in one word), meta:mention
 *				(@name), meta:caps (mostly capitals),
 *				meta:len:N (log2 of the length in characters)
 * Words under 2 bytes are skipped.  Fields other than the body carry a
 * prefix: "author:" and "urlfield:" before their tokens, "from:" with the
 * e-mail's domain (never the address), "ip:" with the /24 (IPv4) or the
 * first three groups (IPv6), "lang:".
 *
 * Tokens never hold line breaks, tabs or other control characters (a word
 * pair holds spaces), so a newline can join them (tokenize_join).  A
 * message keeps its first TOKENIZE_MAX unique tokens, in order of
 * appearance; pairs with a gap come after the other tokens of their
 * field.
 */
#ifndef HEINZEL_TOKENIZE_H
#define HEINZEL_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

struct comment;

#define TOKENIZE_MAX		500	/* unique tokens kept per message */
#define TOKENIZE_MIN_LEN	2	/* bytes; shorter words are skipped */
#define TOKENIZE_MAX_LEN	40	/* bytes; longer words become long:N */
#define TOKENIZE_MAX_HOST	60	/* bytes; a longer host gives no host: token */
#define TOKENIZE_PAIR_WINDOW	4	/* words back a pair reaches (1: neighbours) */

/* The unique tokens of one message. */
struct tokens {
	char **v;		/* NUL-terminated, in order of first appearance */
	size_t *len;
	size_t n, cap;
	size_t *slot;		/* open-addressing set: index + 1, 0 = free */
	size_t nslot;
	bool full;		/* the cap was reached: later tokens were dropped */
};

void tokenize_init(struct tokens *t);
void tokenize_free(struct tokens *t);	/* frees the tokens, not t */

/*
 * Add one token made of prefix (may be NULL) and s[0..len), as is: no
 * folding, no length checks.  Returns false for a duplicate or once the
 * cap is reached.
 */
bool tokenize_add(struct tokens *t, const char *prefix, const char *s, size_t len);
bool tokenize_has(const struct tokens *t, const char *token);

/* Tokenize text (valid UTF-8), every token carrying prefix (may be NULL). */
void tokenize_text(struct tokens *t, const char *prefix, const char *s, size_t len);

/*
 * The tokens of a comment: body, author, url, email, ip and lang fields
 * as above.  Post, user agent and the rest are left out.
 */
void tokenize_comment(struct tokens *t, const struct comment *c);

/*
 * One comment of a learning import (heinzelctl learn, POST /v1/learn): a
 * JSON object with the fields of POST /v1/comments, where post, author
 * and email may be missing.  Validated like a submission (no captcha),
 * then tokenized into t.  -1 with f set when it is not a valid comment.
 */
struct fault;
int tokenize_learn_json(struct tokens *t, const char *json, size_t len,
    struct fault *f);
/* The same for a comment already read (a CSV row); fills in defaults. */
int tokenize_learn_comment(struct tokens *t, struct comment *c,
    struct fault *f);

/* The tokens joined by newlines (caller frees); *len gets its length. */
char *tokenize_join(const struct tokens *t, size_t *len);

/* Fold one code point into out (at most 4 bytes); returns the bytes written. */
size_t tokenize_fold(unsigned int cp, char *out);

#endif
