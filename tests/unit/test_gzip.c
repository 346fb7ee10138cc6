/* gzip-compressed sources: inflated into a temporary file and recognised as
 * what they hold; bounded output, corrupt and truncated streams refused.
 * The compressed inputs are made here with zlib's deflate (RFC 1952 wrapper). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdio.h>

#include <zlib.h>

#include <ntmem/source.h>

#include "../../src/source/gzip_index.h"
#include "../../src/source/source_internal.h"

#define PAGE 4096u

struct blob {
	uint8_t *buf;
	size_t len;
};

/* One gzip member holding LEN bytes of DATA, appended to OUT. */
static void gzip_append(struct blob *out, const uint8_t *data, size_t len)
{
	z_stream z;
	size_t cap = deflateBound(NULL, (uLong)len) + 64;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	out->buf = realloc(out->buf, out->len + cap);
	assert_non_null(out->buf);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out->buf + out->len;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	out->len += cap - z.avail_out;
	deflateEnd(&z);
}

/* NPAGES pages, each filled with its PFN's low byte plus one (never zero). */
static uint8_t *raw_image(size_t npages)
{
	uint8_t *img = malloc(npages * PAGE);

	assert_non_null(img);
	for (size_t p = 0; p < npages; p++)
		memset(img + p * PAGE, (int)(p + 1), PAGE);
	return img;
}

static void gzipped_raw_image_opens_as_raw(void **state)
{
	uint8_t *img = raw_image(8);
	struct blob gz = { NULL, 0 };
	nm_source *src;
	nm_error err;
	const struct nm_dump_facts *f;

	(void)state;
	gzip_append(&gz, img, 8 * PAGE);
	assert_int_equal(nm_source_open_buffer(gz.buf, gz.len, true, &src, &err), 0);
	f = nm_source_facts(src);
	assert_int_equal(f->format, NM_FORMAT_RAW);
	assert_int_equal(f->compression, NM_COMPRESSION_GZIP);
	assert_string_equal(nm_compression_name(f->compression), "gzip");
	assert_int_equal(f->max_pfn, 8);
	for (uint64_t pfn = 0; pfn < 8; pfn++)
		assert_memory_equal(nm_source_page(src, pfn), img + pfn * PAGE, PAGE);
	assert_null(nm_source_page(src, 8));
	/* A page once given stays where it was given (layers above keep
	 * pointers), even when the reader's chunks have moved on. */
	assert_int_equal(nm_source_page(src, 3)[100], 4);
	nm_source_close(src);
	free(gz.buf);
	free(img);
}

static void uncompressed_files_say_so(void **state)
{
	uint8_t *img = raw_image(2);
	nm_source *src;
	nm_error err;

	(void)state;
	assert_int_equal(nm_source_open_buffer(img, 2 * PAGE, true, &src, &err), 0);
	assert_int_equal(nm_source_facts(src)->compression, NM_COMPRESSION_NONE);
	assert_null(nm_compression_name(NM_COMPRESSION_NONE));
	nm_source_close(src);
	free(img);
}

/* Concatenated members form one stream (RFC 1952 section 2.2), and zero
 * padding after the last member is ignored as gzip(1) does. */
static void members_are_concatenated(void **state)
{
	uint8_t *img = raw_image(4);
	struct blob gz = { NULL, 0 };
	nm_source *src;
	nm_error err;

	(void)state;
	gzip_append(&gz, img, 2 * PAGE);
	gzip_append(&gz, img + 2 * PAGE, 2 * PAGE);
	gz.buf = realloc(gz.buf, gz.len + 512);
	memset(gz.buf + gz.len, 0, 512);
	gz.len += 512;
	assert_int_equal(nm_source_open_buffer(gz.buf, gz.len, true, &src, &err), 0);
	assert_int_equal(nm_source_facts(src)->max_pfn, 4);
	assert_memory_equal(nm_source_page(src, 3), img + 3 * PAGE, PAGE);
	nm_source_close(src);
	free(gz.buf);
	free(img);
}

static void expect_refusal(const uint8_t *buf, size_t len, const char *what, const char *why_part)
{
	nm_source *src = (nm_source *)1;
	nm_error err;

	assert_int_equal(nm_source_open_buffer(buf, len, true, &src, &err), -1);
	assert_null(src);
	assert_string_equal(err.what, what);
	if (!strstr(err.why, why_part))
		fail_msg("why '%s' lacks '%s'", err.why, why_part);
}

