/*
 * templates.S - links the mail templates of services/maild/templates/
 * (plain text: a Subject: line, a blank line, the body with {{name}},
 * {{token}} and {{origin}}) into sembark-maild as NUL-terminated read-only
 * strings, so no deployment can lose or change them. render.c names them.
 * The Makefile runs the assembler from the repository's root.
 */
	.section .rodata.maild_templates, "a", @progbits

	.globl maild_tpl_password_reset
	.type maild_tpl_password_reset, @object
maild_tpl_password_reset:
	.incbin "services/maild/templates/password_reset.txt"
	.byte 0
	.size maild_tpl_password_reset, . - maild_tpl_password_reset

	.globl maild_tpl_password_changed
	.type maild_tpl_password_changed, @object
maild_tpl_password_changed:
	.incbin "services/maild/templates/password_changed.txt"
	.byte 0
	.size maild_tpl_password_changed, . - maild_tpl_password_changed

	.globl maild_tpl_verify_email
	.type maild_tpl_verify_email, @object
maild_tpl_verify_email:
	.incbin "services/maild/templates/verify_email.txt"
	.byte 0
	.size maild_tpl_verify_email, . - maild_tpl_verify_email

	/* no executable stack */
	.section .note.GNU-stack, "", @progbits
