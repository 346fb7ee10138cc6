/* Layer 4: a named export of an image in kernel memory (ntoskrnl's
 * NtBuildNumber, for an image with no dump header to give the build). */
#ifndef NTMEM_PE_EXPORTS_H
#define NTMEM_PE_EXPORTS_H

#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/vmem.h>

/* Names compared are at most this long; a longer name never matches. */
#define NM_PE_EXPORT_NAME_MAX 63
/* More names than this is not an image the loader made (ntoskrnl exports
 * a few thousand): the table is refused rather than searched. */
#define NM_PE_MAX_EXPORT_NAMES 0x10000u

/* The RVA that the image at BASE exports under NAME: a binary search of
 * the name pointer table (PE/COFF: ascending lexical order), so at most
 * 17 names are read. Fails, naming the field, when a page it needs is not
 * readable, a table lies outside SizeOfImage, or NAME is not exported or is
 * forwarded. Stale pages are refused. */
int nm_pe_find_export(const struct nm_vmem *mem, uint64_t base, const char *name, uint32_t *rva,
		      nm_error *err);

#endif
