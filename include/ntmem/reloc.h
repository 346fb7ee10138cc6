/* Layer 4: an original driver file laid out as the loader would have it at a
 * given base (sections copied, HIGHLOW and DIR64 relocations applied), and its
 * comparison with a carved image (docs/carving.md, --compare-with). */
#ifndef NTMEM_RELOC_H
#define NTMEM_RELOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/carve.h>
#include <ntmem/error.h>
#include <ntmem/pe.h>

/* Bound on relocation entries processed per file (a 256 MiB image has at
 * most 64 Ki pages of 2 Ki entries each; a bound not taken from the file). */
#define NM_RELOC_MAX_ENTRIES (1u << 27)

struct nm_loaded_file {
	struct nm_pe_image pe;
	uint8_t *image;			/* pe.size_of_image bytes */
	uint32_t size;
	uint64_t load_base;
	bool has_relocations;		/* a base relocation directory was found */
	uint64_t relocs_applied;	/* HIGHLOW and (PE32+) DIR64 entries applied */
	uint64_t relocs_ignored;	/* other types, DIR64 in a PE32 image, targets past the image */
	bool relocs_truncated;		/* a block was malformed: the rest was not applied */
};

/* Lays out FILE (LEN bytes, a PE32 or PE32+ file) in memory and relocates it
 * for LOAD_BASE. Free with nm_loaded_file_free. */
int nm_pe_load_file(const uint8_t *file, size_t len, uint64_t load_base,
		    struct nm_loaded_file *out, nm_error *err);
void nm_loaded_file_free(struct nm_loaded_file *f);

/* Applies the base relocations found in IMAGE (already in memory layout) for
 * a move by DELTA (modulo 2^64; HIGHLOW fields take its low 32 bits).
 * Exposed for tests. */
void nm_pe_apply_relocations(struct nm_loaded_file *f, uint64_t delta);

struct nm_modified_range {
	uint32_t rva_start, rva_end;	/* end exclusive */
	int section;			/* index into the FILE's section table */
};

struct nm_compare_stats {
	uint64_t bytes_compared;
	uint64_t bytes_skipped_holes;
	uint64_t bytes_skipped_iat;
	uint64_t bytes_modified;
};

/* Compares each section of F with the carved image C over the section's span,
 * skipping hole pages and the IAT (data directory 12). Visits every maximal
 * run of differing bytes in RVA order. */
typedef int nm_modified_visitor(void *ctx, const struct nm_modified_range *r);
int nm_pe_compare(const struct nm_carve *c, const struct nm_loaded_file *f,
		  nm_modified_visitor *visit, void *ctx, struct nm_compare_stats *stats);

#endif
