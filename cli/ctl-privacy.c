/*
 * privacy export EMAIL, privacy erase EMAIL: everything heinzel holds for
 * one e-mail address, as JSON, or gone (docs/privacy.md).  Both read the
 * address's comments first, to name the keys that hold a hash of them
 * (privacy.h), then run the subject script with those names and the ids
 * seen: it acts only if the address still has exactly those comments, else
 * they are read again.  So each is one atomic step however many heinzeld
 * and admins work at once.  The address goes to no log: syslog is told
 * who erased how much, Redis counts privacy_exported and privacy_erased.
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

/* What the address has: the reply of the subject script, and its keys. */
struct ctl_privacy {
	redisReply *r;		/* {"export", comments, notes, known, keys} */
	char **keys;
	size_t nkeys;
	char *ids;		/* the comment ids, space-separated */
};

static void
ctl_privacy_clear(struct ctl_privacy *p)
{
	size_t i;

	if (p->r != NULL)
		freeReplyObject(p->r);
	for (i = 0; i < p->nkeys; i++)
		free(p->keys[i]);
	free(p->keys);
	free(p->ids);
	memset(p, 0, sizeof *p);
}

/* The value of field in an HGETALL array, or NULL. */
static const char *
ctl_privacy_field(const redisReply *h, const char *field)
{
	size_t i;

	for (i = 0; i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(h->element[i]->str, field) == 0)
			return h->element[i + 1]->str;
	return NULL;
}

static bool
ctl_privacy_shape(const redisReply *r)
{
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return false;
	for (i = 1; i < 5; i++)
		if (r->element[i]->type != REDIS_REPLY_ARRAY &&
		    r->element[i]->type != REDIS_REPLY_INTEGER)
			return false;
	return true;
}

/* Run the subject script once; the reply, checked for errors. */
static redisReply *
ctl_privacy_script(struct ctl *ctl, enum privacy_mode mode, const char *email,
    const char *ids, char *const *keys, size_t nkeys)
{
	struct store_cmd cmd;
	redisReply *r;

	store_cmd_init(&cmd);
	privacy_cmd_subject(&ctl->store, &cmd, NULL, mode, email, ids, keys,
	    nkeys);
	r = ctl_db_command(ctl, &cmd);
	store_cmd_free(&cmd);
	ctl_db_check(ctl, r, "privacy");
	return r;
}

/* Read what the address has and the names of its hashed keys. */
static void
ctl_privacy_read(struct ctl *ctl, const char *email, struct ctl_privacy *p)
{
	const redisReply *comments, *c;
	const char *id;
	size_t i, len = 1;

	ctl_privacy_clear(p);
	p->r = ctl_privacy_script(ctl, PRIVACY_EXPORT, email, NULL, NULL, 0);
	if (!ctl_privacy_shape(p->r) || strcmp(p->r->element[0]->str,
	    "export") != 0 || p->r->element[1]->type != REDIS_REPLY_ARRAY)
		ctl_fatalx("Redis at %s: unexpected reply to the privacy "
		    "script", ctl->redis_name);
	comments = p->r->element[1];
	for (i = 0; i < comments->elements; i++)
		len += STORE_ID_LEN + 1;
	p->ids = xcalloc(1, len);
	for (i = 0; i < comments->elements; i++) {
		c = comments->element[i];
		privacy_subject_keys(&ctl->store, c,
		    ctl->cfg->flood_ipv6_prefix, &p->keys, &p->nkeys);
		if ((id = ctl_privacy_field(c, "id")) == NULL ||
		    !store_id_valid(id))
			continue;
		if (p->ids[0] != '\0')
			strcat(p->ids, " ");
		strcat(p->ids, id);
	}
}

/*
 * Read, then run mode with what was read until the address held still
 * between the two.  The reply of the second run; p holds the read.
 */
static redisReply *
ctl_privacy_do(struct ctl *ctl, enum privacy_mode mode, const char *email,
    struct ctl_privacy *p)
{
	redisReply *r;
	int i;

