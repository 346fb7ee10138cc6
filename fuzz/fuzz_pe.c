/* PE32 header and section-table parsing (nm_pe_parse), the section lookups
 * a carve makes for every page, and the header rewrite that turns a carved
 * image into a file (nm_pe_rebuild_headers) on a private copy. */
#include <stdlib.h>
#include <string.h>

#include <ntmem/pe.h>
#include <ntmem/pe_rebuild.h>

#include "fuzz_common.h"

static void look_up_pages(const struct nm_pe_image *pe)
{
	/* One lookup per page of the first 4 MiB (more only slows the fuzzer). */
	for (uint64_t rva = 0; rva < pe->size_of_image && rva < (4u << 20); rva += 0x1000) {
		const struct nm_pe_section *s = nm_pe_section_at(pe, (uint32_t)rva);
		int i = nm_pe_section_index_at(pe, (uint32_t)rva);

		if ((s == NULL) != (i < 0) || (s && s != &pe->sections[i]))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_pe_image pe;
	nm_error err;
	uint8_t *copy;

	if (nm_pe_parse(data, size, &pe, &err) != 0)
		return 0;
	if (pe.nsections > NM_PE_MAX_SECTIONS)
		__builtin_trap();
	for (unsigned i = 0; i < pe.nsections; i++) {
		(void)nm_section_kind_name(nm_pe_classify(&pe.sections[i]));
		(void)nm_pe_section_span(&pe.sections[i]);
	}
	look_up_pages(&pe);
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	nm_pe_rebuild_headers(copy, size, &pe, 0x80100000u, pe.size_of_image);
	free(copy);
	return 0;
}
