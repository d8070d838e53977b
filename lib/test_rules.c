/* Unit tests for the rule engine and scores. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comment.h"
#include "log.h"
#include "rules.h"
#include "score.h"

static struct ruleset *
load(const char *text)
{
	struct ruleset *rs;
	char *errors = NULL;

	rs = ruleset_load_buffer("t.rules", text, strlen(text), &errors);
	if (rs == NULL)
		print_error("unexpected errors:\n%s\n", errors);
	assert_non_null(rs);
	assert_null(errors);
	return rs;
}

/* Load text that must fail, and compare all its errors. */
static void
expect_errors(const char *text, const char *want)
{
	struct ruleset *rs;
	char *errors = NULL;

	rs = ruleset_load_buffer("t.rules", text, strlen(text), &errors);
	assert_null(rs);
	assert_non_null(errors);
	assert_string_equal(errors, want);
	free(errors);
}

static void
comment_set_field(struct comment *c, enum comment_field f, const char *v)
{
	c->field[f] = (char *)v;
	c->len[f] = strlen(v);
}

/* Score c against rules; the hits formatted, the limit count in *limited. */
static char *
score_text(const char *rules, const struct comment *c, double *total,
    int *limited)
{
	struct ruleset *rs = load(rules);
	struct score s;
	char *hits;
	int n;

	score_init(&s);
	n = ruleset_score(rs, c, &s);
	if (limited != NULL)
		*limited = n;
	else
		assert_int_equal(n, 0);
	if (total != NULL)
		*total = s.total;
	hits = score_hits_format(&s);
	score_free(&s);
	ruleset_unref(rs);
	return hits;
}

static void
assert_hits(const char *rules, const struct comment *c, const char *want)
{
	char *hits = score_text(rules, c, NULL, NULL);

	assert_string_equal(hits, want);
	free(hits);
}

static void
test_parse_good(void **state)
{
	static const char text[] =
	    "# starter\n"
	    "\n"
	    "   \t\n"
	    "rule BODY_1 body /viagra/i score 3\n"
	    "\trule AUTHOR_2 author /^[a-z]+$/ score -1.5 # ham sign\n"
	    "rule EMAIL email /x/imsxu score 0.25 \"all \\\"flags\\\" \\\\ ok\"\n"
	    "rule URL url /https?:\\/\\/x\\.test\\// score 2 count>=3\r\n"
	    "rule IP ip /^10\\./ score 1e1 count>=1000 \"private # not a comment\"\n"
	    "rule UA user_agent /curl/ score -0 # comment \"x\"\n"
	    "rule REF referrer /a#b/ score +1\n"
	    "rule POST post /p/usi score 1000\n"
	    "rule ANY_9 any /z/ score -1000 \"\"";
	struct ruleset *rs = load(text);
	struct rule_info ri;

	(void)state;
	assert_int_equal(ruleset_count(rs), 9);

	ruleset_rule(rs, 0, &ri);
	assert_string_equal(ri.name, "BODY_1");
	assert_string_equal(ri.field, "body");
	assert_string_equal(ri.pattern, "viagra");
	assert_string_equal(ri.flags, "i");
	assert_true(ri.score == 3);
	assert_int_equal(ri.min_count, 1);
	assert_string_equal(ri.description, "");
	assert_string_equal(ri.file, "t.rules");
	assert_int_equal(ri.line, 4);

	ruleset_rule(rs, 1, &ri);
	assert_string_equal(ri.field, "author");
	assert_true(ri.score == -1.5);
	assert_int_equal(ri.line, 5);

	ruleset_rule(rs, 2, &ri);
	assert_string_equal(ri.field, "email");
	assert_string_equal(ri.flags, "imsxu");
	assert_true(ri.score == 0.25);
	assert_string_equal(ri.description, "all \"flags\" \\ ok");

	ruleset_rule(rs, 3, &ri);
	assert_string_equal(ri.field, "url");
	assert_string_equal(ri.pattern, "https?:\\/\\/x\\.test\\/");
	assert_string_equal(ri.flags, "");
	assert_int_equal(ri.min_count, 3);

	ruleset_rule(rs, 4, &ri);
	assert_string_equal(ri.field, "ip");
	assert_true(ri.score == 10);
	assert_int_equal(ri.min_count, 1000);
	assert_string_equal(ri.description, "private # not a comment");

	ruleset_rule(rs, 5, &ri);
	assert_string_equal(ri.field, "user_agent");
	assert_true(ri.score == 0);

	ruleset_rule(rs, 6, &ri);
	assert_string_equal(ri.field, "referrer");
	assert_string_equal(ri.pattern, "a#b");

	ruleset_rule(rs, 7, &ri);
	assert_string_equal(ri.field, "post");
	assert_string_equal(ri.flags, "isu");
	assert_true(ri.score == 1000);

	ruleset_rule(rs, 8, &ri);
	assert_string_equal(ri.field, "any");
	assert_true(ri.score == -1000);
	assert_int_equal(ri.line, 12);

	assert_ptr_equal(ruleset_ref(rs), rs);
	ruleset_unref(rs);
	ruleset_unref(rs);
}

