/*
 * openapi.c - GET /api/openapi.json: the OpenAPI 3.1 document of the HTTP
 * API (docs/openapi.json, linked in by openapi_doc.S), answered as it is,
 * without any backend; and --routes, the route table printed for the
 * test that holds the document to it (tests/integration/test_openapi.py).
 */
#include <errno.h>
#include <stdio.h>

#include "ingressd.h"

extern const char ingress_openapi_start[];
extern const char ingress_openapi_end[];

/* ingress_handle_openapi - GET /api/openapi.json */
void ingress_handle_openapi(struct ingress *app, struct http_exchange *ex)
{
	(void)app;
	http_respond(ex, 200, "application/json; charset=utf-8", ingress_openapi_start,
		     (size_t)(ingress_openapi_end - ingress_openapi_start), NULL, 0);
}

/* ingress_print_routes - "METHOD PATH" per line, the table's order; 0 or -EIO */
int ingress_print_routes(FILE *out)
{
	for (size_t i = 0; i < ingress_n_routes; i++)
		fprintf(out, "%s %s\n", ingress_routes[i].method, ingress_routes[i].pattern);
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