static void bad_streams_are_refused(void **state)
{
	uint8_t *img = raw_image(4);
	struct blob gz = { NULL, 0 };
	struct blob nested = { NULL, 0 };
	uint8_t *copy;

	(void)state;
	gzip_append(&gz, img, 4 * PAGE);
	expect_refusal(gz.buf, gz.len / 2, "gzip stream", "truncated");
	expect_refusal(gz.buf, 2, "gzip stream", "truncated");
	copy = malloc(gz.len + 4);
	memcpy(copy, gz.buf, gz.len);
	copy[gz.len - 8] ^= 0x55;	/* CRC-32 of the trailer */
	expect_refusal(copy, gz.len, "gzip trailer.CRC32", "incorrect data check");
	memcpy(copy, gz.buf, gz.len);
	copy[gz.len - 4] ^= 0x01;	/* ISIZE: a wrong length is not a truncation */
	expect_refusal(copy, gz.len, "gzip trailer.ISIZE", "length");
	memcpy(copy, gz.buf, gz.len);
	memcpy(copy + gz.len, "junk", 4);
	expect_refusal(copy, gz.len + 4, "gzip stream", "not gzip");
	memcpy(copy, gz.buf, gz.len);
	copy[2] = 7;			/* CM must be 8 (deflate) */
	expect_refusal(copy, gz.len, "gzip stream", "");
	gzip_append(&nested, gz.buf, gz.len);
	expect_refusal(nested.buf, nested.len, "gzip", "another gzip");
	free(nested.buf);
	nested.buf = NULL;
	nested.len = 0;
	gzip_append(&nested, img, 0);
	expect_refusal(nested.buf, nested.len, "gzip stream", "nothing");
	free(nested.buf);
	free(copy);
	free(gz.buf);
	free(img);
}

static void output_is_bounded(void **state)
{
	uint8_t *img = raw_image(4);
	struct blob gz = { NULL, 0 };
	uint64_t n = 0;
	nm_error err;
	int fd;

	(void)state;
	gzip_append(&gz, img, 4 * PAGE);
	fd = nm_temp_file(&err);
	assert_true(fd >= 0);
	assert_int_equal(nm_gzip_inflate_to_fd(gz.buf, gz.len, fd, 4 * PAGE, UINT64_MAX, &n, &err), 0);
	assert_int_equal(n, 4 * PAGE);
	assert_int_equal(lseek(fd, 0, SEEK_END), 4 * PAGE);
	assert_int_equal(nm_gzip_inflate_to_fd(gz.buf, gz.len, fd, 4 * PAGE - 1, UINT64_MAX, &n, &err), -1);
	assert_string_equal(err.what, "gzip");
	assert_non_null(strstr(err.why, "limit"));
	close(fd);
	free(gz.buf);
	free(img);
}

/* Only blocks that are not zero take disk, and only they count against the
 * budget: an image of zeros inflates with a budget of nothing. */
static void disk_use_is_bounded(void **state)
{
	uint8_t *img = raw_image(32);
	uint8_t *zeros = calloc(32, PAGE);
	struct blob gz = { NULL, 0 }, gz0 = { NULL, 0 };
	uint64_t n = 0;
	nm_error err;
	int fd;

	(void)state;
	assert_non_null(zeros);
	gzip_append(&gz, img, 32 * PAGE);
	gzip_append(&gz0, zeros, 32 * PAGE);
	fd = nm_temp_file(&err);
	assert_true(fd >= 0);
	assert_true(nm_temp_disk_budget(fd) > 0);
	assert_true(nm_temp_disk_budget(fd) < UINT64_MAX);
	assert_int_equal(nm_gzip_inflate_to_fd(gz.buf, gz.len, fd, UINT64_MAX, 32 * PAGE, &n, &err), 0);
	assert_int_equal(n, 32 * PAGE);
	assert_int_equal(nm_gzip_inflate_to_fd(gz.buf, gz.len, fd, UINT64_MAX, 32 * PAGE - 1, &n, &err), -1);
	assert_string_equal(err.what, "gzip");
	assert_non_null(strstr(err.why, "free space"));
	assert_int_equal(nm_gzip_inflate_to_fd(gz0.buf, gz0.len, fd, UINT64_MAX, 0, &n, &err), 0);
	assert_int_equal(n, 32 * PAGE);
	close(fd);
	free(gz.buf);
	free(gz0.buf);
	free(zeros);
	free(img);
}