static void
test_parse_empty(void **state)
{
	struct ruleset *rs;

	(void)state;
	rs = load("");
	assert_int_equal(ruleset_count(rs), 0);
	ruleset_unref(rs);
	rs = load("# nothing\n\n");
	assert_int_equal(ruleset_count(rs), 0);
	ruleset_unref(rs);
}

static void
test_parse_errors(void **state)
{
	char name[80], line[200], *big;

	(void)state;
	expect_errors("rulez X body /a/ score 1",
	    "t.rules:1:1: expected \"rule\"");
	expect_errors("rule", "t.rules:1:5: missing rule name");
	expect_errors("rule # X", "t.rules:1:6: missing rule name");
	expect_errors("rule x body /a/ score 1",
	    "t.rules:1:6: invalid character in rule name (use A-Z, 0-9 and _)");
	expect_errors("rule AB-C body /a/ score 1",
	    "t.rules:1:8: invalid character in rule name (use A-Z, 0-9 and _)");

	memset(name, 'A', 65);
	name[65] = '\0';
	snprintf(line, sizeof line, "rule %s body /a/ score 1", name);
	expect_errors(line,
	    "t.rules:1:6: rule name longer than 64 characters");
	name[64] = '\0';
	snprintf(line, sizeof line, "rule %s body /a/ score 1", name);
	ruleset_unref(load(line));

	expect_errors("rule X", "t.rules:1:7: missing field");
	expect_errors("rule X bodi /a/ score 1",
	    "t.rules:1:8: unknown field \"bodi\" (use body, author, email, "
	    "url, ip, user_agent, referrer, post or any)");
	expect_errors("rule X body", "t.rules:1:12: expected /pattern/");
	expect_errors("rule X body a/ score 1",
	    "t.rules:1:13: expected /pattern/");
	expect_errors("rule X body /a score 1",
	    "t.rules:1:13: unterminated pattern (a / inside it is written \\/)");
	expect_errors("rule X body /a\\/ score 1",
	    "t.rules:1:13: unterminated pattern (a / inside it is written \\/)");
	expect_errors("rule X body // score 1", "t.rules:1:13: empty pattern");
	expect_errors("rule X body /a/iq score 1",
	    "t.rules:1:17: unknown flag 'q' (use i, m, s, x or u)");
	expect_errors("rule X body /a/", "t.rules:1:16: missing score");
	expect_errors("rule X body /a/ scor 1",
	    "t.rules:1:17: expected \"score\"");
	expect_errors("rule X body /a/ score",
	    "t.rules:1:22: missing score value");
	expect_errors("rule X body /a/ score 1001",
	    "t.rules:1:23: invalid score \"1001\" (a number from -1000 to 1000)");
	expect_errors("rule X body /a/ score -1000.5",
	    "t.rules:1:23: invalid score \"-1000.5\" (a number from -1000 to 1000)");
	expect_errors("rule X body /a/ score 0x10",
	    "t.rules:1:23: invalid score \"0x10\" (a number from -1000 to 1000)");
	expect_errors("rule X body /a/ score nan",
	    "t.rules:1:23: invalid score \"nan\" (a number from -1000 to 1000)");
	expect_errors("rule X body /a/ score 1e999",
	    "t.rules:1:23: invalid score \"1e999\" (a number from -1000 to 1000)");
	expect_errors("rule X body /a/ score 2x",
	    "t.rules:1:23: invalid score \"2x\" (a number from -1000 to 1000)");
	expect_errors("rule X body /a/ score 1 count>=0",
	    "t.rules:1:25: invalid count (use count>=K, K from 1 to 1000)");
	expect_errors("rule X body /a/ score 1 count>=1001",
	    "t.rules:1:25: invalid count (use count>=K, K from 1 to 1000)");
	expect_errors("rule X body /a/ score 1 count>3",
	    "t.rules:1:25: invalid count (use count>=K, K from 1 to 1000)");
	expect_errors("rule X body /a/ score 1 foo",
	    "t.rules:1:25: unexpected \"foo\"");
	expect_errors("rule X body /a/ score 1 count>=2 count>=3",
	    "t.rules:1:34: unexpected \"count>=3\"");
	expect_errors("rule X body /a/ score 1 \"abc",
	    "t.rules:1:25: unterminated description");
	expect_errors("rule X body /a/ score 1 \"a\\nb\"",
	    "t.rules:1:27: unknown escape in description (only \\\" and \\\\)");
	expect_errors("rule X body /a/ score 1 \"a\" x",
	    "t.rules:1:29: unexpected text after the description");
	expect_errors("rule X body /a/ score 1 \"a\"x",
	    "t.rules:1:28: unexpected text after the description");
	expect_errors("rule X body /a/ score 1 \"a\" count>=2",
	    "t.rules:1:29: unexpected text after the description");
	/* PCRE2's offset is added to the column of the pattern's start. */
	expect_errors("rule X body /ab(c/ score 1",
	    "t.rules:1:18: bad pattern: missing closing parenthesis");
	expect_errors("rule X body /a{2,1}/ score 1",
	    "t.rules:1:19: bad pattern: numbers out of order in {} quantifier");
	expect_errors("rule X body /a\\Cb/ score 1",
	    "t.rules:1:17: bad pattern: using \\C is disabled by the application");
	expect_errors("rule X body /\xff/ score 1", "t.rules:1:14: invalid UTF-8");
	expect_errors("rule X body /a/ score 1 \"\xc3\"",
	    "t.rules:1:26: invalid UTF-8");

	big = malloc(70000);
	assert_non_null(big);
	memset(big, ' ', 69999);
	big[69999] = '\0';
	memcpy(big, "rule X body /a/ score 1 ", 24);
	expect_errors(big, "t.rules:1:1: line too long (over 65536 bytes)");
	free(big);
}

