/*
 * Personal data: retention and a reader's data by e-mail address, as Lua
 * scripts over the store's keys (see privacy.h and docs/privacy.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comment.h"
#include "config.h"
#include "privacy.h"
#include "lua_scripts.h"
#include "sha1.h"
#include "store.h"
#include "xmalloc.h"

static const char *const privacy_scripts[PRIVACY_SCRIPT__COUNT] = {
	lua_privacy_expire, lua_privacy_subject
};

const char *
privacy_script_source(enum privacy_script s)
{
	return privacy_scripts[s];
}

void
privacy_cmd_to_eval(struct store_cmd *cmd, enum privacy_script s)
{
	store_cmd_eval_source(cmd, privacy_scripts[s]);
}

void
privacy_cmd_expire(const struct store *st, struct store_cmd *cmd,
    const char *sha, uint64_t ip_before_ms, uint64_t email_before_ms,
    unsigned int limit, uint64_t now_ms, const redisReply *need)
{
	static const char *const fixed[] = {
		"queue:pending", "queue:approved", "queue:spam",
		"queue:rejected", "privacy:ip_mark", "privacy:notes",
		"privacy:refused", "stats", "privacy:index", "known_authors"
	};
	size_t i, n = need != NULL ? need->elements - 1 : 0;

	store_cmd_script_source(cmd, sha, lua_privacy_expire,
	    (int)(sizeof fixed / sizeof fixed[0] + n));
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		store_cmd_addf(cmd, "%s:%s", st->tag, fixed[i]);
	for (i = 1; i <= n; i++)
		store_cmd_adds(cmd, need->element[i]->str);
	store_cmd_addf(cmd, "%s:", st->tag);
	store_cmd_addf(cmd, "%" PRIu64, ip_before_ms);
	store_cmd_addf(cmd, "%" PRIu64, email_before_ms);
	store_cmd_addf(cmd, "%u", limit > 0 ? limit : 1);
	store_cmd_addf(cmd, "%" PRIu64, now_ms);
}

int
privacy_expire_reply(const redisReply *r, struct privacy_expired *e,
    const char **cause)
{
	size_t i;

	memset(e, 0, sizeof *e);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4)
		goto bad;
	for (i = 0; i < 4; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER)
			goto bad;
	e->comments = r->element[0]->integer;
	e->notes = r->element[1]->integer;
	e->emails = r->element[2]->integer;
	e->more = r->element[3]->integer != 0;
	return 0;
bad:
	*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
	    "unexpected reply to the privacy expire script";
	return -1;
}

void
privacy_cmd_subject(const struct store *st, struct store_cmd *cmd,
    const char *sha, enum privacy_mode mode, const char *email,
    const char *ids, char *const *keys, size_t nkeys, char *const *need,
    size_t nneed)
{
	static const char *const fixed[] = {
		"outbox:retry", "outbox:dead", "privacy:refused", "privacy:notes"
	};
	char key[STORE_KEY_MAX];
	size_t i, hex;

	store_cmd_script_source(cmd, sha, lua_privacy_subject,
	    (int)(4 + sizeof fixed / sizeof fixed[0] + nkeys + nneed));
	store_cmd_addf(cmd, "%s:stats", st->tag);
	/* The address's index and receipt marker: both by its SHA1. */
	store_key_email(st, email, strlen(email), key, sizeof key);
	store_cmd_adds(cmd, key);
	hex = strlen(key) - SHA1_HEX_LEN;
	store_cmd_addf(cmd, "%s:receipt:%s", st->tag, key + hex);
	store_cmd_addf(cmd, "%s:known_authors", st->tag);
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		store_cmd_addf(cmd, "%s:%s", st->tag, fixed[i]);
	for (i = 0; i < nkeys; i++)
		store_cmd_adds(cmd, keys[i]);
	for (i = 0; i < nneed; i++)
		store_cmd_adds(cmd, need[i]);
	store_cmd_addf(cmd, "%s:", st->tag);
	store_cmd_adds(cmd, mode == PRIVACY_ERASE ? "erase" : "export");
	store_cmd_adds(cmd, email);
	store_cmd_adds(cmd, ids != NULL ? ids : "*");
	store_cmd_addf(cmd, "%zu", nkeys);
}

int
privacy_read_need(const struct store *st, const redisReply *r,
    struct privacy_read *p)
{
	size_t i;

	if (!store_need_reply(st, r))
		return 0;
	for (i = 0; i < p->nneed; i++)
		free(p->need[i]);
	free(p->need);
	p->nneed = r->elements - 1;
	p->need = xcalloc(p->nneed, sizeof *p->need);
	for (i = 0; i < p->nneed; i++)
		p->need[i] = xstrdup(r->element[i + 1]->str);
	return 1;
}

/* Add key unless it is there. */
static void
privacy_add_key(char ***keys, size_t *n, const char *key)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*keys)[i], key) == 0)
			return;
	*keys = xreallocarray(*keys, *n + 1, sizeof **keys);
	(*keys)[(*n)++] = xstrdup(key);
}

