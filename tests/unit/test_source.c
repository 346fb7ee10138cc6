/* Dump header parsing and physical page lookup over hand-built dumps
 * (layouts from docs/dump-format.md), opened with nm_source_open_buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/source.h>

#define PAGE 4096u

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A header32 as a writer leaves it: 'PAGE' everywhere, then the fields. */
static void header32(uint8_t *h, uint32_t dump_type, int pae)
{
	for (unsigned i = 0; i < 0x1000; i += 4)
		memcpy(h + i, "PAGE", 4);
	memcpy(h, "PAGEDUMP", 8);
	put32(h + 0x08, 0xF);
	put32(h + 0x0C, 2600);
	put32(h + 0x10, pae ? 0x319000 | 0x20 : 0x39000);
	put32(h + 0x20, 0x14C);
	put32(h + 0x24, 2);
	put32(h + 0x28, 0x4E);
	put32(h + 0x2C, 7);
	put32(h + 0x30, 0x651);
	put32(h + 0x34, 0x64DB);
	put32(h + 0x38, 0);
	h[0x5C] = (uint8_t)pae;
	put32(h + 0x60, 0x8054C0E0);
	put32(h + 0xF88, dump_type);
	put64(h + 0xFC0, UINT64_C(128263968000000000)); /* 2007-06-12T00:00:00Z */
}

/* Each stored page starts with its own PFN so lookups can be checked. */
static void stamp_page(uint8_t *page, uint64_t pfn)
{
	put64(page, pfn);
}

struct dump {
	uint8_t *buf;
	size_t len;
};

/* Full dump: runs {0,3} and {0x10,2}: 5 pages after the header. */
static struct dump full_dump(void)
{
	struct dump d = { calloc(1, PAGE * 6), PAGE * 6 };
	uint64_t pfns[5] = { 0, 1, 2, 0x10, 0x11 };

	header32(d.buf, 1, 0);
	put32(d.buf + 0x64, 2);
	put32(d.buf + 0x68, 5);
	put32(d.buf + 0x6C, 0);
	put32(d.buf + 0x70, 3);
	put32(d.buf + 0x74, 0x10);
	put32(d.buf + 0x78, 2);
	for (int i = 0; i < 5; i++)
		stamp_page(d.buf + PAGE * (1 + i), pfns[i]);
	return d;
}

static int open_dump(struct dump *d, nm_source **src, nm_error *err)
{
	memset(err, 0, sizeof(*err));
	return nm_source_open_buffer(d->buf, d->len, false, src, err);
}

static void full_dump_header_facts(void **state)
{
	struct dump d = full_dump();
	nm_source *src;
	nm_error err;
	const struct nm_dump_facts *f;

	(void)state;
	assert_int_equal(open_dump(&d, &src, &err), 0);
	f = nm_source_facts(src);
	assert_int_equal(f->type, NM_DUMP_FULL);
	assert_int_equal(f->arch, NM_ARCH_X86);
	assert_false(f->pae);
	assert_int_equal(f->dtb, 0x39000);
	assert_int_equal(f->build, 2600);
	assert_int_equal(f->processors, 2);
	assert_int_equal(f->bugcheck_code, 0x4E);
	assert_int_equal(f->bugcheck_params[1], 0x651);
	assert_int_equal(f->kdbg_va, 0x8054C0E0);
	assert_int_equal(f->pages_in_dump, 5);
	assert_int_equal(f->max_pfn, 0x12);
	assert_int_equal(f->nruns, 2);
	assert_int_equal(f->runs[1].base_pfn, 0x10);
	assert_true(f->system_time == UINT64_C(128263968000000000));
	assert_false(f->has_context);	/* left as 'PAGE' fill */
	nm_source_close(src);
	free(d.buf);
}

