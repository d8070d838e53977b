/*
 * A reader's data over HTTP, for a trusted frontend (the WordPress
 * plugin's personal data exporter and eraser): POST /v1/privacy/export
 * and /v1/privacy/erase run what `heinzelctl privacy export|erase` runs
 * (privacy.h), asynchronously on heinzeld's Redis connection.
 */
#ifndef HEINZEL_SUBJECT_H
#define HEINZEL_SUBJECT_H

#include <jansson.h>

#include "privacy.h"

struct db;
struct store;

/*
 * Called once: status 200 with the JSON (export: privacy_export_json,
 * erase: privacy_erased_json; the callee owns it), or 503 with NULL when
 * Redis failed or the address would not hold still.
 */
typedef void subject_cb(int status, json_t *body, void *arg);

/* Export or erase everything of email (copied); cb may run before this returns. */
void subject_run(struct db *db, const struct store *st,
    unsigned int ipv6_prefix, enum privacy_mode mode, const char *email,
    subject_cb *cb, void *arg);

#endif
