/*
 * common_passwords.h - the bytes of data/common-passwords.txt, linked in
 * by common_passwords.S: lower-case entries, one per line. Only
 * validate.c (and its unit test) reads them.
 */
#ifndef SEMBARK_AUTHD_COMMON_PASSWORDS_H
#define SEMBARK_AUTHD_COMMON_PASSWORDS_H

extern const char authd_common_passwords_start[];
extern const char authd_common_passwords_end[];

#endif
