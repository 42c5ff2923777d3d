/*
 * test-ingressd-tls.c - ingress_tls_describe (tls.c): what ingressd logs of
 * a certificate when it loads or reloads one. Certificates are made here
 * with OpenSSL (a fresh P-256 key, self-signed): the subject in RFC 2253
 * form, a CN that is an IP address never spelled out, notAfter as ISO 8601
 * UTC and the expired flag, the SHA-256 fingerprint of the DER as
 * `openssl x509 -fingerprint -sha256` prints it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "services/ingressd/ingressd.h"

/* s_cert - a self-signed certificate for subject entries "CN", cn [, "O", org] */
static X509 *s_cert(const char *cn, const char *org, const char *not_after)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	assert_non_null(key);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 42), 1);
	if (org)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
							    (const unsigned char *)org, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(ASN1_TIME_set_string(X509_getm_notBefore(x), "20000101000000Z"), 1);
	assert_int_equal(ASN1_TIME_set_string(X509_getm_notAfter(x), not_after), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	EVP_PKEY_free(key);
	return x;
}

/* s_expected_fingerprint - SHA-256 of i2d_X509's DER, formatted here */
static void s_expected_fingerprint(X509 *x, char out[96])
{
	unsigned char *der = NULL, md[32];
	int len = i2d_X509(x, &der);
	unsigned n = 0;

	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + i * 3, i + 1 < n ? "%02X:" : "%02X", md[i]);
	OPENSSL_free(der);
}

static void test_describe(void **state)
{
	X509 *x = s_cert("example.org", "Sembark Test", "29991231235958Z");
	struct tls_cert_info info;
	char fp[96];

	assert_int_equal(ingress_tls_describe(x, &info), 0);
	assert_string_equal(info.subject, "CN=example.org,O=Sembark Test");
	assert_string_equal(info.not_after, "2999-12-31T23:59:58Z");
	assert_false(info.expired);
	s_expected_fingerprint(x, fp);
	assert_int_equal(strlen(info.sha256), 95);
	assert_string_equal(info.sha256, fp);
	X509_free(x);
}

static void test_expired(void **state)
{
	X509 *x = s_cert("old.example.org", NULL, "200102030405Z"); /* UTCTime */
	struct tls_cert_info info;

	assert_int_equal(ingress_tls_describe(x, &info), 0);
	assert_string_equal(info.subject, "CN=old.example.org");
	assert_string_equal(info.not_after, "2020-01-02T03:04:05Z");
	assert_true(info.expired);
	X509_free(x);
}

/* No address in the log, even the server's own: a CN that is one is not spelled out. */
static void test_ip_subject_not_logged(void **state)
{
	static const char *const ips[] = { "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.7" };
	struct tls_cert_info info;

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		X509 *x = s_cert(ips[i], "Example", "29991231235959Z");

		assert_int_equal(ingress_tls_describe(x, &info), 0);
		assert_string_equal(info.subject, "(an IP address)");
		assert_null(strstr(info.subject, ips[i]));
		X509_free(x);
	}
	/* a name that merely holds digits is a name */
	X509 *x = s_cert("host-192.0.2.1.example", NULL, "29991231235959Z");

	assert_int_equal(ingress_tls_describe(x, &info), 0);
	assert_string_equal(info.subject, "CN=host-192.0.2.1.example");
	X509_free(x);
}

/* Different certificates, different fingerprints; RFC 2253 escapes what it must. */
static void test_distinct_and_escaped(void **state)
{
	X509 *a = s_cert("a.example", NULL, "29991231235959Z");
	X509 *b = s_cert("a.example", NULL, "29991231235959Z"); /* same name, new key */
	X509 *c = s_cert("x,y+z", NULL, "29991231235959Z");
	struct tls_cert_info ia, ib, ic;

	assert_int_equal(ingress_tls_describe(a, &ia), 0);
	assert_int_equal(ingress_tls_describe(b, &ib), 0);
	assert_int_equal(ingress_tls_describe(c, &ic), 0);
	assert_string_not_equal(ia.sha256, ib.sha256);
	assert_string_equal(ic.subject, "CN=x\\,y\\+z");
	X509_free(a);
	X509_free(b);
	X509_free(c);
}

static void test_null(void **state)
{
	struct tls_cert_info info;

	assert_int_equal(ingress_tls_describe(NULL, &info), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_ip_subject_not_logged),
		cmocka_unit_test(test_distinct_and_escaped),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
