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

#include <zlib.h>

#include <ntmem/source.h>

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
	/* The compressed buffer is not referenced once the source is open. */
	memset(gz.buf, 0, gz.len);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gzipped_raw_image_opens_as_raw),
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
