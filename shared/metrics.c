/*
 * metrics.c - Prometheus text exposition (see metrics.h). Values are
 * written as integers when they are whole (counts: exact below 2^53),
 * else with %.9g, +Inf as "+Inf";
 * histogram buckets are kept per bucket and summed when written, so
 * observing is one comparison walk and three additions.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

const double metrics_seconds_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
const size_t metrics_seconds_n = ELEMENTSOF(metrics_seconds_bounds);

/* metrics_hist_init - an empty histogram over bounds[0..n) (n clamped to fit) */
void metrics_hist_init(struct metrics_hist *h, const double *bounds, size_t n)
{
	*h = (struct metrics_hist){ .bounds = bounds, .n = MIN(n, (size_t)METRICS_BUCKETS_MAX - 1) };
}

/* metrics_hist_observe - count one value */
void metrics_hist_observe(struct metrics_hist *h, double v)
{
	size_t i = 0;

	while (i < h->n && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

/* metrics_family - "# HELP name help" and "# TYPE name type" */
void metrics_family(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void s_value(struct sbuf *b, double v)
{
	if (isinf(v))
		sbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		sbuf_puts(b, "NaN");
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		sbuf_printf(b, "%lld", (long long)v); /* counts: exact */
	else
		sbuf_printf(b, "%.9g", v);
}

/* metrics_sample - "name{labels} value" */
void metrics_sample(struct sbuf *b, const char *name, const char *labels, double value)
{
	if (labels && labels[0])
		sbuf_printf(b, "%s{%s} ", name, labels);
	else
		sbuf_printf(b, "%s ", name);
	s_value(b, value);
	sbuf_puts(b, "\n");
}

/* metrics_one - a family of one unlabelled sample */
void metrics_one(struct sbuf *b, const char *name, const char *type, const char *help,
		 double value)
{
	metrics_family(b, name, type, help);
	metrics_sample(b, name, NULL, value);
}

static void s_bucket(struct sbuf *b, const char *name, const char *labels, const char *le,
		     uint64_t cumulative)
{
	sbuf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels ? labels : "",
		    labels && labels[0] ? "," : "", le, (unsigned long long)cumulative);
}

/* metrics_hist_write - name_bucket{labels,le=...} cumulative, name_sum, name_count */
void metrics_hist_write(struct sbuf *b, const char *name, const char *labels,
			const struct metrics_hist *h)
{
	char le[32], suffixed[128];
	uint64_t cumulative = 0;

	for (size_t i = 0; i < h->n; i++) {
		cumulative += h->counts[i];
		snprintf(le, sizeof(le), "%.9g", h->bounds[i]);
		s_bucket(b, name, labels, le, cumulative);
	}
	s_bucket(b, name, labels, "+Inf", h->count);
	snprintf(suffixed, sizeof(suffixed), "%s_sum", name);
	metrics_sample(b, suffixed, labels, h->sum);
	snprintf(suffixed, sizeof(suffixed), "%s_count", name);
	metrics_sample(b, suffixed, labels, (double)h->count);
}

/* metrics_label - append `key="value"` to labels, the value escaped; unchanged on -ENOBUFS */
int metrics_label(char *labels, size_t size, const char *key, const char *value)
{
	size_t len = strnlen(labels, size), was = len;
	int n;

	if (len >= size)
		return -ENOBUFS;
	n = snprintf(labels + len, size - len, "%s%s=\"", len ? "," : "", key);
	if (n < 0 || (size_t)n >= size - len)
		goto full;
	len += (size_t)n;
	for (const char *p = value; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
		size_t k = esc ? 2 : 1;

		if (len + k + 2 > size)
			goto full;
		memcpy(labels + len, esc ? esc : p, k);
		len += k;
	}
	memcpy(labels + len, "\"", 2);
	return 0;
full:
	labels[was] = '\0'; /* as it was */
	return -ENOBUFS;
}