void
privacy_subject_keys(const struct store *st, const redisReply *comment,
    unsigned int ipv6_prefix, char ***keys, size_t *n)
{
	static const enum comment_field fields[] = {
		CF_POST, CF_BODY, CF_EMAIL, CF_IP
	};
	const redisReply *k, *v;
	struct comment c;
	char key[STORE_KEY_MAX];
	size_t i, j;

	if (comment == NULL || comment->type != REDIS_REPLY_ARRAY)
		return;
	comment_init(&c);
	for (i = 0; i + 1 < comment->elements; i += 2) {
		k = comment->element[i];
		v = comment->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		for (j = 0; j < sizeof fields / sizeof fields[0]; j++)
			if (strcmp(k->str, comment_field_name(fields[j])) == 0)
				comment_set(&c, fields[j], v->str, v->len);
	}
	if (c.field[CF_POST] != NULL && c.field[CF_BODY] != NULL) {
		/*
		 * The text's list of writers: export and erase take only
		 * this address's entries (privacy_subject.lua).
		 */
		store_key_dup(st, &c, CF_BODY, key, sizeof key);
		privacy_add_key(keys, n, key);
		if (c.field[CF_EMAIL] != NULL) {
			store_key_dup(st, &c, CF_EMAIL, key, sizeof key);
			privacy_add_key(keys, n, key);
		}
		if (c.field[CF_IP] != NULL) {
			store_key_dup(st, &c, CF_IP, key, sizeof key);
			privacy_add_key(keys, n, key);
		}
	}
	if (c.field[CF_EMAIL] != NULL) {
		store_key_flood_email(st, &c, key, sizeof key);
		privacy_add_key(keys, n, key);
	}
	if (c.field[CF_IP] != NULL && store_key_flood_ip(st, c.field[CF_IP],
	    ipv6_prefix, key, sizeof key) == 0)
		privacy_add_key(keys, n, key);
	comment_free(&c);
}

void
privacy_read_free(struct privacy_read *p)
{
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		free(p->keys[i]);
	free(p->keys);
	free(p->ids);
	for (i = 0; i < p->nneed; i++)
		free(p->need[i]);
	free(p->need);
	memset(p, 0, sizeof *p);
}

/* The value of field in an HGETALL array, or NULL. */
static const char *
privacy_field(const redisReply *h, const char *field)
{
	size_t i;

	if (h->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(h->element[i]->str, field) == 0)
			return h->element[i + 1]->str;
	return NULL;
}

/* {"export"|"erased", comments, notifications, known, keys}. */
static bool
privacy_reply_shape(const redisReply *r, const char *kind)
{
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, kind) != 0)
		return false;
	for (i = 1; i < 5; i++)
		if (r->element[i]->type != (strcmp(kind, "export") == 0 ?
		    REDIS_REPLY_ARRAY : REDIS_REPLY_INTEGER))
			return false;
	return true;
}

int
privacy_read_parse(const struct store *st, const redisReply *r,
    unsigned int ipv6_prefix, struct privacy_read *p, const char **cause)
{
	const redisReply *comments;
	const char *id;
	char **need = p->need;
	size_t i, nneed = p->nneed;

	/* What was read before goes; the keys asked for stay. */
	p->need = NULL;
	p->nneed = 0;
	privacy_read_free(p);
	p->need = need;
	p->nneed = nneed;
	if (!privacy_reply_shape(r, "export")) {
		*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply to the privacy script";
		return -1;
	}
	comments = r->element[1];
	p->ids = xcalloc(comments->elements + 1, STORE_ID_LEN + 1);
	for (i = 0; i < comments->elements; i++) {
		privacy_subject_keys(st, comments->element[i], ipv6_prefix,
		    &p->keys, &p->nkeys);
		if ((id = privacy_field(comments->element[i], "id")) == NULL ||
		    !store_id_valid(id))
			continue;
		if (p->ids[0] != '\0')
			strcat(p->ids, " ");
		strcat(p->ids, id);
	}
	return 0;
}

int
privacy_subject_reply(const redisReply *r, enum privacy_outcome *o,
    const char **cause)
{
	if (privacy_reply_shape(r, "export") || privacy_reply_shape(r, "erased")) {
		*o = PRIVACY_DONE;
		return 0;
	}
	/* A run that wants keys it was not given: the address changed too. */
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    ((r->elements == 1 && strcmp(r->element[0]->str, "changed") == 0) ||
	    (r->elements > 1 && strcmp(r->element[0]->str, "need") == 0))) {
		*o = PRIVACY_CHANGED;
		return 0;
	}
	*cause = r && r->type == REDIS_REPLY_ERROR ? r->str :
	    "unexpected reply to the privacy script";
	return -1;
}

/* HGETALL pairs as an object of strings, id (when given) first. */
static json_t *
privacy_hash_json(const char *id, const redisReply *h)
{
	json_t *o = json_object();
	size_t i;

	if (id != NULL)
		json_object_set_new(o, "id", json_string(id));
	for (i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING &&
		    h->element[i + 1]->type == REDIS_REPLY_STRING)
			json_object_set_new(o, h->element[i]->str,
			    json_stringn(h->element[i + 1]->str,
			    h->element[i + 1]->len));
	return o;
}

