/*
 * Logging to stderr or syslog.  Under systemd (JOURNAL_STREAM set) stderr
 * lines carry no timestamp, the journal adds its own.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "utf8.h"

static const char *log_progname = "heinzel";
static enum log_level log_level = LOG_LEVEL_INFO;
static int log_syslog;
static int log_timestamps = 1;

static const char *const log_level_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *progname, enum log_level level, int use_syslog)
{
	log_progname = progname;
	log_level = level;
	log_syslog = use_syslog;
	log_timestamps = getenv("JOURNAL_STREAM") == NULL;
	if (log_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof log_level_names / sizeof log_level_names[0]; i++)
		if (strcasecmp(name, log_level_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * Copy msg to out (at least 4 * strlen(msg) + 1 bytes) with every control
 * character, bidi control and byte that is not UTF-8 written as \xNN:
 * a log line is one line, and a request URI or a Redis error cannot send
 * escape sequences to whoever reads the log on a terminal.
 */
static void
log_escape(const char *msg, char *out)
{
	size_t len = strlen(msg), n, i;
	unsigned int cp;

	while (len > 0) {
		n = utf8_decode(msg, len, &cp);
		if (n == 0 || utf8_is_control(cp) || utf8_is_bidi_control(cp)) {
			if (n == 0)
				n = 1;
			for (i = 0; i < n; i++)
				out += sprintf(out, "\\x%02x",
				    (unsigned char)msg[i]);
		} else {
			memcpy(out, msg, n);
			out += n;
		}
		msg += n;
		len -= n;
	}
	*out = '\0';
}

/* Write one line; errnum >= 0 appends its strerror. */
static void log_vwrite(enum log_level level, int errnum, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char raw[2048], msg[4 * sizeof raw];
	char stamp[32];
	struct tm tm;
	time_t now;
	size_t n;

	if (level > log_level)
		return;
	vsnprintf(raw, sizeof raw, fmt, ap);
	if (errnum >= 0) {
		n = strlen(raw);
		snprintf(raw + n, sizeof raw - n, ": %s", strerror(errnum));
	}
	log_escape(raw, msg);
	if (log_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	if (log_timestamps) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s %s[%s]: %s\n", stamp, log_progname,
		    log_level_names[level], msg);
	} else
		fprintf(stderr, "<%d>%s\n", prio[level], msg);
}

#define LOG_BODY(level, errnum)				\
	do {						\
		va_list ap;				\
		va_start(ap, fmt);			\
		log_vwrite(level, errnum, fmt, ap);	\
		va_end(ap);				\
	} while (0)

void
log_errx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, -1);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LEVEL_WARN, saved);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, -1);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, -1);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, -1);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LEVEL_ERROR, saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, -1);
	exit(1);
}
