/* Unit tests for the WordPress export (WXR) reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxr.h"

#define MAX_SEEN 8

/* What the callback saw. */
struct seen {
	int n;
	char *field[MAX_SEEN][WXR__COUNT];
	enum wxr_label label[MAX_SEEN];
	unsigned long line[MAX_SEEN];
	int truncated[MAX_SEEN];
};

static void
collect(void *arg, const struct wxr_comment *c)
{
	struct seen *s = arg;
	int i;

	assert_true(s->n < MAX_SEEN);
	for (i = 0; i < WXR__COUNT; i++) {
		assert_int_equal(strlen(c->field[i]), c->len[i]);
		s->field[s->n][i] = strdup(c->field[i]);
	}
	s->label[s->n] = wxr_label(c);
	s->line[s->n] = c->line;
	s->truncated[s->n] = c->truncated;
	s->n++;
}

static void
seen_free(struct seen *s)
{
	int i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < WXR__COUNT; j++)
			free(s->field[i][j]);
	memset(s, 0, sizeof *s);
}

static int
parse(const char *xml, struct seen *s, unsigned long *line, const char **cause)
{
	memset(s, 0, sizeof *s);
	*line = 0;
	*cause = NULL;
	return wxr_parse(xml, strlen(xml), collect, s, line, cause);
}

/* A small export of our own, as WordPress 6 writes it (abridged). */
static const char export_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"			/* 1 */
	"<rss version=\"2.0\"\n"
	"\txmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
	"\txmlns:wp=\"http://wordpress.org/export/1.2/\">\n"
	"<channel>\n"								/* 5 */
	"\t<title>Ein kleines Blog</title>\n"
	"\t<wp:wxr_version>1.2</wp:wxr_version>\n"
	"\t<item>\n"
	"\t\t<title>Hallo Welt</title>\n"
	"\t\t<content:encoded><![CDATA[<p>Der erste Beitrag.</p>]]></content:encoded>\n" /* 10 */
	"\t\t<wp:comment>\n"
	"\t\t\t<wp:comment_id>1</wp:comment_id>\n"
	"\t\t\t<wp:comment_author><![CDATA[Jörg]]></wp:comment_author>\n"
	"\t\t\t<wp:comment_author_email><![CDATA[joerg@example.org]]></wp:comment_author_email>\n"
	"\t\t\t<wp:comment_author_url>https://joerg.example.org/</wp:comment_author_url>\n" /* 15 */
	"\t\t\t<wp:comment_author_IP><![CDATA[192.0.2.1]]></wp:comment_author_IP>\n"
	"\t\t\t<wp:comment_content><![CDATA[Danke für die Anleitung,\n"
	"<em>genau</em> das & nichts anderes.]]></wp:comment_content>\n"
	"\t\t\t<wp:comment_approved><![CDATA[1]]></wp:comment_approved>\n"
	"\t\t\t<wp:comment_type><![CDATA[comment]]></wp:comment_type>\n"	/* 20 */
	"\t\t\t<wp:commentmeta>\n"
	"\t\t\t\t<wp:meta_key><![CDATA[comment_content]]></wp:meta_key>\n"
	"\t\t\t\t<wp:comment_content>not the comment's</wp:comment_content>\n"
	"\t\t\t</wp:commentmeta>\n"
	"\t\t</wp:comment>\n"							/* 25 */
	"\t\t<wp:comment>\n"
	"\t\t\t<wp:comment_author>Cheap Essays</wp:comment_author>\n"
	"\t\t\t<wp:comment_content>Essays written for you &amp; fast &#x2013; cheap!</wp:comment_content>\n"
	"\t\t\t<wp:comment_approved>spam</wp:comment_approved>\n"
	"\t\t\t<wp:comment_type></wp:comment_type>\n"			/* 30 */
	"\t\t</wp:comment>\n"
	"\t\t<wp:comment><wp:comment_content>wartet noch</wp:comment_content>"
	"<wp:comment_approved>0</wp:comment_approved></wp:comment>\n"
	"\t\t<wp:comment><wp:comment_content>im Papierkorb</wp:comment_content>"
	"<wp:comment_approved>trash</wp:comment_approved></wp:comment>\n"
	"\t\t<wp:comment><wp:comment_content>[...] verlinkt [...]</wp:comment_content>"
	"<wp:comment_approved>1</wp:comment_approved>"
	"<wp:comment_type>pingback</wp:comment_type></wp:comment>\n"		/* 35 */
	"\t\t<wp:comment><wp:comment_content>Bestellung bezahlt</wp:comment_content>"
	"<wp:comment_approved>1</wp:comment_approved>"
	"<wp:comment_type>order_note</wp:comment_type></wp:comment>\n"
	"\t</item>\n"
	"</channel>\n"
	"</rss>\n";

static void
test_export(void **state)
{
	struct seen s;
	unsigned long line;
	const char *cause;

	(void)state;
	assert_int_equal(parse(export_xml, &s, &line, &cause), 0);
	assert_null(cause);
	assert_int_equal(s.n, 6);

	assert_int_equal(s.line[0], 11);
	assert_string_equal(s.field[0][WXR_AUTHOR], "Jörg");
	assert_string_equal(s.field[0][WXR_EMAIL], "joerg@example.org");
	assert_string_equal(s.field[0][WXR_URL], "https://joerg.example.org/");
	/* The comment's own content, not the commentmeta's. */
	assert_string_equal(s.field[0][WXR_CONTENT],
	    "Danke für die Anleitung,\n<em>genau</em> das & nichts anderes.");
	assert_int_equal(s.label[0], WXR_HAM);
	assert_false(s.truncated[0]);

	assert_int_equal(s.line[1], 26);
	assert_string_equal(s.field[1][WXR_CONTENT],
	    "Essays written for you & fast \xe2\x80\x93 cheap!");
	/* A field the file leaves out is empty, not the previous comment's. */
	assert_string_equal(s.field[1][WXR_EMAIL], "");
	assert_string_equal(s.field[1][WXR_URL], "");
	assert_int_equal(s.label[1], WXR_SPAM);

	/* Pending, trash, pingback, a plugin's order note: left alone. */
	assert_int_equal(s.line[2], 32);
	assert_int_equal(s.label[2], WXR_LEAVE);
	assert_int_equal(s.label[3], WXR_LEAVE);
	assert_int_equal(s.label[4], WXR_LEAVE);
	assert_string_equal(s.field[4][WXR_TYPE], "pingback");
	assert_int_equal(s.label[5], WXR_LEAVE);
	seen_free(&s);

	/* No callback: a check only. */
	assert_int_equal(wxr_parse(export_xml, strlen(export_xml), NULL, NULL,
	    &line, &cause), 0);
}

