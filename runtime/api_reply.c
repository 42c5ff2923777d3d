/*
 * api_reply.c - the one encoder-and-sender of api.reply frames (see
 * api_reply.h), used by authd, telemetryd and logd for every answer to
 * an HTTP API call. It runs on the daemon's loop thread, holds no state,
 * and leaves no copy of a body or token behind in freed memory: authd's
 * bodies may carry a session token.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api_reply.h"
#include "ipc.h"

/* s_text_free - wipe and free a json_dumps text with jansson's own free */
static void s_text_free(char *text)
{
	json_free_t free_fn;

	if (!text)
		return;
	explicit_bzero(text, strlen(text));
	json_get_alloc_funcs(NULL, &free_fn);
	free_fn(text);
}

static void s_extra(struct ipc_api_reply *m, const struct ipc_api_reply_extra *x)
{
	if (x->set_token) {
		snprintf(m->set_token, sizeof(m->set_token), "%s", x->set_token);
		m->token_max_age = x->token_max_age;
		m->has_token_max_age = true;
	}
	m->clear_token = x->clear_token;
	if (x->retry_after > 0) {
		m->retry_after = x->retry_after;
		m->has_retry_after = true;
	}
}

/* s_send - encode m and hand it to rpc_reply; the encoder's error, req untouched then */
static int s_send(struct rpc_request *req, struct ipc_api_reply *m)
{
	struct ipc_buf out;
	int r;

	ipc_buf_init(&out);
	r = ipc_encode_api_reply(&out, rpc_request_id(req), m);
	explicit_bzero(m->set_token, sizeof(m->set_token));
	if (r == 0)
		(void)rpc_reply(req, out.data, out.size);
	if (out.data)
		explicit_bzero(out.data, out.size);
	ipc_buf_done(&out);
	return r;
}

/* ipc_api_reply_send - api.reply{status, compact JSON of body (NULL: empty), extra}; frees req */
int ipc_api_reply_send(struct rpc_request *req, int status, const struct json_t *body,
		       const struct ipc_api_reply_extra *extra)
{
	struct ipc_api_reply m = { .status = status, .body = (char *)"", .body_len = 0 };
	char *text = NULL;
	int r = -ENOMEM;

	if (!req)
		return -EINVAL;
	if (body)
		text = json_dumps(body, JSON_COMPACT);
	if (!body || text) {
		if (text) {
			m.body = text;
			m.body_len = strlen(text);
		}
		if (extra)
			s_extra(&m, extra);
		r = s_send(req, &m);
	}
	s_text_free(text);
	if (r < 0)
		(void)rpc_reply_error(req, "internal", "cannot encode the answer");
	return r;
}

/* ipc_api_reply_error - api.reply{status, {"error": code, "message": message}}; frees req */
int ipc_api_reply_error(struct rpc_request *req, int status, const char *code,
			const char *message)
{
	json_t *body = json_pack("{s:s, s:s}", "error", code, "message", message);
	int r;

	if (!body) {
		(void)rpc_reply_error(req, "internal", "out of memory");
		return -ENOMEM;
	}
	r = ipc_api_reply_send(req, status, body, NULL);
	json_decref(body);
	return r;
}
