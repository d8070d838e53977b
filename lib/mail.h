/*
 * Internet messages for notifications: RFC 5322 headers, RFC 2047 encoded
 * words, quoted-printable UTF-8 bodies (RFC 2045).  Text from comments
 * never reaches a header as it is: control characters (CR and LF among
 * them) become spaces before encoding, and addresses are checked, never
 * copied blindly.  No I/O in here.
 */
#ifndef HEINZEL_MAIL_H
#define HEINZEL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct mail {
	const char *from;	/* "addr" or "Display Name <addr>" */
	const char *to;		/* a bare address */
	const char *subject;	/* UTF-8, any characters */
	const char *body;	/* UTF-8, \n or \r\n line breaks */
	const char *message_id;	/* "<...>", from mail_message_id() */
	time_t date;
	const char *comment_id;	/* X-Heinzel-Comment, or NULL */
	const char *kind;	/* X-Heinzel-Kind, or NULL */
};

/*
 * A plain ASCII address local@domain that is safe in a header and in RCPT
 * TO: dot-atom local part of 1 to 64 characters, a domain of letters,
 * digits, '-' and dots.  Internationalised addresses are refused.
 */
bool mail_address_valid(const char *addr);

/* The address of "addr" or "Name <addr>"; NULL if it is not valid.  Caller frees. */
char *mail_address(const char *from);

/*
 * s[0..len) quoted-printable: lines of at most 76 characters with soft
 * breaks ("=" at the end) that never split a UTF-8 character, '=' and
 * bytes outside printable ASCII as =XX, whitespace at a line's end as
 * =20 or =09, line breaks as CRLF.  Caller frees.
 */
char *mail_qp_encode(const char *s, size_t len);

/*
 * One header line "Name: value\r\n", folded.  Printable ASCII text is
 * written as it is; other text becomes RFC 2047 "=?UTF-8?B?...?=" words of
 * whole characters, each line at most 76 characters.  Control characters
 * and runs of whitespace become one space; invalid UTF-8 becomes '?'.
 * Caller frees.
 */
char *mail_header(const char *name, const char *text);

/*
 * "<ID.KIND@DOMAIN>", DOMAIN from the address in from ("heinzel" if
 * none): the same comment and kind always give the same Message-ID, so a
 * second delivery of one notification is recognisable as a duplicate.
 * Characters outside [A-Za-z0-9.-] are dropped.  Caller frees.
 */
char *mail_message_id(const char *id, const char *kind, const char *from);

/* RFC 5322 date in UTC: "Thu, 01 Jan 1970 00:00:00 +0000" (32 bytes suffice). */
void mail_date(time_t t, char *buf, size_t size);

/*
 * The whole message with CRLF line breaks: Date, From, To, Subject,
 * Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
 * Content-Transfer-Encoding quoted-printable, Auto-Submitted:
 * auto-generated (and X-Heinzel-* when given), then the body.  NULL with
 * *cause when from or to holds no valid address.  Caller frees.
 */
char *mail_build(const struct mail *m, size_t *len, const char **cause);

#endif
