/*
 * libFuzzer: a rules file through ruleset_load_buffer.  A rule set that
 * loads is run against a fixed comment, so that patterns the parser lets
 * through are also matched (limits, empty matches, UTF-8 steps), and
 * against a comment made of the input's text after its first NUL byte
 * (the rules file cannot hold a NUL): its body, author and website.  Each
 * scoring runs with the literal prefilter on and off, and the hits must be
 * the same.
 */
#include <stdbool.h>
#include <math.h>
#include <string.h>

#include "comment.h"
#include "log.h"
#include "rules.h"
#include "score.h"
#include "utf8.h"
#include "fuzz.h"

#define FUZZ_RULES_NAME	"fuzz.rules"

static struct comment fuzz_rules_comment;

static const struct {
	enum comment_field field;
	const char *value;
	size_t len;		/* 0: strlen */
} fuzz_rules_fields[] = {
	{ CF_POST, "hello-world", 0 },
	{ CF_AUTHOR, "Jürgen Müller", 0 },
	{ CF_EMAIL, "juergen@example.org", 0 },
	{ CF_URL, "https://www.example.org/grüße?x=1", 0 },
	{ CF_BODY,
	  "> Du schreibst, dass Köln schön ist.\n"
	  "Stimmt! Check out my channel https://a.example/ and "
	  "http://b.example/x www.c.example \xf0\x9f\x98\x80\r\n"
	  "<a href=\"http://spam.example\">cheap viagra online</a> "
	  "[url=http://x.example]x[/url] WhatsApp +49 (171) 1234567\n"
	  "Bitcoin 500 $ daily, 20 % profit. \xe2\x82\xac 100\n"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n"
	  "\xc3\x9f\xe1\xba\x9e \xc7\x85 \xef\xac\x80 \xcc\x81" "e\xcc\x81\n"
	  "\ttabs\tand  spaces  \n\n", 0 },
	{ CF_IP, "2001:db8::1", 0 },
	{ CF_USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64)", 0 },
	/* Not UTF-8: no rule may match it, none may crash on it. */
	{ CF_REFERRER, "http://ref.example/\xff\xfe", 0 },
	{ CF_LANG, "de", 0 },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i, len;

	(void)argc;
	(void)argv;
	/* Rules hitting a match limit log a warning each time. */
	log_init("fuzz_rules", LOG_LEVEL_ERROR, 0);
	comment_init(&fuzz_rules_comment);
	for (i = 0; i < sizeof fuzz_rules_fields / sizeof fuzz_rules_fields[0];
	    i++) {
		len = fuzz_rules_fields[i].len;
		if (len == 0)
			len = strlen(fuzz_rules_fields[i].value);
		comment_set(&fuzz_rules_comment, fuzz_rules_fields[i].field,
		    fuzz_rules_fields[i].value, len);
	}
	return 0;
}

/* Every error line names the buffer, a line and a column. */
static void
fuzz_rules_errors(const char *errors)
{
	const char *line = errors, *nl;
	size_t plen = strlen(FUZZ_RULES_NAME);

	FUZZ_CHECK(errors != NULL && *errors != '\0');
	for (;;) {
		nl = strchr(line, '\n');
		if (strncmp(line, "... and ", 8) != 0) {
			FUZZ_CHECK(strncmp(line, FUZZ_RULES_NAME, plen) == 0);
			FUZZ_CHECK(line[plen] == ':');
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

/* Score c with the prefilter on and off: the same hits, in the same order. */
static void
fuzz_rules_score(struct ruleset *rs, const struct comment *c, size_t n)
{
	struct score on, off;
	char *hits;
	size_t i;
	int limited;

	score_init(&on);
	score_init(&off);
	ruleset_set_prefilter(rs, true);
	limited = ruleset_score(rs, c, &on);
	FUZZ_CHECK(limited >= 0 && (size_t)limited <= n);
	FUZZ_CHECK(on.nhits + (size_t)limited <= n);
	ruleset_set_prefilter(rs, false);
	limited = ruleset_score(rs, c, &off);
	FUZZ_CHECK(limited >= 0 && (size_t)limited <= n);
	ruleset_set_prefilter(rs, true);

	FUZZ_CHECK(isfinite(on.total));
	for (i = 0; i < on.nhits; i++)
		FUZZ_CHECK(on.hits[i].count >= 1);
	/* A rule the prefilter skips could not have matched. */
	if (on.nhits != off.nhits)
		fprintf(stderr, "prefilter on: %zu hits, off: %zu\n", on.nhits,
		    off.nhits);
	FUZZ_CHECK(on.nhits == off.nhits);
	for (i = 0; i < on.nhits; i++) {
		if (strcmp(on.hits[i].name, off.hits[i].name) != 0 ||
		    on.hits[i].count != off.hits[i].count)
			fprintf(stderr, "hit %zu: on %s x%u, off %s x%u\n", i,
			    on.hits[i].name, on.hits[i].count,
			    off.hits[i].name, off.hits[i].count);
		FUZZ_CHECK(strcmp(on.hits[i].name, off.hits[i].name) == 0);
		FUZZ_CHECK(on.hits[i].count == off.hits[i].count);
		FUZZ_CHECK(on.hits[i].points == off.hits[i].points);
	}
	hits = score_hits_format(&on);
	FUZZ_CHECK(hits != NULL);
	free(hits);
	score_free(&on);
	score_free(&off);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ruleset *rs;
	struct rule_info ri;
	struct comment c;
	const uint8_t *nul;
	const char *text = NULL;
	char *errors = (char *)1;
	size_t i, n, tlen = 0;

	if ((nul = memchr(data, '\0', len)) != NULL) {
		text = (const char *)nul + 1;
		tlen = len - (size_t)(nul - data) - 1;
		len = (size_t)(nul - data);
	}
	rs = ruleset_load_buffer(FUZZ_RULES_NAME, (const char *)data, len,
	    &errors);
	if (rs == NULL) {
		fuzz_rules_errors(errors);
		free(errors);
		return 0;
	}
	FUZZ_CHECK(errors == NULL);

	n = ruleset_count(rs);
	for (i = 0; i < n; i++) {
		ruleset_rule(rs, i, &ri);
		FUZZ_CHECK(ri.name != NULL && ri.name[0] != '\0');
		FUZZ_CHECK(ri.field != NULL && strcmp(ri.field, "?") != 0);
		FUZZ_CHECK(ri.pattern != NULL && ri.pattern[0] != '\0');
		FUZZ_CHECK(ri.flags != NULL && ri.description != NULL);
		FUZZ_CHECK(strcmp(ri.file, FUZZ_RULES_NAME) == 0);
		FUZZ_CHECK(ri.line >= 1);
		FUZZ_CHECK(isfinite(ri.score) && fabs(ri.score) <= 1000);
		FUZZ_CHECK(ri.min_count >= 1 && ri.min_count <= 1000);
	}

	fuzz_rules_score(ruleset_ref(rs), &fuzz_rules_comment, n);
	ruleset_unref(rs);
	if (text != NULL && utf8_valid(text, tlen)) {
		comment_init(&c);
		comment_set(&c, CF_BODY, text, tlen);
		comment_set(&c, CF_AUTHOR, text, tlen);
		comment_set(&c, CF_URL, text, tlen);
		fuzz_rules_score(rs, &c, n);
		comment_free(&c);
	}
	ruleset_unref(rs);
	return 0;
}