	for (i = 0; i < CTL_PRIVACY_TRIES; i++) {
		ctl_privacy_read(ctl, email, p);
		r = ctl_privacy_script(ctl, mode, email, p->ids, p->keys,
		    p->nkeys);
		if (ctl_privacy_shape(r))
			return r;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 1)
			ctl_fatalx("Redis at %s: unexpected reply to the privacy "
			    "script", ctl->redis_name);
		freeReplyObject(r);	/* "changed": read again */
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

/* A notification's fields, its id first. */
static json_t *
ctl_privacy_note_json(const redisReply *n)
{
	const redisReply *h;
	json_t *o;
	size_t i;

	o = json_object();
	if (n->type != REDIS_REPLY_ARRAY || n->elements != 2 ||
	    n->element[0]->type != REDIS_REPLY_STRING)
		return o;
	json_object_set_new(o, "id", json_string(n->element[0]->str));
	h = n->element[1];
	for (i = 0; i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING)
			json_object_set_new(o, h->element[i]->str,
			    json_stringn(h->element[i + 1]->str,
			    h->element[i + 1]->len));
	return o;
}

/* {key, value, ttl_ms}: what the key is, for a reader. */
static json_t *
ctl_privacy_key_json(const redisReply *k)
{
	const char *name, *kind = "other";

	if (k->type != REDIS_REPLY_ARRAY || k->elements != 3 ||
	    k->element[0]->type != REDIS_REPLY_STRING)
		return json_null();
	name = k->element[0]->str;
	if (strstr(name, ":dup:") != NULL)
		kind = "duplicate_marker";
	else if (strstr(name, ":flood:email:") != NULL)
		kind = "flood_counter_email";
	else if (strstr(name, ":flood:ip:") != NULL)
		kind = "flood_counter_ip";
	else if (strstr(name, ":receipt:") != NULL)
		kind = "receipt_marker";
	return json_pack("{s:s, s:s, s:s?, s:I}", "key", name, "kind", kind,
	    "value", k->element[1]->type == REDIS_REPLY_STRING ?
	    k->element[1]->str : NULL, "expires_in_seconds",
	    (json_int_t)(k->element[2]->type == REDIS_REPLY_INTEGER &&
	    k->element[2]->integer > 0 ? (k->element[2]->integer + 999) / 1000 :
	    -1));
}

int
ctl_privacy_export(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_privacy p;
	struct ctl_comment c;
	const redisReply *v;
	const char *id;
	redisReply *r;
	json_t *o, *a;
	size_t i;

	(void)ctl_privacy_args(ctl, argc, argv, NULL);
	memset(&p, 0, sizeof p);
	r = ctl_privacy_do(ctl, PRIVACY_EXPORT, argv[optind], &p);
	o = json_object();
	a = json_array();
	v = r->element[1];
	for (i = 0; v->type == REDIS_REPLY_ARRAY && i < v->elements; i++) {
		memset(&c, 0, sizeof c);
		c.r = v->element[i];
		if ((id = ctl_privacy_field(c.r, "id")) != NULL)
			snprintf(c.id, sizeof c.id, "%s", id);
		json_array_append_new(a, ctl_output_comment_json(&c));
	}
	json_object_set_new(o, "comments", a);
	a = json_array();
	v = r->element[2];
	for (i = 0; v->type == REDIS_REPLY_ARRAY && i < v->elements; i++)
		json_array_append_new(a, ctl_privacy_note_json(v->element[i]));
	json_object_set_new(o, "notifications", a);
	a = json_array();
	v = r->element[3];
	for (i = 0; v->type == REDIS_REPLY_ARRAY && i < v->elements; i++)
		if (v->element[i]->type == REDIS_REPLY_STRING)
			json_array_append_new(a,
			    json_string(v->element[i]->str));
	json_object_set_new(o, "known_author", a);
	a = json_array();
	v = r->element[4];
	for (i = 0; v->type == REDIS_REPLY_ARRAY && i < v->elements; i++)
		json_array_append_new(a, ctl_privacy_key_json(v->element[i]));
	json_object_set_new(o, "hashed_keys", a);
	freeReplyObject(r);
	ctl_privacy_clear(&p);
	ctl_output_json(o);
	syslog(LOG_NOTICE, "privacy export by %s", ctl->actor);
	return CTL_OK;
}

/* Ask on the terminal; without one, --yes is needed.  0 to go on. */
static int
ctl_privacy_confirm(const struct ctl_privacy *p)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int yes;

