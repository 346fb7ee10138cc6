/* The 64-bit DUMP_HEADER64 ("PAGEDU64", 0x2000 bytes): recognised and
 * reported, but its pages are not served (ntmem translates x86 only). */
#include <string.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

static uint64_t field64(const uint8_t *h, size_t off)
{
	if (nm_le32(h + off) == NM_PAGE_FILL && nm_le32(h + off + 4) == NM_PAGE_FILL)
		return 0;
	return nm_le64(h + off);
}

static uint32_t field32(const uint8_t *h, size_t off)
{
	uint32_t v = nm_le32(h + off);

	return v == NM_PAGE_FILL ? 0 : v;
}

/* Runs are BasePage/PageCount pairs of 8 bytes from 0x98; at most 42 fit
 * before the context record (KB2510168). */
static void read_runs64(const uint8_t *h, struct nm_dump_facts *f)
{
	uint32_t nruns = nm_le32(h + 0x88);

	if (nruns == NM_PAGE_FILL || nruns > 42)
		return;
	f->nruns = nruns;
	f->header_pages = field64(h, 0x90);
	for (uint32_t i = 0; i < nruns; i++) {
		f->runs[i].base_pfn = nm_le64(h + 0x98 + 16 * i);
		f->runs[i].page_count = nm_le64(h + 0xA0 + 16 * i);
	}
}

static enum nm_dump_type type_of(uint32_t v)
{
	switch (v) {
	case 1: return NM_DUMP_FULL;
	case 2: return NM_DUMP_KERNEL;
	case 3: return NM_DUMP_HEADER_ONLY;
	case 4: return NM_DUMP_TRIAGE;
	case 5:
	case 6: return NM_DUMP_BITMAP;
	default: return NM_DUMP_OTHER;
	}
}

/* The pages the file really holds: what the header announces, capped by
 * what fits between the data start and the end of the file (a truncated
 * file holds fewer). */
static uint64_t pages_held(const struct nm_source *src, uint64_t announced, uint64_t data_start)
{
	uint64_t fit = src->len > data_start ? (src->len - data_start) / NM_PAGE_SIZE : 0;

	return announced < fit ? announced : fit;
}

int nm_read_header64(struct nm_source *src, nm_error *err)
{
	const uint8_t *h = src->data;
	struct nm_dump_facts *f = &src->facts;

	if (src->len < NM_HEADER64_SIZE)
		return nm_fail(err, "header", "file is %zu bytes, the 64-bit dump header needs 8192", src->len);
	f->format = NM_FORMAT_WINDOWS_CRASH_DUMP;
	f->arch = NM_ARCH_X64;
	f->machine = nm_le32(h + 0x30);
	if (f->machine != 0x8664)
		return nm_fail(err, "header.MachineImageType",
			       "0x%x at offset 0x30 is not AMD64 (0x8664)", f->machine);
	f->major_version = field32(h, 0x08);
	f->build = field32(h, 0x0C);
	f->dtb = field64(h, 0x10);
	f->pfn_database = field64(h, 0x18);
	f->ps_loaded_module_list = field64(h, 0x20);
	f->ps_active_process_head = field64(h, 0x28);
	f->processors = field32(h, 0x34);
	f->bugcheck_code = nm_le32(h + 0x38);
	for (int i = 0; i < 4; i++)
		f->bugcheck_params[i] = nm_le64(h + 0x40 + 8 * i);
	f->kdbg_va = field64(h, 0x80);
	f->dump_type_value = nm_le32(h + 0xF98);
	f->type = type_of(f->dump_type_value);
	f->system_time = field64(h, 0xFA8);
	memcpy(f->comment, h + 0xFB0, 128);
	f->comment[128] = '\0';
	if (nm_le32(h + 0xFB0) == NM_PAGE_FILL)
		f->comment[0] = '\0';
	f->system_uptime = field64(h, 0x1030);
	read_runs64(h, f);
	if (f->type == NM_DUMP_FULL)
		f->pages_in_dump = pages_held(src, f->header_pages, NM_HEADER64_SIZE);
	else if (f->type == NM_DUMP_BITMAP && src->len >= NM_HEADER64_SIZE + 0x38)
		f->pages_in_dump = pages_held(src, nm_le64(h + NM_HEADER64_SIZE + 0x28),
					      nm_le64(h + NM_HEADER64_SIZE + 0x20));
	src->layout = NM_LAYOUT_NONE;
	f->max_pfn = 0;
	return 0;
}
