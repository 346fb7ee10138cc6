/* Laying an original driver file out in memory, applying its base
 * relocations for the load base, and comparing it with a carve. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ntmem/reloc.h>

#include "pe_builder.h"

/* A file in disk layout: .text at file 0x400 (RVA 0x1000), .reloc at file
 * 0x600 (RVA 0x2000) holding one block for page 0x1000. */
static void build_file(uint8_t *file, size_t len, uint32_t block_size)
{
	static const struct tb_section s[] = {
		{ ".text", 0x1000, 0x100, 0x200, 0x400, 0x68000020 },
		{ ".reloc", 0x2000, 0x20, 0x200, 0x600, 0x42000040 },
	};
	uint8_t *blk = file + 0x600;

	memset(file, 0, len);
	tb_write_headers(file, 0x10000, 0x1000, 0x200, 0x3000, s, 2);
	tb_set_directory(file, 5, 0x2000, 0x10);
	for (unsigned i = 0; i < 0x100; i++)
		file[0x400 + i] = (uint8_t)(0x90 + i);
	tb_put32(file + 0x400 + 0x10, 0x00011234u);
	tb_put32(file + 0x400 + 0x20, 0x00011000u);
	tb_put32(blk, 0x1000);
	tb_put32(blk + 4, block_size);
	tb_put16(blk + 8, 0x3010);		/* HIGHLOW at 0x1010 */
	tb_put16(blk + 10, 0x0000);		/* ABSOLUTE: padding */
	tb_put16(blk + 12, 0xA020);		/* DIR64: not x86, ignored */
	tb_put16(blk + 14, 0x3FFE);		/* HIGHLOW at 0x1FFE: inside the image */
}

/* A PE32+ file: .text at file 0x400 (RVA 0x1000) holding 64-bit pointers,
 * .reloc at file 0x600 (RVA 0x2000). ImageBase 0x140000000. */
static void build_file64(uint8_t *file, size_t len)
{
	static const struct tb_section s[] = {
		{ ".text", 0x1000, 0x100, 0x200, 0x400, 0x60000020 },
		{ ".reloc", 0x2000, 0x14, 0x200, 0x600, 0x42000040 },
	};
	uint8_t *blk = file + 0x600;

	memset(file, 0, len);
	tb_write_headers64(file, 0x140000000ull, 0x1000, 0x200, 0x3000, s, 2);
	tb_set_directory64(file, 5, 0x2000, 0x14);
	tb_put64(file + 0x400 + 0x10, 0x0000000140001234ull);
	tb_put64(file + 0x400 + 0x20, 0x0000000140002000ull);
	tb_put32(file + 0x400 + 0x30, 0x40003000u);
	tb_put64(file + 0x400 + 0x40, 0x0000000140001000ull);	/* no entry: unchanged */
	tb_put32(blk, 0x1000);
	tb_put32(blk + 4, 0x14);
	tb_put16(blk + 8, 0xA010);		/* DIR64 at 0x1010 */
	tb_put16(blk + 10, 0xA020);		/* DIR64 at 0x1020 */
	tb_put16(blk + 12, 0x3030);		/* HIGHLOW at 0x1030: the low half of the delta */
	tb_put16(blk + 14, 0x5034);		/* type 5: not applied */
	tb_put16(blk + 16, 0xAFFC);		/* DIR64 at 0x1FFC: inside the image */
	tb_put16(blk + 18, 0x0000);		/* ABSOLUTE: padding */
}

static void dir64_relocations_move_64_bit_fields(void **state)
{
	uint8_t file[0x800];
	struct nm_loaded_file lf;
	const uint64_t base = 0xFFFFF88001000000ull, delta = base - 0x140000000ull;
	nm_error err;

	(void)state;
	build_file64(file, sizeof(file));
	assert_int_equal(nm_pe_load_file(file, sizeof(file), base, &lf, &err), 0);
	assert_true(lf.pe.pe32plus);
	assert_true(lf.load_base == base);
	assert_true(lf.has_relocations);
	assert_int_equal(lf.relocs_applied, 4);
	assert_int_equal(lf.relocs_ignored, 1);
	assert_false(lf.relocs_truncated);
	assert_true(tb_get64(lf.image + 0x1010) == 0xFFFFF88001001234ull);
	assert_true(tb_get64(lf.image + 0x1020) == 0xFFFFF88001002000ull);
	assert_int_equal(tb_get32(lf.image + 0x1030), (uint32_t)(0x40003000u + (uint32_t)delta));
	assert_true(tb_get64(lf.image + 0x1040) == 0x0000000140001000ull);
	nm_loaded_file_free(&lf);
	/* the same file at its own base: nothing moves */
	assert_int_equal(nm_pe_load_file(file, sizeof(file), 0x140000000ull, &lf, &err), 0);
	assert_memory_equal(lf.image + 0x1000, file + 0x400, 0x100);
	nm_loaded_file_free(&lf);
}