	if (!isatty(STDIN_FILENO)) {
		ctl_warnx("privacy erase: add --yes to erase without a "
		    "terminal to ask on");
		return CTL_USAGE;
	}
	fflush(stdout);
	fprintf(stderr, "Erase %zu comment%s, %zu notification%s and every "
	    "other record of this address for good? [y/N] ",
	    p->r->element[1]->elements, p->r->element[1]->elements == 1 ?
	    "" : "s", p->r->element[2]->elements,
	    p->r->element[2]->elements == 1 ? "" : "s");
	len = getline(&line, &cap, stdin);
	yes = len > 0 && (strcmp(line, "y\n") == 0 ||
	    strcmp(line, "Y\n") == 0 || strcmp(line, "yes\n") == 0);
	free(line);
	if (!yes) {
		ctl_warnx("privacy erase: nothing done");
		return CTL_FAIL;
	}
	return 0;
}

int
ctl_privacy_erase(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_privacy p;
	const char *email;
	long long n[4];
	bool yes = false;
	redisReply *r;
	int json, rc, i;

	json = ctl_privacy_args(ctl, argc, argv, &yes);
	email = argv[optind];
	memset(&p, 0, sizeof p);
	if (!yes) {
		ctl_privacy_read(ctl, email, &p);
		if ((rc = ctl_privacy_confirm(&p)) != 0) {
			ctl_privacy_clear(&p);
			return rc;
		}
	}
	r = ctl_privacy_do(ctl, PRIVACY_ERASE, email, &p);
	for (i = 0; i < 4; i++)
		n[i] = r->element[i + 1]->type == REDIS_REPLY_INTEGER ?
		    r->element[i + 1]->integer : 0;
	freeReplyObject(r);
	ctl_privacy_clear(&p);
	syslog(LOG_NOTICE, "privacy erase by %s: %lld comments, %lld "
	    "notifications, %lld known-author entries, %lld hashed keys",
	    ctl->actor, n[0], n[1], n[2], n[3]);
	if (json) {
		ctl_output_json(json_pack("{s:I, s:I, s:I, s:I}",
		    "comments", (json_int_t)n[0], "notifications",
		    (json_int_t)n[1], "known_author", (json_int_t)n[2],
		    "hashed_keys", (json_int_t)n[3]));
		return CTL_OK;
	}
	printf("Erased %lld comment%s, %lld notification%s, %lld "
	    "known-author entr%s and %lld hashed key%s of that address.\n",
	    n[0], n[0] == 1 ? "" : "s", n[1], n[1] == 1 ? "" : "s",
	    n[2], n[2] == 1 ? "y" : "ies", n[3], n[3] == 1 ? "" : "s");
	return CTL_OK;
}

/* A duration in words, dative in German ("nach 7 Tagen"). */
static void
ctl_privacy_words(unsigned int secs, bool de, char *buf, size_t size)
{
	static const struct {
		unsigned int secs;
		const char *de1, *de, *en1, *en;
	} units[] = {
		{ 86400, "Tag", "Tagen", "day", "days" },
		{ 3600, "Stunde", "Stunden", "hour", "hours" },
		{ 60, "Minute", "Minuten", "minute", "minutes" },
		{ 1, "Sekunde", "Sekunden", "second", "seconds" },
	};
	unsigned int n;
	size_t i;

	for (i = 0; i < 3 && secs % units[i].secs != 0; i++)
		;
	n = secs / units[i].secs;
	snprintf(buf, size, "%u %s", n, de ? (n == 1 ? units[i].de1 :
	    units[i].de) : (n == 1 ? units[i].en1 : units[i].en));
}

