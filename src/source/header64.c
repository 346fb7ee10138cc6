/* The 64-bit DUMP_HEADER64 ("PAGEDU64", 0x2000 bytes) of x64 and ARM64
 * Windows, and the page layout its DumpType announces: full dumps (the run
 * table, pages from 0x2000), bitmap dumps (SDMP/FDMP header at 0x2000),
 * triage dumps (no pages; the driver list is read by triage.c). Offsets and
 * their sources: docs/dump-format.md. */
#include <string.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

#define MACHINE_AMD64 0x8664u
#define MACHINE_ARM64 0xAA64u

#define RUNS64_AT 0x88u		/* PHYSICAL_MEMORY_DESCRIPTOR64 */
#define RUNS64_MAX 43u		/* 16-byte runs that fit in the 704 bytes before the context record at
				 * 0x348 (QEMU); Windows writes at most 42 (KB2510168) */
#define CONTEXT64_AT 0x348u

/* x64 CR3: bits 0-11 hold the PCID when CR4.PCIDE is set (the real Windows
 * 10 sample has 0x1ad002), bit 63 is the no-flush hint on a MOV to CR3; the
 * root is bits 12-51 (Intel SDM vol. 3, 4.5; docs/dump-format.md). */
#define CR3_ROOT_MASK UINT64_C(0x000FFFFFFFFFF000)

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

/* x64 CONTEXT: P1Home..P6Home, then ContextFlags at +0x30; the integer
 * registers from +0x78 in the order Rax Rcx Rdx Rbx Rsp Rbp Rsi Rdi R8..R15,
 * Rip at +0xF8. ARM64's CONTEXT is laid out otherwise and is not read. */
static void read_context64(const uint8_t *h, struct nm_dump_facts *f)
{
	const uint8_t *c = h + CONTEXT64_AT;
	struct nm_context_x64 *x = &f->context64;
	uint64_t *gpr[16] = { &x->rax, &x->rcx, &x->rdx, &x->rbx, &x->rsp, &x->rbp, &x->rsi, &x->rdi,
			      &x->r8, &x->r9, &x->r10, &x->r11, &x->r12, &x->r13, &x->r14, &x->r15 };

	if (f->arch != NM_ARCH_X64 || nm_le32(c + 0x30) == NM_PAGE_FILL)
		return;
	f->has_context = true;
	x->context_flags = nm_le32(c + 0x30);
	x->seg_cs = nm_le16(c + 0x38);
	x->seg_ss = nm_le16(c + 0x42);
	x->eflags = nm_le32(c + 0x44);
	for (int i = 0; i < 16; i++)
		*gpr[i] = nm_le64(c + 0x78 + 8 * i);
	x->rip = nm_le64(c + 0xF8);
}

/* The header's copy of the machine's memory runs, kept for every type. */
static void read_runs64(const uint8_t *h, struct nm_dump_facts *f)
{
	uint32_t nruns = nm_le32(h + RUNS64_AT);

	if (nruns == NM_PAGE_FILL || nruns > RUNS64_MAX)
		return;
	f->nruns = nruns;
	f->header_pages = field64(h, RUNS64_AT + 0x08);
	for (uint32_t i = 0; i < nruns; i++) {
		f->runs[i].base_pfn = nm_le64(h + RUNS64_AT + 0x10 + 16 * i);
		f->runs[i].page_count = nm_le64(h + RUNS64_AT + 0x18 + 16 * i);
	}
}

/* Full dump: runs stored back to back from 0x2000, in ascending order. A
 * file shorter than the runs is truncated: its header is reported, its
 * pages are not served (size_needed says by how much it falls short). */
static int build_runs64(struct nm_source *src, nm_error *err)
{
	const uint8_t *h = src->data;
	struct nm_dump_facts *f = &src->facts;
	uint32_t nruns = nm_le32(h + RUNS64_AT);
	uint64_t total = 0, announced = nm_le64(h + RUNS64_AT + 0x08);

	if (nruns == NM_PAGE_FILL)
		return nm_fail(err, "header.NumberOfRuns", "'PAGE' fill at offset 0x88: the run table was never written");
	if (nruns == 0 || nruns > RUNS64_MAX)
		return nm_fail(err, "header.NumberOfRuns", "%u at offset 0x88: a full dump holds 1 to %u runs",
			       nruns, RUNS64_MAX);
	for (uint32_t i = 0; i < nruns; i++) {
		struct nm_file_run *run = &src->runs[i];
		uint64_t at = RUNS64_AT + 0x10 + 16 * i;

		run->base_pfn = nm_le64(h + at);
		run->page_count = nm_le64(h + at + 8);
		/* 2^40 pages is 4 PiB, beyond any machine's 52-bit physical space */
		if (run->base_pfn >> 40 || run->page_count >> 40 || run->page_count == 0)
			return nm_fail(err, "header.Run[].BasePage",
				       "run %u at offset 0x%llx: base PFN 0x%llx, 0x%llx pages is not a run of physical memory",
				       i, (unsigned long long)at, (unsigned long long)run->base_pfn,
				       (unsigned long long)run->page_count);
		if (i > 0 && run->base_pfn < src->runs[i - 1].base_pfn + src->runs[i - 1].page_count)
			return nm_fail(err, "header.Run[].BasePage",
				       "run %u at offset 0x%llx starts at PFN 0x%llx, before the end of run %u: out of order or overlapping",
				       i, (unsigned long long)at, (unsigned long long)run->base_pfn, i - 1);
		run->file_offset = NM_HEADER64_SIZE + total * NM_PAGE_SIZE;
		total += run->page_count;
	}
	if (total != announced)
		return nm_fail(err, "header.NumberOfPages", "%llu at offset 0x90, but the runs add up to %llu pages",
			       (unsigned long long)announced, (unsigned long long)total);
	f->size_needed = NM_HEADER64_SIZE + total * NM_PAGE_SIZE;
	f->pages_in_dump = total;
	if (nm_source_truncated(f)) {
		f->pages_in_dump = (src->len - NM_HEADER64_SIZE) / NM_PAGE_SIZE;
		return 0;
	}
	src->nruns = nruns;
	src->layout = &nm_layout_runs;
	f->max_pfn = src->runs[nruns - 1].base_pfn + src->runs[nruns - 1].page_count;
	return 0;
}

