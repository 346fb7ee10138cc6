/* Layer 4: PE32 and PE32+ headers of an in-memory image, and the loader's
 * view of its sections (which it discards after DriverEntry, which it may
 * page). Field offsets and their sources: docs/pe-loader.md. */
#ifndef NTMEM_PE_H
#define NTMEM_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/error.h>

#define NM_PE_MAX_SECTIONS 96		/* the Windows loader's own limit */

#define NM_SCN_CNT_CODE 0x00000020u
#define NM_SCN_MEM_DISCARDABLE 0x02000000u
#define NM_SCN_MEM_NOT_PAGED 0x08000000u
#define NM_SCN_MEM_EXECUTE 0x20000000u
#define NM_SCN_MEM_READ 0x40000000u

/* Data directory slots used here (PE/COFF specification order). */
#define NM_PE_DIR_SECURITY 4		/* certificate table: a FILE offset, not an RVA */
#define NM_PE_DIR_BASERELOC 5
#define NM_PE_DIR_DEBUG 6
#define NM_PE_DIR_IAT 12

/* Optional header magic: PE32 (32-bit images) and PE32+ (64-bit images). */
#define NM_PE32_MAGIC 0x10Bu
#define NM_PE32PLUS_MAGIC 0x20Bu

/* Header field offsets inside the header page (reference §7.1); optional
 * header offsets from its start. Where PE32+ differs, the PE32+ offset has
 * its own name (docs/pe-loader.md: Microsoft "PE Format", winnt.h
 * IMAGE_OPTIONAL_HEADER64): ImageBase grows to 8 bytes and takes
 * BaseOfData's place, the four stack/heap sizes grow to 8 bytes, so
 * LoaderFlags, NumberOfRvaAndSizes and the data directories move by 16. */
#define NM_PE_OFF_LFANEW 0x3C
#define NM_PE_FILE_HEADER_SIZE 20
#define NM_PE_OPT_IMAGE_BASE 0x1C		/* PE32: 4 bytes */
#define NM_PE32P_OPT_IMAGE_BASE 0x18		/* PE32+: 8 bytes */
#define NM_PE_OPT_SECTION_ALIGNMENT 0x20
#define NM_PE_OPT_FILE_ALIGNMENT 0x24
#define NM_PE_OPT_SIZE_OF_IMAGE 0x38
#define NM_PE_OPT_SIZE_OF_HEADERS 0x3C
#define NM_PE_OPT_CHECKSUM 0x40
#define NM_PE_OPT_SUBSYSTEM 0x44
#define NM_PE_OPT_DLL_CHARACTERISTICS 0x46
#define NM_PE_OPT_STACK_RESERVE 0x48		/* PE32: four 4-byte sizes; PE32+: four 8-byte */
#define NM_PE_OPT_NUMBER_OF_RVA 0x5C
#define NM_PE32P_OPT_NUMBER_OF_RVA 0x6C
#define NM_PE_OPT_DATA_DIRECTORY 0x60
#define NM_PE32P_OPT_DATA_DIRECTORY 0x70
#define NM_PE_SECTION_HEADER_SIZE 40
#define NM_PE_SCN_VIRTUAL_SIZE 8
#define NM_PE_SCN_VIRTUAL_ADDRESS 0x0C
#define NM_PE_SCN_RAW_SIZE 0x10
#define NM_PE_SCN_RAW_OFFSET 0x14

enum nm_section_kind { NM_SECTION_DISCARDABLE, NM_SECTION_PAGEABLE, NM_SECTION_NONPAGED };
const char *nm_section_kind_name(enum nm_section_kind k); /* "discardable", "pageable", "nonpaged" */

struct nm_pe_section {
	char name[9];			/* NUL-terminated, non-printable bytes replaced */
	uint32_t virtual_address, virtual_size;
	uint32_t raw_offset, raw_size;
	uint32_t characteristics;
	enum nm_section_kind kind;
};

struct nm_pe_image {
	uint32_t e_lfanew;
	uint32_t optional_header_offset;	/* from the buffer start */
	uint32_t section_table_offset;		/* from the buffer start */
	uint16_t machine;
	uint32_t timestamp;
	uint16_t magic;				/* NM_PE32_MAGIC or NM_PE32PLUS_MAGIC */
	bool pe32plus;				/* a 64-bit image (PE32+) */
	uint32_t entry_rva;
	uint64_t image_base;			/* 8 bytes in PE32+ */
	uint32_t section_alignment, file_alignment;
	uint32_t size_of_image, size_of_headers;
	uint16_t subsystem, dll_characteristics;
	uint64_t stack_reserve, stack_commit;	/* SizeOfStack/HeapReserve/Commit: */
	uint64_t heap_reserve, heap_commit;	/* 8 bytes each in PE32+ */
	uint32_t number_of_rva_and_sizes;
	uint32_t data_directory_offset;		/* from the optional header start: 0x60 or 0x70 */
	uint32_t dir_rva[16], dir_size[16];	/* data directories */
	unsigned nsections;
	struct nm_pe_section sections[NM_PE_MAX_SECTIONS];
};

/* Parses the PE32 or PE32+ headers in BUF (the image's first bytes, at
 * least the header page); every offset is checked against LEN and against
 * SizeOfImage. */
int nm_pe_parse(const uint8_t *buf, size_t len, struct nm_pe_image *out, nm_error *err);

/* The loader's classification of one section (docs/pe-loader.md). */
enum nm_section_kind nm_pe_classify(const struct nm_pe_section *s);

/* The first section whose [va, va + span rounded up to SectionAlignment)
 * holds RVA, or NULL (docs/pe-loader.md). */
const struct nm_pe_section *nm_pe_section_at(const struct nm_pe_image *pe, uint32_t rva);

/* Bytes the section occupies in memory from its VirtualAddress: VirtualSize,
 * or SizeOfRawData when a linker left VirtualSize 0 (docs/pe-loader.md). */
uint32_t nm_pe_section_span(const struct nm_pe_section *s);

/* Index of the section holding RVA by the rule of nm_pe_section_at, or -1. */
int nm_pe_section_index_at(const struct nm_pe_image *pe, uint32_t rva);

/* Offset of ImageBase from the optional header start, and its width. */
static inline uint32_t nm_pe_image_base_offset(const struct nm_pe_image *pe)
{
	return pe->pe32plus ? NM_PE32P_OPT_IMAGE_BASE : NM_PE_OPT_IMAGE_BASE;
}

#endif