static void full_dump_run_lookup(void **state)
{
	struct dump d = full_dump();
	nm_source *src;
	nm_error err;
	uint64_t present[5] = { 0, 1, 2, 0x10, 0x11 };
	uint64_t absent[5] = { 3, 0xF, 0x12, 0x100000, UINT64_MAX };
	uint8_t buf[16];

	(void)state;
	assert_int_equal(open_dump(&d, &src, &err), 0);
	for (int i = 0; i < 5; i++) {
		const uint8_t *p = nm_source_page(src, present[i]);

		assert_non_null(p);
		assert_int_equal(p[0], (uint8_t)present[i]);
		assert_ptr_equal(p, d.buf + PAGE * (1 + i));
		assert_null(nm_source_page(src, absent[i]));
	}
	/* A read across the two pages of run 2 succeeds, across a hole fails. */
	assert_int_equal(nm_source_read_pa(src, 0x10FF8, buf, 16), 0);
	assert_int_equal(buf[8], 0x11);
	assert_int_equal(nm_source_read_pa(src, 0x2FF8, buf, 16), -1);
	nm_source_close(src);
	free(d.buf);
}

static void expect_failure(struct dump *d, const char *what)
{
	nm_source *src = (nm_source *)1;
	nm_error err;

	assert_int_equal(open_dump(d, &src, &err), -1);
	assert_null(src);
	assert_non_null(strstr(err.what, what));
	assert_true(err.why[0] != '\0');
	free(d->buf);
}

static void full_dump_bad_run_tables(void **state)
{
	struct dump d;

	(void)state;
	d = full_dump();
	memcpy(d.buf + 0x64, "PAGE", 4);
	expect_failure(&d, "NumberOfRuns");
	d = full_dump();
	put32(d.buf + 0x64, 87);
	expect_failure(&d, "NumberOfRuns");
	d = full_dump();
	put32(d.buf + 0x68, 6);
	expect_failure(&d, "NumberOfPages");
	d = full_dump();
	put32(d.buf + 0x74, 2);	/* second run overlaps the first */
	expect_failure(&d, "BasePage");
	d = full_dump();
	d.len -= PAGE;		/* last page cut off */
	expect_failure(&d, "PhysicalMemoryBlock");
}

static void bad_signatures_and_truncation(void **state)
{
	struct dump d;

	(void)state;
	d = full_dump();
	memcpy(d.buf, "MDMP", 4);
	expect_failure(&d, "header.Signature");
	d = full_dump();
	memcpy(d.buf + 4, "DUMX", 4);
	expect_failure(&d, "header.ValidDump");
	d = full_dump();
	d.len = 0x800;
	expect_failure(&d, "header");
	d = full_dump();
	d.len = 3;
	expect_failure(&d, "file");
	d = full_dump();
	put32(d.buf + 0xF88, 9);
	expect_failure(&d, "header.DumpType");
	d = full_dump();
	put32(d.buf + 0x20, 0x8664);
	expect_failure(&d, "MachineImageType");
}

/* Kernel dump: bitmap over 200 PFNs with PFNs 1, 63, 64, 130 and 199 set. */
static const uint64_t kernel_pfns[5] = { 1, 63, 64, 130, 199 };

static void set_bit(uint8_t *bitmap, uint64_t n)
{
	bitmap[n / 8] |= (uint8_t)(1u << (n % 8));
}

static struct dump kernel_dump(void)
{
	struct dump d = { calloc(1, PAGE * 7), PAGE * 7 };
	uint8_t *s = d.buf + PAGE;

	header32(d.buf, 2, 1);
	memcpy(s, "SDMPDUMP", 8);
	put32(s + 0x0C, 2 * PAGE);	/* HeaderSize: absolute offset of the first page */
	put32(s + 0x10, 200);
	put32(s + 0x14, 5);
	put32(s + 0x18, 200);
	for (int i = 0; i < 5; i++) {
		set_bit(s + 0x20, kernel_pfns[i]);
		stamp_page(d.buf + PAGE * (2 + i), kernel_pfns[i]);
	}
	return d;
}

