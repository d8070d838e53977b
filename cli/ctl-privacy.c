/*
 * privacy export EMAIL, privacy erase EMAIL: everything heinzel holds for
 * one e-mail address, as JSON, or gone (docs/privacy.md).  Both read the
 * address's comments first, to name the keys that hold a hash of them
 * (privacy.h), then run the subject script with those names and the ids
 * seen: it acts only if the address still has exactly those comments, else
 * they are read again.  Every key the script touches is in its KEYS: it
 * names the comments, notifications and their keys it wants, and is asked
 * again with them.  So each is one atomic step however many heinzeld
 * and admins work at once.  The address goes to no log: syslog is told
 * who erased how much, Redis counts privacy_exported and privacy_erased.
 * privacy policy prints the paragraph for the blog's privacy policy.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "comment.h"
#include "config.h"
#include "ctl.h"
#include "privacy.h"
#include "xmalloc.h"

#define CTL_PRIVACY_TRIES 50	/* reads before giving up on a busy address */

/* Run the subject script once; the reply, checked for errors. */
static redisReply *
ctl_privacy_script(struct ctl *ctl, enum privacy_mode mode, const char *email,
    const struct privacy_read *p, bool run)
{
	struct store_cmd cmd;
	redisReply *r;

	store_cmd_init(&cmd);
	privacy_cmd_subject(&ctl->store, &cmd, NULL, mode, email,
	    run ? p->ids : NULL, run ? p->keys : NULL, run ? p->nkeys : 0,
	    p->need, p->nneed);
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	ctl_db_check(ctl, r, "privacy");
	return r;
}

/* Read what the address has (the reply: *counted for the question). */
static void
ctl_privacy_read(struct ctl *ctl, const char *email, struct privacy_read *p,
    size_t *comments, size_t *notes)
{
	const char *cause;
	redisReply *r;
	int i;

	/* Asked again with the keys the script names until it has them. */
	for (i = 0;; i++) {
		r = ctl_privacy_script(ctl, PRIVACY_EXPORT, email, p, false);
		if (!privacy_read_need(&ctl->store, r, p))
			break;
		freeReplyObject(r);
		if (i == CTL_PRIVACY_TRIES)
			ctl_fatalx("privacy: the address kept changing; "
			    "nothing done, try again");
	}
	if (privacy_read_parse(&ctl->store, r, ctl->cfg->flood_ipv6_prefix, p,
	    &cause) != 0)
		ctl_fatalx("Redis at %s: %s", ctl->redis_name, cause);
	if (comments != NULL) {
		*comments = r->element[1]->elements;
		*notes = r->element[2]->elements;
	}
	freeReplyObject(r);
}

/*
 * Read, then run mode with what was read until the address held still
 * between the two.  The reply of the second run.
 */
static redisReply *
ctl_privacy_do(struct ctl *ctl, enum privacy_mode mode, const char *email)
{
	struct privacy_read p;
	enum privacy_outcome o;
	const char *cause;
	redisReply *r;
	int i;

	memset(&p, 0, sizeof p);
	for (i = 0; i < CTL_PRIVACY_TRIES; i++) {
		ctl_privacy_read(ctl, email, &p, NULL, NULL);
		r = ctl_privacy_script(ctl, mode, email, &p, true);
		(void)privacy_read_need(&ctl->store, r, &p);
		if (privacy_subject_reply(r, &o, &cause) != 0)
			ctl_fatalx("Redis at %s: %s", ctl->redis_name, cause);
		if (o == PRIVACY_DONE) {
			privacy_read_free(&p);
			return r;
		}
		freeReplyObject(r);
	}
	ctl_fatalx("privacy %s: the address kept getting new comments; "
	    "nothing done, try again", mode == PRIVACY_ERASE ? "erase" :
	    "export");
}

static int
ctl_privacy_args(struct ctl *ctl, int argc, char **argv, bool *yes)
{
	static const struct option longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, json = 0;

	while ((ch = ctl_getopt(ctl, argc, argv, ":y", longopts)) != -1) {
		switch (ch) {
		case 'y':
			if (yes == NULL)
				ctl_usage_errx(ctl, "unknown option --yes");
			*yes = true;
			break;
		case 'j':
			json = 1;
			break;
		}
	}
	if (argc - optind != 1)
		ctl_usage_errx(ctl, "expected one e-mail address");
	if (!comment_email_valid(argv[optind]))
		ctl_usage_errx(ctl, "not an e-mail address");
	return json;
}

