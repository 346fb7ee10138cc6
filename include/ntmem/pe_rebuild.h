/* Layer 4: turning a memory-layout image back into a file that PE tools
 * open: raw offsets equal virtual addresses (docs/carving.md, ".pe"). */
#ifndef NTMEM_PE_REBUILD_H
#define NTMEM_PE_REBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/pe.h>

/* Rewrites the headers in HDR (a private copy of the image's first LEN bytes,
 * the same bytes PE was parsed from) for a file of IMAGE_SIZE bytes in memory
 * layout: per section PointerToRawData = VirtualAddress and SizeOfRawData =
 * its span (VirtualSize, or the distance to the next section when that is
 * 0), clipped to the file; FileAlignment = SectionAlignment when a section
 * address is not a multiple of it; ImageBase = LOAD_BASE; CheckSum = 0; the
 * certificate directory (a file offset the image no longer holds) cleared. */
void nm_pe_rebuild_headers(uint8_t *hdr, size_t len, const struct nm_pe_image *pe,
			   uint64_t load_base, uint32_t image_size);

/* Writes into HDR (NM_PE_SYNTH_HEADER_SIZE bytes) minimal headers with one
 * section "carved" covering [0x1000, image_size): used when the image's own
 * headers are missing or invalid, so the .pe still opens in tools. PE32
 * (i386), or PE32+ (AMD64) when PE32PLUS: the kernel's pointer size says
 * which, the image itself no longer can. */
#define NM_PE_SYNTH_HEADER_SIZE 4096u
void nm_pe_synthesize_headers(uint8_t *hdr, uint64_t load_base, uint32_t image_size, bool pe32plus);

#endif
