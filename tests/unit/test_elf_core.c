/* ELF cores read through libkdumpfile: headers checked first, pages served
 * from a lazily filled reservation, QEMU's register note read for CR3/CR4.
 * The cores are built here from the gABI layouts (docs/containers.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>

#include <ntmem/source.h>

#define PAGE 4096u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

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

struct seg {
	uint32_t type;		/* 1 PT_LOAD, 4 PT_NOTE */
	uint64_t paddr;
	uint64_t pages;		/* PT_LOAD: pages of data */
	const uint8_t *note;	/* PT_NOTE: bytes */
	size_t note_len;
};

struct core {
	uint8_t *buf;
	size_t len;
};

/* Headers, then notes, then each PT_LOAD's pages from the next page
 * boundary; page I of the file's data is filled with (paddr >> 12) + 1. */
static struct core build(bool elf64, uint16_t machine, const struct seg *segs, unsigned n)
{
	size_t eh = elf64 ? 64 : 52, ph = elf64 ? 56 : 32;
	size_t at = eh + ph * n, data;
	struct core c;

	for (unsigned i = 0; i < n; i++)
		at += segs[i].note_len;
	data = (at + PAGE - 1) / PAGE * PAGE;
	c.len = data;
	for (unsigned i = 0; i < n; i++)
		c.len += segs[i].pages * PAGE;
	c.buf = calloc(1, c.len);
	assert_non_null(c.buf);
	memcpy(c.buf, "\x7f" "ELF", 4);
	c.buf[4] = elf64 ? 2 : 1;
	c.buf[5] = 1;
	c.buf[6] = 1;
	put16(c.buf + 16, 4);
	put16(c.buf + 18, machine);
	put32(c.buf + 20, 1);
	if (elf64) {
		put64(c.buf + 32, 64);
		put16(c.buf + 52, 64);
		put16(c.buf + 54, 56);
		put16(c.buf + 56, (uint16_t)n);
	} else {
		put32(c.buf + 28, 52);
		put16(c.buf + 40, 52);
		put16(c.buf + 42, 32);
		put16(c.buf + 44, (uint16_t)n);
	}
	at = eh + ph * n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = c.buf + eh + ph * i;
		uint64_t off = segs[i].type == 4 ? at : data;
		uint64_t size = segs[i].type == 4 ? segs[i].note_len : segs[i].pages * PAGE;

		if (segs[i].type == 4) {
			memcpy(c.buf + at, segs[i].note, segs[i].note_len);
			at += segs[i].note_len;
		} else {
			for (uint64_t pg = 0; pg < segs[i].pages; pg++)
				memset(c.buf + data + pg * PAGE, (int)(((segs[i].paddr >> 12) + pg + 1) & 0xFF), PAGE);
			data += size;
		}
		put32(p, segs[i].type);
		if (elf64) {
			put32(p + 4, 7);
			put64(p + 8, off);
			put64(p + 24, segs[i].paddr);
			put64(p + 32, size);
			put64(p + 40, size);
		} else {
			put32(p + 4, (uint32_t)off);
			put32(p + 12, (uint32_t)segs[i].paddr);
			put32(p + 16, (uint32_t)size);
			put32(p + 20, (uint32_t)size);
			put32(p + 24, 7);
		}
	}
	return c;
}

static void elf32_core_serves_its_segments(void **state)
{
	const struct seg segs[] = {
		{ 1, 0x1000, 3, NULL, 0 },
		{ 1, 0x10000, 2, NULL, 0 },
	};
	struct core c = build(false, 3, segs, 2);
	const struct nm_dump_facts *f;
	const uint8_t *a, *b;
	nm_source *src;
	nm_error err;

	(void)state;
	assert_int_equal(nm_source_open_buffer(c.buf, c.len, false, &src, &err), 0);
	f = nm_source_facts(src);
	assert_string_equal(nm_format_name(f->format), "elf");
	assert_int_equal(f->type, NM_DUMP_FULL);
	assert_int_equal(f->arch, NM_ARCH_X86);
	assert_true(f->pae_unknown);
	assert_int_equal(f->dtb, 0);
	assert_int_equal(f->pages_in_dump, 5);
	assert_int_equal(f->nruns, 2);
	assert_int_equal(f->runs[0].base_pfn, 1);
	assert_int_equal(f->runs[0].page_count, 3);
	assert_int_equal(f->runs[1].base_pfn, 0x10);
	assert_int_equal(f->runs[1].page_count, 2);
	assert_int_equal(f->max_pfn, 0x12);
	assert_null(nm_source_page(src, 0));
	assert_null(nm_source_page(src, 4));
	assert_null(nm_source_page(src, 0x12));
	assert_null(nm_source_page(src, UINT64_MAX >> 12));
	a = nm_source_page(src, 3);
	b = nm_source_page(src, 0x11);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a[0], 4);
	assert_int_equal(a[PAGE - 1], 4);
	assert_int_equal(b[17], 0x12);
	/* Pointers held across other lookups keep their bytes and address. */
	assert_ptr_equal(nm_source_page(src, 3), a);
	assert_int_equal(nm_source_page(src, 1)[0], 2);
	assert_int_equal(a[100], 4);
	/* The source does not keep the caller's buffer. */
	memset(c.buf, 0xEE, c.len);
	assert_int_equal(nm_source_page(src, 2)[5], 3);
	nm_source_close(src);
	free(c.buf);
}

