/*
 * tls.c - sembark-ingressd's TLS server context (OpenSSL 3): TLS 1.2 and
 * 1.3 only; for TLS 1.2 only ECDHE key exchange with AEAD ciphers, TLS 1.3
 * with its default suites; the server's preference order, no
 * renegotiation, no compression, no session resumption (no session cache,
 * no tickets in either version). The certificate chain comes from
 * [ingress] tls_cert_file, the private key from the credential tls-key or
 * [ingress] tls_key_file (read through secret_load, parsed from memory,
 * then wiped). Key material is never logged.
 */
#include <errno.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "config.h"
#include "ingressd.h"
#include "log.h"
#include "macro.h"
#include "secret.h"

#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

#define TLS_OPTIONS \
	(SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | \
	 SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION | SSL_OP_NO_TICKET)

/* s_ctx_new - the context with protocol versions, suites and options set */
static SSL_CTX *s_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, TLS_OPTIONS);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* no resumption: SSL_OP_NO_TICKET stops TLS 1.2 tickets (stateless
	 * resumption); num_tickets 0 stops TLS 1.3's NewSessionTicket; with the
	 * cache off no session ID is remembered either */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}

static int s_load_cert(SSL_CTX *ctx, const char *path)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1)
		return log_error_errno(-EINVAL, "Failed to load the TLS certificate chain "
				       "([ingress] tls_cert_file, PEM)", LOG_S("path", path));
	return 0;
}

/* s_parse_key - the PEM private key in sec, parsed from memory */
static EVP_PKEY *s_parse_key(const struct secret *sec)
{
	BIO *bio = BIO_new_mem_buf(sec->data, (int)MIN(sec->len, (size_t)SECRET_MAX));
	EVP_PKEY *key;

	if (!bio)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return key;
}

static int s_load_key_secret(const char *path, struct secret **ret)
{
	int r = secret_load("tls-key", path, ret);

	if (r == -ENOENT)
		return log_error_errno(r, "No TLS key: set [ingress] tls_key_file or pass the "
				       "credential tls-key", LOG_S("path", path));
	if (r == -EPERM)
		return log_error_errno(r, "The TLS key file is readable by group or others: "
				       "make it mode 0600", LOG_S("path", path));
	if (r < 0)
		return log_error_errno(r, "Failed to read the TLS key ([ingress] tls_key_file)",
				       LOG_S("path", path));
	return 0;
}

static int s_load_key(SSL_CTX *ctx, const char *path)
{
	_cleanup_(secret_freep) struct secret *sec = NULL;
	EVP_PKEY *key;
	int r = s_load_key_secret(path, &sec);

	if (r < 0)
		return r;
	key = s_parse_key(sec);
	sec = secret_free(sec);
	if (!key)
		return log_error_errno(-EINVAL, "The TLS key is not a PEM private key "
				       "([ingress] tls_key_file)", LOG_S("path", path));
	r = SSL_CTX_use_PrivateKey(ctx, key) == 1 ? 0 : -EINVAL;
	EVP_PKEY_free(key);
	if (r < 0 || SSL_CTX_check_private_key(ctx) != 1)
		return log_error_errno(-EINVAL, "The TLS key does not match the certificate "
				       "([ingress] tls_key_file, tls_cert_file)", LOG_S("path", path));
	return 0;
}

/* ingress_tls_new - the server context for cfg's certificate and key */
int ingress_tls_new(const struct sembark_config *cfg, SSL_CTX **ret)
{
	SSL_CTX *ctx = s_ctx_new();
	int r;

	if (!ctx) {
		ERR_clear_error();
		return log_error_errno(-ENOMEM, "Failed to set up TLS");
	}
	r = s_load_cert(ctx, cfg->ingress.tls_cert_file);
	if (r >= 0)
		r = s_load_key(ctx, cfg->ingress.tls_key_file);
	ERR_clear_error(); /* nothing of OpenSSL's queue is logged: it may quote key data */
	if (r < 0) {
		SSL_CTX_free(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

/* ingress_tls_free - accepts NULL; returns NULL */
SSL_CTX *ingress_tls_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
	return NULL;
}
