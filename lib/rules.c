/*
 * The rule engine.  Each rule is one line of a *.rules file; its pattern is
 * compiled and JIT-ed once at load and run under match, depth and heap
 * limits, so that a bad pattern costs a log line, never a hang.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcre2.h>

#include "comment.h"
#include "log.h"
#include "prefilter.h"
#include "rules.h"
#include "score.h"
#include "xmalloc.h"

#define RULES_LINE_MAX		65536		/* bytes */
#define RULES_FILE_MAX		(64 * 1024 * 1024)
#define RULES_RULE_MAX		100000
#define RULES_NAME_MAX		64
#define RULES_SCORE_MAX		1000
#define RULES_COUNT_MAX		1000
#define RULES_ERRORS_MAX	1000		/* listed; the rest are counted */

#define RULES_MATCH_LIMIT	1000000
#define RULES_DEPTH_LIMIT	10000
#define RULES_HEAP_LIMIT	20000		/* KiB */
#define RULES_JIT_STACK_START	(32 * 1024)
#define RULES_JIT_STACK_MAX	(512 * 1024)

#define RULES_FIELD_ANY		(-1)

struct rule {
	char		*name;
	int		 field;		/* enum comment_field or RULES_FIELD_ANY */
	char		*pattern;
	char		 flags[8];	/* canonical order "imsxu" */
	double		 score;
	unsigned int	 min_count;
	char		*description;
	const char	*path;		/* as given, in ruleset.files */
	const char	*file;		/* basename of path */
	unsigned int	 line;
	pcre2_code	*code;
};

struct ruleset {
	unsigned int		 refs;
	struct rule		*rules;
	size_t			 nrules, cap;
	char			**files;	/* paths as given */
	size_t			 nfiles;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
	pcre2_jit_stack		*jit_stack;
	struct prefilter	*pf;
	bool			 prefilter;	/* use pf in ruleset_score */
};

/* State while loading: the rule set so far, the errors, a name index. */
struct rules_load {
	struct ruleset	*rs;
	const char	*path;
	unsigned int	 line;
	char		*errors;
	size_t		 errlen, errcap;
	unsigned int	 nerrors;
	size_t		*names;		/* rule index + 1, 0 = empty slot */
	size_t		 namescap;	/* power of two */
	bool		 full;
};

static const struct {
	const char	*name;
	int		 field;
} rules_fields[] = {
	{ "post", CF_POST },
	{ "author", CF_AUTHOR },
	{ "email", CF_EMAIL },
	{ "url", CF_URL },
	{ "body", CF_BODY },
	{ "ip", CF_IP },
	{ "user_agent", CF_USER_AGENT },
	{ "referrer", CF_REFERRER },
	{ "any", RULES_FIELD_ANY },
};
#define RULES_NFIELDS (sizeof rules_fields / sizeof rules_fields[0])

/* The text fields "any" covers, in the order they are searched. */
static const enum comment_field rules_any_fields[] = {
	CF_POST, CF_AUTHOR, CF_EMAIL, CF_URL, CF_BODY, CF_IP, CF_USER_AGENT,
	CF_REFERRER,
};
#define RULES_NANY (sizeof rules_any_fields / sizeof rules_any_fields[0])

static const struct {
	char		 flag;
	uint32_t	 option;
} rules_flags[] = {
	{ 'i', PCRE2_CASELESS },
	{ 'm', PCRE2_MULTILINE },
	{ 's', PCRE2_DOTALL },
	{ 'x', PCRE2_EXTENDED },
	{ 'u', PCRE2_UCP },
};
#define RULES_NFLAGS (sizeof rules_flags / sizeof rules_flags[0])

static void	rules_error(struct rules_load *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Strict UTF-8 without NUL; on failure *bad is the offending offset. */
static bool
rules_utf8_valid(const unsigned char *s, size_t len, size_t *bad)
{
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			if (s[i] == '\0')
				goto fail;
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
		} else
			goto fail;
		if (len - i <= n)
			goto fail;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			goto fail;
		i += n + 1;
	}
	return true;
fail:
	if (bad != NULL)
		*bad = i;
	return false;
}