int
ctl_privacy_export(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_comment c;
	redisReply *r, *v;
	json_t *o, *a, *id;
	size_t i;

	(void)ctl_privacy_args(ctl, argc, argv, NULL);
	r = ctl_privacy_do(ctl, PRIVACY_EXPORT, argv[optind]);
	o = privacy_export_json(r);
	/* The comments as heinzelctl show --json types them. */
	a = json_array();
	v = r->element[1];
	for (i = 0; i < v->elements; i++) {
		memset(&c, 0, sizeof c);
		c.r = v->element[i];
		id = json_object_get(json_array_get(json_object_get(o,
		    "comments"), i), "id");
		if (json_is_string(id))
			snprintf(c.id, sizeof c.id, "%s", json_string_value(id));
		json_array_append_new(a, ctl_output_comment_json(&c));
	}
	json_object_set_new(o, "comments", a);
	freeReplyObject(r);
	ctl_output_json(o);
	syslog(LOG_NOTICE, "privacy export by %s", ctl->actor);
	return CTL_OK;
}

/* Ask on the terminal; without one, --yes is needed.  0 to go on. */
static int
ctl_privacy_confirm(struct ctl *ctl, const char *email)
{
	struct privacy_read p;
	size_t comments, notes;

	if (!isatty(STDIN_FILENO)) {
		ctl_warnx("privacy erase: add --yes to erase without a "
		    "terminal to ask on");
		return CTL_USAGE;
	}
	memset(&p, 0, sizeof p);
	ctl_privacy_read(ctl, email, &p, &comments, &notes);
	privacy_read_free(&p);
	if (!ctl_ask("Erase %zu comment%s, %zu notification%s and every "
	    "other record of this address for good?", comments,
	    comments == 1 ? "" : "s", notes, notes == 1 ? "" : "s")) {
		ctl_warnx("privacy erase: nothing done");
		return CTL_FAIL;
	}
	return 0;
}

int
ctl_privacy_erase(struct ctl *ctl, int argc, char **argv)
{
	const char *email;
	json_int_t n[4];
	bool yes = false;
	redisReply *r;
	json_t *o;
	int json, rc;

	json = ctl_privacy_args(ctl, argc, argv, &yes);
	email = argv[optind];
	if (!yes && (rc = ctl_privacy_confirm(ctl, email)) != 0)
		return rc;
	r = ctl_privacy_do(ctl, PRIVACY_ERASE, email);
	o = privacy_erased_json(r);
	freeReplyObject(r);
	if (o == NULL || json_unpack(o, "{s:I, s:I, s:I, s:I}", "comments",
	    &n[0], "notifications", &n[1], "known_author", &n[2],
	    "hashed_keys", &n[3]) != 0)
		ctl_fatalx("Redis at %s: unexpected reply to the privacy script",
		    ctl->redis_name);
	syslog(LOG_NOTICE, "privacy erase by %s: %lld comments, %lld "
	    "notifications, %lld known-author entries, %lld hashed keys",
	    ctl->actor, (long long)n[0], (long long)n[1], (long long)n[2],
	    (long long)n[3]);
	if (json) {
		ctl_output_json(o);
		return CTL_OK;
	}
	json_decref(o);
	printf("Erased %lld comment%s, %lld notification%s, %lld "
	    "known-author entr%s and %lld hashed key%s of that address.\n",
	    (long long)n[0], n[0] == 1 ? "" : "s", (long long)n[1],
	    n[1] == 1 ? "" : "s", (long long)n[2], n[2] == 1 ? "y" : "ies",
	    (long long)n[3], n[3] == 1 ? "" : "s");
	return CTL_OK;
}

int
ctl_privacy_policy(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lang", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	bool de = strcmp(ctl->cfg->notify_lang, "en") != 0;
	char *text;

	while (ctl_getopt(ctl, argc, argv, ":", longopts) != -1) {
		if (strcmp(optarg, "de") != 0 && strcmp(optarg, "en") != 0)
			ctl_usage_errx(ctl, "--lang %s: expected de or en", optarg);
		de = strcmp(optarg, "de") == 0;
	}
	if (argc - optind != 0)
		ctl_usage_errx(ctl, "unexpected argument %s", argv[optind]);
	text = privacy_policy(ctl->cfg, de);
	printf("%s\n", text);
	free(text);
	return CTL_OK;
}
