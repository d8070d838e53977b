/*
 * What a notification says.  The admin's template gets the moderators'
 * fields; the author's templates get a list of their own, so that even a
 * notification holding more (or a template asking for more, which
 * template_check() refuses) cannot put them into an author's mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "log.h"
#include "mail.h"
#include "notice.h"
#include "template.h"
#include "xmalloc.h"

#define NOTICE_SUMMARY		60	/* characters of the comment in a subject */
#define NOTICE_EXCERPT		1000	/* ... in a mail's body */
#define NOTICE_RECEIPT_EXCERPT	200	/* ... in a receipt, which anyone can have sent */
#define NOTICE_WEBHOOK_EXCERPT	300	/* ... in a webhook */

const char *
notice_field(const redisReply *r, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, name) == 0)
			return r->element[i + 1]->str;
	return "";
}

/* The field, or def when absent or empty. */
static const char *
notice_or(const redisReply *r, const char *name, const char *def)
{
	const char *v = notice_field(r, name);

	return v[0] != '\0' ? v : def;
}

/* created_at (ms) as "2024-06-01 12:03 UTC", or ISO 8601 when iso. */
static void
notice_time(const char *ms, int iso, char *buf, size_t size)
{
	time_t t = (time_t)(strtoull(ms, NULL, 10) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC",
	    &tm);
}

/*
 * Where the comment is read: the post's page at its comments, "" when
 * the submission named no post_url.  Caller frees.
 */
static char *
notice_link(const redisReply *h)
{
	const char *url = notice_field(h, "post_url");
	char *out;

	if (url[0] == '\0' || strchr(url, '#') != NULL)
		return xstrdup(url);
	xasprintf(&out, "%s#comments", url);
	return out;
}

/* "NAME=3 OTHER=-1" as "NAME (+3), OTHER (-1)", "-" for none. */
static char *
notice_hits(const char *hits)
{
	char *copy = xstrdup(hits), *tok, *save, *eq, *out = NULL, *tmp;

	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(tok, '=')) != NULL)
			*eq++ = '\0';
		xasprintf(&tmp, "%s%s%s (%s%s)", out ? out : "", out ? ", " : "",
		    tok, eq != NULL && *eq != '-' ? "+" : "", eq ? eq : "?");
		free(out);
		out = tmp;
	}
	free(copy);
	return out != NULL ? out : xstrdup("-");
}