struct walk {
	uint64_t pfns[16];
	unsigned n;
};

static int record(void *ctx, uint64_t pfn, const uint8_t *page)
{
	struct walk *w = ctx;

	assert_true(w->n < 16);
	assert_int_equal(page[0], (uint8_t)(pfn + 1));
	w->pfns[w->n++] = pfn;
	return 0;
}

static void pages_are_visited_in_order(void **state)
{
	const struct seg segs[] = {
		{ 1, 0x20000, 1, NULL, 0 },
		{ 1, 0x2000, 2, NULL, 0 },
	};
	struct core c = build(true, 3, segs, 2);
	struct walk w = { { 0 }, 0 };
	nm_source *src;
	nm_error err;

	(void)state;
	assert_int_equal(nm_source_open_buffer(c.buf, c.len, false, &src, &err), 0);
	assert_int_equal(nm_source_for_each_page(src, record, &w), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.pfns[0], 2);
	assert_int_equal(w.pfns[1], 3);
	assert_int_equal(w.pfns[2], 0x20);
	nm_source_close(src);
	free(c.buf);
}

/* QEMUCPUState: cr[] after 8 + 18*8 + 10*24 bytes; the note is named "QEMU". */
static size_t qemu_note(uint8_t *n, uint64_t cr3, uint64_t cr4)
{
	const size_t state = 440;

	memset(n, 0, 20 + state);
	put32(n, 5);
	put32(n + 4, (uint32_t)state);
	memcpy(n + 12, "QEMU", 5);
	put32(n + 20, 1);
	put32(n + 24, (uint32_t)state);
	put64(n + 20 + 392 + 24, cr3);
	put64(n + 20 + 392 + 32, cr4);
	return 20 + state;
}

static void qemu_note_gives_dtb_and_pae(void **state)
{
	uint8_t note[2 * 460];
	size_t one = qemu_note(note, 0x319020, 0x6F9);
	struct seg segs[] = {
		{ 4, 0, 0, note, 0 },
		{ 1, 0x1000, 1, NULL, 0 },
	};
	struct core c;
	nm_source *src;
	nm_error err;
	const struct nm_dump_facts *f;

	(void)state;
	qemu_note(note + one, 0xAAAA000, 0);	/* a second vCPU: counted, not used */
	segs[0].note_len = 2 * one;
	c = build(false, 3, segs, 2);
	assert_int_equal(nm_source_open_buffer(c.buf, c.len, false, &src, &err), 0);
	f = nm_source_facts(src);
	assert_false(f->pae_unknown);
	assert_true(f->pae);
	assert_int_equal(f->dtb, 0x319020);
	assert_int_equal(f->processors, 2);
	nm_source_close(src);
	free(c.buf);
}

static void expect_error(struct core c, const char *what, const char *why_part)
{
	nm_source *src = (nm_source *)1;
	nm_error err;

	assert_int_equal(nm_source_open_buffer(c.buf, c.len, false, &src, &err), -1);
	assert_null(src);
	if (strcmp(err.what, what) != 0 || !strstr(err.why, why_part))
		fail_msg("got '%s: %s', expected '%s' with '%s'", err.what, err.why, what, why_part);
	free(c.buf);
}

