/*
 * approve, reject, spam, delete (one id, several, or --all with filters)
 * and purge.  Each change of one comment is one transition script run, a
 * compare-and-set on the states the admin meant to act on: of two admins
 * deciding on the same comment at once exactly one wins, and the other is
 * told who was faster.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "ctl.h"
#include "xmalloc.h"

#define S(x) (1U << (x))
#define CTL_MODERATE_NVERBS \
	(sizeof ctl_moderate_verbs / sizeof ctl_moderate_verbs[0])
#define CTL_MODERATE_RECENT_MS 60000	/* a conflict this fresh was a race */
#define CTL_PURGE_BATCH 1000
#define CTL_PURGE_TRIES 10	/* asks for one batch whose comments keep changing */

struct ctl_moderate_verb {
	const char *name;
	enum store_action action;
	const char *done;	/* "approved" */
	const char *ask;	/* "Approve" */
	const char *sum_head;	/* "Approved" 12 comments */
	const char *sum_tail;	/* 12 comments " to spam" */
	unsigned int from;	/* the states it acts on */
	unsigned int force;	/* more with --force */
};

/*
 * Approving or rejecting a comment someone already approved or rejected is
 * a conflict, not a second decision: that keeps a race of approve and
 * reject to one winner.  Rescues from spam and unpublishing stay easy.
 */
static const struct ctl_moderate_verb ctl_moderate_verbs[] = {
	{ "approve", ACTION_APPROVE, "approved", "Approve", "Approved", "",
	  S(STORE_PENDING) | S(STORE_SPAM), S(STORE_REJECTED) },
	{ "reject", ACTION_REJECT, "rejected", "Reject", "Rejected", "",
	  S(STORE_PENDING) | S(STORE_SPAM), 0 },
	{ "spam", ACTION_SPAM, "moved to spam", "Move to spam",
	  "Moved", " to spam",
	  S(STORE_PENDING) | S(STORE_APPROVED), S(STORE_REJECTED) },
	{ "delete", ACTION_DELETE, "deleted", "Delete", "Deleted", "",
	  S(STORE_PENDING) | S(STORE_APPROVED) | S(STORE_SPAM) |
	  S(STORE_REJECTED), 0 },
	{ "unpublish", ACTION_UNPUBLISH, "unpublished", "Unpublish",
	  "Unpublished", "", S(STORE_APPROVED), 0 },
};

static const struct ctl_moderate_verb *
ctl_moderate_verb(enum store_action a)
{
	size_t i;

	for (i = 0; i < CTL_MODERATE_NVERBS; i++)
		if (ctl_moderate_verbs[i].action == a)
			return &ctl_moderate_verbs[i];
	return &ctl_moderate_verbs[0];
}

static json_t *
ctl_moderate_state(int s)
{
	return s < 0 ? json_null() : json_string(store_status_name(s));
}

/* "already approved (someone else was faster)" and the like. */
static void
ctl_moderate_conflict(struct ctl *ctl, const char *id,
    const struct ctl_moderate_verb *v, unsigned int from_mask,
    const struct store_transition_result *res, char *msg, size_t size)
{
	const char *state = "moved";
	uint64_t now = clock_wall_ms();
	char age[16];
	int n;

	if (res->from >= 0)
		state = store_status_name(res->from);
	if (res->at_ms != 0 && now < res->at_ms + CTL_MODERATE_RECENT_MS &&
	    strcmp(res->by, ctl->actor) != 0) {
		snprintf(msg, size, "%s: already %s (someone else was faster)",
		    id, state);
		return;
	}
	if (res->by[0] != '\0' && res->at_ms != 0) {
		ctl_output_age(now > res->at_ms ? now - res->at_ms : 0, age,
		    sizeof age);
		n = snprintf(msg, size, "%s: already %s (by %s, %s ago)", id,
		    state, res->by, age);
	} else
		n = snprintf(msg, size, "%s: already %s", id, state);
	if (n > 0 && (size_t)n < size && res->from >= 0 &&
	    (v->force & S(res->from)) && !(from_mask & S(res->from)))
		snprintf(msg + n, size - (size_t)n, "; --force %s it anyway",
		    v->action == ACTION_SPAM ? "moves" : "approves");
	else if (n > 0 && (size_t)n < size && res->from == STORE_APPROVED &&
	    v->action == ACTION_REJECT)
		snprintf(msg + n, size - (size_t)n, "; 'heinzelctl unpublish "
		    "%s' takes it back", id);
}

