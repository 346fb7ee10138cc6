/* Translation speed: walks N pseudo-random kernel VAs of DUMP and prints
 * machine-readable lines for bench/run.py:
 *   random_cold <walks/s> <cpu walks/s>  first pass over N VAs spread over the kernel half
 *   random_warm <walks/s> <cpu walks/s>  the same VAs again (file pages now in the OS cache)
 *   local <walks/s> <cpu walks/s>        N VAs inside a 4 MiB window
 *   states <valid> <other>  how many of the random walks ended valid
 * Wall-clock rates suffer from other load on the machine; the CPU-time rate
 * (this thread's CPU time) is the one-core figure.
 * Usage: xlat_bench DUMP [N] [BASE]
 * BASE (hex) moves the 2 GiB random span and the 4 MiB window (BASE + 4 MiB)
 * to where the dump maps memory: an x64 dump's pools lie far from the
 * kernel image, and walks that stop at an empty PML4 entry measure nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ntmem/source.h>
#include <ntmem/xlat.h>

static uint64_t next_random(uint64_t *s)
{
	/* xorshift64*: fixed seed, so every run walks the same VAs */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static double now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rate {
	double wall, cpu;
};

static struct rate timed_pass(nm_xlat *x, const uint64_t *vas, size_t n, size_t *valid)
{
	struct nm_walk w;
	double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
	struct rate r;

	*valid = 0;
	for (size_t i = 0; i < n; i++) {
		nm_xlat_walk(x, vas[i], &w);
		*valid += w.state == NM_PAGE_VALID;
	}
	r.wall = (double)n / (now(CLOCK_MONOTONIC) - w0);
	r.cpu = (double)n / (now(CLOCK_THREAD_CPUTIME_ID) - c0);
	return r;
}

int main(int argc, char **argv)
{
	nm_source *src;
	nm_xlat *x;
	nm_error err;
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000000, valid;
	uint64_t *vas, *local, half, window;
	uint64_t seed = 0x9E3779B97F4A7C15u;
	struct nm_xlat_config cfg = { 0 };
	const struct nm_dump_facts *f;
	struct rate cold, warm, near;

	if (argc < 2 || n == 0) {
		fprintf(stderr, "usage: xlat_bench DUMP [N]\n");
		return 1;
	}
	if (nm_source_open(argv[1], false, &src, &err) != 0) {
		fprintf(stderr, "xlat_bench: %s: %s: %s\n", argv[1], err.what, err.why);
		return 2;
	}
	f = nm_source_facts(src);
	cfg.dtb = f->dtb;
	cfg.mode = nm_paging_mode_for_dump(f, f->dtb);
	if (!cfg.mode) {
		fprintf(stderr, "xlat_bench: %s: no paging mode for this machine\n", argv[1]);
		return 2;
	}
	cfg.layout = nm_pte_layout_for_build(f->build);
	if (nm_xlat_new(src, &cfg, &x, &err) != 0) {
		fprintf(stderr, "xlat_bench: %s: %s: %s\n", argv[1], err.what, err.why);
		return 2;
	}
	vas = malloc(n * sizeof(*vas));
	local = malloc(n * sizeof(*local));
	if (!vas || !local)
		return 1;
	/* x86: the kernel half 0x80000000-0xFFFFFFFF; x64: the 2 GiB from
	 * 0xFFFFF80000000000, where Windows 7 and 10 load the kernel and drivers. */
	half = cfg.mode->va_bits > 32 ? UINT64_C(0xFFFFF80000000000) : UINT64_C(0x80000000);
	if (argc > 3)
		half = strtoull(argv[3], NULL, 16) & ~UINT64_C(0x1FFFFF);
	window = half + 0x400000u;
	for (size_t i = 0; i < n; i++) {
		vas[i] = half | (next_random(&seed) & 0x7FFFFFFF);
		local[i] = window + (next_random(&seed) & 0x3FFFFF);
	}
	cold = timed_pass(x, vas, n, &valid);
	warm = timed_pass(x, vas, n, &valid);
	printf("random_cold %.0f %.0f\nrandom_warm %.0f %.0f\n", cold.wall, cold.cpu, warm.wall, warm.cpu);
	printf("states %zu %zu\n", valid, n - valid);
	near = timed_pass(x, local, n, &valid);
	printf("local %.0f %.0f\n", near.wall, near.cpu);
	free(vas);
	free(local);
	nm_xlat_free(x);
	nm_source_close(src);
	return 0;
}
