/* The .pe header rewrite: raw offsets equal virtual addresses, ImageBase the
 * load base; a carved real driver written to disk opens in readpe and
 * objdump with its sections (skipped with a reason when a tool is absent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include <ntmem/carve_files.h>
#include <ntmem/pe_rebuild.h>
#include <ntmem/reloc.h>

#include "pe_builder.h"

static void raw_layout_equals_memory_layout(void **state)
{
	static const struct tb_section s[] = {
		{ ".text", 0x1000, 0x1234, 0x1400, 0x400, 0x68000020 },
		{ ".bss", 0x3000, 0x0800, 0, 0, 0xC0000080 },
		{ "ZERO", 0x4000, 0, 0x200, 0x1800, 0x40000040 },
		{ "LAST", 0x6000, 0x3000, 0x3000, 0x1A00, 0x40000040 },
	};
	uint8_t hdr[4096] = { 0 };
	struct nm_pe_image pe, again;
	nm_error err;

	(void)state;
	tb_write_headers(hdr, 0x10000, 0x1000, 0x200, 0x9000, s, 4);
	tb_set_directory(hdr, 4, 0x5000, 0x1000);	/* certificate: a file offset */
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &pe, &err), 0);
	nm_pe_rebuild_headers(hdr, sizeof(hdr), &pe, 0xF7E8B000u, 0x8000);
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &again, &err), 0);
	assert_int_equal(again.image_base, 0xF7E8B000u);
	assert_int_equal(again.file_alignment, 0x200);	/* 0x1000-aligned VAs fit 0x200 */
	assert_int_equal(tb_get32(hdr + TB_OPT + 0x40), 0);	/* CheckSum */
	assert_int_equal(again.dir_rva[4], 0);
	assert_int_equal(again.dir_size[4], 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(again.sections[i].raw_offset, again.sections[i].virtual_address);
	assert_int_equal(again.sections[0].raw_size, 0x1234);
	assert_int_equal(again.sections[1].raw_size, 0x800);
	assert_int_equal(again.sections[2].raw_size, 0x2000);	/* VirtualSize 0: to the next section */
	assert_int_equal(again.sections[3].raw_size, 0x2000);	/* clipped to the 0x8000-byte file */
	assert_int_equal(again.size_of_image, 0x9000);
}

static void file_alignment_follows_packed_sections(void **state)
{
	static const struct tb_section s[] = {
		{ ".text", 0x300, 0x1000, 0x1000, 0, 0x68000020 },
		{ ".data", 0x1300, 0x80, 0x80, 0, 0xC8000040 },
	};
	uint8_t hdr[4096] = { 0 };
	struct nm_pe_image pe, again;
	nm_error err;

	(void)state;
	tb_write_headers(hdr, 0x10000, 0x80, 0x200, 0x1380, s, 2);
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &pe, &err), 0);
	nm_pe_rebuild_headers(hdr, sizeof(hdr), &pe, 0x80000000u, 0x1380);
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &again, &err), 0);
	assert_int_equal(again.file_alignment, 0x80);
}

static void synthesized_headers_parse(void **state)
{
	uint8_t hdr[NM_PE_SYNTH_HEADER_SIZE];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	nm_pe_synthesize_headers(hdr, 0xF8149000u, 0x20380, false);
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &pe, &err), 0);
	assert_int_equal(pe.image_base, 0xF8149000u);
	assert_int_equal(pe.nsections, 1);
	assert_string_equal(pe.sections[0].name, "carved");
	assert_int_equal(pe.sections[0].virtual_address, 0x1000);
	assert_int_equal(pe.sections[0].raw_offset, 0x1000);
	assert_int_equal(pe.sections[0].raw_size, 0x1F380);
	assert_int_equal(pe.size_of_image, 0x21000);
	nm_pe_synthesize_headers(hdr, 0xF8149000u, 0x800, false);
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &pe, &err), 0);
	assert_int_equal(pe.nsections, 0);
}

static void synthesized_pe32plus_headers_parse(void **state)
{
	uint8_t hdr[NM_PE_SYNTH_HEADER_SIZE];
	struct nm_pe_image pe;
	nm_error err;

	(void)state;
	nm_pe_synthesize_headers(hdr, 0xFFFFF80475200000ull, 0xC000, true);
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &pe, &err), 0);
	assert_true(pe.pe32plus);
	assert_int_equal(pe.machine, 0x8664);
	assert_int_equal(tb_get32(hdr + 0x40 + 4 + 20) & 0xFFFF, 0x20B);	/* Magic, read by hand */
	assert_true(tb_get64(hdr + 0x40 + 24 + 24) == 0xFFFFF80475200000ull);	/* ImageBase at +24 */
	assert_true(pe.image_base == 0xFFFFF80475200000ull);
	assert_int_equal(pe.number_of_rva_and_sizes, 16);
	assert_int_equal(pe.section_table_offset, 0x40 + 24 + 0xF0);
	assert_int_equal(pe.nsections, 1);
	assert_string_equal(pe.sections[0].name, "carved");
	assert_int_equal(pe.sections[0].raw_size, 0xB000);
	assert_int_equal(pe.size_of_image, 0xC000);
}

