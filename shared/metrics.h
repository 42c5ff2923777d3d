/*
 * metrics.h - a daemon's numbers in the Prometheus text exposition format
 * (version 0.0.4): families (one HELP and TYPE line, then their samples),
 * plain samples, and histograms with fixed upper bounds. The daemons keep
 * their own counters in their own structs, updated on their loop thread,
 * and write them out with these when asked (ipc "metrics"); nothing here
 * allocates but the sbuf, and nothing here knows a daemon.
 */
#ifndef SEMBARK_METRICS_H
#define SEMBARK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

#define METRICS_BUCKETS_MAX 16
#define METRICS_LABELS_MAX 256 /* one sample's label text, {} not included */

/* A histogram: counts per bucket (not cumulative; counts[n] is above the last bound). */
struct metrics_hist {
	const double *bounds; /* ascending upper bounds, +Inf implied */
	size_t n;             /* <= METRICS_BUCKETS_MAX - 1 */
	uint64_t counts[METRICS_BUCKETS_MAX];
	uint64_t count;
	double sum;
};

/* Upper bounds in seconds for latencies: 1 ms .. 10 s. */
extern const double metrics_seconds_bounds[];
extern const size_t metrics_seconds_n;

/* metrics_hist_init - an empty histogram over bounds[0..n) (n clamped to fit) */
void metrics_hist_init(struct metrics_hist *h, const double *bounds, size_t n);
/* metrics_hist_observe - count one value */
void metrics_hist_observe(struct metrics_hist *h, double v);

/* metrics_family - "# HELP name help" and "# TYPE name type" (counter, gauge, histogram) */
void metrics_family(struct sbuf *b, const char *name, const char *type, const char *help);
/* metrics_one - a family of one unlabelled sample: HELP, TYPE and "name value" */
void metrics_one(struct sbuf *b, const char *name, const char *type, const char *help,
		 double value);
/* metrics_sample - "name{labels} value"; labels NULL or "" for none, else `k="v",...` */
void metrics_sample(struct sbuf *b, const char *name, const char *labels, double value);
/* metrics_hist_write - name_bucket{labels,le=...} cumulative, name_sum, name_count */
void metrics_hist_write(struct sbuf *b, const char *name, const char *labels,
			const struct metrics_hist *h);
/*
 * metrics_label - append `key="value"` to labels (size bytes, NUL-terminated,
 * a comma first when not empty), the value escaped as the format says
 * (backslash, double quote, newline); -ENOBUFS when it would not fit
 */
int metrics_label(char *labels, size_t size, const char *key, const char *value);

#endif