/* Reads and changes before a comment that keeps changing is given up. */
#define CTL_MODERATE_TRIES 10

bool
ctl_moderate_one(struct ctl *ctl, const char *id, enum store_action a,
    unsigned int from_mask, bool quiet, json_t *results)
{
	const struct ctl_moderate_verb *v = ctl_moderate_verb(a);
	struct store_transition_result res;
	struct store_thresholds th;
	struct store_cmd cmd;
	const char *cause, *error = NULL;
	char msg[512];
	redisReply *r, *seen;
	json_t *to;
	int tries;

	th.hold_score = ctl->cfg->hold_score;
	th.reject_score = ctl->cfg->reject_score;
	/* Read what names the keys, then change; again if it changed between. */
	for (tries = 0;; tries++) {
		store_cmd_init(&cmd);
		store_cmd_transition_read(&ctl->store, &cmd, id);
		seen = ctl_db_command(ctl, &cmd);
		store_cmd_free(&cmd);
		if (seen->type != REDIS_REPLY_ARRAY)
			ctl_fatalx("Redis at %s: %s %s: %s", ctl->redis_name,
			    v->name, id, seen->type == REDIS_REPLY_ERROR ?
			    seen->str : "unexpected reply");
		store_cmd_init(&cmd);
		store_cmd_transition_from(&ctl->store, &cmd, NULL, id, seen, a,
		    from_mask, &th, ctl->actor, clock_wall_ms());
		freeReplyObject(seen);
		r = ctl_db_command(ctl, &cmd);
		store_cmd_free(&cmd);
		if (store_transition_reply(r, &res, &cause) != 0)
			ctl_fatalx("Redis at %s: %s %s: %s", ctl->redis_name,
			    v->name, id, cause);
		if (res.outcome != TRANSITION_RETRY)
			break;
		freeReplyObject(r);
		if (tries == CTL_MODERATE_TRIES)
			ctl_fatalx("%s %s: the comment kept changing", v->name,
			    id);
	}

	switch (res.outcome) {
	case TRANSITION_DONE:
		snprintf(msg, sizeof msg, "%s: %s (was %s)", id, v->done,
		    res.from >= 0 ? store_status_name(res.from) : "?");
		if (res.to >= 0)
			ctl_learn_comment(ctl, id, res.to);
		if (results == NULL && !quiet)
			printf("%s\n", msg);
		break;
	case TRANSITION_NOT_FOUND:
		error = "not_found";
		snprintf(msg, sizeof msg, "%s: no such comment", id);
		break;
	case TRANSITION_RETRY:		/* not after the loop above */
	case TRANSITION_CONFLICT:
		error = "conflict";
		ctl_moderate_conflict(ctl, id, v, from_mask, &res, msg,
		    sizeof msg);
		break;
	}
	if (error != NULL && !quiet)
		ctl_warnx("%s", msg);
	if (results != NULL) {
		if (res.outcome != TRANSITION_DONE)
			to = json_null();
		else if (res.to < 0)
			to = json_string("deleted");
		else
			to = ctl_moderate_state(res.to);
		json_array_append_new(results, json_pack("{s:s, s:b, s:o, "
		    "s:o, s:o, s:s}", "id", id, "ok", error == NULL,
		    "from", ctl_moderate_state(res.from), "to", to,
		    "error", error ? json_string(error) : json_null(),
		    "message", msg));
	}
	freeReplyObject(r);
	return error == NULL;
}

