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
			   uint32_t load_base, uint32_t image_size)
{
	uint8_t *opt = hdr + pe->optional_header_offset;

	/* nm_pe_parse checked the optional header and the section table
	 * against this same buffer; the data directory slot is checked here. */
	put_le32(opt + NM_PE_OPT_IMAGE_BASE, load_base);
	put_le32(opt + NM_PE_OPT_CHECKSUM, 0);
	if (!sections_fit_alignment(pe, pe->file_alignment))
		put_le32(opt + NM_PE_OPT_FILE_ALIGNMENT, pe->section_alignment);
	if (pe->number_of_rva_and_sizes > NM_PE_DIR_SECURITY &&
	    (size_t)(pe->optional_header_offset + NM_PE_OPT_DATA_DIRECTORY) + 8 * (NM_PE_DIR_SECURITY + 1) <=
		    pe->section_table_offset)
		memset(opt + NM_PE_OPT_DATA_DIRECTORY + 8 * NM_PE_DIR_SECURITY, 0, 8);
	for (unsigned i = 0; i < pe->nsections; i++) {
		uint8_t *sh = hdr + pe->section_table_offset + (size_t)i * NM_PE_SECTION_HEADER_SIZE;

		if ((size_t)(sh - hdr) + NM_PE_SECTION_HEADER_SIZE > len)
			break;
		put_le32(sh + NM_PE_SCN_RAW_OFFSET, pe->sections[i].virtual_address);
		put_le32(sh + NM_PE_SCN_RAW_SIZE, raw_size_for(pe, i, image_size));
	}
}

void nm_pe_synthesize_headers(uint8_t *hdr, uint32_t load_base, uint32_t image_size)
{
	const uint32_t lfanew = 0x40, opt_size = 0xE0;
	uint8_t *nt = hdr + lfanew, *opt = nt + 4 + NM_PE_FILE_HEADER_SIZE, *sh = opt + opt_size;
	bool has_body = image_size > NM_PE_SYNTH_HEADER_SIZE;

	memset(hdr, 0, NM_PE_SYNTH_HEADER_SIZE);
	memcpy(hdr, "MZ", 2);
	put_le32(hdr + NM_PE_OFF_LFANEW, lfanew);
	memcpy(nt, "PE\0\0", 4);
	put_le16(nt + 4, 0x14C);			/* Machine: i386 */
	put_le16(nt + 6, has_body ? 1 : 0);		/* NumberOfSections */
	put_le16(nt + 4 + 0x10, (uint16_t)opt_size);
	put_le16(nt + 4 + 0x12, 0x0102);		/* executable, 32-bit machine */
	put_le16(opt, 0x10B);
	put_le32(opt + NM_PE_OPT_IMAGE_BASE, load_base);
	put_le32(opt + NM_PE_OPT_SECTION_ALIGNMENT, 0x1000);
	put_le32(opt + NM_PE_OPT_FILE_ALIGNMENT, 0x200);
	put_le16(opt + 0x28, 5);			/* MajorOperatingSystemVersion */
	put_le16(opt + 0x30, 5);			/* MajorSubsystemVersion */
	put_le32(opt + NM_PE_OPT_SIZE_OF_IMAGE, (image_size + 0xFFFu) & ~0xFFFu);
	put_le32(opt + NM_PE_OPT_SIZE_OF_HEADERS, 0x1000);
	put_le16(opt + 0x44, 1);			/* Subsystem: native */
	put_le32(opt + 0x5C, 16);			/* NumberOfRvaAndSizes */
	if (!has_body)
		return;
	memcpy(sh, "carved", 6);
	put_le32(sh + NM_PE_SCN_VIRTUAL_SIZE, image_size - 0x1000);
	put_le32(sh + NM_PE_SCN_VIRTUAL_ADDRESS, 0x1000);
	put_le32(sh + NM_PE_SCN_RAW_SIZE, image_size - 0x1000);
	put_le32(sh + NM_PE_SCN_RAW_OFFSET, 0x1000);
	put_le32(sh + 0x24, 0xE0000060u);		/* code + data, RWX: nothing is known */
}