static void check_bitmap_lookup(struct dump *d, enum nm_dump_type type)
{
	nm_source *src;
	nm_error err;
	const struct nm_dump_facts *f;

	assert_int_equal(open_dump(d, &src, &err), 0);
	f = nm_source_facts(src);
	assert_int_equal(f->type, type);
	assert_true(f->pae);
	assert_int_equal(f->dtb, 0x319020);	/* PAE: 32-byte aligned PDPT */
	assert_int_equal(f->pages_in_dump, 5);
	assert_int_equal(f->max_pfn, 200);
	for (uint64_t pfn = 0; pfn < 260; pfn++) {
		const uint8_t *p = nm_source_page(src, pfn);
		int want = -1;

		for (int i = 0; i < 5; i++)
			if (kernel_pfns[i] == pfn)
				want = i;
		if (want < 0) {
			assert_null(p);
			continue;
		}
		assert_ptr_equal(p, d->buf + PAGE * (2 + (unsigned)want));
		assert_int_equal(p[0], (uint8_t)pfn);
	}
	nm_source_close(src);
	free(d->buf);
}

static void kernel_dump_rank_lookup(void **state)
{
	struct dump d = kernel_dump();

	(void)state;
	check_bitmap_lookup(&d, NM_DUMP_KERNEL);
}

static void kernel_dump_bad_bitmaps(void **state)
{
	struct dump d;

	(void)state;
	d = kernel_dump();
	put32(d.buf + PAGE + 0x14, 6);	/* Pages disagrees with the popcount */
	expect_failure(&d, "summary.Pages");
	d = kernel_dump();
	memcpy(d.buf + PAGE, "XDMP", 4);
	expect_failure(&d, "summary.Signature");
	d = kernel_dump();
	put32(d.buf + PAGE + 0x10, 0xFFFFFFFF);	/* bit count larger than the file */
	put32(d.buf + PAGE + 0x18, 0xFFFFFFFF);
	expect_failure(&d, "bitmap.BitCount");
	d = kernel_dump();
	d.len -= 1;
	expect_failure(&d, "FirstPageOffset");
	d = kernel_dump();
	put32(d.buf + PAGE + 0x0C, 0x1010);	/* first page inside the header */
	expect_failure(&d, "FirstPageOffset");
}

/* Bitmap dump (DumpType 5): 64-bit fields, bits at 0x1038. */
static struct dump bitmap_dump(void)
{
	struct dump d = { calloc(1, PAGE * 7), PAGE * 7 };
	uint8_t *b = d.buf + PAGE;

	header32(d.buf, 5, 1);
	memcpy(b, "SDMPDUMP", 8);
	put64(b + 0x20, 2 * PAGE);
	put64(b + 0x28, 5);
	put64(b + 0x30, 200);
	for (int i = 0; i < 5; i++) {
		set_bit(b + 0x38, kernel_pfns[i]);
		stamp_page(d.buf + PAGE * (2 + i), kernel_pfns[i]);
	}
	return d;
}

static void bitmap_dump_rank_lookup(void **state)
{
	struct dump d = bitmap_dump();

	(void)state;
	check_bitmap_lookup(&d, NM_DUMP_BITMAP);
}

static void bitmap_dump_bad_counts(void **state)
{
	struct dump d;

	(void)state;
	d = bitmap_dump();
	put64(d.buf + PAGE + 0x28, 4);
	expect_failure(&d, "bitmap.TotalPresentPages");
	d = bitmap_dump();
	put64(d.buf + PAGE + 0x30, UINT64_MAX);
	expect_failure(&d, "bitmap.BitCount");
	d = bitmap_dump();
	put64(d.buf + PAGE + 0x20, UINT64_MAX - 5);
	expect_failure(&d, "FirstPageOffset");
}

static void triage_dump_has_facts_but_no_pages(void **state)
{
	struct dump d = { calloc(1, PAGE * 2), PAGE * 2 };
	nm_source *src;
	nm_error err;

	(void)state;
	header32(d.buf, 4, 0);
	assert_int_equal(open_dump(&d, &src, &err), 0);
	assert_int_equal(nm_source_facts(src)->type, NM_DUMP_TRIAGE);
	assert_int_equal(nm_source_facts(src)->max_pfn, 0);
	assert_int_equal(nm_source_facts(src)->nruns, 0);	/* 'PAGE' fill */
	assert_null(nm_source_page(src, 0));
	nm_source_close(src);
	free(d.buf);
}