/* Bitmap dump (DumpType 5/6): the SDMP/FDMP header at 0x2000 with 64-bit
 * counts, bits from 0x2038. A bitmap that fits but pages that run past the
 * end of the file are a truncation, reported like a full dump's. */
static int build_bitmap64(struct nm_source *src, nm_error *err)
{
	const uint8_t *b = src->data + NM_HEADER64_SIZE;
	struct nm_dump_facts *f = &src->facts;
	uint64_t first_page, pages, nbits;
	uint32_t sig;

	if (src->len < NM_HEADER64_SIZE + 0x38)
		return nm_fail(err, "bitmap", "file ends at %zu, inside the bitmap header at 0x2000", src->len);
	sig = nm_le32(b);
	if ((sig != NM_SIG_SDMP && sig != NM_SIG_FDMP) || nm_le32(b + 4) != NM_SIG_DUMP)
		return nm_fail(err, "bitmap.Signature", "no 'SDMPDUMP' or 'FDMPDUMP' at offset 0x2000");
	memcpy(f->bitmap_signature, b, 4);
	first_page = nm_le64(b + 0x20);
	pages = nm_le64(b + 0x28);
	nbits = nm_le64(b + 0x30);
	if (first_page <= src->len && pages <= (UINT64_MAX - first_page) / NM_PAGE_SIZE &&
	    nbits / 8 < src->len - (NM_HEADER64_SIZE + 0x38)) {
		f->size_needed = first_page + pages * NM_PAGE_SIZE;
		if (nm_source_truncated(f)) {
			f->pages_in_dump = (src->len - first_page) / NM_PAGE_SIZE;
			return 0;
		}
	}
	return nm_bitmap_build(src, NM_HEADER64_SIZE + 0x38, nbits, first_page, pages,
			       "bitmap.TotalPresentPages", err);
}

static int read_machine(const uint8_t *h, struct nm_dump_facts *f, nm_error *err)
{
	f->machine = nm_le32(h + 0x30);
	switch (f->machine) {
	case MACHINE_AMD64:
		f->arch = NM_ARCH_X64;
		return 0;
	case MACHINE_ARM64:
		f->arch = NM_ARCH_ARM64;
		return 0;
	default:
		return nm_fail(err, "header.MachineImageType",
			       "0x%x at offset 0x30 is neither AMD64 (0x8664) nor ARM64 (0xaa64)", f->machine);
	}
}

int nm_read_header64(struct nm_source *src, nm_error *err)
{
	const uint8_t *h = src->data;
	struct nm_dump_facts *f = &src->facts;

	if (src->len < NM_HEADER64_SIZE)
		return nm_fail(err, "header", "file is %zu bytes, the 64-bit dump header needs 8192", src->len);
	f->format = NM_FORMAT_WINDOWS_CRASH_DUMP;
	if (read_machine(h, f, err) != 0)
		return -1;
	f->major_version = field32(h, 0x08);
	f->build = field32(h, 0x0C);
	f->dtb_raw = field64(h, 0x10);
	f->dtb = f->arch == NM_ARCH_X64 ? f->dtb_raw & CR3_ROOT_MASK : f->dtb_raw;
	f->pfn_database = field64(h, 0x18);
	f->ps_loaded_module_list = field64(h, 0x20);
	f->ps_active_process_head = field64(h, 0x28);
	f->processors = field32(h, 0x34);
	f->bugcheck_code = nm_le32(h + 0x38);
	for (int i = 0; i < 4; i++)
		f->bugcheck_params[i] = nm_le64(h + 0x40 + 8 * i);
	f->kdbg_va = field64(h, 0x80);
	f->exception_code = field32(h, 0xF00);
	f->exception_address = field64(h, 0xF10);
	f->dump_type_value = nm_le32(h + 0xF98);
	f->system_time = field64(h, 0xFA8);
	memcpy(f->comment, h + 0xFB0, 128);
	f->comment[128] = '\0';
	if (nm_le32(h + 0xFB0) == NM_PAGE_FILL)
		f->comment[0] = '\0';
	f->system_uptime = field64(h, 0x1030);
	f->minidump_fields = field32(h, 0x1038);
	read_context64(h, f);
	read_runs64(h, f);
	f->max_pfn = 0;
	switch (f->dump_type_value) {
	case 1:
		f->type = NM_DUMP_FULL;
		return build_runs64(src, err);
	case 3:
		f->type = NM_DUMP_HEADER_ONLY;
		return 0;
	case 4:
		f->type = NM_DUMP_TRIAGE;
		return 0;
	case 5:
	case 6:
		f->type = NM_DUMP_BITMAP;
		return build_bitmap64(src, err);
	default:
		/* 2 (SUMMARY_DUMP64) and the newer 8..0xA are recognised, not read */
		f->type = f->dump_type_value == 2 ? NM_DUMP_KERNEL : NM_DUMP_OTHER;
		return 0;
	}
}