static void full_disk_is_reported(void **state)
{
	uint8_t *img = raw_image(4);
	struct blob gz = { NULL, 0 };
	uint64_t n = 0;
	nm_error err;
	int fd = open("/dev/full", O_WRONLY);

	(void)state;
	if (fd < 0)
		skip();
	gzip_append(&gz, img, 4 * PAGE);
	assert_int_equal(nm_gzip_inflate_to_fd(gz.buf, gz.len, fd, NM_GZIP_MAX_INFLATED, UINT64_MAX, &n, &err), -1);
	assert_string_equal(err.what, "gzip");
	assert_non_null(strstr(err.why, "cannot write"));
	close(fd);
	free(gz.buf);
	free(img);
}

/* Zero blocks are left as holes; the copy still reads back as zeros. */
static void zero_pages_read_back_as_zeros(void **state)
{
	uint8_t *img = calloc(64, PAGE);
	uint8_t zero[PAGE] = { 0 };
	struct blob gz = { NULL, 0 };
	nm_source *src;
	nm_error err;

	(void)state;
	img[40 * PAGE + 7] = 0x77;
	gzip_append(&gz, img, 64 * PAGE);
	assert_int_equal(nm_source_open_buffer(gz.buf, gz.len, true, &src, &err), 0);
	assert_int_equal(nm_source_facts(src)->max_pfn, 64);
	assert_memory_equal(nm_source_page(src, 0), zero, PAGE);
	assert_memory_equal(nm_source_page(src, 63), zero, PAGE);
	assert_int_equal(nm_source_page(src, 40)[7], 0x77);
	nm_source_close(src);
	free(gz.buf);
	free(img);
}

/* A minimal x86 full dump header: one run of NPAGES pages from PFN 0. */
static void full_dump_header(uint8_t *h, uint32_t npages)
{
	memset(h, 0, PAGE);
	memcpy(h, "PAGEDUMP", 8);
	h[0x20] = 0x4C;
	h[0x21] = 0x01;			/* MachineImageType 0x14c */
	h[0x64] = 1;			/* NumberOfRuns */
	memcpy(h + 0x68, &npages, 4);	/* NumberOfPages */
	memcpy(h + 0x70, &npages, 4);	/* Run[0].PageCount */
	h[0xF88] = 1;			/* DumpType full */
}

/* Recognition comes first: a stream that is not a dump is refused from its
 * first pages, in the uncompressed file's words, and what follows them is
 * never inflated (here: a cut-off stream, which would say "truncated"). */
static void not_a_dump_is_refused_before_inflating(void **state)
{
	size_t len = 8u << 20;
	uint8_t *data = calloc(1, len);
	struct blob gz = { NULL, 0 };
	nm_source *src = NULL;
	nm_error err;

	(void)state;
	memcpy(data, "MDMP", 4);
	for (size_t i = 4; i < len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 24);	/* does not compress */
	gzip_append(&gz, data, len);
	assert_int_equal(nm_source_open_buffer(gz.buf, gz.len / 2, false, &src, &err), -1);
	assert_string_equal(err.what, "header.Signature");
	assert_non_null(strstr(err.why, "minidump"));
	free(gz.buf);
	free(data);
}

/* The header says what the dump needs: inflation stops there, so a stream
 * that goes on (here: cut off far past the dump's pages) costs nothing
 * more and is not an error. */
static void inflation_stops_at_what_the_header_needs(void **state)
{
	size_t len = PAGE + 2 * PAGE + (8u << 20);
	uint8_t *data = malloc(len);
	struct blob gz = { NULL, 0 };
	nm_source *src = NULL;
	nm_error err;

	(void)state;
	full_dump_header(data, 2);
	for (size_t i = PAGE; i < len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 24);
	gzip_append(&gz, data, len);
	if (nm_source_open_buffer(gz.buf, gz.len / 2, false, &src, &err) != 0)
		fail_msg("%s: %s", err.what, err.why);
	assert_int_equal(nm_source_facts(src)->pages_in_dump, 2);
	assert_memory_equal(nm_source_page(src, 1), data + 2 * PAGE, PAGE);
	nm_source_close(src);
	/* The same dump ending exactly where it should still has its trailer
	 * checked. */
	free(gz.buf);
	gz.buf = NULL;
	gz.len = 0;
	gzip_append(&gz, data, 3 * PAGE);
	gz.buf[gz.len - 8] ^= 1;
	assert_int_equal(nm_source_open_buffer(gz.buf, gz.len, false, &src, &err), -1);
	assert_string_equal(err.what, "gzip trailer.CRC32");
	free(gz.buf);
	free(data);
}


