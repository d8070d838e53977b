/*
 * A fault is why a request failed: the HTTP status, the error code of the
 * API ("invalid", "captcha", ...), the field at fault (or NULL) and a
 * message for people.  Request code fills one in instead of logging.
 */
#ifndef HEINZEL_FAULT_H
#define HEINZEL_FAULT_H

struct fault {
	int status;		/* HTTP status, 0 while no fault */
	const char *error;	/* static string: "bad_request", "invalid", ... */
	const char *field;	/* static string or NULL */
	char message[256];
};

/* Set the fault; always returns -1 so callers can "return fault_set(...)". */
int fault_set(struct fault *f, int status, const char *error,
    const char *field, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void fault_clear(struct fault *f);

#endif