int
notice_mail(const redisReply *h, const struct config *cfg, time_t now,
    char **msg, size_t *len, char **cause, int *permanent)
{
	const char *kind = notice_field(h, "kind"), *lang = notice_field(h, "lang");
	const char *cid = notice_field(h, "comment"), *body = notice_field(h, "body");
	struct template_var vars[20];
	char created[64], *text = NULL, *subject, *mbody, *summary, *excerpt;
	char *hits = NULL, *approve = NULL, *reject = NULL, *spam = NULL;
	char *msgid, *link;
	const char *why;
	struct mail m;
	size_t nv = 0;
	int k, rv = -1;

	*permanent = 1;
	if ((k = template_kind_parse(kind)) < 0) {
		xasprintf(cause, "unknown kind of mail \"%s\"", kind);
		return -1;
	}
	if (!mail_address_valid(notice_field(h, "to"))) {
		xasprintf(cause, "not a deliverable address");
		return -1;
	}
	if (template_load(cfg->notify_templates, k, lang, &text, cause) != 0) {
		log_warnx("notify: template %s; using the built-in one", *cause);
		free(*cause);
		*cause = NULL;
		text = xstrdup(template_builtin(k, lang));
	}
	summary = template_excerpt(body, NOTICE_SUMMARY, 1);
	excerpt = template_excerpt(body, k == TEMPLATE_RECEIVED ?
	    NOTICE_RECEIPT_EXCERPT : NOTICE_EXCERPT, 0);
	notice_time(notice_field(h, "created_at"), 0, created, sizeof created);
#define VAR(a, b) do { vars[nv].name = (a); vars[nv].value = (b); nv++; } while (0)
	link = notice_link(h);
	VAR("id", cid);
	VAR("post", notice_field(h, "post"));
	VAR("title", notice_or(h, "post_title", notice_field(h, "post")));
	VAR("link", link);
	VAR("site", cfg->notify_site);
	VAR("author", notice_field(h, "author"));
	VAR("url", k == TEMPLATE_ADMIN ? notice_or(h, "url", "-") :
	    notice_field(h, "url"));
	VAR("summary", summary);
	VAR("excerpt", excerpt);
	VAR("created", created);
	if (k == TEMPLATE_ADMIN) {
		/* Only here: the author's mails never get these. */
		hits = notice_hits(notice_field(h, "hits"));
		xasprintf(&approve, "heinzelctl approve %s", cid);
		xasprintf(&reject, "heinzelctl reject %s", cid);
		xasprintf(&spam, "heinzelctl spam %s", cid);
		VAR("email", notice_field(h, "email"));
		VAR("ip", notice_or(h, "ip", "-"));
		VAR("user_agent", notice_or(h, "user_agent", "-"));
		VAR("score", notice_field(h, "score"));
		VAR("hits", hits);
		VAR("pending", notice_field(h, "pending"));
		VAR("approve", approve);
		VAR("reject", reject);
		VAR("spam", spam);
	}
#undef VAR
	if (template_render(k, text, vars, nv, &subject, &mbody, cause) != 0)
		goto out;
	msgid = mail_message_id(cid, kind, cfg->smtp_from);
	memset(&m, 0, sizeof m);
	m.from = cfg->smtp_from;
	m.to = notice_field(h, "to");
	m.subject = subject;
	m.body = mbody;
	m.message_id = msgid;
	m.date = now;
	m.comment_id = cid;
	m.kind = kind;
	if ((*msg = mail_build(&m, len, &why)) == NULL) {
		*permanent = 0;		/* [smtp] from: the configuration's fault */
		*cause = xstrdup(why);
	} else
		rv = 0;
	free(msgid);
	free(subject);
	free(mbody);
out:
	free(text);
	free(link);
	free(summary);
	free(excerpt);
	free(hits);
	free(approve);
	free(reject);
	free(spam);
	return rv;
}

/* What a moderators' chat room needs; a room is often wider than the moderators. */
char *
notice_webhook(const redisReply *h, size_t *len, char **key)
{
	const char *kind = notice_field(h, "kind"), *cid = notice_field(h, "comment");
	char created[64], *excerpt, *copy, *tok, *save, *eq, *out;
	json_t *o, *hits;

	excerpt = template_excerpt(notice_field(h, "body"),
	    NOTICE_WEBHOOK_EXCERPT, 1);
	notice_time(notice_field(h, "created_at"), 1, created, sizeof created);
	hits = json_array();
	copy = xstrdup(notice_field(h, "hits"));
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(tok, '=')) != NULL)
			*eq++ = '\0';
		json_array_append_new(hits, json_pack("{s:s, s:f}", "rule", tok,
		    "score", eq != NULL ? strtod(eq, NULL) : 0.0));
	}
	free(copy);
	xasprintf(key, "%s.%s", cid, kind);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:b, s:o, s:I, s:s, s:s}",
	    "event", kind, "id", cid, "post", notice_field(h, "post"),
	    "author", notice_field(h, "author"), "url", notice_field(h, "url"),
	    "excerpt", excerpt, "created_at", created,
	    "score", strtod(notice_field(h, "score"), NULL),
	    "hold", strcmp(notice_field(h, "hold"), "1") == 0, "hits", hits,
	    "pending", (json_int_t)strtoll(notice_field(h, "pending"), NULL, 10),
	    "approve", "", "notification", *key);
	if (o == NULL) {
		/*
		 * What Redis held is not UTF-8 text or the score is not a
		 * number: a notification nobody can send, not a reason to stop.
		 */
		free(excerpt);
		free(*key);
		*key = NULL;
		return NULL;
	}
	if (strcmp(kind, "pending") == 0) {
		copy = NULL;
		xasprintf(&copy, "heinzelctl approve %s", cid);
		json_object_set_new(o, "approve", json_string(copy));
		free(copy);
	} else
		json_object_del(o, "approve");
	json_object_set_new(o, "post_title",
	    json_string(notice_field(h, "post_title")));
	json_object_set_new(o, "post_url",
	    json_string(notice_field(h, "post_url")));
	if ((out = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: out of memory", __func__);
	*len = strlen(out);
	json_decref(o);
	free(excerpt);
	return out;
}