/*
 * The paragraphs of docs/privacy.md, with this configuration's keep
 * times: a blogger pastes them into the privacy policy.
 */
int
ctl_privacy_policy(struct ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lang", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	const struct config *cfg = ctl->cfg;
	char ip[64], mail[64], spam[64], spamtext[160];
	bool de = strcmp(cfg->notify_lang, "en") != 0;
	int ch;

	while ((ch = ctl_getopt(ctl, argc, argv, ":", longopts)) != -1) {
		if (strcmp(optarg, "de") != 0 && strcmp(optarg, "en") != 0)
			ctl_usage_errx(ctl, "--lang %s: expected de or en", optarg);
		de = strcmp(optarg, "de") == 0;
	}
	if (argc - optind != 0)
		ctl_usage_errx(ctl, "unexpected argument %s", argv[optind]);
	ctl_privacy_words(cfg->privacy_ip_keep, de, ip, sizeof ip);
	ctl_privacy_words(cfg->privacy_refused_email_keep, de, mail,
	    sizeof mail);
	spamtext[0] = '\0';
	if (cfg->spam_keep_days > 0) {
		ctl_privacy_words(cfg->spam_keep_days * 86400U, de, spam,
		    sizeof spam);
		snprintf(spamtext, sizeof spamtext, de ? ", Spam nach %s ganz" :
		    ", and spam entirely after %s", spam);
	}
	if (de)
		printf("Kommentare. Wenn Sie einen Kommentar schreiben, speichern "
		    "wir Ihren Namen, Ihre E-Mail-Adresse, Ihre Website (falls "
		    "angegeben), den Text, die IP-Adresse, den User-Agent Ihres "
		    "Browsers und die Seite, von der Sie kamen. Wir prüfen jeden "
		    "Kommentar mit dem Spamfilter heinzel, der auf unserem "
		    "eigenen Server läuft; dabei werden keine Daten an Dritte "
		    "übermittelt. Rechtsgrundlage ist unser berechtigtes "
		    "Interesse an einem Kommentarbereich ohne Spam und Missbrauch "
		    "(Art. 6 Abs. 1 lit. f DSGVO). IP-Adresse, User-Agent und "
		    "Herkunftsseite löschen wir nach %s. Die E-Mail-Adresse wird "
		    "nicht veröffentlicht; bei abgelehnten oder als Spam "
		    "erkannten Kommentaren löschen wir sie nach %s ab der "
		    "Ablehnung%s. Veröffentlichte Kommentare bleiben mit Name, "
		    "E-Mail-Adresse und Text gespeichert, bis Sie ihre Löschung "
		    "verlangen. Aus freigegebenen und als Spam markierten "
		    "Kommentaren lernt der Filter Wortstatistiken, die keiner "
		    "Person zugeordnet werden können. Auskunft über die zu Ihrer "
		    "E-Mail-Adresse gespeicherten Daten und deren Löschung können "
		    "Sie jederzeit bei uns verlangen (Art. 15 und 17 DSGVO).\n",
		    ip, mail, spamtext);
	else
		printf("Comments. When you leave a comment we store your name, "
		    "your e-mail address, your website (if given), the text, your "
		    "IP address, your browser's user agent and the page you came "
		    "from. Every comment is checked by the spam filter heinzel, "
		    "which runs on our own server; no data is passed to third "
		    "parties. The legal basis is our legitimate interest in a "
		    "comment section free of spam and abuse (Art. 6(1)(f) GDPR). "
		    "We delete the IP address, user agent and referring page "
		    "after %s. Your e-mail address is never published; for "
		    "comments we reject or that are recognised as spam we delete "
		    "it %s after the refusal%s. Published comments are kept with "
		    "name, e-mail address and text until you ask us to delete "
		    "them. From approved comments and spam the filter learns word "
		    "statistics that cannot be traced back to anyone. You may ask "
		    "us at any time what data we hold about your e-mail address, "
		    "and for its deletion (Art. 15 and 17 GDPR).\n",
		    ip, mail, spamtext);
	return CTL_OK;
}
