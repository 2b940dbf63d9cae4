/* hash.c: sha256 through OpenSSL's EVP interface. */
#include "hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

ss_sha256 *ss_sha256_new(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return NULL;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return (ss_sha256 *)ctx; /* the context is the handle */
}

void ss_sha256_update(ss_sha256 *h, const void *data, size_t n) { EVP_DigestUpdate((EVP_MD_CTX *)h, data, n); }

void ss_sha256_str(ss_sha256 *h, const char *s) { ss_sha256_update(h, s ? s : "", (s ? strlen(s) : 0) + 1); }

void ss_sha256_final(ss_sha256 *h, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex((EVP_MD_CTX *)h, md, &n);
    EVP_MD_CTX_free((EVP_MD_CTX *)h);
    for (unsigned int i = 0; i < n && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
}

ss_status ss_sha256_file(ss_sha256 *h, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ss_fail(SS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    static _Thread_local unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) ss_sha256_update(h, buf, n);
    int err = ferror(f);
    fclose(f);
    if (err) return ss_fail(SS_ERR_IO, "%s: read error", path);
    return SS_OK;
}