static void bad_headers_are_refused(void **state)
{
	const struct seg segs[] = { { 1, 0x1000, 2, NULL, 0 } };
	const struct seg note_only[] = { { 4, 0, 0, (const uint8_t *)"\5\0\0\0\xff\xff\0\0\0\0\0\0QEMU\0\0\0\0", 20 } };
	struct core c;

	(void)state;
	c = build(false, 3, segs, 1);
	c.len -= PAGE;					/* cut inside the segment */
	expect_error(c, "elf.PT_LOAD", "truncated");
	c = build(false, 3, segs, 1);
	c.buf[4] = 3;
	expect_error(c, "elf.e_ident[EI_CLASS]", "ELFCLASS");
	c = build(false, 3, segs, 1);
	c.buf[5] = 2;
	expect_error(c, "elf.e_ident[EI_DATA]", "little-endian");
	c = build(false, 3, segs, 1);
	put16(c.buf + 16, 2);				/* ET_EXEC */
	expect_error(c, "elf.e_type", "ET_CORE");
	c = build(false, 40, segs, 1);			/* EM_ARM */
	expect_error(c, "elf.e_machine", "EM_386");
	c = build(false, 3, segs, 1);
	put16(c.buf + 42, 33);
	expect_error(c, "elf.e_phentsize", "ELF32");
	c = build(false, 3, segs, 1);
	put16(c.buf + 44, 0);
	expect_error(c, "elf.e_phnum", "none");
	c = build(false, 3, segs, 1);
	put32(c.buf + 28, 0xFFFFFFF0u);
	expect_error(c, "elf.e_phoff", "past the end");
	c = build(false, 3, segs, 1);
	put32(c.buf + 32, 0x7FFFFFF0u);			/* e_shoff */
	put16(c.buf + 48, 3);
	expect_error(c, "elf.e_shoff", "not expected");
	c = build(true, 3, segs, 1);
	put64(c.buf + 64 + 24, UINT64_C(1) << 50);	/* p_paddr far beyond */
	expect_error(c, "elf.PT_LOAD", "beyond");
	c = build(false, 3, segs, 1);
	put32(c.buf + 52, 2);				/* PT_DYNAMIC */
	expect_error(c, "elf.p_type", "not expected");
	c = build(false, 3, segs, 1);
	put32(c.buf + 52 + 20, 3 * PAGE);		/* p_memsz beyond p_filesz */
	expect_error(c, "elf.PT_LOAD", "held whole");
	c = build(false, 3, segs, 1);
	put32(c.buf + 52 + 12, 0x1800);			/* p_paddr not page aligned */
	expect_error(c, "elf.PT_LOAD", "page-aligned");
	{
		const struct seg twice[] = { { 1, 0x1000, 2, NULL, 0 }, { 1, 0x2000, 1, NULL, 0 } };

		c = build(false, 3, twice, 2);
		expect_error(c, "elf.PT_LOAD", "overlaps");
	}
	c = build(false, 3, segs, 1);
	put16(c.buf + 48, 0xFDFF);			/* e_shnum without a table */
	expect_error(c, "elf.e_shoff", "not expected");
	c = build(false, 3, note_only, 1);
	expect_error(c, "elf.PT_NOTE", "runs past");
	c = build(false, 3, segs, 1);
	c.len = 40;
	expect_error(c, "elf.header", "too short");
	c = build(false, 3, segs, 1);
	put32(c.buf + 52, 4);				/* the only segment is a PT_NOTE */
	put32(c.buf + 52 + 16, 0);
	expect_error(c, "elf.PT_LOAD", "no PT_LOAD");
}

static void gzipped_core_opens(void **state)
{
	const struct seg segs[] = { { 1, 0x3000, 2, NULL, 0 } };
	struct core c = build(true, 3, segs, 1);
	uLongf cap = compressBound((uLong)c.len) + 64;
	uint8_t *gz = malloc(cap);
	z_stream z;
	nm_source *src;
	nm_error err;

	(void)state;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = c.buf;
	z.avail_in = (uInt)c.len;
	z.next_out = gz;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(nm_source_open_buffer(gz, cap - z.avail_out, false, &src, &err), 0);
	deflateEnd(&z);
	assert_int_equal(nm_source_facts(src)->format, NM_FORMAT_ELF);
	assert_int_equal(nm_source_facts(src)->compression, NM_COMPRESSION_GZIP);
	assert_int_equal(nm_source_page(src, 4)[9], 5);
	nm_source_close(src);
	free(gz);
	free(c.buf);
}

/* kdump-compressed files are read (kdump.c checks the header first, then
 * libkdumpfile reads); a bare signature is refused naming the field, and
 * never reaches the library (0.5.1 crashes on the 8 bytes "KDUMP   "). The
 * flattened stream is refused saying how to rearrange it. */
static void kdump_headers_are_checked_before_the_library(void **state)
{
	static const char *const heads[] = { "KDUMP   ", "DISKDUMP" };
	uint8_t buf[4096];
	nm_source *src;
	nm_error err;

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, heads[i], strlen(heads[i]));
		assert_int_equal(nm_source_open_buffer(buf, sizeof(buf), false, &src, &err), -1);
		assert_string_equal(err.what, "header.block_size");
		assert_int_equal(nm_source_open_buffer(buf, strlen(heads[i]), false, &src, &err), -1);
		assert_string_equal(err.what, "header");
		/* A page size and bitmap that fit, but a bitmap past the end. */
		buf[416 + 1] = 0x10;	/* block_size 4096 */
		buf[420] = 1;		/* one sub-header block */
		buf[424] = 2;		/* two bitmap blocks */
		buf[428] = 0x10;	/* max_mapnr 16 */
		assert_int_equal(nm_source_open_buffer(buf, sizeof(buf), false, &src, &err), -1);
		assert_string_equal(err.what, "header.bitmap_blocks");
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "makedumpfile", 12);
	assert_int_equal(nm_source_open_buffer(buf, sizeof(buf), false, &src, &err), -1);
	assert_string_equal(err.what, "format");
	assert_non_null(strstr(err.why, "makedumpfile -R"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(elf32_core_serves_its_segments),
		cmocka_unit_test(pages_are_visited_in_order),
		cmocka_unit_test(qemu_note_gives_dtb_and_pae),
		cmocka_unit_test(bad_headers_are_refused),
		cmocka_unit_test(gzipped_core_opens),
		cmocka_unit_test(kdump_headers_are_checked_before_the_library),
	};

	return cmocka_run_group_tests_name("elf_core", tests, NULL, NULL);
}
