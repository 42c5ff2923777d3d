/*
 * tls.c - sembark-ingressd's TLS server context (OpenSSL 3): TLS 1.2 and
 * 1.3 only; for TLS 1.2 only ECDHE key exchange with AEAD ciphers, TLS 1.3
 * with its default suites; the server's preference order, no
 * renegotiation, no compression, no session resumption (no session cache,
 * no tickets in either version). The certificate chain comes from
 * [ingress] tls_cert_file, the private key from the credential tls-key or
 * [ingress] tls_key_file (read through secret_load, parsed from memory,
 * then wiped). Key material is never logged.
 *
 * Certificate renewal (ingress_tls_reload, on SIGHUP): the same two
 * sources are read again into a new context. A pair that does not load
 * (unreadable, not PEM, key not matching, certificate expired) is refused
 * with one log line and the caller keeps the context it has. Connections
 * already open hold their own reference to the context they were accepted
 * with (SSL_new takes one), so they finish on the old certificate. What is
 * logged of a certificate is public (what every client sees): subject,
 * notAfter, SHA-256 fingerprint; a subject whose CN is an IP address is
 * not spelled out (no addresses in the log).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

#define KEY_CREDENTIAL "tls-key"
#define SUBJECT_IS_IP "(an IP address)"

/* Why a certificate and key cannot be used: fixed texts, never key data. */
struct tls_failure {
	int r;              /* -errno */
	const char *reason; /* what is wrong and what to do */
	const char *path;   /* the file it is about ("" for the credential) */
};

static int s_fail(struct tls_failure *f, int r, const char *reason, const char *path)
{
	*f = (struct tls_failure){ .r = r, .reason = reason, .path = path ? path : "" };
	return r;
}

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

static int s_load_cert(SSL_CTX *ctx, const char *path, struct tls_failure *f)
{
	FILE *probe = fopen(path, "re");

	if (!probe)
		return s_fail(f, -errno, "Cannot read the TLS certificate chain "
			      "([ingress] tls_cert_file)", path);
	fclose(probe);
	if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1)
		return s_fail(f, -EINVAL, "The TLS certificate chain is not PEM certificates "
			      "([ingress] tls_cert_file)", path);
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

static int s_load_key_secret(const char *path, struct secret **ret, struct tls_failure *f)
{
	int r = secret_load(KEY_CREDENTIAL, path, ret);

	if (r == -ENOENT)
		return s_fail(f, r, "No TLS key: set [ingress] tls_key_file or pass the "
			      "credential tls-key", path);
	if (r == -EPERM)
		return s_fail(f, r, "The TLS key file is readable by group or others: "
			      "make it mode 0600", path);
	if (r < 0)
		return s_fail(f, r, "Cannot read the TLS key ([ingress] tls_key_file)", path);
	return 0;
}

/* s_mismatch_reason - the credential is copied at start: say so when it is the one used */
static const char *s_mismatch_reason(void)
{
	if (secret_credential_present(KEY_CREDENTIAL))
		return "The TLS key (credential tls-key, read at start only: restart to "
		       "change it) does not match the certificate";
	return "The TLS key does not match the certificate ([ingress] tls_key_file, "
	       "tls_cert_file)";
}

static int s_load_key(SSL_CTX *ctx, const char *path, struct tls_failure *f)
{
	_cleanup_(secret_freep) struct secret *sec = NULL;
	EVP_PKEY *key;
	int r = s_load_key_secret(path, &sec, f);

	if (r < 0)
		return r;
	key = s_parse_key(sec);
	sec = secret_free(sec);
	if (!key)
		return s_fail(f, -EINVAL, "The TLS key is not a PEM private key "
			      "([ingress] tls_key_file)", path);
	r = SSL_CTX_use_PrivateKey(ctx, key) == 1 ? 0 : -EINVAL;
	EVP_PKEY_free(key);
	if (r < 0 || SSL_CTX_check_private_key(ctx) != 1)
		return s_fail(f, -EINVAL, s_mismatch_reason(), path);
	return 0;
}

/*
 * s_build - a context for cfg's certificate and key, or why not in f;
 * with refuse_expired an expired certificate is refused as well
 */
static int s_build(const struct sembark_config *cfg, bool refuse_expired, SSL_CTX **ret,
		   struct tls_cert_info *info, struct tls_failure *f)
{
	SSL_CTX *ctx = s_ctx_new();
	int r;

