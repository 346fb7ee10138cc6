/* The x86 DUMP_HEADER32 ("PAGEDUMP", 0x1000 bytes) and the page layout its
 * DumpType announces. Offsets and their sources: docs/dump-format.md. */
#include <string.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

/* A dword the writer never set reads back as the 'PAGE' fill. */
static uint32_t field32(const uint8_t *h, size_t off)
{
	uint32_t v = nm_le32(h + off);

	return v == NM_PAGE_FILL ? 0 : v;
}

static uint64_t field64(const uint8_t *h, size_t off)
{
	if (nm_le32(h + off) == NM_PAGE_FILL && nm_le32(h + off + 4) == NM_PAGE_FILL)
		return 0;
	return nm_le64(h + off);
}

static void read_context(const uint8_t *h, struct nm_dump_facts *f)
{
	const uint8_t *c = h + 0x320;
	struct nm_context_x86 *x = &f->context;

	f->has_context = nm_le32(c) != NM_PAGE_FILL;
	if (!f->has_context)
		return;
	x->context_flags = nm_le32(c + 0x00);
	x->seg_gs = nm_le32(c + 0x8C);
	x->seg_fs = nm_le32(c + 0x90);
	x->seg_es = nm_le32(c + 0x94);
	x->seg_ds = nm_le32(c + 0x98);
	x->edi = nm_le32(c + 0x9C);
	x->esi = nm_le32(c + 0xA0);
	x->ebx = nm_le32(c + 0xA4);
	x->edx = nm_le32(c + 0xA8);
	x->ecx = nm_le32(c + 0xAC);
	x->eax = nm_le32(c + 0xB0);
	x->ebp = nm_le32(c + 0xB4);
	x->eip = nm_le32(c + 0xB8);
	x->seg_cs = nm_le32(c + 0xBC);
	x->eflags = nm_le32(c + 0xC0);
	x->esp = nm_le32(c + 0xC4);
	x->seg_ss = nm_le32(c + 0xC8);
}

/* The header's copy of the machine's memory runs; kept for every type
 * (kernel and bitmap dumps describe the machine, not the file, with it).
 * PFNs of a 32-bit header are 32-bit (PFN_NUMBER is a ULONG on x86, PAE
 * included), so a run whose BasePage + PageCount passes 2^32 pages describes
 * no machine: the run is named and the dump refused. */
static int read_runs_if_written(const uint8_t *h, struct nm_dump_facts *f, nm_error *err)
{
	uint32_t nruns = nm_le32(h + 0x64);

	if (nruns == NM_PAGE_FILL || nruns > NM_MAX_RUNS)
		return 0;
	f->nruns = nruns;
	f->header_pages = field32(h, 0x68);
	for (uint32_t i = 0; i < nruns; i++) {
		uint64_t base = nm_le32(h + 0x6C + 8 * i), count = nm_le32(h + 0x70 + 8 * i);

		if (base + count > 0x100000000ull)
			return nm_fail(err, "header.Run[].PageCount",
				       "run %u (offset 0x%x): BasePage 0x%llx + PageCount 0x%llx passes 2^32 pages",
				       i, 0x6C + 8 * i, (unsigned long long)base, (unsigned long long)count);
		f->runs[i].base_pfn = base;
		f->runs[i].page_count = count;
	}
	return 0;
}

static int read_common(const uint8_t *h, struct nm_dump_facts *f, nm_error *err)
{
	uint8_t pae = h[0x5C];

	f->format = NM_FORMAT_WINDOWS_CRASH_DUMP;
	f->machine = nm_le32(h + 0x20);
	/* 32-bit ARM Windows (Windows RT) writes the 32-bit header with
	 * IMAGE_FILE_MACHINE_ARMNT: described, never walked. */
	if (f->machine == 0x1C4) {
		f->arch = NM_ARCH_ARM;
		pae = 0;
	} else if (f->machine == 0x14C) {
		f->arch = NM_ARCH_X86;
	} else {
		return nm_fail(err, "header.MachineImageType",
			       "0x%x at offset 0x20 is neither i386 (0x14c) nor ARMNT (0x1c4)", f->machine);
	}
	if (pae > 1)
		return nm_fail(err, "header.PaeEnabled", "byte 0x%02x at offset 0x5c is neither 0 nor 1", pae);
	f->pae = pae == 1;
	f->major_version = field32(h, 0x08);
	f->build = field32(h, 0x0C);
	f->dtb_raw = nm_le32(h + 0x10);
	f->dtb = f->dtb_raw & (f->pae ? ~0x1Fu : ~0xFFFu);
	f->pfn_database = field32(h, 0x14);
	f->ps_loaded_module_list = field32(h, 0x18);
	f->ps_active_process_head = field32(h, 0x1C);
	f->processors = field32(h, 0x24);
	f->bugcheck_code = nm_le32(h + 0x28);
	for (int i = 0; i < 4; i++)
		f->bugcheck_params[i] = nm_le32(h + 0x2C + 4 * i);
	f->kdbg_va = field32(h, 0x60);
	f->exception_code = field32(h, 0x7D0);
	f->exception_address = field32(h, 0x7DC);
	memcpy(f->comment, h + 0x820, 128);
	f->comment[128] = '\0';
	if (nm_le32(h + 0x820) == NM_PAGE_FILL)
		f->comment[0] = '\0';
	f->system_uptime = field64(h, 0xFB8);
	f->system_time = field64(h, 0xFC0);
	f->dump_type_value = nm_le32(h + 0xF88);
	f->minidump_fields = field32(h, 0xF8C);
	if (f->arch == NM_ARCH_X86)
		read_context(h, f);
	return read_runs_if_written(h, f, err);
}

