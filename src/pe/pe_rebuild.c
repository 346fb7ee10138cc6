/* Header rewrite for carved images. A carved image is in memory layout, so
 * the file offset of every section must become its RVA for PE tools to find
 * the bytes (the layout Volatility's moddump writes; docs/carving.md). */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/pe_rebuild.h>

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* ImageBase in its width: 4 bytes at +0x1C (PE32), 8 at +0x18 (PE32+). */
static void put_image_base(uint8_t *opt, bool pe32plus, uint64_t base)
{
	if (pe32plus)
		put_le64(opt + NM_PE32P_OPT_IMAGE_BASE, base);
	else
		put_le32(opt + NM_PE_OPT_IMAGE_BASE, (uint32_t)base);
}

/* Where the next section starts (or the image ends): the size to give a
 * section whose VirtualSize is 0. */
static uint32_t distance_to_next(const struct nm_pe_image *pe, unsigned i, uint32_t image_size)
{
	uint32_t va = pe->sections[i].virtual_address, next = image_size;

	for (unsigned j = 0; j < pe->nsections; j++) {
		uint32_t v = pe->sections[j].virtual_address;

		if (v > va && v < next)
			next = v;
	}
	return next > va ? next - va : 0;
}

static uint32_t raw_size_for(const struct nm_pe_image *pe, unsigned i, uint32_t image_size)
{
	const struct nm_pe_section *s = &pe->sections[i];
	uint32_t size = s->virtual_size ? s->virtual_size : distance_to_next(pe, i, image_size);

	if (s->virtual_address >= image_size)
		return 0;
	if (size > image_size - s->virtual_address)
		size = image_size - s->virtual_address;
	return size;
}

static bool sections_fit_alignment(const struct nm_pe_image *pe, uint32_t align)
{
	if (align == 0 || (align & (align - 1)) != 0)
		return false;
	for (unsigned i = 0; i < pe->nsections; i++)
		if (pe->sections[i].virtual_address % align != 0)
			return false;
	return true;
}

void nm_pe_rebuild_headers(uint8_t *hdr, size_t len, const struct nm_pe_image *pe,
			   uint64_t load_base, uint32_t image_size)
{
	uint8_t *opt = hdr + pe->optional_header_offset;
	uint32_t dirs = pe->data_directory_offset;

	/* nm_pe_parse checked the optional header (up to the directories) and
	 * the section table against this same buffer; the data directory slot
	 * is checked here. */
	put_image_base(opt, pe->pe32plus, load_base);
	put_le32(opt + NM_PE_OPT_CHECKSUM, 0);
	if (!sections_fit_alignment(pe, pe->file_alignment))
		put_le32(opt + NM_PE_OPT_FILE_ALIGNMENT, pe->section_alignment);
	if (pe->number_of_rva_and_sizes > NM_PE_DIR_SECURITY &&
	    (size_t)(pe->optional_header_offset + dirs) + 8 * (NM_PE_DIR_SECURITY + 1) <=
		    pe->section_table_offset)
		memset(opt + dirs + 8 * NM_PE_DIR_SECURITY, 0, 8);
	for (unsigned i = 0; i < pe->nsections; i++) {
		uint8_t *sh = hdr + pe->section_table_offset + (size_t)i * NM_PE_SECTION_HEADER_SIZE;

		if ((size_t)(sh - hdr) + NM_PE_SECTION_HEADER_SIZE > len)
			break;
		put_le32(sh + NM_PE_SCN_RAW_OFFSET, pe->sections[i].virtual_address);
		put_le32(sh + NM_PE_SCN_RAW_SIZE, raw_size_for(pe, i, image_size));
	}
}

void nm_pe_synthesize_headers(uint8_t *hdr, uint64_t load_base, uint32_t image_size, bool pe32plus)
{
	/* Optional header sizes with 16 directories: 0xE0 PE32, 0xF0 PE32+. */
	const uint32_t lfanew = 0x40, opt_size = pe32plus ? 0xF0 : 0xE0;
	uint8_t *nt = hdr + lfanew, *opt = nt + 4 + NM_PE_FILE_HEADER_SIZE, *sh = opt + opt_size;
	bool has_body = image_size > NM_PE_SYNTH_HEADER_SIZE;

	memset(hdr, 0, NM_PE_SYNTH_HEADER_SIZE);
	memcpy(hdr, "MZ", 2);
	put_le32(hdr + NM_PE_OFF_LFANEW, lfanew);
	memcpy(nt, "PE\0\0", 4);
	put_le16(nt + 4, pe32plus ? 0x8664 : 0x14C);	/* Machine: AMD64 / i386 */
	put_le16(nt + 6, has_body ? 1 : 0);		/* NumberOfSections */
	put_le16(nt + 4 + 0x10, (uint16_t)opt_size);
	/* executable; PE32 adds "32-bit machine", PE32+ "large address aware" */
	put_le16(nt + 4 + 0x12, pe32plus ? 0x0022 : 0x0102);
	put_le16(opt, pe32plus ? NM_PE32PLUS_MAGIC : NM_PE32_MAGIC);
	put_image_base(opt, pe32plus, load_base);
	put_le32(opt + NM_PE_OPT_SECTION_ALIGNMENT, 0x1000);
	put_le32(opt + NM_PE_OPT_FILE_ALIGNMENT, 0x200);
	put_le16(opt + 0x28, pe32plus ? 6 : 5);		/* MajorOperatingSystemVersion */
	put_le16(opt + 0x30, pe32plus ? 6 : 5);		/* MajorSubsystemVersion */
	put_le32(opt + NM_PE_OPT_SIZE_OF_IMAGE, (image_size + 0xFFFu) & ~0xFFFu);
	put_le32(opt + NM_PE_OPT_SIZE_OF_HEADERS, 0x1000);
	put_le16(opt + NM_PE_OPT_SUBSYSTEM, 1);		/* native */
	put_le32(opt + (pe32plus ? NM_PE32P_OPT_NUMBER_OF_RVA : NM_PE_OPT_NUMBER_OF_RVA), 16);
	if (!has_body)
		return;
	memcpy(sh, "carved", 6);
	put_le32(sh + NM_PE_SCN_VIRTUAL_SIZE, image_size - 0x1000);
	put_le32(sh + NM_PE_SCN_VIRTUAL_ADDRESS, 0x1000);
	put_le32(sh + NM_PE_SCN_RAW_SIZE, image_size - 0x1000);
	put_le32(sh + NM_PE_SCN_RAW_OFFSET, 0x1000);
	put_le32(sh + 0x24, 0xE0000060u);		/* code + data, RWX: nothing is known */
}
