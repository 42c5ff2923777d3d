/*
 * common_passwords.S - links data/common-passwords.txt (the shipped
 * common-password list, see data/README.md) into sembark-authd as
 * read-only bytes between authd_common_passwords_start and
 * authd_common_passwords_end, so authd has no file to find at run time.
 * validate.c indexes it; the Makefile runs the assembler from the
 * repository's root, which is where the path below is relative to.
 */
	.section .rodata.authd_common_passwords, "a", @progbits
	.balign 8
	.globl authd_common_passwords_start
	.type authd_common_passwords_start, @object
authd_common_passwords_start:
	.incbin "data/common-passwords.txt"
	.globl authd_common_passwords_end
	.type authd_common_passwords_end, @object
authd_common_passwords_end:
	.byte 0
	.size authd_common_passwords_start, authd_common_passwords_end - authd_common_passwords_start
	.size authd_common_passwords_end, 1

	/* no executable stack */
	.section .note.GNU-stack, "", @progbits