static void header64_is_reported_without_pages(void **state)
{
	struct dump d = { calloc(1, PAGE * 3), PAGE * 3 };
	uint8_t *h = d.buf;
	nm_source *src;
	nm_error err;
	const struct nm_dump_facts *f;

	(void)state;
	for (unsigned i = 0; i < 0x2000; i += 4)
		memcpy(h + i, "PAGE", 4);
	memcpy(h, "PAGEDU64", 8);
	put32(h + 0x0C, 19041);
	put64(h + 0x10, 0x1AD000);
	put32(h + 0x30, 0x8664);
	put32(h + 0x34, 16);
	put32(h + 0x38, 0x1000007E);
	put64(h + 0x40, UINT64_C(0xFFFFFFFFC0000005));
	put64(h + 0x80, UINT64_C(0xFFFFF8047C600B20));
	put32(h + 0x88, 1);
	put64(h + 0x90, 0x100);
	put64(h + 0x98, 1);
	put64(h + 0xA0, 0x100);
	put32(h + 0xF98, 1);
	assert_int_equal(open_dump(&d, &src, &err), 0);
	f = nm_source_facts(src);
	assert_int_equal(f->arch, NM_ARCH_X64);
	assert_int_equal(f->type, NM_DUMP_FULL);
	assert_int_equal(f->build, 19041);
	assert_true(f->kdbg_va == UINT64_C(0xFFFFF8047C600B20));
	assert_true(f->bugcheck_params[0] == UINT64_C(0xFFFFFFFFC0000005));
	assert_int_equal(f->nruns, 1);
	assert_int_equal(f->pages_in_dump, 1);	/* the file holds one page of 0x100 */
	assert_true(nm_source_truncated(f));	/* so no page is served (test_header64.c) */
	assert_int_equal(f->max_pfn, 0);
	assert_null(nm_source_page(src, 1));
	nm_source_close(src);
	free(d.buf);
}

static void raw_image_is_flat(void **state)
{
	struct dump d = { calloc(1, PAGE * 3 + 100), PAGE * 3 + 100 };
	nm_source *src;
	nm_error err;

	(void)state;
	assert_int_equal(nm_source_open_buffer(d.buf, d.len, true, &src, &err), 0);
	assert_int_equal(nm_source_facts(src)->type, NM_DUMP_RAW);
	assert_int_equal(nm_source_facts(src)->max_pfn, 3);
	assert_ptr_equal(nm_source_page(src, 2), d.buf + 2 * PAGE);
	assert_null(nm_source_page(src, 3));	/* the partial tail is not a page */
	nm_source_close(src);
	free(d.buf);
}

static int count_page(void *ctx, uint64_t pfn, const uint8_t *page)
{
	uint64_t *seen = ctx;

	assert_int_equal(page[0], (uint8_t)pfn);
	seen[0]++;
	seen[1] += pfn;
	return 0;
}

static void visiting_pages_in_pfn_order(void **state)
{
	struct dump d = kernel_dump();
	nm_source *src;
	nm_error err;
	uint64_t seen[2] = { 0, 0 };

	(void)state;
	assert_int_equal(open_dump(&d, &src, &err), 0);
	assert_int_equal(nm_source_for_each_page(src, count_page, seen), 0);
	assert_int_equal(seen[0], 5);
	assert_int_equal(seen[1], 1 + 63 + 64 + 130 + 199);
	nm_source_close(src);
	free(d.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_dump_header_facts),
		cmocka_unit_test(full_dump_run_lookup),
		cmocka_unit_test(full_dump_bad_run_tables),
		cmocka_unit_test(bad_signatures_and_truncation),
		cmocka_unit_test(kernel_dump_rank_lookup),
		cmocka_unit_test(kernel_dump_bad_bitmaps),
		cmocka_unit_test(bitmap_dump_rank_lookup),
		cmocka_unit_test(bitmap_dump_bad_counts),
		cmocka_unit_test(triage_dump_has_facts_but_no_pages),
		cmocka_unit_test(header64_is_reported_without_pages),
		cmocka_unit_test(raw_image_is_flat),
		cmocka_unit_test(visiting_pages_in_pfn_order),
	};
	return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
