/*
 * openapi_doc.S - links docs/openapi.json (the OpenAPI 3.1 document of the
 * HTTP API, written by hand) into sembark-ingressd as read-only bytes
 * between ingress_openapi_start and ingress_openapi_end, so
 * GET /api/openapi.json has no file to find at run time. openapi.c serves
 * it; the Makefile runs the assembler from the repository's root, which
 * is where the path below is relative to.
 */
	.section .rodata.ingress_openapi, "a", @progbits
	.balign 8
	.globl ingress_openapi_start
	.type ingress_openapi_start, @object
ingress_openapi_start:
	.incbin "docs/openapi.json"
	.globl ingress_openapi_end
	.type ingress_openapi_end, @object
ingress_openapi_end:
	.byte 0
	.size ingress_openapi_start, ingress_openapi_end - ingress_openapi_start
	.size ingress_openapi_end, 1

	/* no executable stack */
	.section .note.GNU-stack, "", @progbits
