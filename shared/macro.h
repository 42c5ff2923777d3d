/*
 * macro.h - small helpers shared by every sembark program: cleanup
 * attributes (systemd style), ownership transfer, array sizes.
 */
#ifndef SEMBARK_MACRO_H
#define SEMBARK_MACRO_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* TAKE_PTR - hand ownership of *p out of a _cleanup_ variable */
#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) _tmp_ = (p);   \
		(p) = NULL;                  \
		_tmp_;                       \
	})

/* TAKE_FD - same for file descriptors */
#define TAKE_FD(fd)                          \
	({                                   \
		int _tmpfd_ = (fd);          \
		(fd) = -1;                   \
		_tmpfd_;                     \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)  \
	static inline void func##p(type *p)      \
	{                                        \
		if (*p)                          \
			func(*p);                \
	}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
