/* The cached gzip index is input like the dump (docs/gzip-index.md): the
 * fuzzer's bytes, with their CRC-32 appended (so that the field checks
 * behind it are reached), are put in the cache as the index of a fixed
 * gzip stream; the index is opened (reused or built again) and read through
 * at a few offsets. A crash, a read out of bounds or a hang is the bug;
 * wrong bytes from an index that passes every check are possible only with
 * a consistent forgery of the table, which the CRC does not prevent.
 * Seed: the true index of the stream (NTMEM_FUZZ_SEED_OUT=FILE writes it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include <ntmem/cache.h>

#include "../src/source/gzip_index.h"
#include "fuzz_common.h"

#define IMAGE (3u << 19)	/* 1.5 MiB: a checkpoint besides the first, and a zero block */

static uint8_t *image, *gz;
static size_t gz_len;
static const struct nm_file_identity id = { true, 7, 7, 7, 7, 7 };

static void make_stream(void)
{
	uint32_t x = 99;
	z_stream z;
	size_t cap;

	image = malloc(IMAGE);
	for (size_t i = 0; i < IMAGE; i++) {
		x = x * 1103515245u + 12345u;
		image[i] = (uint8_t)((x >> 24) & 0x1F);
	}
	memset(image + (512u << 10), 0, 256u << 10);
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	cap = deflateBound(&z, IMAGE);
	gz = malloc(cap);
	z.next_in = image;
	z.avail_in = IMAGE;
	z.next_out = gz;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	gz_len = cap - z.avail_out;
	deflateEnd(&z);
}

static void write_seed(const char *out)
{
	struct nm_gzip_index *ix;
	nm_error err;
	char path[4096];
	FILE *f, *o;
	long n;
	uint8_t *buf;

	if (nm_gzip_index_open(gz, gz_len, NM_GZIP_MAX_INFLATED, &id, NULL, &ix, &err) != 0 ||
	    !nm_cache_path(&id, "gzidx", path, sizeof(path)) || !(f = fopen(path, "rb")))
		abort();
	nm_gzip_index_free(ix);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n || !(o = fopen(out, "wb")))
		abort();
	fwrite(buf, 1, (size_t)n - 4, o);	/* the harness appends the CRC */
	fclose(o);
	fclose(f);
	free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/ntmem-fuzz-gzidx-XXXXXX";

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	setenv("XDG_CACHE_HOME", dir, 1);
	{
		char sub[sizeof(dir) + 8];

		snprintf(sub, sizeof(sub), "%s/ntmem", dir);
		if (mkdir(sub, 0700) != 0)
			abort();
	}
	make_stream();
	if (getenv("NTMEM_FUZZ_SEED_OUT"))
		write_seed(getenv("NTMEM_FUZZ_SEED_OUT"));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096];
	struct nm_gzip_index *ix;
	struct nm_gzip_reader *r;
	nm_error err;
	uint8_t buf[6000], crc[4];
	uLong c = crc32(0, data, (uInt)size);
	FILE *f;

	if (!nm_cache_path(&id, "gzidx", path, sizeof(path)) || !(f = fopen(path, "wb")))
		return 0;
	for (int i = 0; i < 4; i++)
		crc[i] = (uint8_t)(c >> (8 * i));
	fwrite(data, 1, size, f);
	fwrite(crc, 1, 4, f);
	fclose(f);
	if (nm_gzip_index_open(gz, gz_len, NM_GZIP_MAX_INFLATED, &id, NULL, &ix, &err) != 0)
		return 0;
	if (ix->total != IMAGE && !ix->reused)
		__builtin_trap();	/* a built index must describe the stream */
	if (nm_gzip_reader_new(gz, gz_len, ix, &r, &err) == 0) {
		static const uint64_t offs[] = { 0, IMAGE - sizeof(buf), 1u << 20, 600000, 5 };

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			if (nm_gzip_reader_read(r, offs[i], buf, sizeof(buf), &err) == 0 && !ix->reused &&
			    memcmp(buf, image + offs[i], sizeof(buf)) != 0)
				__builtin_trap();
			(void)fuzz_touch(buf, sizeof(buf));
		}
		nm_gzip_reader_free(r);
	}
	nm_gzip_index_free(ix);
	return 0;
}
