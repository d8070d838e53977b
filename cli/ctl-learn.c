/*
 * Learning: moderation decisions train the Bayes classifier (approve is
 * ham, spam is spam; the comment's "learned" field makes it idempotent and
 * turns a rescue from spam into untrain + train), and `heinzelctl learn`
 * imports labelled comments in bulk or shows what was learned.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bayes.h"
#include "bayes_store.h"
#include "clock.h"
#include "comment.h"
#include "config.h"
#include "csv.h"
#include "ctl.h"
#include "fault.h"
#include "tokenize.h"
#include "utf8.h"
#include "wxr.h"
#include "xmalloc.h"

#define CTL_LEARN_MAX_FILE (256 * 1024 * 1024)	/* CSV and WXR: read whole */

/* The fields the tokenizer reads, from a stored comment. */
static const enum comment_field ctl_learn_fields[] = {
	CF_AUTHOR, CF_EMAIL, CF_URL, CF_BODY, CF_IP, CF_LANG
};

/* Send one learn command for tokens t; msgkey may be NULL (bulk import). */
static int
ctl_learn_tokens(struct ctl *ctl, enum bayes_learn op, const char *msgkey,
    const struct tokens *t, struct bayes_learn_result *res)
{
	struct store_cmd cmd;
	const char *cause;
	redisReply *r;
	int rc;

	store_cmd_init(&cmd);
	bayes_store_cmd_learn(&ctl->store, &cmd, NULL, op, msgkey, t, clock_wall_ms());
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	if ((rc = bayes_store_learn_reply(r, res, &cause)) != 0)
		ctl_warnx("learning: %s", cause);
	freeReplyObject(r);
	return rc;
}

void
ctl_learn_comment(struct ctl *ctl, const char *id, enum store_status to)
{
	struct bayes_learn_result res;
	struct ctl_comment *cc;
	struct comment c;
	struct tokens t;
	const char *v;
	char *key;
	size_t i;

	if (!ctl->cfg->bayes_learn || (to != STORE_APPROVED && to != STORE_SPAM))
		return;
	if ((cc = ctl_db_comment(ctl, id)) == NULL)
		return;
	comment_init(&c);
	for (i = 0; i < sizeof ctl_learn_fields / sizeof ctl_learn_fields[0]; i++)
		if ((v = ctl_comment_get(cc, comment_field_name(ctl_learn_fields[i]))) != NULL)
			comment_set(&c, ctl_learn_fields[i], v, strlen(v));
	tokenize_init(&t);
	tokenize_comment(&t, &c);
	xasprintf(&key, "%s:comment:%s", ctl->store.tag, id);
	ctl_learn_tokens(ctl, to == STORE_SPAM ? BAYES_LEARN_SPAM :
	    BAYES_LEARN_HAM, key, &t, &res);
	free(key);
	tokenize_free(&t);
	comment_free(&c);
	ctl_comment_free(cc);
}

