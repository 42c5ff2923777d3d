/*
 * fuzz-ipc.c - libFuzzer harness for ipc/codec.c, the code that reads bytes
 * from other daemons. Each input is given to ipc_peek() and to every
 * message decoder. Whatever a decoder accepts must re-encode (a decoded
 * body always satisfies the encoder's bounds), decode again, and encode to
 * the same bytes. Build and run: `make fuzz` (clang, not part of `make test`).
 * With FUZZ_IPC_SEED_DIR set, LLVMFuzzerInitialize first writes one valid
 * frame per message there (the fuzzer alone rarely guesses a whole
 * envelope).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_write_seed(const char *dir, const char *name, const struct ipc_buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(b->data, 1, b->size, f);
	fclose(f);
}

/* LLVMFuzzerInitialize - write seed frames to $FUZZ_IPC_SEED_DIR, if set */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_IPC_SEED_DIR");
	struct ipc_buf b;

	if (!dir)
		return 0;
	ipc_buf_init(&b);
#define MSG(e, wname, fields, from, to)                                    \
	{                                                                  \
		struct ipc_##fields *m = calloc(1, sizeof(*m));            \
		if (m && ipc_encode_##fields(&b, 1, m) == 0)               \
			s_write_seed(dir, wname, &b);                      \
		free(m);                                                   \
	}
#include "messages.def"
#undef MSG
	if (ipc_encode_error_reply(&b, 7, "bad_message", "x") == 0)
		s_write_seed(dir, "error-reply", &b);
	ipc_buf_done(&b);
	return 0;
}

/* decoded -> encode -> decode -> encode: both encodings identical */
#define MSG(e, wname, fields, from, to)                                                      \
	static void s_check_##fields(const uint8_t *data, size_t size)                      \
	{                                                                                    \
		struct ipc_##fields *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));        \
		struct ipc_buf x, y;                                                         \
		uint64_t id = 0, id2 = 0;                                                    \
		enum ipc_msg_type t;                                                         \
		if (!a || !b)                                                                \
			abort();                                                             \
		ipc_buf_init(&x);                                                            \
		ipc_buf_init(&y);                                                            \
		if (ipc_decode_##fields(data, size, &id, a) == 0) {                          \
			if (ipc_peek(data, size, &t, NULL) != 0 || t != IPC_MSG_##e)         \
				abort();                                                     \
			if (ipc_encode_##fields(&x, id, a) != 0)                             \
				abort();                                                     \
			if (ipc_decode_##fields(x.data, x.size, &id2, b) != 0 || id2 != id)  \
				abort();                                                     \
			if (ipc_encode_##fields(&y, id2, b) != 0 || x.size != y.size ||      \
			    memcmp(x.data, y.data, x.size) != 0)                             \
				abort();                                                     \
			ipc_free_##fields(a);                                                \
			ipc_free_##fields(b);                                                \
		}                                                                            \
		ipc_buf_done(&x);                                                            \
		ipc_buf_done(&y);                                                            \
		free(a);                                                                     \
		free(b);                                                                     \
	}
#include "messages.def"
#undef MSG

/* LLVMFuzzerTestOneInput - one input through ipc_peek and every decoder */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ipc_msg_type t;
	uint64_t id;

	(void)ipc_peek(data, size, &t, &id);
#define MSG(e, wname, fields, from, to) s_check_##fields(data, size);
#include "messages.def"
#undef MSG
	return 0;
}
