/* RFC 4180 records, parsed in place. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "csv.h"

void
csv_init(struct csv_reader *r, char *buf, size_t len)
{
	r->p = buf;
	r->end = buf + len;
	r->line = 1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r->p += 3;
}

int
csv_next(struct csv_reader *r, struct csv_record *rec)
{
	char *p = r->p, *end = r->end, *w, *start;
	bool closed;

	rec->n = 0;
	rec->line = r->line;
	rec->error = NULL;
	if (p >= end)
		return 0;
	for (;;) {
		start = w = p;
		if (p < end && *p == '"') {
			p++;
			closed = false;
			while (p < end) {
				if (*p == '"' && p + 1 < end && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					closed = true;
					break;
				} else {
					if (*p == '\n')
						r->line++;
					*w++ = *p++;
				}
			}
			if (!closed)
				rec->error = "a quoted field is not closed";
			while (p < end && *p != ',' && *p != '\n' && *p != '\r')
				*w++ = *p++;
		} else {
			while (p < end && *p != ',' && *p != '\n' && *p != '\r')
				*w++ = *p++;
		}
		if (rec->n < CSV_MAX_FIELDS) {
			rec->field[rec->n] = start;
			rec->len[rec->n] = (size_t)(w - start);
		}
		rec->n++;
		if (p < end && *p == ',') {
			*w = '\0';
			p++;
			continue;
		}
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n') {
			p++;
			r->line++;
		}
		*w = '\0';
		break;
	}
	r->p = p;
	return 1;
}

int
csv_column(const struct csv_record *header, const char *name)
{
	int i;

	for (i = 0; i < header->n && i < CSV_MAX_FIELDS; i++)
		if (strcasecmp(header->field[i], name) == 0)
			return i;
	return -1;
}