static void dir64_past_the_image_is_ignored(void **state)
{
	uint8_t file[0x800];
	struct nm_loaded_file lf;
	nm_error err;

	(void)state;
	build_file64(file, sizeof(file));
	tb_put32(file + 0x600, 0x2000);		/* the block's page: 0x2000 */
	tb_put16(file + 0x600 + 8, 0xAFFC);	/* 0x2FFC + 8 runs past SizeOfImage 0x3000 */
	assert_int_equal(nm_pe_load_file(file, sizeof(file), 0xFFFFF88001000000ull, &lf, &err), 0);
	assert_true(lf.relocs_ignored >= 2);
	nm_loaded_file_free(&lf);
}

static void lays_out_and_relocates(void **state)
{
	uint8_t file[0x800];
	struct nm_loaded_file lf;
	nm_error err;

	(void)state;
	build_file(file, sizeof(file), 0x10);
	assert_int_equal(nm_pe_load_file(file, sizeof(file), 0xF0000000u, &lf, &err), 0);
	assert_int_equal(lf.size, 0x3000);
	assert_true(lf.has_relocations);
	assert_int_equal(lf.relocs_applied, 2);
	assert_int_equal(lf.relocs_ignored, 1);
	assert_false(lf.relocs_truncated);
	assert_int_equal(tb_get32(lf.image + 0x1010), 0xF0001234u);
	assert_int_equal(tb_get32(lf.image + 0x1020), 0x00011000u);	/* no entry: unchanged */
	assert_int_equal(lf.image[0x1000], 0x90);
	assert_int_equal(lf.image[0x10FF], 0x8F);
	assert_int_equal(lf.image[0x1100], 0);	/* raw padding past VirtualSize is zero */
	assert_memory_equal(lf.image, file, 0x400);	/* headers */
	nm_loaded_file_free(&lf);
}

static void malformed_blocks_stop_relocation(void **state)
{
	uint8_t file[0x800];
	struct nm_loaded_file lf;
	nm_error err;

	(void)state;
	build_file(file, sizeof(file), 4);
	assert_int_equal(nm_pe_load_file(file, sizeof(file), 0xF0000000u, &lf, &err), 0);
	assert_true(lf.relocs_truncated);
	assert_int_equal(lf.relocs_applied, 0);
	nm_loaded_file_free(&lf);
	build_file(file, sizeof(file), 0x1000);
	assert_int_equal(nm_pe_load_file(file, sizeof(file), 0xF0000000u, &lf, &err), 0);
	assert_true(lf.relocs_truncated);
	nm_loaded_file_free(&lf);
	build_file(file, sizeof(file), 0x10);
	tb_set_directory(file, 5, 0x2FF0, 0x100);	/* runs past the image */
	assert_int_equal(nm_pe_load_file(file, sizeof(file), 0xF0000000u, &lf, &err), 0);
	assert_true(lf.relocs_truncated);
	nm_loaded_file_free(&lf);
}

static void relocates_a_real_driver(void **state)
{
	size_t len = 0;
	uint8_t *file = tb_read_file(TB_REAL_DRIVERS "kprocesshacker_i386_3.1.sys", &len);
	struct nm_loaded_file at_base, moved;
	uint64_t differing = 0;
	nm_error err;

	(void)state;
	if (!file) {
		printf("SKIP: kprocesshacker driver absent (../shared/real not available)\n");
		skip();
	}
	assert_int_equal(nm_pe_load_file(file, len, 0x10000, &at_base, &err), 0);
	assert_int_equal(nm_pe_load_file(file, len, 0xF7E8B000u, &moved, &err), 0);
	assert_true(moved.has_relocations);
	assert_false(moved.relocs_truncated);
	assert_true(moved.relocs_applied > 50);
	/* .text raw data (file 0x400) lands at RVA 0x1000 */
	assert_memory_equal(at_base.image + 0x1000, file + 0x400, 0x100);
	for (uint32_t i = 0; i < moved.size; i++)
		differing += at_base.image[i] != moved.image[i];
	assert_true(differing > 0);
	assert_true(differing <= 4 * moved.relocs_applied);
	nm_loaded_file_free(&at_base);
	nm_loaded_file_free(&moved);
	free(file);
}

