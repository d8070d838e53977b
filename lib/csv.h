/*
 * CSV as RFC 4180 writes it (and spreadsheets export it): fields plain or
 * quoted, "" for a quote and line breaks inside quotes, CRLF or LF.
 * Parsed in place in a buffer the caller owns.  Shared by heinzelctl
 * learn and the benchmarks' corpus reader.
 */
#ifndef HEINZEL_CSV_H
#define HEINZEL_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 32	/* fields kept per record; more are counted */

struct csv_reader {
	char *p, *end;
	unsigned long line;	/* the line the next record starts on, from 1 */
};

struct csv_record {
	int n;			/* fields in the record, kept or not */
	char *field[CSV_MAX_FIELDS];	/* NUL-terminated, in the buffer */
	size_t len[CSV_MAX_FIELDS];
	unsigned long line;	/* where the record starts */
	const char *error;	/* NULL, or what is wrong with it */
};

/* Read buf[0..len) (a UTF-8 byte order mark is skipped); buf[len] is NUL. */
void csv_init(struct csv_reader *r, char *buf, size_t len);

/*
 * The next record: 1, or 0 at the end (rec then has no fields).  A quoted field not closed before
 * the end sets error (the record runs to the end); text after a closing
 * quote is kept, as spreadsheets read it.
 */
int csv_next(struct csv_reader *r, struct csv_record *rec);

/* The column of a header record named name (any case), or -1. */
int csv_column(const struct csv_record *header, const char *name);

/* A record of one empty field: an empty line. */
#define csv_blank(rec) ((rec)->n == 1 && (rec)->len[0] == 0)

#endif