static void
test_parse_nul(void **state)
{
	static const char text[] = "rule A body /a/ score 1\nrule B body /\0/ score 1\n";
	struct ruleset *rs;
	char *errors = NULL;

	(void)state;
	rs = ruleset_load_buffer("t.rules", text, sizeof text - 1, &errors);
	assert_null(rs);
	assert_string_equal(errors, "t.rules:2:14: NUL byte");
	free(errors);
}

static void
test_parse_error_cap(void **state)
{
	struct ruleset *rs;
	char *text, *errors, *last;
	size_t i, n = 1005, lines = 0;

	(void)state;
	text = calloc(n, 8);
	assert_non_null(text);
	for (i = 0; i < n; i++)
		strcat(text, "bogus\n");
	rs = ruleset_load_buffer("t.rules", text, strlen(text), &errors);
	assert_null(rs);
	for (i = 0; errors[i] != '\0'; i++)
		lines += errors[i] == '\n';
	assert_int_equal(lines, 1000);
	assert_non_null(strstr(errors, "t.rules:1000:1: expected \"rule\"\n"));
	last = strrchr(errors, '\n') + 1;
	assert_string_equal(last, "... and 5 more errors");
	free(errors);
	free(text);

	/* Long tokens are quoted in part, never splitting a character. */
	expect_errors("rule X body /a/ score 1 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaä",
	    "t.rules:1:25: unexpected \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
}

static void
test_parse_many_errors(void **state)
{
	(void)state;
	expect_errors(
	    "rule A body /a/ score 1\n"
	    "rule B bodyy /a/ score 1\n"
	    "# fine\n"
	    "rule C body /a/ score 1\n"
	    "rule A body /b/ score 2\n"
	    "rule D body /(/ score 1\n"
	    "rule E body /a/z score 1\n"
	    "rule C body /[/ score 1\n"
	    "rule F body /a/ score 1",
	    "t.rules:2:8: unknown field \"bodyy\" (use body, author, email, "
	    "url, ip, user_agent, referrer, post or any)\n"
	    "t.rules:5:6: duplicate rule name A (first defined at t.rules:1)\n"
	    "t.rules:6:15: bad pattern: missing closing parenthesis\n"
	    "t.rules:7:16: unknown flag 'z' (use i, m, s, x or u)\n"
	    "t.rules:8:6: duplicate rule name C (first defined at t.rules:4)\n"
	    "t.rules:8:15: bad pattern: missing terminating ] for character "
	    "class");
}

static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
test_load_dir(void **state)
{
	char tmpl[] = "/tmp/test_rules.XXXXXX", *dir, *p[6], *sub, *errors;
	char *want;
	struct ruleset *rs;
	struct rule_info ri;
	size_t i;

	(void)state;
	dir = mkdtemp(tmpl);
	assert_non_null(dir);

	/* An empty directory is an empty rule set. */
	rs = ruleset_load(dir, &errors);
	assert_non_null(rs);
	assert_null(errors);
	assert_int_equal(ruleset_count(rs), 0);
	ruleset_unref(rs);

	p[0] = write_file(dir, "20-b.rules", "rule B1 body /b/ score 1\n");
	p[1] = write_file(dir, "10-a.rules",
	    "rule A1 body /a/ score 1\nrule A2 body /a/ score 1\n");
	p[2] = write_file(dir, "9-c.rules", "rule C1 body /c/ score 1\n");
	p[3] = write_file(dir, "notes.txt", "not rules\n");
	p[4] = write_file(dir, ".hidden.rules", "junk\n");
	p[5] = write_file(dir, "x.rules~", "junk\n");
	assert_true(asprintf(&sub, "%s/sub.rules", dir) > 0);
	assert_int_equal(mkdir(sub, 0700), 0);

	/* strcmp order: "10-a" < "20-b" < "9-c". */
	rs = ruleset_load(dir, &errors);
	assert_non_null(rs);
	assert_null(errors);
	assert_int_equal(ruleset_count(rs), 4);
	ruleset_rule(rs, 0, &ri);
	assert_string_equal(ri.name, "A1");
	assert_string_equal(ri.file, "10-a.rules");
	ruleset_rule(rs, 1, &ri);
	assert_string_equal(ri.name, "A2");
	assert_int_equal(ri.line, 2);
	ruleset_rule(rs, 2, &ri);
	assert_string_equal(ri.name, "B1");
	assert_string_equal(ri.file, "20-b.rules");
	ruleset_rule(rs, 3, &ri);
	assert_string_equal(ri.name, "C1");
	assert_string_equal(ri.file, "9-c.rules");
	ruleset_unref(rs);

	/* One file alone. */
	rs = ruleset_load(p[0], &errors);
	assert_non_null(rs);
	assert_int_equal(ruleset_count(rs), 1);
	ruleset_unref(rs);

	/* A duplicate across files names both places. */
	free(write_file(dir, "20-b.rules",
	    "# b\nrule B1 body /b/ score 1\nrule A2 body /(/ score 1\n"));
	rs = ruleset_load(dir, &errors);
	assert_null(rs);
	assert_non_null(errors);
	assert_true(asprintf(&want,
	    "%s:3:6: duplicate rule name A2 (first defined at %s:2)\n"
	    "%s:3:16: bad pattern: missing closing parenthesis",
	    p[0], p[1], p[0]) > 0);
	assert_string_equal(errors, want);
	free(want);
	free(errors);

	/* A trailing slash does not double up in the paths. */
	assert_true(asprintf(&want, "%s/", dir) > 0);
	rs = ruleset_load(want, &errors);
	assert_null(rs);
	assert_non_null(strstr(errors, "/20-b.rules:3:6: duplicate"));
	assert_null(strstr(errors, "//"));
	free(errors);
	free(want);

	/* An unreadable file is reported, by its path. */
	if (geteuid() != 0) {
		assert_int_equal(chmod(p[2], 0), 0);
		rs = ruleset_load(dir, &errors);
		assert_null(rs);
		assert_true(asprintf(&want, "%s: Permission denied", p[2]) > 0);
		assert_non_null(strstr(errors, want));
		free(want);
		free(errors);
	}

	for (i = 0; i < 6; i++) {
		unlink(p[i]);
		free(p[i]);
	}
	rmdir(sub);
	free(sub);
	assert_int_equal(rmdir(dir), 0);

	/* A missing directory. */
	rs = ruleset_load(dir, &errors);
	assert_null(rs);
	assert_true(asprintf(&want, "%s: No such file or directory", dir) > 0);
	assert_string_equal(errors, want);
	free(want);
	free(errors);
}

static void
test_load_srcdir(void **state)
{
	struct ruleset *rs;
	struct rule_info ri;
	char *errors = NULL;
	size_t i;

	(void)state;
	rs = ruleset_load(TEST_SRCDIR "/rules", &errors);
	if (rs == NULL)
		print_error("%s\n", errors);
	assert_non_null(rs);
	assert_true(ruleset_count(rs) >= 8);
	for (i = 0; i < ruleset_count(rs); i++) {
		ruleset_rule(rs, i, &ri);
		assert_true(ri.description[0] != '\0');
	}
	ruleset_unref(rs);
}

/* Score one comment with the shipped rules. */
static double
starter_score(struct ruleset *rs, const char *author, const char *body,
    enum verdict *v)
{
	struct comment c;
	struct score s;
	double total;

	memset(&c, 0, sizeof c);
	comment_set_field(&c, CF_POST, "heinzelmaennchen");
	comment_set_field(&c, CF_AUTHOR, author);
	comment_set_field(&c, CF_EMAIL, "someone@example.org");
	comment_set_field(&c, CF_BODY, body);
	score_init(&s);
	assert_int_equal(ruleset_score(rs, &c, &s), 0);
	*v = score_verdict(&s, 3, 6);
	total = s.total;
	score_free(&s);
	return total;
}

static void
test_starter_rules(void **state)
{
	static const struct {
		const char	*author;
		const char	*body;
		enum verdict	 want;
	} cases[] = {
		{ "Anna", "Danke für den Artikel! Du schreibst, dass die "
		    "Heinzelmännchen nachts kamen. Woher stammt die Sage?",
		    VERDICT_CLEAN },
		{ "Ben", "> heinzeld reloads on SIGHUP\nDoes it keep the old "
		    "rules when the new ones fail?", VERDICT_CLEAN },
		{ "Carla", "I bought a used bike online last week, cheap and "
		    "good.", VERDICT_CLEAN },
		{ "Dirk", "Nice post!", VERDICT_CLEAN },
		{ "Eva", "Great article. Visit my website for more tips!",
		    VERDICT_HOLD },
		{ "Frank", "Schaut doch mal auf meinem Kanal vorbei, da gibt "
		    "es jeden Tag neue Videos.", VERDICT_HOLD },
		{ "Gina", "Ich verdiene jeden Monat 5000 Euro von zu Hause "
		    "aus. Schreib mir auf WhatsApp +49 151 1234567",
		    VERDICT_SPAM },
		{ "Best Casino", "Best online casino with free spins: "
		    "http://a.test http://b.test http://c.test", VERDICT_SPAM },
		{ "v1agra-shop.com", "Kamagra ohne Rezept günstig online "
		    "bestellen", VERDICT_SPAM },
		{ "Hans", "I made $4000 a week trading bitcoin, contact Mr. "
		    "X on telegram +1 555 0100 200 for backlinks too",
		    VERDICT_SPAM },
		{ "Ida", "Buy cheap cialis online [url=http://x.test]here"
		    "[/url]", VERDICT_SPAM },
	};
	struct ruleset *rs;
	enum verdict v;
	char *errors = NULL;
	size_t i;

	(void)state;
	rs = ruleset_load(TEST_SRCDIR "/rules", &errors);
	assert_non_null(rs);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		starter_score(rs, cases[i].author, cases[i].body, &v);
		if (v != cases[i].want)
			print_error("case %zu: %s, want %s\n", i,
			    verdict_name(v), verdict_name(cases[i].want));
		assert_int_equal(v, cases[i].want);
	}

	/*
	 * The ham sign needs an answer without links: with a link, quoting
	 * the post scores the same as not quoting it.
	 */
	assert_true(starter_score(rs, "Jo", "> quoted\nyes", &v) == -1);
	assert_true(starter_score(rs, "Jo", "> quoted\nsee https://x.test",
	    &v) == starter_score(rs, "Jo", "quoted\nsee https://x.test", &v));
	assert_true(starter_score(rs, "Jo", "You wrote it. WWW.X.TEST",
	    &v) == starter_score(rs, "Jo", "You know it. WWW.X.TEST", &v));
	ruleset_unref(rs);
}

