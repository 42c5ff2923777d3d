/*
 * migrate_plan.c - the pure part of `sembarkctl migrate`: what a migration
 * file may be called, in which order files run, their checksums, and the
 * plan that says, for every version, whether it is applied, pending, or
 * a reason to refuse to touch the database at all.
 *
 * No I/O and no database here, so that tests/unit/test-ctl-migrate.c can
 * run every case from a table.
 *
 * Rules: names are exactly NNNN_name.sql (four digits, 0001..9999, name of
 * [a-z0-9_], lower case); two files with one number are an error; gaps in
 * the numbering are fine. A version that was applied must still have its
 * file, under the same name, with the same SHA-256; a pending file must be
 * newer than every applied version (no silent out-of-order application).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl.h"

static bool s_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* migration_parse_filename - "NNNN_name.sql" -> version and name; -EINVAL */
int migration_parse_filename(const char *file, int *ret_version, char *ret_name, size_t namelen)
{
	size_t len, name_len;
	int version = 0;

	if (!file)
		return -EINVAL;
	len = strnlen(file, MIGRATION_FILENAME_MAX);
	if (len >= MIGRATION_FILENAME_MAX || len < strlen("0000_x.sql"))
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (file[i] < '0' || file[i] > '9')
			return -EINVAL;
		version = version * 10 + (file[i] - '0');
	}
	if (version < 1 || file[4] != '_' || strcmp(file + len - 4, ".sql") != 0)
		return -EINVAL;
	name_len = len - 5 - 4;
	for (size_t i = 0; i < name_len; i++)
		if (!s_is_name_char(file[5 + i]))
			return -EINVAL;
	if (name_len + 1 > namelen)
		return -ENAMETOOLONG;
	memcpy(ret_name, file + 5, name_len);
	ret_name[name_len] = '\0';
	*ret_version = version;
	return 0;
}

/* migration_checksum - SHA-256 of buf in lower-case hex */
void migration_checksum(const void *buf, size_t len, char ret[static MIGRATION_CHECKSUM_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, buf, len);
	sodium_bin2hex(ret, MIGRATION_CHECKSUM_HEX, h, sizeof(h));
}

/* migration_checksum_valid - 64 lower-case hex digits */
bool migration_checksum_valid(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < MIGRATION_CHECKSUM_HEX && s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == MIGRATION_CHECKSUM_HEX - 1;
}

static int s_cmp_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return strcmp(x->file, y->file); /* stable report of duplicates */
}

/* migrations_sort - order by version; -EINVAL naming two files of one version */
int migrations_sort(struct migration *v, size_t n, char *err, size_t errlen)
{
	if (n > 1)
		qsort(v, n, sizeof(v[0]), s_cmp_version);
	for (size_t i = 1; i < n; i++) {
		if (v[i].version == v[i - 1].version) {
			snprintf(err, errlen, "two migrations have number %04d: %s and %s",
				 v[i].version, v[i - 1].file, v[i].file);
			return -EINVAL;
		}
	}
	return 0;
}

static enum migration_state s_state_applied(const struct migration *f,
					    const struct migration_applied *a)
{
	if (!f)
		return MIGRATION_MISSING;
	if (strcmp(f->name, a->name) != 0)
		return MIGRATION_RENAMED;
	if (strcmp(f->checksum, a->checksum) != 0)
		return MIGRATION_CHANGED;
	return MIGRATION_APPLIED;
}

static void s_plan_add(struct migration_plan *p, const struct migration *f,
		       const struct migration_applied *a)
{
	struct migration_step *s = &p->steps[p->n_steps++];

	s->file = f;
	s->applied = a;
	s->version = a ? a->version : f->version;
	if (a) {
		s->state = s_state_applied(f, a);
		p->current_version = MAX(p->current_version, a->version);
	} else {
		s->state = MIGRATION_PENDING;
	}
}

/* Pending files older than the newest applied version cannot run. */
static void s_plan_finish(struct migration_plan *p)
{
	p->target_version = p->current_version;
	for (size_t i = 0; i < p->n_steps; i++) {
		struct migration_step *s = &p->steps[i];

		if (s->state == MIGRATION_PENDING && s->version < p->current_version)
			s->state = MIGRATION_OUT_OF_ORDER;
		if (s->state == MIGRATION_PENDING) {
			p->n_pending++;
			p->target_version = MAX(p->target_version, s->version);
		} else if (s->state != MIGRATION_APPLIED) {
			p->n_bad++;
		}
	}
}

/* migration_plan_build - merge files and rows, both sorted by version, into *ret */
int migration_plan_build(const struct migration *files, size_t n_files,
			 const struct migration_applied *applied, size_t n_applied,
			 struct migration_plan *ret)
{
	struct migration_plan p = { 0 };
	size_t i = 0, j = 0;

	p.steps = calloc(n_files + n_applied + 1, sizeof(p.steps[0]));
	if (!p.steps)
		return -ENOMEM;
	while (i < n_files || j < n_applied) {
		if (j >= n_applied || (i < n_files && files[i].version < applied[j].version))
			s_plan_add(&p, &files[i++], NULL);
		else if (i >= n_files || applied[j].version < files[i].version)
			s_plan_add(&p, NULL, &applied[j++]);
		else
			s_plan_add(&p, &files[i++], &applied[j++]);
	}
	s_plan_finish(&p);
	*ret = p;
	return 0;
}

/* migration_plan_check - 0, or -EINVAL describing the first bad step */
int migration_plan_check(const struct migration_plan *plan, const char *dir, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct migration_step *s = &plan->steps[i];

		switch (s->state) {
		case MIGRATION_APPLIED:
		case MIGRATION_PENDING:
			continue;
		case MIGRATION_MISSING:
			snprintf(err, errlen, "migration %04d_%s.sql was applied but is missing from %s",
				 s->version, s->applied->name, dir);
			break;
		case MIGRATION_RENAMED:
			snprintf(err, errlen, "%s: version %04d was applied as %04d_%s.sql",
				 s->file->file, s->version, s->version, s->applied->name);
			break;
		case MIGRATION_CHANGED:
			snprintf(err, errlen, "%s has changed since it was applied (checksum mismatch)",
				 s->file->file);
			break;
		case MIGRATION_OUT_OF_ORDER:
			snprintf(err, errlen, "%s is older than schema version %d: give it a higher number",
				 s->file->file, plan->current_version);
			break;
		default:
			abort();
		}
		return -EINVAL;
	}
	return 0;
}

/* migration_plan_done - free the steps; the plan may be built again */
void migration_plan_done(struct migration_plan *plan)
{
	free(plan->steps);
	*plan = (struct migration_plan){ 0 };
}

/* migration_state_to_string - word shown by `migrate --status` */
const char *migration_state_to_string(enum migration_state s)
{
	static const char *const names[_MIGRATION_STATE_MAX] = {
		[MIGRATION_APPLIED] = "applied",
		[MIGRATION_PENDING] = "pending",
		[MIGRATION_CHANGED] = "CHANGED",
		[MIGRATION_RENAMED] = "RENAMED",
		[MIGRATION_MISSING] = "MISSING",
		[MIGRATION_OUT_OF_ORDER] = "OUT-OF-ORDER",
	};

	if (s < 0 || s >= _MIGRATION_STATE_MAX)
		return NULL;
	return names[s];
}