/* One JSON object per line, the fields of POST /v1/comments. */
static int
ctl_learn_file(struct ctl *ctl, const char *path, enum bayes_learn op,
    unsigned long *learned, unsigned long *skipped)
{
	struct bayes_learn_result res;
	struct tokens t;
	struct fault f;
	unsigned long lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		ctl_warnx("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		fault_clear(&f);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		tokenize_init(&t);
		if (tokenize_learn_json(&t, line, (size_t)len, &f) != 0) {
			ctl_warnx("%s:%lu: skipped: %s", path, lineno, f.message);
			(*skipped)++;
			tokenize_free(&t);
			continue;
		}
		if (ctl_learn_tokens(ctl, op, NULL, &t, &res) == 0)
			(*learned)++;
		tokenize_free(&t);
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return 0;
}

/* Whether path is read as CSV: --csv, or a name ending in .csv. */
static bool
ctl_learn_is_csv(const char *path, bool csv)
{
	size_t n = strlen(path);

	return csv || (n > 4 && strcasecmp(path + n - 4, ".csv") == 0);
}

/* A CLASS cell: 1 or spam, 0 or ham; -1 for anything else. */
static int
ctl_learn_class(const char *s)
{
	if (strcmp(s, "1") == 0 || strcasecmp(s, "spam") == 0)
		return BAYES_LEARN_SPAM;
	if (strcmp(s, "0") == 0 || strcasecmp(s, "ham") == 0)
		return BAYES_LEARN_HAM;
	return -1;
}

/*
 * A CSV file with a header line: a body (or CONTENT, as the YouTube spam
 * collection names it) column, optionally author, email, url, lang, and
 * CLASS (1 or spam, 0 or ham) when op is -1.  A row that is not a
 * comment is skipped with its line; an unclosed quote ends the file.
 */
static int
ctl_learn_csv(struct ctl *ctl, const char *path, int op,
    unsigned long *learned, unsigned long *skipped)
{
	struct bayes_learn_result res;
	struct csv_reader r;
	struct csv_record hdr, rec;
	struct comment c;
	struct tokens t;
	struct fault f;
	int col[CSV_MAX_FIELDS], i, class, body = -1, cls, rc = 0;
	char *buf, *cause;
	size_t len, j;

	if ((buf = ctl_read_file(path, CTL_LEARN_MAX_FILE, &len, &cause)) ==
	    NULL) {
		ctl_warnx("%s", cause);
		free(cause);
		return -1;
	}
	csv_init(&r, buf, len);
	if (csv_next(&r, &hdr) == 0 || hdr.error != NULL) {
		ctl_warnx("%s:1: %s", path, hdr.error != NULL ? hdr.error :
		    "no header line (body, author, ..., CLASS)");
		free(buf);
		return -1;
	}
	for (i = 0; i < hdr.n && i < CSV_MAX_FIELDS; i++) {
		for (j = 0; j < hdr.len[i]; j++)
			hdr.field[i][j] = (char)tolower((unsigned char)
			    hdr.field[i][j]);
		if (strcmp(hdr.field[i], "content") == 0)
			col[i] = CF_BODY;
		else
			col[i] = comment_field_lookup(hdr.field[i], hdr.len[i]);
		/* Only what a reader writes; no captcha or honeypot. */
		if (col[i] != CF_BODY && col[i] != CF_AUTHOR &&
		    col[i] != CF_EMAIL && col[i] != CF_URL && col[i] != CF_LANG)
			col[i] = -1;
		if (col[i] == CF_BODY)
			body = i;
	}
	class = csv_column(&hdr, "CLASS");
	if (body < 0 || (op < 0 && class < 0)) {
		ctl_warnx("%s:%lu: the header names no %s column", path,
		    hdr.line, body < 0 ? "body (or CONTENT)" :
		    "CLASS; or say --spam or --ham");
		free(buf);
		return -1;
	}
	while (csv_next(&r, &rec) == 1) {
		if (csv_blank(&rec))
			continue;
		if (rec.error != NULL) {
			ctl_warnx("%s:%lu: %s; the rest of the file is not read",
			    path, rec.line, rec.error);
			(*skipped)++;
			rc = -1;
			break;
		}
		if (rec.n != hdr.n) {
			ctl_warnx("%s:%lu: skipped: %d field%s, the header has "
			    "%d", path, rec.line, rec.n, rec.n == 1 ? "" : "s",
			    hdr.n);
			(*skipped)++;
			continue;
		}
		cls = op;
		if (op < 0 && (cls = ctl_learn_class(rec.field[class])) < 0) {
			ctl_warnx("%s:%lu: skipped: CLASS is not 1 (spam) or 0 "
			    "(ham)", path, rec.line);
			(*skipped)++;
			continue;
		}
		comment_init(&c);
		for (i = 0; i < rec.n && i < CSV_MAX_FIELDS; i++)
			if (col[i] >= 0 && rec.len[i] > 0)
				comment_set(&c, (enum comment_field)col[i],
				    rec.field[i], rec.len[i]);
		tokenize_init(&t);
		if (tokenize_learn_comment(&t, &c, &f) != 0) {
			ctl_warnx("%s:%lu: skipped: %s%s%s", path, rec.line,
			    f.field ? f.field : "", f.field ? ": " : "",
			    f.message);
			(*skipped)++;
		} else if (ctl_learn_tokens(ctl, (enum bayes_learn)cls, NULL,
		    &t, &res) == 0)
			(*learned)++;
		tokenize_free(&t);
		comment_free(&c);
	}
	free(buf);
	return rc;
}

/* Whether path is read as a WordPress export: --wxr, or a name ending in .xml. */
static bool
ctl_learn_is_wxr(const char *path, bool wxr)
{
	size_t n = strlen(path);

	return wxr || (n > 4 && strcasecmp(path + n - 4, ".xml") == 0);
}

/* A WXR import under way. */
struct ctl_learn_wxr {
	struct ctl *ctl;
	const char *path;
	unsigned long *learned, *skipped;
};

/*
 * One comment of the export: approved ones are ham, spam is spam, the
 * rest (pending, trash, pingbacks, plugins' notes) is left alone.  An
 * e-mail or website heinzeld would refuse is left out rather than the
 * comment: WordPress kept what the reader typed there.
 */
static void
ctl_learn_wxr_comment(void *arg, const struct wxr_comment *wc)
{
	struct ctl_learn_wxr *w = arg;
	struct bayes_learn_result res;
	enum wxr_label label = wxr_label(wc);
	struct comment c;
	struct tokens t;
	struct fault f;

	if (label == WXR_LEAVE)
		return;
	if (wc->truncated) {
		ctl_warnx("%s:%lu: skipped: a field is longer than %d bytes",
		    w->path, wc->line, WXR_FIELD_MAX);
		(*w->skipped)++;
		return;
	}
	comment_init(&c);
	if (wc->len[WXR_AUTHOR] > 0)
		comment_set(&c, CF_AUTHOR, wc->field[WXR_AUTHOR], wc->len[WXR_AUTHOR]);
	if (comment_email_valid(wc->field[WXR_EMAIL]))
		comment_set(&c, CF_EMAIL, wc->field[WXR_EMAIL], wc->len[WXR_EMAIL]);
	if (comment_url_valid(wc->field[WXR_URL]))
		comment_set(&c, CF_URL, wc->field[WXR_URL], wc->len[WXR_URL]);
	comment_set(&c, CF_BODY, wc->field[WXR_CONTENT], wc->len[WXR_CONTENT]);
	tokenize_init(&t);
	if (tokenize_learn_comment(&t, &c, &f) != 0) {
		ctl_warnx("%s:%lu: skipped: %s%s%s", w->path, wc->line,
		    f.field ? f.field : "", f.field ? ": " : "", f.message);
		(*w->skipped)++;
	} else if (ctl_learn_tokens(w->ctl, label == WXR_SPAM ?
	    BAYES_LEARN_SPAM : BAYES_LEARN_HAM, NULL, &t, &res) == 0)
		(*w->learned)++;
	tokenize_free(&t);
	comment_free(&c);
}

/*
 * A WordPress export (WXR).  The whole file is checked before the first
 * comment is learned: a malformed one teaches nothing.
 */
static int
ctl_learn_wxr(struct ctl *ctl, const char *path, unsigned long *learned,
    unsigned long *skipped)
{
	struct ctl_learn_wxr w = { ctl, path, learned, skipped };
	const char *why;
	unsigned long line;
	char *buf, *cause;
	size_t len;
	int rc;

	if ((buf = ctl_read_file(path, CTL_LEARN_MAX_FILE, &len, &cause)) ==
	    NULL) {
		ctl_warnx("%s", cause);
		free(cause);
		return -1;
	}
	if ((rc = wxr_parse(buf, len, NULL, NULL, &line, &why)) != 0)
		ctl_warnx("%s:%lu: %s; nothing learned from it", path, line, why);
	else
		rc = wxr_parse(buf, len, ctl_learn_wxr_comment, &w, &line, &why);
	free(buf);
	return rc;
}

static int
ctl_learn_stats(struct ctl *ctl, bool json)
{
	struct bayes_stats st;
	struct store_cmd cmd;
	const char *cause;
	redisReply *r;

	store_cmd_init(&cmd);
	bayes_store_cmd_stats(&ctl->store, &cmd, NULL);
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	if (bayes_store_stats_reply(r, &st, &cause) != 0)
		ctl_fatalx("Redis at %s: learn --stats: %s", ctl->redis_name, cause);
	freeReplyObject(r);
	if (json) {
		json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}",
		    "spam", (json_int_t)st.nspam, "ham", (json_int_t)st.nham,
		    "tokens", (json_int_t)st.ntokens,
		    "min_spam", (json_int_t)ctl->cfg->bayes_min_spam,
		    "min_ham", (json_int_t)ctl->cfg->bayes_min_ham,
		    "ready", st.nspam >= ctl->cfg->bayes_min_spam &&
		    st.nham >= ctl->cfg->bayes_min_ham);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		return CTL_OK;
	}
	printf("spam learned   %lu (scores from %u)\n", st.nspam, ctl->cfg->bayes_min_spam);
	printf("ham learned    %lu (scores from %u)\n", st.nham, ctl->cfg->bayes_min_ham);
	printf("tokens         %lu\n", st.ntokens);
	printf("scoring        %s\n", st.nspam >= ctl->cfg->bayes_min_spam &&
	    st.nham >= ctl->cfg->bayes_min_ham ? "yes" : "not yet");
	return CTL_OK;
}