/* Ask on the terminal; without one, --yes is needed.  0 to go on. */
static int
ctl_moderate_confirm(const struct ctl_moderate_verb *v, size_t n, int status)
{
	if (!isatty(STDIN_FILENO)) {
		ctl_warnx("%s: %zu %s comment%s match; add --yes to act on "
		    "them without a terminal to ask on", v->name, n,
		    store_status_name(status), n == 1 ? "" : "s");
		return CTL_USAGE;
	}
	if (!ctl_ask("%s %zu %s comment%s?", v->ask, n,
	    store_status_name(status), n == 1 ? "" : "s")) {
		ctl_warnx("%s: nothing done", v->name);
		return CTL_FAIL;
	}
	return 0;
}

int
ctl_moderate_exec(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "status", required_argument, NULL, 's' },
		{ "post", required_argument, NULL, 'p' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "rule", required_argument, NULL, 'r' },
		{ "ip", required_argument, NULL, 'i' },
		{ "yes", no_argument, NULL, 'y' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const struct ctl_moderate_verb *v = NULL;
	struct ctl_filter f;
	struct ctl_comment **sel;
	json_t *results = NULL, *a;
	size_t i, n, more, ok = 0, failed = 0;
	int ch, all = 0, yes = 0, dry = 0, force = 0, filters = 0, rc;
	unsigned int mask;
	char of[32];

	for (i = 0; i < CTL_MODERATE_NVERBS; i++)
		if (strcmp(argv[0], ctl_moderate_verbs[i].name) == 0)
			v = &ctl_moderate_verbs[i];
	memset(&f, 0, sizeof f);
	f.status = v->action == ACTION_UNPUBLISH ? STORE_APPROVED : STORE_PENDING;
	while ((ch = ctl_getopt(ctl, argc, argv, ":yn", longopts)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 's':
			if ((f.status = store_status_parse(optarg)) < 0)
				ctl_usage_errx(ctl, "--status %s: expected "
				    "pending, approved, spam or rejected",
				    optarg);
			filters++;
			break;
		case 'p':
			f.post = optarg;
			filters++;
			break;
		case 'o':
			f.older_than_ms = ctl_parse_duration(ctl,
			    "--older-than", optarg);
			filters++;
			break;
		case 'r':
			f.rule = optarg;
			filters++;
			break;
		case 'i':
			f.ip = optarg;
			filters++;
			break;
		case 'y':
			yes = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'j':
			results = json_array();
			break;
		}
	}
	mask = v->from | (force ? v->force : 0);
	if (!all && optind >= argc)
		ctl_usage_errx(ctl, "which comments? give their ids or --all");
	if (all && optind < argc)
		ctl_usage_errx(ctl, "give ids or --all, not both");
	if (!all && (filters > 0 || dry))
		ctl_usage_errx(ctl, "--status, --post, --older-than, --rule, "
		    "--ip and --dry-run go with --all");
	for (i = (size_t)optind; i < (size_t)argc; i++)
		ctl_check_id(ctl, argv[i]);

	if (!all) {
		for (i = (size_t)optind; i < (size_t)argc; i++) {
			if (ctl_moderate_one(ctl, argv[i], v->action, mask,
			    false, results))
				ok++;
			else
				failed++;
		}
		goto done;
	}

	if (!(mask & S(f.status)))
		ctl_usage_errx(ctl, "%s does not act on %s comments%s", v->name,
		    store_status_name(f.status),
		    (v->force & S(f.status)) ? " without --force" : "");
	sel = ctl_db_select(ctl, &f, &n, &more);
	if (dry) {
		a = json_array();
		for (i = 0; i < n; i++) {
			if (results != NULL)
				json_array_append_new(a,
				    ctl_output_comment_json(sel[i]));
			else
				printf("%s\n", sel[i]->id);
		}
		if (results != NULL) {
			ctl_output_json(a);
			json_decref(results);
		} else {
			json_decref(a);
			printf("%zu %s comment%s would be %s.\n", n,
			    store_status_name(f.status), n == 1 ? "" : "s",
			    v->done);
		}
		ctl_comment_free_all(sel, n);
		return CTL_OK;
	}
	if (n == 0) {
		if (results == NULL)
			printf("No %s comments match.\n",
			    store_status_name(f.status));
		ctl_comment_free_all(sel, n);
		goto done;
	}
	if (!yes && (rc = ctl_moderate_confirm(v, n, f.status)) != 0) {
		ctl_comment_free_all(sel, n);
		json_decref(results);
		return rc;
	}
	for (i = 0; i < n; i++) {
		/* Only from the state it was selected in. */
		if (ctl_moderate_one(ctl, sel[i]->id, v->action, S(f.status),
		    false, results))
			ok++;
		else
			failed++;
	}
	ctl_comment_free_all(sel, n);
	if (results == NULL) {
		snprintf(of, sizeof of, " of %zu", ok + failed);
		printf("%s %zu%s comment%s%s.", v->sum_head, ok,
		    failed ? of : "", ok + failed == 1 ? "" : "s", v->sum_tail);
		if (failed)
			printf(" %zu failed.", failed);
		printf("\n");
	}

done:
	if (results != NULL)
		ctl_output_json(json_pack("{s:o}", "results", results));
	return failed ? CTL_FAIL : CTL_OK;
}

