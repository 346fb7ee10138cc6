/* Layer 4: PE32 headers of an in-memory image, and the loader's view of
 * its sections (which it discards after DriverEntry, which it may page). */
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

/* Header field offsets inside the header page (reference §7.1). */
#define NM_PE_OFF_LFANEW 0x3C
#define NM_PE_FILE_HEADER_SIZE 20
#define NM_PE_OPT_IMAGE_BASE 0x1C
#define NM_PE_OPT_SECTION_ALIGNMENT 0x20
#define NM_PE_OPT_FILE_ALIGNMENT 0x24
#define NM_PE_OPT_SIZE_OF_IMAGE 0x38
#define NM_PE_OPT_SIZE_OF_HEADERS 0x3C
#define NM_PE_OPT_CHECKSUM 0x40
#define NM_PE_OPT_DATA_DIRECTORY 0x60
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
	uint32_t entry_rva;
	uint32_t image_base;
	uint32_t section_alignment, file_alignment;
	uint32_t size_of_image, size_of_headers;
	uint32_t number_of_rva_and_sizes;
	uint32_t dir_rva[16], dir_size[16];	/* data directories */
	unsigned nsections;
	struct nm_pe_section sections[NM_PE_MAX_SECTIONS];
};

/* Parses the headers in BUF (the image's first bytes, at least the header
 * page); every offset is checked against LEN and against SizeOfImage. */
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

#endif