/* Add one error line; column 0 means the error is about the whole file. */
static void
rules_error(struct rules_load *rl, size_t column, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;
	size_t n;

	if (++rl->nerrors > RULES_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	if (column == 0)
		xasprintf(&line, "%s: %s", rl->path, msg);
	else
		xasprintf(&line, "%s:%u:%zu: %s", rl->path, rl->line, column,
		    msg);
	free(msg);

	n = strlen(line);
	while (rl->errlen + n + 2 > rl->errcap) {
		rl->errcap = rl->errcap == 0 ? 256 : rl->errcap * 2;
		rl->errors = xreallocarray(rl->errors, rl->errcap, 1);
	}
	if (rl->errlen > 0)
		rl->errors[rl->errlen++] = '\n';
	memcpy(rl->errors + rl->errlen, line, n + 1);
	rl->errlen += n;
	free(line);
}

static uint32_t
rules_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Find a rule by name while loading; the rule or NULL. */
static const struct rule *
rules_names_find(struct rules_load *rl, const char *name)
{
	size_t i, slot;

	if (rl->namescap == 0)
		return NULL;
	i = rules_hash(name) & (rl->namescap - 1);
	while ((slot = rl->names[i]) != 0) {
		if (strcmp(rl->rs->rules[slot - 1].name, name) == 0)
			return &rl->rs->rules[slot - 1];
		i = (i + 1) & (rl->namescap - 1);
	}
	return NULL;
}

static void
rules_names_add(struct rules_load *rl, size_t idx)
{
	size_t *old = rl->names, oldcap = rl->namescap, i, j;

	if ((rl->rs->nrules + 1) * 2 > rl->namescap) {
		rl->namescap = oldcap == 0 ? 64 : oldcap * 2;
		rl->names = xcalloc(rl->namescap, sizeof *rl->names);
		for (j = 0; j < oldcap; j++) {
			if (old[j] == 0)
				continue;
			i = rules_hash(rl->rs->rules[old[j] - 1].name) &
			    (rl->namescap - 1);
			while (rl->names[i] != 0)
				i = (i + 1) & (rl->namescap - 1);
			rl->names[i] = old[j];
		}
		free(old);
	}
	i = rules_hash(rl->rs->rules[idx].name) & (rl->namescap - 1);
	while (rl->names[i] != 0)
		i = (i + 1) & (rl->namescap - 1);
	rl->names[i] = idx + 1;
}

static bool
rules_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Skip blanks; true if a token (not a comment, not the end) follows. */
static bool
rules_next(const char *s, size_t len, size_t *pos)
{
	while (*pos < len && rules_space(s[*pos]))
		(*pos)++;
	return *pos < len && s[*pos] != '#';
}

/* Length of the plain token at pos: up to a blank, a '#' or the end. */
static size_t
rules_token(const char *s, size_t len, size_t pos)
{
	size_t end = pos;

	while (end < len && !rules_space(s[end]) && s[end] != '#')
		end++;
	return end - pos;
}

/* How much of a token to quote in an error: 32 bytes, whole characters. */
static int
rules_clip(const char *s, size_t tlen)
{
	size_t n = tlen;

	if (n > 32) {
		n = 32;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return (int)n;
}

static bool
rules_token_is(const char *s, size_t tlen, const char *word)
{
	return tlen == strlen(word) && memcmp(s, word, tlen) == 0;
}

static int
rules_parse_score(const char *s, size_t tlen, double *out)
{
	char buf[64], *end;
	size_t i;

	if (tlen == 0 || tlen >= sizeof buf)
		return -1;
	/* strtod also takes hex, "inf" and "nan": allow decimal only. */
	for (i = 0; i < tlen; i++)
		if (strchr("+-.0123456789eE", s[i]) == NULL)
			return -1;
	memcpy(buf, s, tlen);
	buf[tlen] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	if (errno != 0 || end != buf + tlen || !isfinite(*out) ||
	    *out < -RULES_SCORE_MAX || *out > RULES_SCORE_MAX)
		return -1;
	if (*out == 0)
		*out = 0;	/* no -0 */
	return 0;
}

static int
rules_parse_count(const char *s, size_t tlen, unsigned int *out)
{
	static const char prefix[] = "count>=";
	size_t i, plen = sizeof prefix - 1;
	unsigned int k = 0;

	if (tlen <= plen || tlen > plen + 4 || memcmp(s, prefix, plen) != 0)
		return -1;
	for (i = plen; i < tlen; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		k = k * 10 + (unsigned int)(s[i] - '0');
	}
	if (k < 1 || k > RULES_COUNT_MAX)
		return -1;
	*out = k;
	return 0;
}

/*
 * Parse a quoted description starting at the '"' at *pos; the unescaped
 * text (caller frees) or NULL after reporting an error.
 */
static char *
rules_parse_description(struct rules_load *rl, const char *s, size_t len,
    size_t *pos)
{
	size_t open = *pos, q = *pos + 1, n = 0;
	char *out;

	out = xmalloc(len - open);
	while (q < len && s[q] != '"') {
		if (s[q] == '\\') {
			if (q + 1 < len && (s[q + 1] == '"' || s[q + 1] == '\\')) {
				out[n++] = s[q + 1];
				q += 2;
				continue;
			}
			rules_error(rl, q + 1,
			    "unknown escape in description (only \\\" and \\\\)");
			goto fail;
		}
		out[n++] = s[q++];
	}
	if (q >= len) {
		rules_error(rl, open + 1, "unterminated description");
		goto fail;
	}
	out[n] = '\0';
	q++;
	if (rules_next(s, len, &q)) {
		rules_error(rl, q + 1, "unexpected text after the description");
		goto fail;
	}
	*pos = q;
	return out;
fail:
	free(out);
	return NULL;
}

static void
rules_rule_free(struct rule *r)
{
	free(r->name);
	free(r->pattern);
	free(r->description);
	pcre2_code_free(r->code);
}

/* Parse one line; blank and comment lines add nothing. */
static void
rules_parse_line(struct rules_load *rl, const char *s, size_t len)
{
	struct ruleset *rs = rl->rs;
	const struct rule *first;
	struct rule r;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE erroff;
	uint32_t options = 0;
	size_t pos = 0, tlen, i, namecol, patcol, plen, bad;
	int errcode, rc;
	bool ok = true;

	if (len > RULES_LINE_MAX) {
		rules_error(rl, 1, "line too long (over %d bytes)",
		    RULES_LINE_MAX);
		return;
	}
	if (!rules_utf8_valid((const unsigned char *)s, len, &bad)) {
		rules_error(rl, bad + 1, s[bad] == '\0' ? "NUL byte" :
		    "invalid UTF-8");
		return;
	}
	if (!rules_next(s, len, &pos))
		return;

	memset(&r, 0, sizeof r);
	r.min_count = 1;
	r.line = rl->line;

	tlen = rules_token(s, len, pos);
	if (!rules_token_is(s + pos, tlen, "rule")) {
		rules_error(rl, pos + 1, "expected \"rule\"");
		return;
	}
	pos += tlen;

	/* NAME */
	if (!rules_next(s, len, &pos)) {
		rules_error(rl, pos + 1, "missing rule name");
		return;
	}
	namecol = pos + 1;
	tlen = rules_token(s, len, pos);
	if (tlen > RULES_NAME_MAX) {
		rules_error(rl, namecol, "rule name longer than %d characters",
		    RULES_NAME_MAX);
		return;
	}
	for (i = 0; i < tlen; i++) {
		if ((s[pos + i] < 'A' || s[pos + i] > 'Z') &&
		    (s[pos + i] < '0' || s[pos + i] > '9') && s[pos + i] != '_') {
			rules_error(rl, pos + i + 1, "invalid character in rule "
			    "name (use A-Z, 0-9 and _)");
			return;
		}
	}
	r.name = xstrndup(s + pos, tlen);
	pos += tlen;

	/* FIELD */
	if (!rules_next(s, len, &pos)) {
		rules_error(rl, pos + 1, "missing field");
		goto fail;
	}
	tlen = rules_token(s, len, pos);
	for (i = 0; i < RULES_NFIELDS; i++)
		if (rules_token_is(s + pos, tlen, rules_fields[i].name))
			break;
	if (i == RULES_NFIELDS) {
		rules_error(rl, pos + 1, "unknown field \"%.*s\" (use body, "
		    "author, email, url, ip, user_agent, referrer, post or any)",
		    rules_clip(s + pos, tlen), s + pos);
		goto fail;
	}
	r.field = rules_fields[i].field;
	pos += tlen;

	/* /PATTERN/FLAGS */
	if (!rules_next(s, len, &pos) || s[pos] != '/') {
		rules_error(rl, pos + 1, "expected /pattern/");
		goto fail;
	}
	patcol = pos + 2;
	for (i = pos + 1; i < len && s[i] != '/'; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
	}
	if (i >= len) {
		rules_error(rl, pos + 1, "unterminated pattern (a / inside "
		    "it is written \\/)");
		goto fail;
	}
	plen = i - (pos + 1);
	if (plen == 0) {
		rules_error(rl, pos + 1, "empty pattern");
		goto fail;
	}
	r.pattern = xstrndup(s + pos + 1, plen);
	pos = i + 1;
	tlen = rules_token(s, len, pos);
	for (i = 0; i < tlen; i++) {
		size_t f;

		for (f = 0; f < RULES_NFLAGS; f++)
			if (s[pos + i] == rules_flags[f].flag)
				break;
		if (f == RULES_NFLAGS) {
			if ((unsigned char)s[pos + i] >= 0x21 &&
			    (unsigned char)s[pos + i] < 0x7f)
				rules_error(rl, pos + i + 1, "unknown flag '%c' "
				    "(use i, m, s, x or u)", s[pos + i]);
			else
				rules_error(rl, pos + i + 1, "unknown flag "
				    "(use i, m, s, x or u)");
			goto fail;
		}
		options |= rules_flags[f].option;
	}
	for (i = 0, tlen = 0; i < RULES_NFLAGS; i++)
		if (options & rules_flags[i].option)
			r.flags[tlen++] = rules_flags[i].flag;
	pos += rules_token(s, len, pos);

	/* score N */
	if (!rules_next(s, len, &pos)) {
		rules_error(rl, pos + 1, "missing score");
		goto fail;
	}
	tlen = rules_token(s, len, pos);
	if (!rules_token_is(s + pos, tlen, "score")) {
		rules_error(rl, pos + 1, "expected \"score\"");
		goto fail;
	}
	pos += tlen;
	if (!rules_next(s, len, &pos)) {
		rules_error(rl, pos + 1, "missing score value");
		goto fail;
	}
	tlen = rules_token(s, len, pos);
	if (rules_parse_score(s + pos, tlen, &r.score) != 0) {
		rules_error(rl, pos + 1, "invalid score \"%.*s\" (a number "
		    "from -%d to %d)", rules_clip(s + pos, tlen), s + pos,
		    RULES_SCORE_MAX, RULES_SCORE_MAX);
		goto fail;
	}
	pos += tlen;

	/* [count>=K] ["description"] */
	if (rules_next(s, len, &pos) && s[pos] != '"') {
		tlen = rules_token(s, len, pos);
		if (tlen >= 5 && memcmp(s + pos, "count", 5) == 0) {
			if (rules_parse_count(s + pos, tlen, &r.min_count)) {
				rules_error(rl, pos + 1, "invalid count (use "
				    "count>=K, K from 1 to %d)",
				    RULES_COUNT_MAX);
				goto fail;
			}
			pos += tlen;
		} else {
			rules_error(rl, pos + 1, "unexpected \"%.*s\"",
			    rules_clip(s + pos, tlen), s + pos);
			goto fail;
		}
	}
	if (rules_next(s, len, &pos)) {
		if (s[pos] != '"') {
			tlen = rules_token(s, len, pos);
			rules_error(rl, pos + 1, "unexpected \"%.*s\"",
			    rules_clip(s + pos, tlen), s + pos);
			goto fail;
		}
		if ((r.description = rules_parse_description(rl, s, len,
		    &pos)) == NULL)
			goto fail;
	} else
		r.description = xstrdup("");

	if ((first = rules_names_find(rl, r.name)) != NULL) {
		rules_error(rl, namecol, "duplicate rule name %s (first "
		    "defined at %s:%u)", r.name, first->path, first->line);
		ok = false;
	}
	if (ok && rs->nrules == RULES_RULE_MAX) {
		if (!rl->full)
			rules_error(rl, namecol, "too many rules (limit %d)",
			    RULES_RULE_MAX);
		rl->full = true;
		goto fail;
	}

	/* Compile even after a duplicate, to report pattern errors too. */
	r.code = pcre2_compile((PCRE2_SPTR)r.pattern, plen,
	    PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | options, &errcode, &erroff,
	    NULL);
	if (r.code == NULL) {
		pcre2_get_error_message(errcode, msg, sizeof msg);
		rules_error(rl, patcol + erroff, "bad pattern: %s",
		    (const char *)msg);
		goto fail;
	}
	if (!ok)
		goto fail;
	if ((rc = pcre2_jit_compile(r.code, PCRE2_JIT_COMPLETE)) != 0) {
		pcre2_get_error_message(rc, msg, sizeof msg);
		log_debug("rule %s: no JIT (%s), using the interpreter",
		    r.name, (const char *)msg);
	}

	if (rs->nrules == rs->cap) {
		rs->cap = rs->cap == 0 ? 64 : rs->cap * 2;
		rs->rules = xreallocarray(rs->rules, rs->cap, sizeof *rs->rules);
	}
	r.path = rl->path;
	r.file = strrchr(r.path, '/') != NULL ? strrchr(r.path, '/') + 1 :
	    r.path;
	rs->rules[rs->nrules] = r;
	rules_names_add(rl, rs->nrules);
	rs->nrules++;
	return;

fail:
	rules_rule_free(&r);
}

static struct ruleset *
rules_new(void)
{
	struct ruleset *rs;

	rs = xcalloc(1, sizeof *rs);
	rs->refs = 1;
	if ((rs->md = pcre2_match_data_create(1, NULL)) == NULL ||
	    (rs->mctx = pcre2_match_context_create(NULL)) == NULL)
		fatalx("pcre2: out of memory");
	pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT);
	pcre2_set_heap_limit(rs->mctx, RULES_HEAP_LIMIT);
	/* NULL when PCRE2 was built without JIT: the interpreter runs. */
	rs->jit_stack = pcre2_jit_stack_create(RULES_JIT_STACK_START,
	    RULES_JIT_STACK_MAX, NULL);
	if (rs->jit_stack != NULL)
		pcre2_jit_stack_assign(rs->mctx, NULL, rs->jit_stack);
	return rs;
}

/* Parse a whole buffer, line by line, as the file named path. */
static void
rules_parse_buffer(struct rules_load *rl, const char *path, const char *buf,
    size_t len)
{
	struct ruleset *rs = rl->rs;
	const char *s = buf, *end = buf + len, *nl;
	size_t n;

	rs->files = xreallocarray(rs->files, rs->nfiles + 1,
	    sizeof *rs->files);
	rs->files[rs->nfiles] = xstrdup(path);
	rl->path = rs->files[rs->nfiles++];
	rl->line = 0;

	while (s < end) {
		rl->line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		rules_parse_line(rl, s, n);
		s = nl + 1;
	}
}

/* Read a whole file and parse it; errors go to rl. */
static void
rules_load_file(struct rules_load *rl, const char *path)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd;

	rl->path = path;
	rl->line = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rules_error(rl, 0, "%s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1) {
		rules_error(rl, 0, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rules_error(rl, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > RULES_FILE_MAX) {
		rules_error(rl, 0, "file too large (over %d bytes)",
		    RULES_FILE_MAX);
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > RULES_FILE_MAX) {
				rules_error(rl, 0, "file too large (over %d "
				    "bytes)", RULES_FILE_MAX);
				goto out;
			}
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rules_error(rl, 0, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rules_parse_buffer(rl, path, buf, len);
out:
	free(buf);
	close(fd);
}

/* The field mask of a rule for the prefilter. */
static uint32_t
rules_field_mask(const struct rule *r)
{
	uint32_t mask = 0;
	size_t j;

	if (r->field != RULES_FIELD_ANY)
		return (uint32_t)1 << r->field;
	for (j = 0; j < RULES_NANY; j++)
		mask |= (uint32_t)1 << rules_any_fields[j];
	return mask;
}

/* Hand back the rule set, or NULL and the errors. */
static struct ruleset *
rules_finish(struct rules_load *rl, char **errors)
{
	struct ruleset *rs = rl->rs;
	char *more;
	size_t i;

	free(rl->names);
	if (rl->nerrors == 0) {
		if (errors != NULL)
			*errors = NULL;
		rs->pf = prefilter_new();
		for (i = 0; i < rs->nrules; i++)
			prefilter_add(rs->pf, i, rules_field_mask(&rs->rules[i]),
			    rs->rules[i].pattern, strlen(rs->rules[i].pattern),
			    rs->rules[i].flags);
		prefilter_build(rs->pf);
		rs->prefilter = true;
		return rs;
	}
	if (rl->nerrors > RULES_ERRORS_MAX) {
		xasprintf(&more, "%s\n... and %u more errors", rl->errors,
		    rl->nerrors - RULES_ERRORS_MAX);
		free(rl->errors);
		rl->errors = more;
	}
	if (errors != NULL)
		*errors = rl->errors;
	else
		free(rl->errors);
	ruleset_unref(rl->rs);
	return NULL;
}

static int
rules_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	/* Like the shell's *.rules: no dot files. */
	return d->d_name[0] != '.' && n > 6 &&
	    strcmp(d->d_name + n - 6, ".rules") == 0;
}

static int
rules_compare(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

struct ruleset *
ruleset_load(const char *dir, char **errors)
{
	struct rules_load rl;
	struct dirent **list;
	struct stat st;
	char *path;
	size_t dlen;
	int i, n;

	memset(&rl, 0, sizeof rl);
	rl.rs = rules_new();
	rl.path = dir;
	if (stat(dir, &st) == -1) {
		rules_error(&rl, 0, "%s", strerror(errno));
		return rules_finish(&rl, errors);
	}
	if (S_ISREG(st.st_mode)) {
		rules_load_file(&rl, dir);
		return rules_finish(&rl, errors);
	}
	if (!S_ISDIR(st.st_mode)) {
		rules_error(&rl, 0, "not a directory or a regular file");
		return rules_finish(&rl, errors);
	}
	if ((n = scandir(dir, &list, rules_filter, rules_compare)) == -1) {
		rules_error(&rl, 0, "%s", strerror(errno));
		return rules_finish(&rl, errors);
	}
	dlen = strlen(dir);
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s%s%s", dir,
		    dlen > 0 && dir[dlen - 1] == '/' ? "" : "/",
		    list[i]->d_name);
		/* Skip directories and such that happen to end in .rules. */
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
			log_debug("%s: not a regular file, skipped", path);
		else
			rules_load_file(&rl, path);
		free(path);
		free(list[i]);
	}
	free(list);
	return rules_finish(&rl, errors);
}

struct ruleset *
ruleset_load_buffer(const char *name, const char *buf, size_t len,
    char **errors)
{
	struct rules_load rl;

	memset(&rl, 0, sizeof rl);
	rl.rs = rules_new();
	rules_parse_buffer(&rl, name, buf, len);
	return rules_finish(&rl, errors);
}

struct ruleset *
ruleset_ref(struct ruleset *rs)
{
	if (rs != NULL)
		rs->refs++;
	return rs;
}

void
ruleset_unref(struct ruleset *rs)
{
	size_t i;

	if (rs == NULL || --rs->refs > 0)
		return;
	for (i = 0; i < rs->nrules; i++)
		rules_rule_free(&rs->rules[i]);
	free(rs->rules);
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	pcre2_match_data_free(rs->md);
	pcre2_match_context_free(rs->mctx);
	pcre2_jit_stack_free(rs->jit_stack);
	prefilter_free(rs->pf);
	free(rs);
}

void
ruleset_set_prefilter(struct ruleset *rs, bool on)
{
	rs->prefilter = on && rs->pf != NULL;
}

size_t
ruleset_count(const struct ruleset *rs)
{
	return rs->nrules;
}

static const char *
rules_field_name(int field)
{
	size_t i;

	for (i = 0; i < RULES_NFIELDS; i++)
		if (rules_fields[i].field == field)
			return rules_fields[i].name;
	return "?";
}

void
ruleset_rule(const struct ruleset *rs, size_t i, struct rule_info *out)
{
	const struct rule *r;

	if (i >= rs->nrules)
		fatalx("%s: rule %zu of %zu", __func__, i, rs->nrules);
	r = &rs->rules[i];
	out->name = r->name;
	out->field = rules_field_name(r->field);
	out->pattern = r->pattern;
	out->flags = r->flags;
	out->score = r->score;
	out->min_count = r->min_count;
	out->description = r->description;
	out->file = r->file;
	out->line = r->line;
}

/*
 * Count matches of r in one field, up to want in total (*count carries the
 * count over the fields of "any").  Returns 0 or a PCRE2 error code.
 */
static int
rules_match(struct ruleset *rs, const struct rule *r, const char *subject,
    size_t len, unsigned int want, unsigned int *count)
{
	PCRE2_SIZE start = 0, *ov;
	uint32_t options = PCRE2_NO_UTF_CHECK;
	int rc;

	while (*count < want) {
		rc = pcre2_match(r->code, (PCRE2_SPTR)subject, len, start,
		    options, rs->md, rs->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0)
			return rc;
		(*count)++;
		ov = pcre2_get_ovector_pointer(rs->md);
		if (ov[1] < start)
			return 0;
		/*
		 * After an empty match, look again from the same place for
		 * a non-empty one (as Perl does); this also steps over whole
		 * UTF-8 characters.
		 */
		options = PCRE2_NO_UTF_CHECK;
		if (ov[0] == ov[1]) {
			if (ov[1] >= len)
				return 0;
			options |= PCRE2_NOTEMPTY_ATSTART;
		}
		start = ov[1];
	}
	return 0;
}

/* The text of a field, or NULL if absent or not UTF-8 (checked once). */
static const char *
rules_subject(const struct comment *c, enum comment_field f,
    signed char *valid, size_t *len)
{
	if (c->field[f] == NULL)
		return NULL;
	if (valid[f] == 0) {
		valid[f] = rules_utf8_valid((const unsigned char *)c->field[f],
		    c->len[f], NULL) ? 1 : -1;
		if (valid[f] < 0)
			log_debug("field %s is not UTF-8, no rule matches it",
			    rules_field_name((int)f));
	}
	if (valid[f] < 0)
		return NULL;
	*len = c->len[f];
	return c->field[f];
}

int
ruleset_score(struct ruleset *rs, const struct comment *c, struct score *s)
{
	signed char valid[CF__COUNT] = { 0 };
	const struct rule *r;
	const char *subject;
	PCRE2_UCHAR msg[256];
	unsigned int count;
	size_t i, j, len;
	int rc, limited = 0;

	if (rs->prefilter) {
		prefilter_begin(rs->pf);
		for (j = 0; j < RULES_NANY; j++) {
			if ((prefilter_fields(rs->pf) &
			    ((uint32_t)1 << rules_any_fields[j])) == 0)
				continue;
			subject = rules_subject(c, rules_any_fields[j], valid,
			    &len);
			if (subject != NULL)
				prefilter_scan(rs->pf, rules_any_fields[j],
				    subject, len);
		}
		prefilter_end(rs->pf);
	}
	for (i = 0; i < rs->nrules; i++) {
		/* Skip the rules the prefilter showed cannot match. */
		if (rs->prefilter && !prefilter_next(rs->pf, &i))
			break;
		r = &rs->rules[i];
		count = 0;
		rc = 0;
		if (r->field == RULES_FIELD_ANY) {
			for (j = 0; j < RULES_NANY && count < r->min_count;
			    j++) {
				subject = rules_subject(c, rules_any_fields[j],
				    valid, &len);
				if (subject != NULL && (rc = rules_match(rs, r,
				    subject, len, r->min_count, &count)) != 0)
					break;
			}
		} else {
			subject = rules_subject(c, (enum comment_field)r->field,
			    valid, &len);
			if (subject != NULL)
				rc = rules_match(rs, r, subject, len,
				    r->min_count, &count);
		}
		if (rc != 0) {
			pcre2_get_error_message(rc, msg, sizeof msg);
			log_warnx("rule %s: %s, counted as no match", r->name,
			    (const char *)msg);
			limited++;
			continue;
		}
		if (count >= r->min_count)
			score_add(s, r->name, r->score, count);
	}
	return limited;
}