static void
test_score_body(void **state)
{
	struct comment c;
	double total;
	char *hits;

	(void)state;
	memset(&c, 0, sizeof c);
	comment_set_field(&c, CF_BODY, "Buy VIAGRA now, cheap viagra!");
	comment_set_field(&c, CF_AUTHOR, "Anna");
	assert_hits("rule PHARMA body /viagra/i score 3\n"
	    "rule CASE body /viagra/ score 1\n"
	    "rule AUTHOR body /Anna/ score 5\n", &c, "PHARMA=3 CASE=1");

	/* A negative score lowers the total. */
	hits = score_text("rule PHARMA body /viagra/i score 3\n"
	    "rule NAME author /^Anna$/ score -1.5\n", &c, &total, NULL);
	assert_string_equal(hits, "PHARMA=3 NAME=-1.5");
	assert_true(total == 1.5);
	free(hits);
}

static void
test_score_any(void **state)
{
	struct comment c;
	struct ruleset *rs;
	struct score s;

	(void)state;
	memset(&c, 0, sizeof c);
	comment_set_field(&c, CF_BODY, "hello there");
	comment_set_field(&c, CF_AUTHOR, "Casino Royal");
	assert_hits("rule CASINO any /casino/i score 3\n"
	    "rule CASINO_BODY body /casino/i score 3\n", &c, "CASINO=3");

	/* count>=K adds up the matches of all fields, capped at K. */
	comment_set_field(&c, CF_BODY, "casino, casino");
	comment_set_field(&c, CF_URL, "http://casino.test/");
	rs = load("rule C2 any /casino/i score 1 count>=2\n"
	    "rule C4 any /casino/i score 1 count>=4\n"
	    "rule C5 any /casino/i score 1 count>=5\n");
	score_init(&s);
	assert_int_equal(ruleset_score(rs, &c, &s), 0);
	assert_int_equal(s.nhits, 2);
	assert_string_equal(s.hits[0].name, "C2");
	assert_int_equal(s.hits[0].count, 2);
	assert_string_equal(s.hits[1].name, "C4");
	assert_int_equal(s.hits[1].count, 4);
	score_free(&s);
	ruleset_unref(rs);

	/* Fields outside "any" never match. */
	memset(&c, 0, sizeof c);
	comment_set_field(&c, CF_LANG, "casino");
	comment_set_field(&c, CF_HONEYPOT, "casino");
	assert_hits("rule CASINO any /casino/i score 3\n", &c, "");
}

