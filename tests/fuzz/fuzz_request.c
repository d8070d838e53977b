/*
 * A whole submission, as heinzeld's POST /v1/comments handles it but
 * without a socket or a Redis: parse the body (JSON or form), validate it,
 * take the reader's address as a trusted frontend's X-Real-IP, score it
 * (the shipped rules, the built-in checks and a trained classifier's
 * verdict) and build every command that follows (the submit script, the
 * classifier's fetch, the public list).  No input may end the process
 * (a fatal() is an exit, which libFuzzer reports), and what is built must
 * be well-formed.
 *
 * The first byte chooses the configuration (captcha required or not,
 * auto_approve, flood limits, the IPv6 prefix) and the way in:
 *
 *	bit 0 clear	the rest is a request body, bit 1 set: a form
 *	bit 0 set	the rest is fields: three bytes of field mask (bit i
 *			for field i, the top bit for an X-Real-IP), then
 *			the values separated by NUL bytes, then the address;
 *			sent both as JSON and as a form, so that every
 *			combination of fields reaches both parsers
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "bayes.h"
#include "bayes_store.h"
#include "captcha.h"
#include "comment.h"
#include "config.h"
#include "fault.h"
#include "resp.h"
#include "rules.h"
#include "score.h"
#include "scoring.h"
#include "store.h"
#include "strbuf.h"
#include "tokenize.h"
#include "utf8.h"
#include "xmalloc.h"
#include "fuzz.h"

#ifndef FUZZ_RULES_DIR
#error "FUZZ_RULES_DIR names the shipped rules"
#endif

/* A bit of the field mask per field, the top one for X-Real-IP. */
_Static_assert(CF__COUNT <= 23, "more fields than the mask holds");

static struct config *fuzz_cfg;
static struct ruleset *fuzz_rules;
static struct store fuzz_store;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *errors = NULL;

	(void)argc;
	(void)argv;
	fuzz_cfg = config_new();
	if ((fuzz_rules = ruleset_load(FUZZ_RULES_DIR, &errors)) == NULL) {
		fprintf(stderr, "fuzz_request: %s: %s\n", FUZZ_RULES_DIR,
		    errors ? errors : "no rules");
		abort();
	}
	free(errors);
	store_init(&fuzz_store, "fz");
	return 0;
}

/* heinzeld sends the command in RESP: byte for byte hiredis' own. */
static void
fuzz_request_resp(const struct store_cmd *cmd)
{
	char *want, *got;
	long long n;
	size_t size = resp_command_size(cmd->argc, cmd->argvlen);

	n = redisFormatCommandArgv(&want, cmd->argc, cmd->argv, cmd->argvlen);
	FUZZ_CHECK(n > 0 && (size_t)n == size);
	got = xmalloc(size);
	FUZZ_CHECK(resp_command_write(got, cmd->argc, cmd->argv,
	    cmd->argvlen) == size);
	FUZZ_CHECK(memcmp(got, want, size) == 0);
	free(got);
	redisFreeCommand(want);
}

/* Every argument present, as long as it says, NUL-terminated. */
static void
fuzz_request_cmd(const struct store_cmd *cmd, int min_argc)
{
	int i;

	FUZZ_CHECK(cmd->argc >= min_argc);
	FUZZ_CHECK(cmd->argc <= cmd->cap);
	for (i = 0; i < cmd->argc; i++) {
		FUZZ_CHECK(cmd->argv[i] != NULL);
		FUZZ_CHECK(cmd->argv[i] == cmd->buf + cmd->off[i]);
		FUZZ_CHECK(cmd->argv[i][cmd->argvlen[i]] == '\0');
	}
	fuzz_request_resp(cmd);
}

/* Whether the command's field/value pairs, from "id" on, hold name = v. */
static bool
fuzz_request_has_pair(const struct store_cmd *cmd, int from, const char *name,
    const char *v, size_t len)
{
	int i;

	for (i = from; i + 1 < cmd->argc; i += 2)
		if (strcmp(cmd->argv[i], name) == 0)
			return cmd->argvlen[i + 1] == len &&
			    memcmp(cmd->argv[i + 1], v, len) == 0;
	return false;
}

/*
 * The submit command: EVALSHA sha nkeys, the keys (all under the prefix),
 * the script's values, then field/value pairs from "id" on, which hold
 * every stored field the comment has, each once.
 */