int
ctl_learn_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "spam", no_argument, NULL, 's' },
		{ "ham", no_argument, NULL, 'g' },
		{ "stats", no_argument, NULL, 't' },
		{ "csv", no_argument, NULL, 'c' },
		{ "wxr", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	enum bayes_learn op = BAYES_LEARN_HAM;
	unsigned long learned = 0, skipped = 0;
	int ch, i, frc, mode = 0, rc = CTL_OK;
	bool json = false, csv = false, wxr = false;

	while ((ch = ctl_getopt(ctl, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case 's':
		case 'g':
		case 't':
			if (mode != 0 && mode != ch)
				ctl_usage_errx(ctl, "give one of --spam, --ham or --stats");
			mode = ch;
			op = ch == 's' ? BAYES_LEARN_SPAM : BAYES_LEARN_HAM;
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			csv = true;
			break;
		case 'w':
			wxr = true;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (mode == 't') {
		if (argc != 0)
			ctl_usage_errx(ctl, "learn --stats takes no file");
		return ctl_learn_stats(ctl, json);
	}
	if (argc == 0)
		ctl_usage_errx(ctl, "name a file of comments (JSON lines, CSV "
		    "or a WordPress export), or - for stdin");
	if (csv && wxr)
		ctl_usage_errx(ctl, "give one of --csv or --wxr");
	for (i = 0; i < argc; i++) {
		if (ctl_learn_is_wxr(argv[i], wxr) && !csv) {
			if (mode != 0)
				ctl_usage_errx(ctl, "%s is a WordPress export: "
				    "each comment's status says what it is "
				    "(leave out --spam and --ham)", argv[i]);
		} else if (mode == 0 && !ctl_learn_is_csv(argv[i], csv))
			ctl_usage_errx(ctl, "say what the comments of %s are: "
			    "--spam or --ham (only a CSV file can say it in a "
			    "CLASS column, a WordPress export by the status)",
			    argv[i]);
	}
	for (; argc > 0; argc--, argv++) {
		if (ctl_learn_is_wxr(argv[0], wxr) && !csv)
			frc = ctl_learn_wxr(ctl, argv[0], &learned, &skipped);
		else if (ctl_learn_is_csv(argv[0], csv))
			frc = ctl_learn_csv(ctl, argv[0], mode == 0 ? -1 :
			    (int)op, &learned, &skipped);
		else
			frc = ctl_learn_file(ctl, argv[0], op, &learned, &skipped);
		if (frc != 0)
			rc = CTL_FAIL;
	}
	if (json) {
		json_t *o = json_pack("{s:I, s:I}", "learned", (json_int_t)learned,
		    "skipped", (json_int_t)skipped);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else
		printf("learned %lu comment%s as %s, skipped %lu\n", learned,
		    learned == 1 ? "" : "s", mode == 0 ? "labelled" :
		    op == BAYES_LEARN_SPAM ? "spam" : "ham", skipped);
	return skipped > 0 && rc == CTL_OK ? CTL_FAIL : rc;
}