/* ---- the index (gzip_index.c, gzip_reader.c) ---- */

#define BIG (7u << 20)

/* BIG bytes: noisy but compressible data (so that deflate ends blocks every
 * few dozen KiB and checkpoints can be placed), with a zero stretch in the
 * middle (the zero map) and non-zero bytes right after it. */
static uint8_t *noisy_image(void)
{
	uint8_t *img = malloc(BIG);
	uint32_t x = 12345;

	assert_non_null(img);
	for (size_t i = 0; i < BIG; i++) {
		x = x * 1103515245u + 12345u;
		img[i] = (uint8_t)((x >> 24) & 0x3F);
	}
	memset(img + (3u << 20), 0, 1u << 20);
	return img;
}

static char cache_dir[64];

static int fresh_cache(void **state)
{
	(void)state;
	strcpy(cache_dir, "/tmp/ntmem-unit-gzidx-XXXXXX");
	assert_non_null(mkdtemp(cache_dir));
	setenv("XDG_CACHE_HOME", cache_dir, 1);
	return 0;
}

static int drop_cache(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("XDG_CACHE_HOME");
	return 0;
}

static const struct nm_file_identity test_id = { true, 1, 2, 3, 4, 5 };

/* Reads at offsets spread over the data, across chunk, checkpoint and
 * member boundaries, in an order that sends the reader back and forth. */
static void reads_match(const struct nm_gzip_index *ix, const uint8_t *gz, size_t gz_len,
			const uint8_t *img, size_t len)
{
	struct nm_gzip_reader *r;
	nm_error err;
	uint8_t buf[10000];
	uint64_t offs[] = { len - 10000, 0, (3u << 20) - 5000, 4099, (1u << 20) - 17, len / 2, 5u << 20,
			    (256u << 10) - 3, 2u << 20, len - 10000, 123456 };

	assert_int_equal(nm_gzip_reader_new(gz, gz_len, ix, &r, &err), 0);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		assert_int_equal(nm_gzip_reader_read(r, offs[i], buf, sizeof(buf), &err), 0);
		if (memcmp(buf, img + offs[i], sizeof(buf)) != 0)
			fail_msg("bytes at 0x%llx differ", (unsigned long long)offs[i]);
	}
	assert_int_equal(nm_gzip_reader_read(r, len - 10, buf, 11, &err), -1);
	nm_gzip_reader_free(r);
}

static struct nm_gzip_index *index_of(const struct blob *gz, const struct nm_file_identity *id, bool reused)
{
	struct nm_gzip_index *ix;
	nm_error err;

	if (nm_gzip_index_open(gz->buf, gz->len, NM_GZIP_MAX_INFLATED, id, NULL, &ix, &err) != 0)
		fail_msg("%s: %s", err.what, err.why);
	assert_int_equal(ix->reused, reused);
	return ix;
}

static void cache_file(const struct nm_file_identity *id, char *path)
{
	assert_true(nm_cache_path(id, "gzidx", path, 4096));
}

static void index_is_built_and_serves_reads(void **state)
{
	uint8_t *img = noisy_image();
	struct blob gz = { NULL, 0 };
	struct nm_gzip_index *ix;
	char path[4096];
	struct stat st;

	(void)state;
	gzip_append(&gz, img, BIG);
	ix = index_of(&gz, &test_id, false);
	assert_int_equal(ix->total, BIG);
	assert_true(ix->count >= 4);		/* about one per MiB */
	assert_true(ix->count <= BIG / NM_GZIX_SPACING + 1);
	for (uint32_t i = 1; i < ix->count; i++) {
		assert_true(ix->cps[i].out - ix->cps[i - 1].out >= NM_GZIX_SPACING);
		assert_int_equal(ix->cps[i].window_len, NM_GZIX_WINDOW);
	}
	assert_true(nm_gzip_index_zero(ix, 3u << 20, 1u << 20));
	assert_false(nm_gzip_index_zero(ix, (3u << 20) - 1, 2));
	assert_false(nm_gzip_index_zero(ix, 4u << 20, 1));
	reads_match(ix, gz.buf, gz.len, img, BIG);
	cache_file(&test_id, path);
	assert_int_equal(stat(path, &st), 0);
	nm_gzip_index_free(ix);
	free(gz.buf);
	free(img);
}