/* A PE32+ header rewritten: ImageBase as 8 bytes at +0x18, the certificate
 * slot at +0x70 + 4 * 8 cleared, and nothing written at the PE32 places
 * (+0x1C is the high half of ImageBase, +0x80 is directory 2 in PE32+). */
static void pe32plus_rebuild_uses_pe32plus_offsets(void **state)
{
	static const struct tb_section s[] = {
		{ ".text", 0x1000, 0x20, 0x200, 0x400, 0x60000020 },
		{ ".data", 0x2000, 0x3040, 0x3200, 0x600, 0xC0000040 },
	};
	uint8_t hdr[4096] = { 0 };
	struct nm_pe_image pe, again;
	nm_error err;

	(void)state;
	tb_write_headers64(hdr, 0x140000000ull, 0x1000, 0x200, 0x6000, s, 2);
	tb_set_directory64(hdr, 2, 0x3000, 0x100);	/* resources: kept */
	tb_set_directory64(hdr, 4, 0x3800, 0x200);	/* certificate: a file offset */
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &pe, &err), 0);
	nm_pe_rebuild_headers(hdr, sizeof(hdr), &pe, 0xFFFFF88001100000ull, 0x6000);
	assert_int_equal(nm_pe_parse(hdr, sizeof(hdr), &again, &err), 0);
	assert_true(again.pe32plus);
	assert_true(again.image_base == 0xFFFFF88001100000ull);
	assert_int_equal(again.dir_rva[2], 0x3000);
	assert_int_equal(again.dir_size[2], 0x100);
	assert_int_equal(again.dir_rva[4], 0);
	assert_int_equal(again.dir_size[4], 0);
	assert_true(again.stack_reserve == 0x0000000100080000ull);
	assert_true(again.heap_reserve == 0x0000000200100000ull);
	assert_int_equal(tb_get32(hdr + TB_OPT + 0x40), 0);	/* CheckSum */
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(again.sections[i].raw_offset, again.sections[i].virtual_address);
	assert_int_equal(again.sections[1].raw_size, 0x3040);
}

struct carved_file {
	uint8_t *file;
	struct nm_loaded_file lf;
	struct tb_fake_page fp[64];
	struct tb_fake fake;
	struct nm_carve c;
};

/* Lays the real driver out at BASE, serves it as pages, carves it. */
static int carve_real(const char *path, uint32_t base, struct carved_file *cf)
{
	size_t len = 0;
	struct nm_vmem r;
	nm_error err;

	cf->file = tb_read_file(path, &len);
	if (!cf->file)
		return -1;
	assert_int_equal(nm_pe_load_file(cf->file, len, base, &cf->lf, &err), 0);
	cf->fake.base = base;
	cf->fake.npages = (cf->lf.size + 4095) / 4096;
	cf->fake.pages = cf->fp;
	assert_true(cf->fake.npages <= 64);
	for (unsigned i = 0; i < cf->fake.npages; i++) {
		cf->fp[i].state = NM_PAGE_VALID;
		cf->fp[i].bytes = cf->lf.image + i * 4096;
		cf->fp[i].proto_resolved = false;
	}
	r = tb_reader(&cf->fake);
	assert_int_equal(nm_carve_image(&r, base, cf->lf.size, NULL, &cf->c, &err), 0);
	return 0;
}

static void free_carved(struct carved_file *cf)
{
	nm_carve_free(&cf->c);
	nm_loaded_file_free(&cf->lf);
	free(cf->file);
}

