/*
 * testlib.c - shared helpers of the unit tests (see testlib.h). Not part
 * of any daemon: the Makefile links it into tests only.
 */
#define _XOPEN_SOURCE 700
#include <event2/event.h>
#include <ftw.h>
#include <stdio.h>

#include "testlib.h"

struct guard {
	struct event_base *base;
	bool fired;
};

static void s_on_guard(evutil_socket_t fd, short what, void *arg)
{
	struct guard *g = arg;

	g->fired = true;
	event_base_loopbreak(g->base);
}

/* test_loop_run - run until loopbreak or the guard */
bool test_loop_run(struct event_base *base, int guard_ms)
{
	struct timeval tv = { guard_ms / 1000, (guard_ms % 1000) * 1000 };
	struct guard g = { .base = base };
	struct event *timer = evtimer_new(base, s_on_guard, &g);

	if (!timer)
		return false;
	evtimer_add(timer, &tv);
	event_base_dispatch(base);
	event_free(timer);
	return !g.fired;
}

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* test_rmtree - depth-first removal, links not followed */
int test_rmtree(const char *dir)
{
	return nftw(dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}