/* {key, value, ttl_ms}: what the key is, for a reader. */
static json_t *
privacy_key_json(const redisReply *k)
{
	const char *name, *kind = "other";
	long long ttl;

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
	ttl = k->element[2]->type == REDIS_REPLY_INTEGER ?
	    k->element[2]->integer : -1;
	return json_pack("{s:s, s:s, s:s?, s:I}", "key", name, "kind", kind,
	    "value", k->element[1]->type == REDIS_REPLY_STRING ?
	    k->element[1]->str : NULL, "expires_in_seconds",
	    (json_int_t)(ttl > 0 ? (ttl + 999) / 1000 : -1));
}

json_t *
privacy_export_json(const redisReply *r)
{
	const redisReply *v;
	json_t *o, *a;
	size_t i;

	if (!privacy_reply_shape(r, "export"))
		return NULL;
	o = json_object();
	a = json_array();
	v = r->element[1];
	for (i = 0; i < v->elements; i++)
		json_array_append_new(a, privacy_hash_json(NULL, v->element[i]));
	json_object_set_new(o, "comments", a);
	a = json_array();
	v = r->element[2];
	for (i = 0; i < v->elements; i++)
		if (v->element[i]->type == REDIS_REPLY_ARRAY &&
		    v->element[i]->elements == 2 &&
		    v->element[i]->element[0]->type == REDIS_REPLY_STRING)
			json_array_append_new(a, privacy_hash_json(
			    v->element[i]->element[0]->str,
			    v->element[i]->element[1]));
	json_object_set_new(o, "notifications", a);
	a = json_array();
	v = r->element[3];
	for (i = 0; i < v->elements; i++)
		if (v->element[i]->type == REDIS_REPLY_STRING)
			json_array_append_new(a, json_string(v->element[i]->str));
	json_object_set_new(o, "known_author", a);
	a = json_array();
	v = r->element[4];
	for (i = 0; i < v->elements; i++)
		json_array_append_new(a, privacy_key_json(v->element[i]));
	json_object_set_new(o, "hashed_keys", a);
	return o;
}

json_t *
privacy_erased_json(const redisReply *r)
{
	if (!privacy_reply_shape(r, "erased"))
		return NULL;
	return json_pack("{s:I, s:I, s:I, s:I}",
	    "comments", (json_int_t)r->element[1]->integer,
	    "notifications", (json_int_t)r->element[2]->integer,
	    "known_author", (json_int_t)r->element[3]->integer,
	    "hashed_keys", (json_int_t)r->element[4]->integer);
}

/* A duration in words, dative in German ("nach 7 Tagen"). */
static void
privacy_words(unsigned int secs, bool de, char *buf, size_t size)
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

char *
privacy_policy(const struct config *cfg, bool de)
{
	char ip[64], mail[64], spam[64], spamtext[160], *s;

	privacy_words(cfg->privacy_ip_keep, de, ip, sizeof ip);
	privacy_words(cfg->privacy_refused_email_keep, de, mail, sizeof mail);
	spamtext[0] = '\0';
	if (cfg->spam_keep_days > 0) {
		privacy_words(cfg->spam_keep_days * 86400U, de, spam,
		    sizeof spam);
		snprintf(spamtext, sizeof spamtext, de ? ", Spam nach %s ganz" :
		    ", and spam entirely after %s", spam);
	}
	if (de)
		xasprintf(&s, "Kommentare. Wenn Sie einen Kommentar schreiben, "
		    "speichern wir Ihren Namen, Ihre E-Mail-Adresse, Ihre Website "
		    "(falls angegeben), den Text, die IP-Adresse, den User-Agent "
		    "Ihres Browsers und die Seite, von der Sie kamen. Wir prüfen "
		    "jeden Kommentar mit dem Spamfilter heinzel, der auf unserem "
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
		    "Sie jederzeit bei uns verlangen (Art. 15 und 17 DSGVO).",
		    ip, mail, spamtext);
	else
		xasprintf(&s, "Comments. When you leave a comment we store your "
		    "name, your e-mail address, your website (if given), the "
		    "text, your IP address, your browser's user agent and the page "
		    "you came from. Every comment is checked by the spam filter "
		    "heinzel, which runs on our own server; no data is passed to "
		    "third parties. The legal basis is our legitimate interest in "
		    "a comment section free of spam and abuse (Art. 6(1)(f) "
		    "GDPR). We delete the IP address, user agent and referring "
		    "page after %s. Your e-mail address is never published; for "
		    "comments we reject or that are recognised as spam we delete "
		    "it %s after the refusal%s. Published comments are kept with "
		    "name, e-mail address and text until you ask us to delete "
		    "them. From approved comments and spam the filter learns word "
		    "statistics that cannot be traced back to anyone. You may ask "
		    "us at any time what data we hold about your e-mail address, "
		    "and for its deletion (Art. 15 and 17 GDPR).",
		    ip, mail, spamtext);
	return s;
}
