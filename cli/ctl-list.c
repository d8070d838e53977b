/*
 * list and show: the queues as a table, one comment in full.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "xmalloc.h"

#define CTL_LIST_LIMIT 50

/* The fitted cells of one row. */
struct ctl_list_row {
	char age[16];
	const char *status;
	const char *score;
	char *post, *author, *excerpt;
};

static size_t
ctl_list_max(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* Longest value of a field over all rows, at least the header's width. */
/* The field, or the other one when it is absent ("" when both are). */
static const char *
ctl_list_get(const struct ctl_comment *c, const char *field,
    const char *other)
{
	const char *s = ctl_comment_get(c, field);

	if ((s == NULL || s[0] == '\0') && other != NULL)
		s = ctl_comment_get(c, other);
	return s != NULL ? s : "";
}

static size_t
ctl_list_field_width(struct ctl_comment **v, size_t n, const char *field,
    const char *other, const char *header)
{
	size_t i, w = strlen(header);

	for (i = 0; i < n; i++)
		w = ctl_list_max(w, ctl_output_width(ctl_list_get(v[i], field,
		    other)));
	return w;
}

/*
 * The table; STATUS only when several queues are listed, so that the
 * excerpt keeps its room on 80 columns.
 */
static void
ctl_list_table(struct ctl *ctl, struct ctl_comment **v, size_t n,
    bool status)
{
	size_t agew = 3, statusw, scorew, postw, authorw, excerptw;
	size_t fixed, avail, i, cap;
	uint64_t now = clock_wall_ms();
	struct ctl_list_row *rows = xcalloc(n, sizeof *rows);
	const char *bold = ctl_color(ctl, CTL_BOLD), *s;

	for (i = 0; i < n; i++) {
		ctl_output_age(now > v[i]->created_ms ?
		    now - v[i]->created_ms : 0, rows[i].age,
		    sizeof rows[i].age);
		agew = ctl_list_max(agew, strlen(rows[i].age));
		rows[i].status = ctl_comment_get(v[i], "status");
		rows[i].score = ctl_comment_get(v[i], "score");
		if (rows[i].status == NULL)
			rows[i].status = "?";
		if (rows[i].score == NULL)
			rows[i].score = "";
	}
	statusw = 0;
	if (status)
		statusw = ctl_list_field_width(v, n, "status", NULL, "STATUS") + 2;
	scorew = ctl_list_field_width(v, n, "score", NULL, "SCORE");

	/* ID, AGE, STATUS, SCORE are fixed; the rest share what is left. */
	fixed = STORE_ID_LEN + agew + statusw + scorew + 5 * 2;
	avail = ctl->width > fixed ? ctl->width - fixed : 0;
	cap = ctl_list_max(8, avail * 3 / 10);
	postw = ctl_list_field_width(v, n, "post_title", "post", "POST");
	authorw = ctl_list_field_width(v, n, "author", NULL, "AUTHOR");
	postw = postw < cap ? postw : cap;
	authorw = authorw < cap ? authorw : cap;
	excerptw = avail > postw + authorw + 10 ? avail - postw - authorw : 10;

	fprintf(stdout, "%s", bold);
	ctl_output_cell(stdout, "ID", STORE_ID_LEN + 2, false, "");
	ctl_output_cell(stdout, "AGE", agew, true, "");
	fputs("  ", stdout);
	if (status)
		ctl_output_cell(stdout, "STATUS", statusw, false, "");
	ctl_output_cell(stdout, "SCORE", scorew, true, "");
	fputs("  ", stdout);
	ctl_output_cell(stdout, "POST", postw + 2, false, "");
	ctl_output_cell(stdout, "AUTHOR", authorw + 2, false, "");
	fprintf(stdout, "EXCERPT%s\n", ctl_color(ctl, CTL_RESET));

	for (i = 0; i < n; i++) {
		/* The post's title when the frontend sent one. */
		rows[i].post = ctl_output_fit(ctl_list_get(v[i], "post_title",
		    "post"), postw);
		s = ctl_comment_get(v[i], "author");
		rows[i].author = ctl_output_fit(s ? s : "", authorw);
		s = ctl_comment_get(v[i], "body");
		rows[i].excerpt = ctl_output_fit(s ? s : "", excerptw);

		ctl_output_cell(stdout, v[i]->id, STORE_ID_LEN + 2, false, "");
		ctl_output_cell(stdout, rows[i].age, agew, true,
		    ctl_color(ctl, CTL_DIM));
		fputs("  ", stdout);
		if (status) {
			ctl_output_cell(stdout, rows[i].status, statusw - 2,
			    false, ctl_status_color(ctl, rows[i].status));
			fputs("  ", stdout);
		}
		ctl_output_cell(stdout, rows[i].score, scorew, true,
		    ctl_score_color(ctl, strtod(rows[i].score, NULL)));
		fputs("  ", stdout);
		ctl_output_cell(stdout, rows[i].post, postw + 2, false, "");
		ctl_output_cell(stdout, rows[i].author, authorw + 2, false, "");
		fprintf(stdout, "%s\n", rows[i].excerpt);
		free(rows[i].post);
		free(rows[i].author);
		free(rows[i].excerpt);
	}
	free(rows);
}

int
ctl_list_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "post", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_filter f;
	struct ctl_comment **v;
	json_t *a;
	size_t n, more, i;
	int ch, json = 0;

	memset(&f, 0, sizeof f);
	f.status = STORE_PENDING;
	f.limit = CTL_LIST_LIMIT;
	while ((ch = ctl_getopt(ctl, argc, argv, ":s:p:l:j", longopts)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(optarg, "all") == 0)
				f.status = -1;
			else if ((f.status = store_status_parse(optarg)) < 0)
				ctl_usage_errx(ctl, "--status %s: expected "
				    "pending, approved, spam, rejected or all",
				    optarg);
			break;
		case 'p':
			f.post = optarg;
			break;
		case 'l':
			f.limit = ctl_parse_number(ctl, "--limit", optarg,
			    1000000000);
			break;
		case 'j':
			json = 1;
			break;
		}
	}
	if (optind < argc)
		ctl_usage_errx(ctl, "unexpected argument %s", argv[optind]);
	f.newest_first = f.status != STORE_PENDING;

	v = ctl_db_select(ctl, &f, &n, &more);
	if (json) {
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, ctl_output_comment_json(v[i]));
		ctl_output_json(a);
	} else if (n == 0)
		printf("No %s comments%s%s.\n", f.status < 0 ? "" :
		    store_status_name(f.status), f.post ? " on " : "",
		    f.post ? f.post : "");
	else {
		ctl_list_table(ctl, v, n, f.status < 0);
		if (more > 0) {
			fflush(stdout);
			fprintf(stderr, "(%zu more; --limit 0 lists all)\n",
			    more);
		}
	}
	ctl_comment_free_all(v, n);
	return CTL_OK;
}

int
ctl_list_show(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_comment *c;
	int ch, json = 0;
	const char *id;

	while ((ch = ctl_getopt(ctl, argc, argv, ":j", longopts)) != -1)
		if (ch == 'j')
			json = 1;
	if (optind >= argc)
		ctl_usage_errx(ctl, "which comment? give its id");
	if (optind + 1 < argc)
		ctl_usage_errx(ctl, "one id at a time");
	id = argv[optind];
	ctl_check_id(ctl, id);
	if ((c = ctl_db_comment(ctl, id)) == NULL) {
		ctl_warnx("%s: no such comment", id);
		return CTL_FAIL;
	}
	if (json)
		ctl_output_json(ctl_output_comment_json(c));
	else
		ctl_output_comment(ctl, c, stdout);
	ctl_comment_free(c);
	return CTL_OK;
}