/* DumpType 2: SUMMARY_DUMP32 at 0x1000, bits at 0x1020. */
static int read_summary(struct nm_source *src, nm_error *err)
{
	const uint8_t *s = src->data + NM_HEADER32_SIZE;
	uint32_t nbits, header_size, pages, rtl_bits;

	if (src->len < NM_HEADER32_SIZE + 0x20)
		return nm_fail(err, "summary", "file ends at %zu, inside the summary header at 0x1000", src->len);
	if (nm_le32(s) != NM_SIG_SDMP || nm_le32(s + 4) != NM_SIG_DUMP)
		return nm_fail(err, "summary.Signature", "no 'SDMPDUMP' at offset 0x1000");
	memcpy(src->facts.bitmap_signature, s, 4);
	header_size = nm_le32(s + 0x0C);
	nbits = nm_le32(s + 0x10);
	pages = nm_le32(s + 0x14);
	rtl_bits = nm_le32(s + 0x18);
	if (rtl_bits != nbits)
		return nm_fail(err, "summary.Bitmap.SizeOfBitMap",
			       "%u bits at 0x1018 disagree with BitmapSize %u at 0x1010", rtl_bits, nbits);
	return nm_bitmap_build(src, NM_HEADER32_SIZE + 0x20, nbits, header_size, pages,
			       "summary.Pages", err);
}

/* DumpType 5/6: 64-bit fields, bits at 0x1038. */
static int read_bitmap_header(struct nm_source *src, nm_error *err)
{
	const uint8_t *b = src->data + NM_HEADER32_SIZE;
	uint32_t sig;

	if (src->len < NM_HEADER32_SIZE + 0x38)
		return nm_fail(err, "bitmap", "file ends at %zu, inside the bitmap header at 0x1000", src->len);
	sig = nm_le32(b);
	if ((sig != NM_SIG_SDMP && sig != NM_SIG_FDMP) || nm_le32(b + 4) != NM_SIG_DUMP)
		return nm_fail(err, "bitmap.Signature", "no 'SDMPDUMP' or 'FDMPDUMP' at offset 0x1000");
	memcpy(src->facts.bitmap_signature, b, 4);
	return nm_bitmap_build(src, NM_HEADER32_SIZE + 0x38, nm_le64(b + 0x30), nm_le64(b + 0x20),
			       nm_le64(b + 0x28), "bitmap.TotalPresentPages", err);
}

int nm_read_header32(struct nm_source *src, nm_error *err)
{
	struct nm_dump_facts *f = &src->facts;

	if (src->len < NM_HEADER32_SIZE)
		return nm_fail(err, "header", "file is %zu bytes, the dump header needs 4096", src->len);
	if (read_common(src->data, f, err) != 0)
		return -1;
	switch (f->dump_type_value) {
	case 1:
		f->type = NM_DUMP_FULL;
		return nm_runs_build(src, err);
	case 2:
		f->type = NM_DUMP_KERNEL;
		return read_summary(src, err);
	case 3:
		f->type = NM_DUMP_HEADER_ONLY;
		return 0;
	case 4:
		f->type = NM_DUMP_TRIAGE;
		return 0;
	case 5:
	case 6:
		f->type = NM_DUMP_BITMAP;
		return read_bitmap_header(src, err);
	default:
		return nm_fail(err, "header.DumpType", "value 0x%x at offset 0xf88 is not a known dump type",
			       f->dump_type_value);
	}
}