static void index_is_reused_while_the_identity_matches(void **state)
{
	uint8_t *img = noisy_image();
	struct blob gz = { NULL, 0 };
	struct nm_file_identity other = test_id;
	struct nm_gzip_index *a, *b, *c;

	(void)state;
	gzip_append(&gz, img, BIG);
	a = index_of(&gz, &test_id, false);
	b = index_of(&gz, &test_id, true);
	assert_int_equal(a->count, b->count);
	assert_memory_equal(a->zero, b->zero, (a->nblocks + 7) / 8);
	for (uint32_t i = 0; i < a->count; i++) {
		assert_int_equal(a->cps[i].out, b->cps[i].out);
		assert_int_equal(a->cps[i].in, b->cps[i].in);
		assert_int_equal(a->cps[i].bits, b->cps[i].bits);
	}
	reads_match(b, gz.buf, gz.len, img, BIG);
	/* Another mtime is another version of the file: not the cached index. */
	other.mtime_nsec++;
	c = index_of(&gz, &other, false);
	nm_gzip_index_free(c);
	c = index_of(&gz, &other, true);
	nm_gzip_index_free(c);
	/* The same identity over a broken stream: the build fails, whatever is cached. */
	{
		struct blob cut = { malloc(gz.len), gz.len };
		struct nm_gzip_index *d;
		nm_error err;

		memcpy(cut.buf, gz.buf, gz.len);
		cut.len = gz.len - 8;		/* no trailer: the build fails */
		assert_int_equal(nm_gzip_index_open(cut.buf, cut.len, NM_GZIP_MAX_INFLATED, &test_id, NULL, &d, &err), -1);
		free(cut.buf);
	}
	nm_gzip_index_free(a);
	nm_gzip_index_free(b);
	free(gz.buf);
	free(img);
}

