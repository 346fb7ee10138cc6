/* PE32 and PE32+ header parsing over an untrusted buffer (the header page of
 * an image in memory, or the start of a driver file). Every offset is
 * checked against the buffer length before it is read; counts are bounded by
 * constants. Field offsets: reference §7.1 and, for PE32+, Microsoft's "PE
 * Format" / winnt.h IMAGE_OPTIONAL_HEADER64 (docs/pe-loader.md). */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/pe.h>

#define PE_SIGNATURE 0x00004550u	/* "PE\0\0" */
#define MZ_SIGNATURE 0x5A4Du
#define MAX_OPTIONAL_HEADER 0x1000u

static bool fits(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

static bool is_power_of_two(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int parse_nt_signature(const uint8_t *buf, size_t len, struct nm_pe_image *out,
			      nm_error *err)
{
	if (len < 0x40)
		return nm_fail(err, "pe.dos_header", "only %zu bytes, the DOS header needs 64", len);
	if (nm_le16(buf) != MZ_SIGNATURE)
		return nm_fail(err, "pe.e_magic", "0x%04x is not \"MZ\"", nm_le16(buf));
	out->e_lfanew = nm_le32(buf + NM_PE_OFF_LFANEW);
	if (!fits(len, out->e_lfanew, 4 + NM_PE_FILE_HEADER_SIZE))
		return nm_fail(err, "pe.e_lfanew", "0x%x leaves no room for the NT headers in %zu bytes",
			       out->e_lfanew, len);
	if (nm_le32(buf + out->e_lfanew) != PE_SIGNATURE)
		return nm_fail(err, "pe.Signature", "0x%08x is not \"PE\\0\\0\"",
			       nm_le32(buf + out->e_lfanew));
	return 0;
}

static int parse_file_header(const uint8_t *buf, size_t len, struct nm_pe_image *out,
			     unsigned *nsections, uint32_t *opt_size, nm_error *err)
{
	const uint8_t *fh = buf + out->e_lfanew + 4;

	out->machine = nm_le16(fh);
	*nsections = nm_le16(fh + 2);
	out->timestamp = nm_le32(fh + 4);
	*opt_size = nm_le16(fh + 0x10);
	if (*nsections > NM_PE_MAX_SECTIONS)
		return nm_fail(err, "pe.NumberOfSections", "%u is above the loader's limit of %d",
			       *nsections, NM_PE_MAX_SECTIONS);
	if (*opt_size < 2 || *opt_size > MAX_OPTIONAL_HEADER)
		return nm_fail(err, "pe.SizeOfOptionalHeader", "%u is not an optional header size",
			       *opt_size);
	out->optional_header_offset = out->e_lfanew + 4 + NM_PE_FILE_HEADER_SIZE;
	if (!fits(len, out->optional_header_offset, *opt_size))
		return nm_fail(err, "pe.SizeOfOptionalHeader", "%u bytes run past the %zu-byte buffer",
			       *opt_size, len);
	return 0;
}

static void parse_data_directories(const uint8_t *opt, uint32_t opt_size, struct nm_pe_image *out)
{
	uint32_t at = out->data_directory_offset;
	uint32_t room = (opt_size - at) / 8;
	uint32_t n = out->number_of_rva_and_sizes;

	if (n > 16)
		n = 16;
	if (n > room)
		n = room;
	for (uint32_t i = 0; i < n; i++) {
		out->dir_rva[i] = nm_le32(opt + at + 8 * i);
		out->dir_size[i] = nm_le32(opt + at + 8 * i + 4);
	}
}

/* The fields whose place or width depends on the magic: ImageBase, the four
 * stack and heap sizes, NumberOfRvaAndSizes and the data directories. */
static void parse_width_dependent(const uint8_t *opt, struct nm_pe_image *out)
{
	if (out->pe32plus) {
		out->image_base = nm_le64(opt + NM_PE32P_OPT_IMAGE_BASE);
		out->stack_reserve = nm_le64(opt + NM_PE_OPT_STACK_RESERVE);
		out->stack_commit = nm_le64(opt + NM_PE_OPT_STACK_RESERVE + 8);
		out->heap_reserve = nm_le64(opt + NM_PE_OPT_STACK_RESERVE + 16);
		out->heap_commit = nm_le64(opt + NM_PE_OPT_STACK_RESERVE + 24);
		out->number_of_rva_and_sizes = nm_le32(opt + NM_PE32P_OPT_NUMBER_OF_RVA);
		out->data_directory_offset = NM_PE32P_OPT_DATA_DIRECTORY;
		return;
	}
	out->image_base = nm_le32(opt + NM_PE_OPT_IMAGE_BASE);
	out->stack_reserve = nm_le32(opt + NM_PE_OPT_STACK_RESERVE);
	out->stack_commit = nm_le32(opt + NM_PE_OPT_STACK_RESERVE + 4);
	out->heap_reserve = nm_le32(opt + NM_PE_OPT_STACK_RESERVE + 8);
	out->heap_commit = nm_le32(opt + NM_PE_OPT_STACK_RESERVE + 12);
	out->number_of_rva_and_sizes = nm_le32(opt + NM_PE_OPT_NUMBER_OF_RVA);
	out->data_directory_offset = NM_PE_OPT_DATA_DIRECTORY;
}

static int parse_optional_header(const uint8_t *buf, uint32_t opt_size, struct nm_pe_image *out,
				 nm_error *err)
{
	const uint8_t *opt = buf + out->optional_header_offset;
	uint32_t need;

	out->magic = nm_le16(opt);
	if (out->magic != NM_PE32_MAGIC && out->magic != NM_PE32PLUS_MAGIC)
		return nm_fail(err, "pe.OptionalHeader.Magic", "0x%x is neither PE32 (0x10b) nor PE32+ (0x20b)",
			       out->magic);
	out->pe32plus = out->magic == NM_PE32PLUS_MAGIC;
	/* Every field up to the data directories must be there; the
	 * directories themselves are read only as far as the header holds. */
	need = out->pe32plus ? NM_PE32P_OPT_DATA_DIRECTORY : NM_PE_OPT_DATA_DIRECTORY;
	if (opt_size < need)
		return nm_fail(err, "pe.SizeOfOptionalHeader", "%u is below the %u bytes a %s optional header needs",
			       opt_size, need, out->pe32plus ? "PE32+" : "PE32");
	out->entry_rva = nm_le32(opt + 0x10);
	out->section_alignment = nm_le32(opt + NM_PE_OPT_SECTION_ALIGNMENT);
	out->file_alignment = nm_le32(opt + NM_PE_OPT_FILE_ALIGNMENT);
	out->size_of_image = nm_le32(opt + NM_PE_OPT_SIZE_OF_IMAGE);
	out->size_of_headers = nm_le32(opt + NM_PE_OPT_SIZE_OF_HEADERS);
	out->subsystem = nm_le16(opt + NM_PE_OPT_SUBSYSTEM);
	out->dll_characteristics = nm_le16(opt + NM_PE_OPT_DLL_CHARACTERISTICS);
	parse_width_dependent(opt, out);
	if (!is_power_of_two(out->section_alignment))
		return nm_fail(err, "pe.SectionAlignment", "0x%x is not a power of two",
			       out->section_alignment);
	if (out->size_of_image == 0)
		return nm_fail(err, "pe.SizeOfImage", "is 0");
	parse_data_directories(opt, opt_size, out);
	return 0;
}

static void copy_section_name(const uint8_t *raw, char name[9])
{
	for (int i = 0; i < 8; i++) {
		uint8_t c = raw[i];

		if (c == 0) {
			name[i] = 0;
			return;
		}
		name[i] = (c >= 0x20 && c < 0x7F) ? (char)c : '_';
	}
	name[8] = 0;
}

static int parse_section(const uint8_t *sh, unsigned index, struct nm_pe_image *out, nm_error *err)
{
	struct nm_pe_section *s = &out->sections[index];
	uint64_t end;

	copy_section_name(sh, s->name);
	s->virtual_size = nm_le32(sh + NM_PE_SCN_VIRTUAL_SIZE);
	s->virtual_address = nm_le32(sh + NM_PE_SCN_VIRTUAL_ADDRESS);
	s->raw_size = nm_le32(sh + NM_PE_SCN_RAW_SIZE);
	s->raw_offset = nm_le32(sh + NM_PE_SCN_RAW_OFFSET);
	s->characteristics = nm_le32(sh + 0x24);
	s->kind = nm_pe_classify(s);
	end = (uint64_t)s->virtual_address + nm_pe_section_span(s);
	if (s->virtual_address >= out->size_of_image || end > out->size_of_image)
		return nm_fail(err, "pe.section", "section %u (%s) at 0x%x+0x%x lies outside SizeOfImage 0x%x",
			       index, s->name, s->virtual_address, nm_pe_section_span(s),
			       out->size_of_image);
	return 0;
}

static int parse_sections(const uint8_t *buf, size_t len, unsigned nsections, uint32_t opt_size,
			  struct nm_pe_image *out, nm_error *err)
{
	out->section_table_offset = out->optional_header_offset + opt_size;
	if (!fits(len, out->section_table_offset, (uint64_t)nsections * NM_PE_SECTION_HEADER_SIZE))
		return nm_fail(err, "pe.NumberOfSections", "%u section headers at 0x%x run past the %zu-byte buffer",
			       nsections, out->section_table_offset, len);
	for (unsigned i = 0; i < nsections; i++) {
		const uint8_t *sh = buf + out->section_table_offset + i * NM_PE_SECTION_HEADER_SIZE;

		if (parse_section(sh, i, out, err) != 0)
			return -1;
	}
	out->nsections = nsections;
	return 0;
}

int nm_pe_parse(const uint8_t *buf, size_t len, struct nm_pe_image *out, nm_error *err)
{
	unsigned nsections;
	uint32_t opt_size;

	memset(out, 0, sizeof(*out));
	if (parse_nt_signature(buf, len, out, err) != 0 ||
	    parse_file_header(buf, len, out, &nsections, &opt_size, err) != 0 ||
	    parse_optional_header(buf, opt_size, out, err) != 0 ||
	    parse_sections(buf, len, nsections, opt_size, out, err) != 0)
		return -1;
	return 0;
}

/* ReactOS MiFindInitializationCode / MmFreeDriverInitialization free INIT and
 * IMAGE_SCN_MEM_DISCARDABLE sections; MiEnablePagingOfDriver pages sections
 * named PAGE* and .eda*. Discardable wins: such a page is gone, not paged. */
enum nm_section_kind nm_pe_classify(const struct nm_pe_section *s)
{
	if ((s->characteristics & NM_SCN_MEM_DISCARDABLE) || strcmp(s->name, "INIT") == 0)
		return NM_SECTION_DISCARDABLE;
	if (strncmp(s->name, "PAGE", 4) == 0 || strncmp(s->name, ".eda", 4) == 0)
		return NM_SECTION_PAGEABLE;
	return NM_SECTION_NONPAGED;
}

const char *nm_section_kind_name(enum nm_section_kind k)
{
	switch (k) {
	case NM_SECTION_DISCARDABLE:
		return "discardable";
	case NM_SECTION_PAGEABLE:
		return "pageable";
	case NM_SECTION_NONPAGED:
		return "nonpaged";
	}
	return "unknown";
}

uint32_t nm_pe_section_span(const struct nm_pe_section *s)
{
	return s->virtual_size ? s->virtual_size : s->raw_size;
}

/* The loader maps a section over VirtualSize rounded up to SectionAlignment
 * (reference §7.3: "the RVA extent of all sections rounded to
 * SectionAlignment"), so that is the extent a page start is tested against. */
static uint64_t section_extent(const struct nm_pe_image *pe, const struct nm_pe_section *s)
{
	uint64_t a = pe->section_alignment ? pe->section_alignment : 1;

	return ((uint64_t)nm_pe_section_span(s) + a - 1) / a * a;
}

int nm_pe_section_index_at(const struct nm_pe_image *pe, uint32_t rva)
{
	for (unsigned i = 0; i < pe->nsections && i < NM_PE_MAX_SECTIONS; i++) {
		const struct nm_pe_section *s = &pe->sections[i];

		if (rva >= s->virtual_address &&
		    (uint64_t)rva < (uint64_t)s->virtual_address + section_extent(pe, s))
			return (int)i;
	}
	return -1;
}

const struct nm_pe_section *nm_pe_section_at(const struct nm_pe_image *pe, uint32_t rva)
{
	int i = nm_pe_section_index_at(pe, rva);

	return i < 0 ? NULL : &pe->sections[i];
}