int
ctl_moderate_purge(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long days = ctl->cfg->spam_keep_days;
	bool given = false;
	struct store_cmd cmd;
	long long total = 0, n;
	const char *cause;
	uint64_t before, now = clock_wall_ms();
	redisReply *r, *need;
	int ch, json = 0, tries;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (ch == 'd') {
			days = ctl_parse_number(ctl, "--days", optarg, 100000);
			given = true;
		}
		else if (ch == 'j')
			json = 1;
	}
	if (optind < argc)
		ctl_usage_errx(ctl, "unexpected argument %s", argv[optind]);
	if (!given && days == 0) {
		/* spam_keep_days = 0 keeps spam until someone deletes it. */
		if (json)
			ctl_output_json(json_pack("{s:i, s:n}", "purged", 0,
			    "days"));
		else
			printf("Nothing purged: spam_keep_days = 0 keeps spam; "
			    "--days N purges older than N days.\n");
		return CTL_OK;
	}
	before = now - (uint64_t)days * 86400 * 1000;
	if (days == 0)
		before = now + 1;	/* everything, this very moment too */
	do {
		/* Asked again with the keys it names until it has them all. */
		for (need = NULL, tries = 0;; tries++) {
			store_cmd_init(&cmd);
			store_cmd_purge(&ctl->store, &cmd, NULL, before,
			    CTL_PURGE_BATCH, need);
			r = ctl_db_command(ctl, &cmd);
			store_cmd_free(&cmd);
			if (need != NULL)
				freeReplyObject(need);
			if (!store_need_reply(&ctl->store, r))
				break;
			if (tries == CTL_PURGE_TRIES)
				ctl_fatalx("purge: the spam comments kept "
				    "changing");
			need = r;
		}
		if (store_purge_reply(r, &n, &cause) != 0)
			ctl_fatalx("Redis at %s: purge: %s", ctl->redis_name,
			    cause);
		freeReplyObject(r);
		total += n;
	} while (n == CTL_PURGE_BATCH);

	if (json)
		ctl_output_json(json_pack("{s:I, s:I}", "purged",
		    (json_int_t)total, "days", (json_int_t)days));
	else
		printf("Purged %lld spam comment%s older than %lu day%s.\n",
		    total, total == 1 ? "" : "s", days, days == 1 ? "" : "s");
	return CTL_OK;
}