static void
test_score_count(void **state)
{
	struct comment c;

	(void)state;
	memset(&c, 0, sizeof c);
	comment_set_field(&c, CF_BODY,
	    "see http://a.test and https://b.test, http://c.test");
	assert_hits("rule LINKS3 body /https?:\\/\\// score 3 count>=3\n"
	    "rule LINKS4 body /https?:\\/\\// score 3 count>=4\n", &c,
	    "LINKS3=3");
	comment_set_field(&c, CF_BODY, "see http://a.test and https://b.test");
	assert_hits("rule LINKS3 body /https?:\\/\\// score 3 count>=3\n"
	    "rule LINKS2 body /https?:\\/\\// score 2 count>=2\n", &c,
	    "LINKS2=2");

	/* Matches do not overlap. */
	comment_set_field(&c, CF_BODY, "aaaa");
	assert_hits("rule AA2 body /aa/ score 1 count>=2\n"
	    "rule AA3 body /aa/ score 1 count>=3\n", &c, "AA2=1");

	/* Empty matches count once per position, as in Perl. */
	comment_set_field(&c, CF_BODY, "baab");
	assert_hits("rule E4 body /a*/ score 1 count>=4\n"
	    "rule E5 body /a*/ score 1 count>=5\n", &c, "E4=1");
	comment_set_field(&c, CF_BODY, "äö");
	assert_hits("rule E3 body /x*/ score 1 count>=3\n"
	    "rule E4 body /x*/ score 1 count>=4\n", &c, "E3=1");
}