static bool tool_present(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* Runs CMD and checks that its output holds every NAME. */
static void expect_output_names(const char *cmd, const char *const *names, unsigned n)
{
	FILE *p = popen(cmd, "r");
	char out[65536];
	size_t len;
	int status;

	assert_non_null(p);
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = 0;
	status = pclose(p);
	if (status != 0)
		fail_msg("'%s' failed (%d): %s", cmd, status, out);
	for (unsigned i = 0; i < n; i++)
		if (!strstr(out, names[i]))
			fail_msg("'%s' does not list section %s:\n%s", cmd, names[i], out);
}

static void carved_real_driver_opens_in_pe_tools(void **state)
{
	static const char *const names[] = { ".text", ".rdata", ".data", "PAGE", "INIT", ".rsrc", ".reloc" };
	struct carved_file *cf = calloc(1, sizeof(*cf));
	char dir[] = "/tmp/ntmem-rebuild-XXXXXX", path[256], cmd[600];
	uint8_t hdr[4096];
	int dirfd, fd;
	nm_error err;

	(void)state;
	if (carve_real(TB_REAL_DRIVERS "kprocesshacker_i386_3.1.sys", 0xF7E8B000u, cf) != 0) {
		free(cf);
		printf("SKIP: kprocesshacker driver absent (../shared/real not available)\n");
		skip();
	}
	memcpy(hdr, cf->c.pages[0].bytes, 4096);
	nm_pe_rebuild_headers(hdr, 4096, &cf->c.pe, cf->c.base, cf->c.size);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(nm_outdir_open(dir, &dirfd, &err), 0);
	assert_int_equal(nm_outdir_create(dirfd, "kph.sys@0xf7e8b000.pe", false, &fd, &err), 0);
	assert_int_equal(nm_carve_write_image(fd, &cf->c, 0, hdr, 4096, &err), 0);
	close(fd);
	close(dirfd);
	snprintf(path, sizeof(path), "%s/kph.sys@0xf7e8b000.pe", dir);
	if (tool_present("readpe")) {
		snprintf(cmd, sizeof(cmd), "readpe -S '%s' 2>&1", path);
		expect_output_names(cmd, names, 7);
	} else {
		printf("note: readpe (Debian pev) is absent: not run\n");
	}
	if (tool_present("i686-w64-mingw32-objdump")) {
		snprintf(cmd, sizeof(cmd), "i686-w64-mingw32-objdump -x '%s' 2>&1", path);
		expect_output_names(cmd, names, 7);
		snprintf(cmd, sizeof(cmd), "i686-w64-mingw32-objdump -x '%s' 2>&1 | grep -q 'ImageBase.*f7e8b000'", path);
		assert_int_equal(system(cmd), 0);
	} else {
		printf("note: i686-w64-mingw32-objdump is absent: not run\n");
	}
	unlink(path);
	rmdir(dir);
	free_carved(cf);
	free(cf);
}

/* The .pe holds the image bytes after the headers: what a section's raw
 * offset points at in the file is what the loader put at its RVA. */
static void pe_file_bytes_are_the_image(void **state)
{
	struct carved_file *cf = calloc(1, sizeof(*cf));
	char dir[] = "/tmp/ntmem-rebuild-XXXXXX", path[256];
	uint8_t hdr[4096];
	uint8_t *back;
	size_t len = 0;
	int dirfd, fd;
	nm_error err;

	(void)state;
	if (carve_real(TB_REAL_DRIVERS "npf_x86_4.1.0.2980.sys", 0x80DB0000u, cf) != 0) {
		free(cf);
		printf("SKIP: npf driver absent (../shared/real not available)\n");
		skip();
	}
	cf->fp[6].state = NM_PAGE_NOT_MAPPED;
	cf->fp[6].bytes = NULL;
	nm_carve_free(&cf->c);
	{
		struct nm_vmem r = tb_reader(&cf->fake);

		assert_int_equal(nm_carve_image(&r, 0x80DB0000u, cf->lf.size, NULL, &cf->c, &err), 0);
	}
	memcpy(hdr, cf->c.pages[0].bytes, 4096);
	nm_pe_rebuild_headers(hdr, 4096, &cf->c.pe, cf->c.base, cf->c.size);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(nm_outdir_open(dir, &dirfd, &err), 0);
	assert_int_equal(nm_outdir_create(dirfd, "npf.pe", false, &fd, &err), 0);
	assert_int_equal(nm_carve_write_image(fd, &cf->c, 0xCC, hdr, 0x480, &err), 0);
	close(fd);
	/* fill 0: the trailing hole is skipped, the size must still be right */
	assert_int_equal(nm_outdir_create(dirfd, "npf.mem", false, &fd, &err), 0);
	assert_int_equal(nm_carve_write_image(fd, &cf->c, 0, NULL, 0, &err), 0);
	close(fd);
	close(dirfd);
	snprintf(path, sizeof(path), "%s/npf.pe", dir);
	back = tb_read_file(path, &len);
	assert_non_null(back);
	assert_int_equal(len, cf->lf.size);
	assert_memory_equal(back, hdr, 0x480);
	assert_memory_equal(back + 0x480, cf->lf.image + 0x480, 0x6000 - 0x480);
	for (size_t i = 0x6000; i < len; i++)
		assert_int_equal(back[i], 0xCC);
	free(back);
	unlink(path);
	snprintf(path, sizeof(path), "%s/npf.mem", dir);
	back = tb_read_file(path, &len);
	assert_non_null(back);
	assert_int_equal(len, cf->lf.size);
	assert_memory_equal(back, cf->lf.image, 0x6000);
	for (size_t i = 0x6000; i < len; i++)
		assert_int_equal(back[i], 0);
	free(back);
	unlink(path);
	rmdir(dir);
	free_carved(cf);
	free(cf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw_layout_equals_memory_layout),
		cmocka_unit_test(file_alignment_follows_packed_sections),
		cmocka_unit_test(synthesized_headers_parse),
		cmocka_unit_test(synthesized_pe32plus_headers_parse),
		cmocka_unit_test(pe32plus_rebuild_uses_pe32plus_offsets),
		cmocka_unit_test(carved_real_driver_opens_in_pe_tools),
		cmocka_unit_test(pe_file_bytes_are_the_image),
	};
	return cmocka_run_group_tests_name("rebuild", tests, NULL, NULL);
}