static void rewrite(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A CRC-32 that matches its content, so that field checks are reached. */
static void fix_crc(uint8_t *data, size_t len)
{
	uLong crc = crc32(0, data, (uInt)(len - 4));

	for (int i = 0; i < 4; i++)
		data[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static void corrupt_index_is_rebuilt(void **state)
{
	uint8_t *img = noisy_image();
	struct blob gz = { NULL, 0 };
	struct nm_gzip_index *ix;
	char path[4096];
	uint8_t *good, *bad;
	long len;
	FILE *f;

	(void)state;
	gzip_append(&gz, img, BIG);
	nm_gzip_index_free(index_of(&gz, &test_id, false));
	cache_file(&test_id, path);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	good = malloc((size_t)len);
	bad = malloc((size_t)len);
	assert_int_equal(fread(good, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	for (int c = 0; c < 10; c++) {
		size_t n = (size_t)len;
		uint64_t table = 0;

		memcpy(bad, good, n);
		for (int i = 0; i < 8; i++)
			table |= (uint64_t)good[48 + i] << (8 * i);
		switch (c) {
		case 0: bad[100] ^= 1; break;			/* a window byte: CRC */
		case 1: n /= 2; break;				/* cut short */
		case 2: n = 10; break;				/* shorter than a header */
		case 3: bad[40] = 0xFF; bad[41] = 0xFF; bad[42] = 0xFF; bad[43] = 0xFF; fix_crc(bad, n); break;	/* count */
		case 4: bad[32] ^= 0x10; fix_crc(bad, n); break;	/* total */
		case 5: bad[table + 48 + 8] = 0xFF; bad[table + 48 + 15] = 0x7F; fix_crc(bad, n); break;	/* cps[1].in past the stream */
		case 6: bad[table + 48 + 16] = 9; fix_crc(bad, n); break;		/* cps[1].bits */
		case 7: bad[table + 48 + 32] = 0xF0; bad[table + 48 + 37] = 0x01; fix_crc(bad, n); break;	/* window past the table */
		case 8: bad[table + 48 + 20] = 0x01; bad[table + 48 + 22] = 0x01; fix_crc(bad, n); break;	/* window_len > 32 KiB */
		case 9: bad[56] = 1; fix_crc(bad, n); break;		/* a literal copy the file has no room for */
		}
		rewrite(path, bad, n);
		ix = index_of(&gz, &test_id, false);	/* built again, not trusted */
		reads_match(ix, gz.buf, gz.len, img, BIG);
		nm_gzip_index_free(ix);
		f = fopen(path, "rb");
		assert_non_null(f);
		assert_int_equal(fread(bad, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		assert_memory_equal(bad, good, (size_t)len);	/* and cached again */
	}
	free(good);
	free(bad);
	free(gz.buf);
	free(img);
}

static void truncated_stream_names_the_offset(void **state)
{
	uint8_t *img = noisy_image();
	struct blob gz = { NULL, 0 };
	struct nm_gzip_index *ix;
	nm_error err;
	char path[4096];
	struct stat st;

	(void)state;
	gzip_append(&gz, img, BIG);
	assert_int_equal(nm_gzip_index_open(gz.buf, gz.len / 2, NM_GZIP_MAX_INFLATED, &test_id, NULL, &ix, &err), -1);
	assert_string_equal(err.what, "gzip stream");
	if (!strstr(err.why, "truncated") || !strstr(err.why, "at offset 0x"))
		fail_msg("why: %s", err.why);
	/* Nothing is cached for a stream that failed. */
	cache_file(&test_id, path);
	assert_int_not_equal(stat(path, &st), 0);
	/* A flipped bit in the data: zlib's words, with the offset. */
	gz.buf[gz.len / 3] ^= 0x55;
	assert_int_equal(nm_gzip_index_open(gz.buf, gz.len, NM_GZIP_MAX_INFLATED, &test_id, NULL, &ix, &err), -1);
	if (!strstr(err.why, "0x"))
		fail_msg("why: %s", err.why);
	free(gz.buf);
	free(img);
}

/* Reads that start from a checkpoint inside one member and run into the
 * next (the raw inflation has to step over the trailer and header). */
static void reads_cross_members(void **state)
{
	uint8_t *img = noisy_image();
	struct blob gz = { NULL, 0 };
	struct nm_gzip_index *ix;

	(void)state;
	gzip_append(&gz, img, (5u << 20) + 77);
	gzip_append(&gz, img + (5u << 20) + 77, 0);		/* an empty member */
	gzip_append(&gz, img + (5u << 20) + 77, BIG - (5u << 20) - 77);
	gz.buf = realloc(gz.buf, gz.len + 100);
	memset(gz.buf + gz.len, 0, 100);			/* tape padding */
	gz.len += 100;
	ix = index_of(&gz, &test_id, false);
	assert_int_equal(ix->total, BIG);
	reads_match(ix, gz.buf, gz.len, img, BIG);
	nm_gzip_index_free(ix);
	ix = index_of(&gz, &test_id, true);
	reads_match(ix, gz.buf, gz.len, img, BIG);
	nm_gzip_index_free(ix);
	free(gz.buf);
	free(img);
}

/* Memory that is mostly zero with a little data every 96 KiB: deflate's
 * blocks then cover a few MiB each, so some chunks lie far from any block
 * boundary; the index keeps those as compressed copies. */
#define SPARSE (12u << 20)

static uint8_t *sparse_image(void)
{
	uint8_t *img = calloc(1, SPARSE);
	uint32_t x = 777;

	assert_non_null(img);
	for (size_t at = 4096; at + 100 < SPARSE; at += 96u << 10) {
		for (size_t i = 0; i < 100; i++) {
			x = x * 1103515245u + 12345u;
			img[at + i] = (uint8_t)(x >> 24) | 1;
		}
	}
	return img;
}

static void far_chunks_are_kept_as_copies(void **state)
{
	uint8_t *img = sparse_image();
	struct blob gz = { NULL, 0 };
	struct nm_gzip_index *ix;

	(void)state;
	gzip_append(&gz, img, SPARSE);
	ix = index_of(&gz, &test_id, false);
	assert_true(ix->nliterals > 0);
	for (uint32_t i = 0; i < ix->nliterals; i++) {
		const struct nm_gzip_literal *l = &ix->literals[i];

		assert_int_equal(l->start % NM_GZIX_CHUNK, 0);
		assert_true(l->start - ix->cps[nm_gzip_index_find(ix, l->start)].out >= NM_GZIX_LITERAL_DISTANCE);
		assert_false(nm_gzip_index_zero(ix, l->start, NM_GZIX_CHUNK));
	}
	reads_match(ix, gz.buf, gz.len, img, SPARSE);
	nm_gzip_index_free(ix);
	ix = index_of(&gz, &test_id, true);
	assert_true(ix->nliterals > 0);
	reads_match(ix, gz.buf, gz.len, img, SPARSE);
	/* A copy read back wrong is an error, not wrong bytes. */
	{
		uint8_t *buf = malloc(NM_GZIX_CHUNK);
		nm_error err;

		ix->literals[0].crc ^= 1;
		assert_int_equal(nm_gzip_index_literal(ix, ix->literals[0].start, buf, NM_GZIX_CHUNK, &err), -1);
		assert_int_equal(nm_gzip_index_literal(ix, ix->literals[0].start + 1, buf, NM_GZIX_CHUNK, &err), 0);
		free(buf);
	}
	nm_gzip_index_free(ix);
	free(gz.buf);
	free(img);
}

struct seen {
	unsigned calls;
	uint64_t done, total;
};

static void count_progress(void *ctx, const char *what, uint64_t done, uint64_t total, const char *unit)
{
	struct seen *s = ctx;

	assert_string_equal(what, "indexing the gzip file");
	assert_string_equal(unit, "MiB");
	assert_true(done <= total);
	s->calls++;
	s->done = done;
	s->total = total;
}

/* Building reports through the caller's callback, ending at done == total;
 * reading the index back reports nothing. */
static void progress_is_reported_while_building(void **state)
{
	uint8_t *img = noisy_image();
	struct blob gz = { NULL, 0 };
	struct nm_gzip_index *ix;
	nm_error err;
	struct seen seen = { 0, 0, 0 };
	struct nm_progress p = { count_progress, &seen };

	(void)state;
	gzip_append(&gz, img, BIG);
	assert_int_equal(nm_gzip_index_open(gz.buf, gz.len, NM_GZIP_MAX_INFLATED, &test_id, &p, &ix, &err), 0);
	nm_gzip_index_free(ix);
	assert_true(seen.calls >= 1);
	assert_int_equal(seen.done, seen.total);
	assert_int_equal(seen.total, gz.len >> 20);
	seen.calls = 0;
	assert_int_equal(nm_gzip_index_open(gz.buf, gz.len, NM_GZIP_MAX_INFLATED, &test_id, &p, &ix, &err), 0);
	assert_true(ix->reused);
	nm_gzip_index_free(ix);
	assert_int_equal(seen.calls, 0);
	free(gz.buf);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gzipped_raw_image_opens_as_raw),
		cmocka_unit_test_setup_teardown(index_is_built_and_serves_reads, fresh_cache, drop_cache),
		cmocka_unit_test_setup_teardown(index_is_reused_while_the_identity_matches, fresh_cache, drop_cache),
		cmocka_unit_test_setup_teardown(corrupt_index_is_rebuilt, fresh_cache, drop_cache),
		cmocka_unit_test_setup_teardown(truncated_stream_names_the_offset, fresh_cache, drop_cache),
		cmocka_unit_test_setup_teardown(reads_cross_members, fresh_cache, drop_cache),
		cmocka_unit_test_setup_teardown(far_chunks_are_kept_as_copies, fresh_cache, drop_cache),
		cmocka_unit_test_setup_teardown(progress_is_reported_while_building, fresh_cache, drop_cache),
		cmocka_unit_test(uncompressed_files_say_so),
		cmocka_unit_test(members_are_concatenated),
		cmocka_unit_test(bad_streams_are_refused),
		cmocka_unit_test(output_is_bounded),
		cmocka_unit_test(disk_use_is_bounded),
		cmocka_unit_test(full_disk_is_reported),
		cmocka_unit_test(zero_pages_read_back_as_zeros),
		cmocka_unit_test(not_a_dump_is_refused_before_inflating),
		cmocka_unit_test(inflation_stops_at_what_the_header_needs),
	};

	return cmocka_run_group_tests_name("gzip", tests, NULL, NULL);
}
