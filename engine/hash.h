/* hash.h: sha256 (OpenSSL EVP) with hex output, for model hashes and sweep fingerprints. */
#ifndef SS_HASH_H
#define SS_HASH_H

#include <stddef.h>

#include "status.h"

typedef struct ss_sha256 ss_sha256;

ss_sha256 *ss_sha256_new(void); /* NULL on allocation failure */
void ss_sha256_update(ss_sha256 *h, const void *data, size_t n);
void ss_sha256_str(ss_sha256 *h, const char *s); /* s and its terminating NUL, so fields cannot run together */
void ss_sha256_final(ss_sha256 *h, char hex[65]); /* writes the digest and frees h */
/* Hashes a whole file by streaming it (into an open context, so several files can be chained). */
ss_status ss_sha256_file(ss_sha256 *h, const char *path);

#endif