static void
test_any_prefix_and_version(void **state)
{
	struct seen s;
	unsigned long line;
	const char *cause;

	(void)state;
	assert_int_equal(parse("<rss xmlns:x=\"http://wordpress.org/export/1.0/\">"
	    "<channel><item><x:comment><x:comment_content>hi there"
	    "</x:comment_content><x:comment_approved>1</x:comment_approved>"
	    "</x:comment></item></channel></rss>", &s, &line, &cause), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.field[0][WXR_CONTENT], "hi there");
	assert_int_equal(s.label[0], WXR_HAM);
	seen_free(&s);

	/* A blog in ISO-8859-1 exports in it: the text arrives as UTF-8. */
	assert_int_equal(parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
	    "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\">"
	    "<wp:comment><wp:comment_author>J\xf6rg</wp:comment_author>"
	    "<wp:comment_content>Gr\xfc\xdf" "e</wp:comment_content>"
	    "</wp:comment></rss>", &s, &line, &cause), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.field[0][WXR_AUTHOR], "J\xc3\xb6rg");
	assert_string_equal(s.field[0][WXR_CONTENT], "Gr\xc3\xbc\xc3\x9f" "e");
	seen_free(&s);

	/* wp: bound to another namespace is not WordPress's. */
	assert_int_equal(parse("<rss xmlns:wp=\"http://example.org/other/\">"
	    "<wp:comment><wp:comment_content>x</wp:comment_content>"
	    "</wp:comment></rss>", &s, &line, &cause), 0);
	assert_int_equal(s.n, 0);
}

static void
test_long_field(void **state)
{
	static const char head[] = "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\">"
	    "<wp:comment><wp:comment_content>";
	static const char tail[] = "</wp:comment_content></wp:comment></rss>";
	size_t n = WXR_FIELD_MAX + 100;
	struct seen s;
	unsigned long line;
	const char *cause;
	char *xml;

	(void)state;
	/* Not assert_non_null: the compiler must see that xml is not NULL. */
	if ((xml = malloc(sizeof head + n + sizeof tail)) == NULL) {
		fail();
		return;
	}
	memcpy(xml, head, sizeof head - 1);
	memset(xml + sizeof head - 1, 'a', n);
	memcpy(xml + sizeof head - 1 + n, tail, sizeof tail);
	assert_int_equal(parse(xml, &s, &line, &cause), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.truncated[0]);
	assert_int_equal(strlen(s.field[0][WXR_CONTENT]), WXR_FIELD_MAX);
	seen_free(&s);
	free(xml);
}

/* Each malformed file: the line named, and what is wrong. */
static void
test_malformed(void **state)
{
	static const struct {
		const char *xml;
		unsigned long line;
		const char *cause;	/* a part of it */
	} bad[] = {
		{ "", 1, "no element" },
		{ "<rss>\n<channel>\n<item>\n</channel>\n</rss>\n", 4, "mismatched tag" },
		{ "<rss>\n<channel>\n<item><wp:comment>\n", 3, "unbound prefix" },
		{ "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\">\n"
		  "<wp:comment><wp:comment_content>a & b</wp:comment_content>\n"
		  "</wp:comment></rss>", 2, "not well-formed" },
		{ "<rss>\n<channel>\n<item>\n", 4, "no element found" },
		{ "<html>\n<body>not an export</body>\n</html>\n", 1, "not <rss>" },
		{ "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n"
		  "<!ENTITY a \"aaaaaaaaaa\">\n<!ENTITY b \"&a;&a;&a;&a;\">\n]>\n"
		  "<rss>&b;</rss>\n", 3, "declares entities" },
		{ "<rss>\xff\xfe</rss>", 1, "invalid token" },
		{ "<rss></rss>\n<rss></rss>\n", 2, "junk after document element" },
	};
	struct seen s;
	unsigned long line;
	const char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i].xml, &s, &line, &cause) != -1 ||
		    line != bad[i].line || cause == NULL ||
		    strstr(cause, bad[i].cause) == NULL)
			fail_msg("case %zu: line %lu, %s", i, line,
			    cause != NULL ? cause : "(no cause)");
		seen_free(&s);
	}
}

/* Comments before a fault have been seen: callers check first. */
static void
test_fault_after_comments(void **state)
{
	struct seen s;
	unsigned long line;
	const char *cause;

	(void)state;
	assert_int_equal(parse("<rss xmlns:wp=\"http://wordpress.org/export/1.2/\">\n"
	    "<wp:comment><wp:comment_content>one</wp:comment_content>"
	    "</wp:comment>\n<wp:comment>\n</rss>\n", &s, &line, &cause), -1);
	assert_int_equal(s.n, 1);
	assert_int_equal(line, 4);
	seen_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_any_prefix_and_version),
		cmocka_unit_test(test_long_field),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fault_after_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