static void
fuzz_request_submit_cmd(const struct store_cmd *cmd, const struct comment *c,
    const char *id)
{
	int i, j, nkeys;

	fuzz_request_cmd(cmd, 4);
	nkeys = atoi(cmd->argv[2]);
	FUZZ_CHECK(nkeys > 0 && 3 + nkeys < cmd->argc);
	for (i = 3; i < 3 + nkeys; i++)
		FUZZ_CHECK(strncmp(cmd->argv[i], "{fz}:", 5) == 0);
	for (j = 3 + nkeys; j + 1 < cmd->argc; j++)
		if (strcmp(cmd->argv[j], "id") == 0 &&
		    strcmp(cmd->argv[j + 1], id) == 0)
			break;
	FUZZ_CHECK(j + 1 < cmd->argc);
	FUZZ_CHECK((cmd->argc - j) % 2 == 0);
	for (i = 0; i < CF__COUNT; i++) {
		if (c->field[i] == NULL || i == CF_HONEYPOT ||
		    i == CF_RETURN_TO || i == CF_CAPTCHA_ID ||
		    i == CF_CAPTCHA_ANSWER)
			continue;
		FUZZ_CHECK(fuzz_request_has_pair(cmd, j, comment_field_name(i),
		    c->field[i], c->len[i]));
	}
	FUZZ_CHECK(fuzz_request_has_pair(cmd, j, "id", id, strlen(id)));
}

/* Score, build the commands and check them, as heinzeld would. */
static void
fuzz_request_store(struct comment *c, uint8_t mode)
{
	struct store_submit sub;
	struct bayes_result bayes;
	struct tokens tok;
	struct store_cmd cmd;
	struct score s;
	enum verdict v;
	char id[STORE_ID_LEN + 1];
	char *hits;
	struct captcha_key key;
	int answer;

	score_init(&s);
	tokenize_init(&tok);
	tokenize_comment(&tok, c);
	memset(&bayes, 0, sizeof bayes);
	bayes.ready = (mode & 0x20) != 0;
	bayes.prob = (double)(mode & 0x0f) / 15.0;
	bayes.nclues = tok.n;
	(void)scoring_score(fuzz_cfg, fuzz_rules, c, &bayes, &s);
	FUZZ_CHECK(isfinite(s.total));
	v = score_verdict(&s, fuzz_cfg->hold_score, fuzz_cfg->reject_score);
	hits = score_hits_format(&s);
	FUZZ_CHECK(hits != NULL && strchr(hits, '\n') == NULL);
	free(hits);

	memset(&sub, 0, sizeof sub);
	sub.comment = c;
	sub.score = &s;
	sub.now_ms = UINT64_C(1700000000000) + mode;
	store_new_id(id, sub.now_ms);
	FUZZ_CHECK(store_id_valid(id));
	sub.id = id;
	sub.hold = v == VERDICT_HOLD;
	sub.status = v == VERDICT_SPAM ? STORE_SPAM : (mode & 0x40) ?
	    STORE_APPROVED : STORE_PENDING;
	sub.check_captcha = fuzz_cfg->captcha_required;
	answer = c->field[CF_CAPTCHA_ANSWER] != NULL ?
	    captcha_parse_answer(c->field[CF_CAPTCHA_ANSWER]) : -1;
	FUZZ_CHECK(answer >= -1 && answer <= 100);
	captcha_key_init(&key, "fuzz");
	sub.captcha = captcha_open(c->field[CF_CAPTCHA_ID], &key, answer,
	    sub.now_ms, 600, 2000, &sub.captcha_expires_ms);
	FUZZ_CHECK(sub.captcha == CAPTCHA_UNKNOWN || sub.captcha_expires_ms > 0);
	sub.request_id_ttl = 86400;
	sub.duplicate_window = (mode & 0x80) ? 0 : 86400;
	sub.approve_known_author = (mode & 0x10) != 0;
	sub.flood_ip_limit = mode & 0x03;
	sub.flood_ip_window = 60;
	sub.flood_ipv6_prefix = 32 + (mode & 0x60);	/* 32 to 128 */
	sub.flood_email_limit = (mode >> 2) & 0x03;
	sub.flood_email_window = 60;
	store_cmd_init(&cmd);
	store_cmd_submit(&fuzz_store, &cmd, (mode & 1) ? NULL :
	    "0123456789abcdef0123456789abcdef01234567", &sub);
	fuzz_request_submit_cmd(&cmd, c, id);
	store_cmd_to_eval(&cmd, STORE_SCRIPT_SUBMIT);
	FUZZ_CHECK(strcmp(cmd.argv[0], "EVAL") == 0);
	store_cmd_free(&cmd);

	store_cmd_init(&cmd);
	bayes_store_cmd_fetch(&fuzz_store, &cmd, NULL, &tok);
	fuzz_request_cmd(&cmd, 3);
	store_cmd_free(&cmd);

	/* The post as the public list's key, after the fresh id. */
	store_cmd_init(&cmd);
	store_cmd_published(&fuzz_store, &cmd, NULL, c->field[CF_POST],
	    1 + mode, (mode & 2) ? id : NULL, NULL);
	fuzz_request_cmd(&cmd, 3 + 1 + 3);
	store_cmd_free(&cmd);

	tokenize_free(&tok);
	score_free(&s);
}