static int collect_range(void *ctx, const struct nm_modified_range *r)
{
	struct nm_modified_range *out = ctx;
	unsigned i = 0;

	while (out[i].rva_end)
		i++;
	out[i] = *r;
	return 0;
}

static void compare_finds_only_the_patches(void **state)
{
	size_t len = 0;
	uint8_t *file = tb_read_file(TB_REAL_DRIVERS "winpmem_x86_2.0.sys", &len);
	const uint32_t base = 0xF8149000u;
	struct nm_loaded_file lf;
	struct tb_fake_page fp[12];
	struct tb_fake fake = { base, 12, fp, 0 };
	struct nm_vmem r = tb_reader(&fake);
	struct nm_modified_range found[8];
	struct nm_compare_stats st;
	struct nm_carve c;
	uint8_t *mem;
	nm_error err;

	(void)state;
	if (!file) {
		printf("SKIP: winpmem driver absent (../shared/real not available)\n");
		skip();
	}
	assert_int_equal(nm_pe_load_file(file, len, base, &lf, &err), 0);
	assert_int_equal(lf.size, 0xC000);
	mem = malloc(lf.size);
	memcpy(mem, lf.image, lf.size);
	for (unsigned i = 0; i < 12; i++) {
		fp[i].state = NM_PAGE_VALID;
		fp[i].bytes = mem + i * 4096;
		fp[i].proto_resolved = false;
	}
	fp[8].state = NM_PAGE_PAGEFILE;	/* PAGE's second page: a hole */
	fp[8].bytes = NULL;
	memset(mem + 0x1100, 0xE9, 5);		/* a 5-byte hook in .text */
	mem[0x1FC2] ^= 0xFF;			/* the last byte of .text */
	memset(mem + 0x2000, 0x77, 8);		/* IAT: filled by the loader, skipped */
	mem[0x8123] ^= 1;			/* inside the hole: cannot be seen */
	mem[0x9000] ^= 1;			/* PAGE, readable */
	mem[0x6B00] ^= 1;			/* between .data and PAGE: no section */
	assert_int_equal(nm_carve_image(&r, base, lf.size, NULL, &c, &err), 0);
	memset(found, 0, sizeof(found));
	assert_int_equal(nm_pe_compare(&c, &lf, collect_range, found, &st), 0);
	assert_int_equal(found[0].rva_start, 0x1100);
	assert_int_equal(found[0].rva_end, 0x1105);
	assert_string_equal(lf.pe.sections[found[0].section].name, ".text");
	assert_int_equal(found[1].rva_start, 0x1FC2);
	assert_int_equal(found[1].rva_end, 0x1FC3);
	assert_int_equal(found[2].rva_start, 0x9000);
	assert_int_equal(found[2].rva_end, 0x9001);
	assert_string_equal(lf.pe.sections[found[2].section].name, "PAGE");
	assert_int_equal(found[3].rva_end, 0);
	assert_int_equal(st.bytes_modified, 7);
	assert_int_equal(st.bytes_skipped_iat, 0x118);
	assert_int_equal(st.bytes_skipped_holes, 0x1000);
	nm_carve_free(&c);
	nm_loaded_file_free(&lf);
	free(mem);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lays_out_and_relocates),
		cmocka_unit_test(dir64_relocations_move_64_bit_fields),
		cmocka_unit_test(dir64_past_the_image_is_ignored),
		cmocka_unit_test(malformed_blocks_stop_relocation),
		cmocka_unit_test(relocates_a_real_driver),
		cmocka_unit_test(compare_finds_only_the_patches),
	};
	return cmocka_run_group_tests_name("reloc", tests, NULL, NULL);
}
