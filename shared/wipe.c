/*
 * wipe.c - jansson's allocator, wiping on free (see wipe.h). The size of
 * a block comes from malloc_usable_size(), so nothing has to remember it;
 * the whole usable block is zeroed, which covers what jansson wrote.
 */
#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "wipe.h"

/* s_free - jansson's free: zero the block first */
static void s_free(void *p)
{
	if (!p)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

/* wipe_json_allocations - from now on jansson's memory is zeroed when freed */
void wipe_json_allocations(void)
{
	json_set_alloc_funcs(malloc, s_free);
}
