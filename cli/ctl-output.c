/*
 * Output for people (aligned columns, ages, one-line excerpts, colors on a
 * terminal) and for scripts (JSON).  Text from comments is outside input:
 * control characters never reach the terminal.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "clock.h"
#include "config.h"
#include "ctl.h"
#include "score.h"
#include "utf8.h"
#include "xmalloc.h"

static const char *const ctl_colors[] = {
	"\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[33m", "\033[35m",
	"\033[36m", "\033[0m"
};

const char *
ctl_color(const struct ctl *ctl, enum ctl_color c)
{
	return ctl->color ? ctl_colors[c] : "";
}

const char *
ctl_status_color(const struct ctl *ctl, const char *status)
{
	if (status == NULL)
		return "";
	if (strcmp(status, "pending") == 0)
		return ctl_color(ctl, CTL_YELLOW);
	if (strcmp(status, "approved") == 0)
		return ctl_color(ctl, CTL_GREEN);
	if (strcmp(status, "spam") == 0)
		return ctl_color(ctl, CTL_RED);
	return ctl_color(ctl, CTL_MAGENTA);
}

const char *
ctl_score_color(const struct ctl *ctl, double score)
{
	if (score >= ctl->cfg->reject_score)
		return ctl_color(ctl, CTL_RED);
	if (score >= ctl->cfg->hold_score)
		return ctl_color(ctl, CTL_YELLOW);
	return "";
}

void
ctl_output_age(uint64_t ms, char *buf, size_t size)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, size, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, size, "%" PRIu64 "m", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%" PRIu64 "h", s / 3600);
	else
		snprintf(buf, size, "%" PRIu64 "d", s / 86400);
}

/*
 * What never reaches the terminal as itself: control characters (C0, DEL,
 * C1) and the bidi controls, which would make text read other than it is.
 */
static bool
ctl_output_control(unsigned int cp)
{
	return utf8_is_control(cp) || utf8_is_bidi_control(cp);
}

static size_t
ctl_output_cp_width(unsigned int cp)
{
	int w = wcwidth((wchar_t)cp);

	return w < 0 ? 1 : (size_t)w;
}

size_t
ctl_output_width(const char *s)
{
	size_t len = strlen(s), n, w = 0;
	unsigned int cp;

	while (len > 0) {
		if ((n = utf8_decode(s, len, &cp)) == 0) {
			n = 1;
			cp = '?';
		}
		if (!ctl_output_control(cp))
			w += ctl_output_cp_width(cp);
		s += n;
		len -= n;
	}
	return w;
}

char *
ctl_output_fit(const char *s, size_t cols)
{
	size_t len = strlen(s), n, w = 0, cut = 0, off = 0;
	char *out = xmalloc(len + 4);
	unsigned int cp;
	bool space = false;

	while (len > 0) {
		if ((n = utf8_decode(s, len, &cp)) == 0) {
			n = 1;
			cp = '?';
		}
		if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') {
			space = off > 0;
		} else if (!ctl_output_control(cp)) {
			if (space) {
				out[off++] = ' ';
				w++;
				space = false;
			}
			if (cp == '?' && n == 1)
				out[off] = '?';
			else
				memcpy(out + off, s, n);
			off += cp == '?' ? 1 : n;
			w += ctl_output_cp_width(cp);
			/* The last place where the text and "…" still fit. */
			if (w + 1 <= cols)
				cut = off;
		}
		s += n;
		len -= n;
	}
	out[off] = '\0';
	if (w > cols)
		memcpy(out + cut, "\xe2\x80\xa6", 4);	/* "…" */
	return out;
}

void
ctl_output_cell(FILE *fp, const char *s, size_t cols, bool right,
    const char *color)
{
	size_t w = ctl_output_width(s), pad = w < cols ? cols - w : 0;
	const char *reset = color[0] ? "\033[0m" : "";

	if (right)
		fprintf(fp, "%*s%s%s%s", (int)pad, "", color, s, reset);
	else
		fprintf(fp, "%s%s%s%*s", color, s, reset, (int)pad, "");
}

