/*
 * fields.c - what every op handler of sembark-authd uses to read its
 * input: the fields of a JSON body (with API.md's field errors) and the
 * text columns of a result row, bounds-checked. A leaf: it calls nothing
 * else of authd. Loop thread.
 */
#include <errno.h>

#include <jansson.h>

#include "authd.h"

/* authd_one_row - res's only row into cols: 0; -ENOENT: no row or several; -EIO: a column too long */
int authd_one_row(const PGresult *res, const struct authd_col *cols, size_t n)
{
	if (PQntuples(res) != 1)
		return -ENOENT;
	return authd_get_texts(res, 0, cols, n) < 0 ? -EIO : 0;
}

/* authd_get_texts - columns 0..n-1 of row into cols; 0 or the first db_get_text error */
int authd_get_texts(const PGresult *res, int row, const struct authd_col *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = db_get_text(res, row, (int)i, cols[i].buf, cols[i].size);

		if (r < 0)
			return r;
	}
	return 0;
}

/* authd_field_set - fields[key] = why, keeping the first reason per key */
void authd_field_set(struct json_t *fields, const char *key, const char *why)
{
	if (fields && !json_object_get(fields, key))
		json_object_set_new(fields, key, json_string(why));
}

/* authd_field_str - body[key] as a string, or NULL after noting why not */
const char *authd_field_str(struct json_t *body, const char *key, struct json_t *fields,
			    bool optional, size_t *ret_len)
{
	json_t *v = body ? json_object_get(body, key) : NULL;

	if (!v || json_is_null(v)) {
		if (!optional)
			authd_field_set(fields, key, "is required");
		return NULL;
	}
	if (!json_is_string(v)) {
		authd_field_set(fields, key, "must be a string");
		return NULL;
	}
	if (ret_len)
		*ret_len = json_string_length(v);
	return json_string_value(v);
}