/* One body through one parser; then as heinzeld goes on with it. */
static void
fuzz_request_body(bool form, const char *body, size_t len, uint8_t mode,
    const char *real_ip)
{
	struct comment_limits lim;
	struct comment c;
	struct fault f;
	char ip[COMMENT_IP_MAX], net[COMMENT_IP_MAX];
	int rc;

	comment_init(&c);
	fault_clear(&f);
	rc = form ? comment_from_form(&c, body, len, &f) :
	    comment_from_json(&c, body, len, &f);
	if (rc != 0) {
		FUZZ_CHECK(f.status == 400 || f.status == 422);
		comment_free(&c);
		return;
	}
	lim.body_max_chars = fuzz_cfg->body_max_chars;
	lim.captcha_required = fuzz_cfg->captcha_required;
	if (comment_validate(&c, &lim, &f) != 0) {
		FUZZ_CHECK(f.status == 422 || f.status == 403);
		comment_free(&c);
		return;
	}
	/* A trusted frontend's X-Real-IP wins over the "ip" field. */
	if (real_ip != NULL && comment_ip_canonical(real_ip, ip, sizeof ip) == 0)
		comment_set(&c, CF_IP, ip, strlen(ip));
	if (c.field[CF_IP] != NULL) {
		FUZZ_CHECK(comment_ip_canonical(c.field[CF_IP], ip,
		    sizeof ip) == 0);
		FUZZ_CHECK(strcmp(ip, c.field[CF_IP]) == 0);
		FUZZ_CHECK(comment_ip_network(ip, 64, net, sizeof net) == 0);
	}
	FUZZ_CHECK(c.field[CF_REQUEST_ID] == NULL ||
	    c.len[CF_REQUEST_ID] >= COMMENT_REQUEST_ID_MIN);
	fuzz_request_store(&c, mode);
	comment_free(&c);
}

/* Percent-encode for a form, every byte but unreserved ones. */
static void
fuzz_request_form_add(struct strbuf *sb, const char *name, const char *v,
    size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char ch;
	size_t i;

	char esc[3];

	if (sb->len > 0)
		strbuf_add(sb, "&", 1);
	strbuf_adds(sb, name);
	strbuf_add(sb, "=", 1);
	for (i = 0; i < len; i++) {
		ch = (unsigned char)v[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~')
			strbuf_add(sb, v + i, 1);
		else {
			esc[0] = '%';
			esc[1] = hex[ch >> 4];
			esc[2] = hex[ch & 15];
			strbuf_add(sb, esc, 3);
		}
	}
}

/* Fields chosen by a mask, values from the input: as JSON and as a form. */
static void
fuzz_request_fields(const uint8_t *data, size_t size, uint8_t mode)
{
	const char *p = (const char *)data + 3, *end = (const char *)data + size;
	const char *nul, *real_ip = NULL;
	struct strbuf form = STRBUF_INIT;
	unsigned int mask;
	json_t *obj;
	char *text, *body, *ip = NULL;
	size_t n, blen;
	int i;

	if (size < 3)
		return;
	mask = (unsigned int)data[0] | (unsigned int)data[1] << 8 |
	    (unsigned int)data[2] << 16;
	obj = json_object();
	for (i = 0; i < CF__COUNT; i++) {
		if ((mask & (1U << i)) == 0)
			continue;
		nul = memchr(p, '\0', (size_t)(end - p));
		n = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);
		/* Not UTF-8: jansson will not hold it, the form will. */
		if (utf8_valid(p, n))
			json_object_set_new(obj, comment_field_name(i),
			    json_stringn(p, n));
		fuzz_request_form_add(&form, comment_field_name(i), p, n);
		p += n + (nul != NULL);
	}
	if (p < end && (mask & 0x800000)) {
		n = strnlen(p, (size_t)(end - p));
		ip = strndup(p, n);
		real_ip = ip;
	}
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text != NULL)
		fuzz_request_body(false, text, strlen(text), mode, real_ip);
	free(text);
	body = strbuf_finish(&form, &blen);
	fuzz_request_body(true, body, blen, mode, real_ip);
	free(body);
	free(ip);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	/* The configuration this request meets. */
	fuzz_cfg->captcha_required = (mode & 0x04) == 0;
	fuzz_cfg->auto_approve = (enum auto_approve)((mode >> 3) % 3);
	fuzz_cfg->honeypot_score = (mode & 0x08) ? 10 : 0;
	if ((mode & 1) == 0)
		fuzz_request_body((mode & 2) != 0, (const char *)data + 1,
		    size - 1, mode, NULL);
	else
		fuzz_request_fields(data + 1, size - 1, mode);
	return 0;
}