/* Write s, control characters but \n and \t as '?', each line indented. */
static void
ctl_output_lines(FILE *fp, const char *s, const char *indent)
{
	size_t len = strlen(s), n;
	unsigned int cp;

	fputs(indent, fp);
	while (len > 0) {
		if ((n = utf8_decode(s, len, &cp)) == 0) {
			n = 1;
			cp = 0xfffd;
			fputc('?', fp);
		} else if (cp == '\n') {
			fputc('\n', fp);
			if (len > 1)
				fputs(indent, fp);
		} else if (cp == '\t' || !ctl_output_control(cp))
			fwrite(s, 1, n, fp);
		else if (cp != '\r')
			fputc('?', fp);
		s += n;
		len -= n;
	}
}

void
ctl_output_text(FILE *fp, const char *s)
{
	ctl_output_lines(fp, s, "");
}

void
ctl_output_time(uint64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S %z", &tm);
}

char *
ctl_output_iso(uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/* One "label  value" line of show; nothing when the value is absent. */
static void
ctl_output_field(struct ctl *ctl, FILE *fp, const char *label, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	fprintf(fp, "%s%-11s%s ", ctl_color(ctl, CTL_DIM), label,
	    ctl_color(ctl, CTL_RESET));
	ctl_output_text(fp, v);
	fputc('\n', fp);
}

/* "when (3m ago)" */
static void
ctl_output_when(struct ctl *ctl, FILE *fp, const char *label, const char *ms,
    const char *by)
{
	uint64_t t, now = clock_wall_ms();
	char when[64], age[16];

	if (ms == NULL || (t = strtoull(ms, NULL, 10)) == 0)
		return;
	ctl_output_time(t, when, sizeof when);
	ctl_output_age(now > t ? now - t : 0, age, sizeof age);
	fprintf(fp, "%s%-11s%s %s (%s ago)", ctl_color(ctl, CTL_DIM), label,
	    ctl_color(ctl, CTL_RESET), when, age);
	if (by != NULL && by[0] != '\0') {
		fputs(" by ", fp);
		ctl_output_text(fp, by);
	}
	fputc('\n', fp);
}

/* The rules that hit, one a line: name, points, description. */
static void
ctl_output_hits(struct ctl *ctl, FILE *fp, const char *hits)
{
	char *copy, *tok, *last, *eq, points[32];
	const char *desc;
	size_t w, namew = 0;
	int first = 1;

	if (hits == NULL || hits[0] == '\0')
		return;
	copy = xstrdup(hits);
	for (tok = strtok_r(copy, " ", &last); tok != NULL;
	    tok = strtok_r(NULL, " ", &last))
		if ((eq = strchr(tok, '=')) != NULL &&
		    (w = (size_t)(eq - tok)) > namew)
			namew = w;
	free(copy);
	copy = xstrdup(hits);
	for (tok = strtok_r(copy, " ", &last); tok != NULL;
	    tok = strtok_r(NULL, " ", &last)) {
		if ((eq = strchr(tok, '=')) == NULL)
			continue;
		*eq++ = '\0';
		snprintf(points, sizeof points, "%s%s", eq[0] == '-' ? "" : "+",
		    eq);
		fprintf(fp, "%s%-11s%s %-*s %6s", ctl_color(ctl, CTL_DIM),
		    first ? "hits" : "", ctl_color(ctl, CTL_RESET), (int)namew,
		    tok, points);
		first = 0;
		desc = ctl_rules_description(ctl, tok);
		if (desc != NULL && desc[0] != '\0') {
			fprintf(fp, "  %s", ctl_color(ctl, CTL_DIM));
			ctl_output_text(fp, desc);
			fputs(ctl_color(ctl, CTL_RESET), fp);
		}
		fputc('\n', fp);
	}
	free(copy);
}

/* The fields show lists by label, in this order. */
static const char *const ctl_output_fields[][2] = {
	{ "post", "post" }, { "post title", "post_title" },
	{ "post url", "post_url" }, { "author", "author" }, { "e-mail", "email" },
	{ "url", "url" }, { "ip", "ip" }, { "user agent", "user_agent" },
	{ "referrer", "referrer" }, { "lang", "lang" },
	{ "reply to", "parent" }, { "request id", "request_id" },
};

void
ctl_output_comment(struct ctl *ctl, const struct ctl_comment *c, FILE *fp)
{
	const char *status = ctl_comment_get(c, "status");
	const char *score = ctl_comment_get(c, "score");
	const char *hold = ctl_comment_get(c, "hold");
	const char *body = ctl_comment_get(c, "body");
	size_t i;

	fprintf(fp, "%s%s%s  %s%s%s%s\n", ctl_color(ctl, CTL_BOLD), c->id,
	    ctl_color(ctl, CTL_RESET), ctl_status_color(ctl, status),
	    status ? status : "?", ctl_color(ctl, CTL_RESET),
	    hold != NULL && strcmp(hold, "1") == 0 &&
	    status != NULL && strcmp(status, "pending") == 0 ?
	    " (held: score at or over hold_score)" : "");
	for (i = 0; i < sizeof ctl_output_fields / sizeof ctl_output_fields[0];
	    i++)
		ctl_output_field(ctl, fp, ctl_output_fields[i][0],
		    ctl_comment_get(c, ctl_output_fields[i][1]));
	ctl_output_when(ctl, fp, "written", ctl_comment_get(c, "created_at"),
	    NULL);
	ctl_output_when(ctl, fp, "moderated", ctl_comment_get(c,
	    "moderated_at"), ctl_comment_get(c, "moderated_by"));
	if (score != NULL)
		fprintf(fp, "%s%-11s%s %s%s%s\n", ctl_color(ctl, CTL_DIM),
		    "score", ctl_color(ctl, CTL_RESET),
		    ctl_score_color(ctl, strtod(score, NULL)), score,
		    ctl_color(ctl, CTL_RESET));
	ctl_output_hits(ctl, fp, ctl_comment_get(c, "hits"));
	if (body != NULL) {
		fputc('\n', fp);
		ctl_output_lines(fp, body, "    ");
		fputc('\n', fp);
	}
}

static json_t *
ctl_output_hits_json(const char *hits)
{
	json_t *a = json_array();
	char *copy, *tok, *last, *eq;

	copy = xstrdup(hits);
	for (tok = strtok_r(copy, " ", &last); tok != NULL;
	    tok = strtok_r(NULL, " ", &last)) {
		if ((eq = strchr(tok, '=')) == NULL)
			continue;
		*eq++ = '\0';
		json_array_append_new(a, json_pack("{s:s, s:f}", "rule", tok,
		    "points", strtod(eq, NULL)));
	}
	free(copy);
	return a;
}

json_t *
ctl_output_comment_json(const struct ctl_comment *c)
{
	json_t *o = json_object(), *v;
	uint64_t now = clock_wall_ms(), t;
	const char *k, *s;
	char *iso;
	size_t i;

	json_object_set_new(o, "id", json_string(c->id));
	for (i = 0; i + 1 < c->r->elements; i += 2) {
		k = c->r->element[i]->str;
		s = c->r->element[i + 1]->str;
		if (k == NULL || s == NULL || strcmp(k, "id") == 0)
			continue;
		if (strcmp(k, "score") == 0)
			v = json_real(strtod(s, NULL));
		else if (strcmp(k, "hits") == 0)
			v = ctl_output_hits_json(s);
		else if (strcmp(k, "hold") == 0)
			v = json_boolean(strcmp(s, "1") == 0);
		else if (strcmp(k, "created_at") == 0 ||
		    strcmp(k, "moderated_at") == 0) {
			t = strtoull(s, NULL, 10);
			iso = ctl_output_iso(t);
			v = json_string(iso);
			free(iso);
			if (k[0] == 'c') {
				json_object_set_new(o, "created_at_ms",
				    json_integer((json_int_t)t));
				json_object_set_new(o, "age_seconds",
				    json_integer((json_int_t)(now > t ?
				    (now - t) / 1000 : 0)));
			}
		} else
			v = json_stringn(c->r->element[i + 1]->str,
			    c->r->element[i + 1]->len);
		if (v != NULL)
			json_object_set_new(o, k, v);
	}
	return o;
}

void
ctl_output_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(v);
}