static void
test_score_utf8(void **state)
{
	struct comment c;

	(void)state;
	memset(&c, 0, sizeof c);
	comment_set_field(&c, CF_BODY, "Viele Grüße aus Köln");
	assert_hits("rule GRUSS body /grüße/i score -1\n"
	    "rule KOELN body /KÖLN/i score 1\n"
	    "rule DOT body /Gr.ße/ score 1\n"
	    "rule WORD body /\\bK\\w+n\\b/u score 1\n"
	    "rule ASCII body /K\\w+n/ score 1\n", &c,
	    "GRUSS=-1 KOELN=1 DOT=1 WORD=1");

	/* A field that is not UTF-8 matches nothing, and does not crash. */
	comment_set_field(&c, CF_BODY, "Gr\xfc\xdf" "e viagra");
	comment_set_field(&c, CF_AUTHOR, "viagra");
	assert_hits("rule V body /viagra/ score 1\n"
	    "rule A any /viagra/ score 1\n", &c, "A=1");
}

static void
test_score_catastrophic(void **state)
{
	struct comment c;
	char *hits;
	int limited;

	(void)state;
	memset(&c, 0, sizeof c);
	comment_set_field(&c, CF_BODY,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
	comment_set_field(&c, CF_AUTHOR,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
	hits = score_text("rule SLOW body /(a+)+$/ score 5\n"
	    "rule SLOW_ANY any /(a|aa)+$/ score 5\n"
	    "rule FINE body /!/ score 1\n", &c, NULL, &limited);
	assert_string_equal(hits, "FINE=1");
	assert_int_equal(limited, 2);
	free(hits);
}

static void
test_verdict(void **state)
{
	struct score s;

	(void)state;
	score_init(&s);
	assert_int_equal(score_verdict(&s, 3, 6), VERDICT_CLEAN);
	score_add(&s, "A", 2.5, 1);
	assert_int_equal(score_verdict(&s, 3, 6), VERDICT_CLEAN);
	score_add(&s, "B", 0.5, 1);
	assert_true(s.total == 3);
	assert_int_equal(score_verdict(&s, 3, 6), VERDICT_HOLD);
	score_add(&s, "C", 2.75, 1);
	assert_int_equal(score_verdict(&s, 3, 6), VERDICT_HOLD);
	score_add(&s, "D", 0.25, 1);
	assert_true(s.total == 6);
	assert_int_equal(score_verdict(&s, 3, 6), VERDICT_SPAM);
	score_add(&s, "E", -0.25, 1);
	assert_int_equal(score_verdict(&s, 3, 6), VERDICT_HOLD);
	score_free(&s);
	assert_int_equal(s.nhits, 0);

	assert_string_equal(verdict_name(VERDICT_CLEAN), "clean");
	assert_string_equal(verdict_name(VERDICT_HOLD), "hold");
	assert_string_equal(verdict_name(VERDICT_SPAM), "spam");
}

static void
test_score_format(void **state)
{
	struct score s;
	char buf[32], *hits;
	int i;

	(void)state;
	score_format_points(3, buf, sizeof buf);
	assert_string_equal(buf, "3");
	score_format_points(-1.5, buf, sizeof buf);
	assert_string_equal(buf, "-1.5");
	score_format_points(-0.0, buf, sizeof buf);
	assert_string_equal(buf, "0");
	score_format_points(0.1 + 0.2, buf, sizeof buf);
	assert_string_equal(buf, "0.3");
	score_format_points(1000, buf, sizeof buf);
	assert_string_equal(buf, "1000");

	score_init(&s);
	hits = score_hits_format(&s);
	assert_string_equal(hits, "");
	free(hits);
	score_add(&s, "LINKS", 3, 4);
	score_add(&s, "HAM", -1, 1);
	score_add(&s, "ZERO", -0.0, 1);
	hits = score_hits_format(&s);
	assert_string_equal(hits, "LINKS=3 HAM=-1 ZERO=0");
	free(hits);
	assert_int_equal(s.hits[0].count, 4);

	/* The array grows. */
	for (i = 0; i < 100; i++)
		score_add(&s, "N", 1, 1);
	assert_int_equal(s.nhits, 103);
	assert_true(s.total == 102);
	score_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_nul),
		cmocka_unit_test(test_parse_many_errors),
		cmocka_unit_test(test_parse_error_cap),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_load_srcdir),
		cmocka_unit_test(test_starter_rules),
		cmocka_unit_test(test_score_body),
		cmocka_unit_test(test_score_any),
		cmocka_unit_test(test_score_count),
		cmocka_unit_test(test_score_utf8),
		cmocka_unit_test(test_score_catastrophic),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_score_format),
	};

	log_init("test_rules", LOG_LEVEL_ERROR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
