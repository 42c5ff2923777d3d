/*
 * wipe.h - memory that may have held a secret is wiped before it goes
 * back to the allocator. For now: every allocation jansson makes, since a
 * parsed request body may hold a password (authd and ingressd both parse
 * such bodies).
 */
#ifndef SEMBARK_WIPE_H
#define SEMBARK_WIPE_H

/* wipe_json_allocations - from now on jansson's memory is zeroed when freed; once, at start */
void wipe_json_allocations(void);

#endif
