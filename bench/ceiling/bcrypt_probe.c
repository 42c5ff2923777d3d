/*
 * bcrypt_probe.c - the ceiling of bench/run.sh for logins: how many bcrypt
 * hashes a second this machine does at a cost, on as many threads as
 * authd's [auth] hash_threads, with libxcrypt as authd uses it
 * (crypt_gensalt_rn "$2b$", crypt_rn). A login is one such hash, so good
 * logins/s over this rate, measured in the same run, says what the rest
 * of a login costs (and what a flood of refusals takes from the hashes).
 *
 * Usage: bcrypt_probe COST THREADS SECONDS
 * Prints: BCRYPT_RATE hashes_per_s=<rate> cost=<c> threads=<t> hashes=<n>
 */
#include <crypt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS_MAX 64

static atomic_long s_hashes;
static atomic_bool s_stop;
static unsigned long s_cost;

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *s_worker(void *arg)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	(void)arg;
	if (!data || !crypt_gensalt_rn("$2b$", s_cost, NULL, 0, setting, sizeof(setting))) {
		free(data);
		return NULL;
	}
	while (!atomic_load(&s_stop)) {
		const char *h = crypt_rn("correct horse battery staple", setting, data, sizeof(*data));

		if (!h || h[0] == '*')
			break;
		atomic_fetch_add(&s_hashes, 1);
	}
	free(data);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS_MAX];
	long threads, seconds;
	double t0, took;
	struct timespec nap;

	if (argc != 4) {
		fprintf(stderr, "usage: bcrypt_probe COST THREADS SECONDS\n");
		return 2;
	}
	s_cost = strtoul(argv[1], NULL, 10);
	threads = strtol(argv[2], NULL, 10);
	seconds = strtol(argv[3], NULL, 10);
	if (s_cost < 4 || s_cost > 31 || threads < 1 || threads > THREADS_MAX || seconds < 1 ||
	    seconds > 600) {
		fprintf(stderr, "bcrypt_probe: COST 4..31, THREADS 1..%d, SECONDS 1..600\n",
			THREADS_MAX);
		return 2;
	}
	t0 = s_now();
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, s_worker, NULL) != 0)
			return 1;
	nap = (struct timespec){ .tv_sec = seconds };
	nanosleep(&nap, NULL);
	atomic_store(&s_stop, true);
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	took = s_now() - t0;
	if (atomic_load(&s_hashes) == 0) {
		fprintf(stderr, "bcrypt_probe: no hash done (is cost %lu supported?)\n", s_cost);
		return 1;
	}
	printf("BCRYPT_RATE hashes_per_s=%.2f cost=%lu threads=%ld hashes=%ld\n",
	       (double)atomic_load(&s_hashes) / took, s_cost, threads, atomic_load(&s_hashes));
	return 0;
}