	if (!ctx) {
		ERR_clear_error();
		return s_fail(f, -ENOMEM, "Failed to set up TLS", "");
	}
	r = s_load_cert(ctx, cfg->ingress.tls_cert_file, f);
	if (r >= 0)
		r = s_load_key(ctx, cfg->ingress.tls_key_file, f);
	if (r >= 0 && ingress_tls_describe(SSL_CTX_get0_certificate(ctx), info) < 0)
		r = s_fail(f, -EINVAL, "Cannot read the TLS certificate's subject, notAfter or "
			   "fingerprint", cfg->ingress.tls_cert_file);
	if (r >= 0 && refuse_expired && info->expired)
		r = s_fail(f, -EINVAL, "The TLS certificate has expired",
			   cfg->ingress.tls_cert_file);
	ERR_clear_error(); /* nothing of OpenSSL's queue is logged: it may quote key data */
	if (r < 0) {
		SSL_CTX_free(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

static void s_log_cert(const char *msg, const struct tls_cert_info *info)
{
	const char *key_source = secret_credential_present(KEY_CREDENTIAL) ? "credential" : "file";

	log_info(msg, LOG_S("subject", info->subject), LOG_S("not_after", info->not_after),
		 LOG_S("sha256", info->sha256), LOG_S("key_source", key_source));
}

/* ingress_tls_new - the server context for cfg's certificate and key */
int ingress_tls_new(const struct sembark_config *cfg, SSL_CTX **ret)
{
	struct tls_cert_info info;
	struct tls_failure f;
	int r = s_build(cfg, false, ret, &info, &f);

	if (r < 0)
		return log_error_errno(r, f.reason, LOG_S("path", f.path));
	s_log_cert("tls certificate loaded", &info);
	if (info.expired)
		log_warning("The TLS certificate has expired: clients will refuse it; renew it and "
			    "reload (SIGHUP)", LOG_S("not_after", info.not_after));
	return 0;
}

/* ingress_tls_reload - a new context from the same files, or the old one stays */
int ingress_tls_reload(const struct sembark_config *cfg, SSL_CTX **ret)
{
	struct tls_cert_info info;
	struct tls_failure f;
	int r = s_build(cfg, true, ret, &info, &f);

	if (r < 0)
		return log_error_errno(r, "tls reload failed, the current certificate stays in use",
				       LOG_S("reason", f.reason), LOG_S("path", f.path));
	s_log_cert("tls certificate reloaded", &info);
	return 0;
}

/* ingress_tls_free - accepts NULL; returns NULL */
SSL_CTX *ingress_tls_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- what a certificate says of itself --------------------------------------- */

/* s_cn_is_ip - is any commonName of name an IPv4 or IPv6 address? */
static bool s_cn_is_ip(const X509_NAME *name)
{
	unsigned char buf[sizeof(struct in6_addr)];
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		char cn[INET6_ADDRSTRLEN + 1];
		int n = ASN1_STRING_length(s);

		if (n <= 0 || (size_t)n >= sizeof(cn))
			continue;
		memcpy(cn, ASN1_STRING_get0_data(s), (size_t)n);
		cn[n] = '\0';
		if (inet_pton(AF_INET, cn, buf) == 1 || inet_pton(AF_INET6, cn, buf) == 1)
			return true;
	}
	return false;
}

/* s_subject - the subject in RFC 2253 form (escaped), cut to size */
static int s_subject(X509 *cert, char *out, size_t size)
{
	const X509_NAME *name = X509_get_subject_name(cert);
	BIO *bio;
	int n;

	if (s_cn_is_ip(name)) {
		snprintf(out, size, "%s", SUBJECT_IS_IP);
		return 0;
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio || X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(bio);
		return -ENOMEM;
	}
	n = BIO_read(bio, out, (int)size - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
	return 0;
}

/* s_not_after - notAfter as ISO 8601 UTC */
static int s_not_after(X509 *cert, char *out, size_t size)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return -EINVAL;
	if (strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -ENOBUFS;
	return 0;
}

/* s_fingerprint - SHA-256 of the DER certificate, "AB:CD:..." as openssl x509 prints it */
static int s_fingerprint(X509 *cert, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (X509_digest(cert, EVP_sha256(), md, &n) != 1 || size < (size_t)n * 3)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		snprintf(out + i * 3, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	return 0;
}

/* ingress_tls_describe - the public facts of cert, for the log */
int ingress_tls_describe(struct x509_st *cert, struct tls_cert_info *ret)
{
	int r;

	*ret = (struct tls_cert_info){ 0 };
	if (!cert)
		return -EINVAL;
	r = s_subject(cert, ret->subject, sizeof(ret->subject));
	if (r >= 0)
		r = s_not_after(cert, ret->not_after, sizeof(ret->not_after));
	if (r >= 0)
		r = s_fingerprint(cert, ret->sha256, sizeof(ret->sha256));
	/* <0: notAfter is in the past; 0: it cannot be read, counted as expired */
	ret->expired = X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0;
	ERR_clear_error();
	return r;
}
