/* Layer 2: the paging modes of the kernels ntmem reads, one const
 * description each: x86 (src/mm/mode_x86.c), x86 PAE (mode_x86pae.c) and
 * x64 (mode_x64.c), as MemProcFS keeps mm_x86, mm_x86pae and mm_x64. Every
 * size, mask and self-map base of a mode is written once, in its file, with
 * its source (docs/pte-formats.md). libaddrxlat does the hardware walks;
 * the descriptor tells it the shape. Callers take a mode, never a flag. */
#ifndef NTMEM_PAGING_MODE_H
#define NTMEM_PAGING_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/page_state.h>

/* Table levels, top first. JSON names: "pml4e", "pdpte", "pde", "pte". */
enum nm_paging_level { NM_LEVEL_PML4E, NM_LEVEL_PDPTE, NM_LEVEL_PDE, NM_LEVEL_PTE };
const char *nm_paging_level_name(enum nm_paging_level l);

#define NM_MAX_PAGING_LEVELS 4

/* Which generation of invalid-PTE layout the kernel uses. */
enum nm_pte_layout {
	NM_PTE_LAYOUT_XP,	/* XP, Server 2003 */
	NM_PTE_LAYOUT_VISTA,	/* Vista, 7 */
	NM_PTE_LAYOUT_WIN8,	/* 8, 8.1, 10 before the L1TF change */
	NM_PTE_LAYOUT_WIN10_L1TF, /* 10 from 17763 */
};

/* Kernel values some decodes need (XP prototype PTEs are relative to the
 * prototype base, which is MmPagedPoolStart). Zero when unknown. */
struct nm_swpte_bases {
	uint64_t proto_base;
	uint64_t subsection_base;	/* MmSubsectionBase */
	uint64_t nonpaged_pool_end;	/* MmNonPagedPoolEnd */
	uint64_t invalid_pte_mask;	/* x64/PAE Windows 10 17763+: MiState.Hardware.InvalidPteMask */
};

/* What an invalid (Valid bit clear) PTE says, decoded the Windows way. */
struct nm_swpte {
	enum nm_page_state state;	/* transition/pagefile/demand_zero/prototype/not_mapped */
	unsigned protection;		/* 5-bit Windows protection, where the form has it */
	unsigned pagefile_number;	/* pagefile */
	bool subsection;		/* prototype PTE that is itself a subsection (file-backed) */
	uint64_t pfn;			/* transition: the frame still holding the data */
	uint64_t pagefile_offset;	/* pagefile: byte offset inside that file */
	uint64_t proto_address;		/* prototype: VA of the prototype PTE */
	uint64_t subsection_address;
};

/* Decodes PTE (whose Valid bit is clear) for one mode. is_prototype_pte
 * says the PTE was itself read from a prototype, where the prototype bit
 * means "subsection". */
typedef void nm_swpte_decoder(uint64_t pte, enum nm_pte_layout layout,
			      const struct nm_swpte_bases *bases, bool is_prototype_pte,
			      struct nm_swpte *out);

struct nm_paging_level_shape {
	enum nm_paging_level level;
	unsigned shift;		/* VA bit where this level's index starts */
	unsigned bits;		/* width of the index */
	bool large;		/* the page-size bit (7) here maps a page of 1 << shift bytes */
};

struct nm_paging_mode;

/* Where the kernel sees its own page tables: the self-map. Fixed on x86;
 * on x64 it follows from the PML4 index the kernel chose (randomised from
 * Windows 10 1607), so the translator finds it per dump. */
struct nm_self_map {
	const struct nm_paging_mode *mode;
	unsigned index;		/* top-level index of the self-referencing entry (x64) */
	uint64_t pte_base;	/* VA of the PTE that maps VA 0; every other base
				   follows from it (the PDEs are the PTEs of the
				   page tables: pde_base = PTE address of pte_base) */
};

struct nm_paging_mode {
	const char *name;		/* "x86", "x86-pae", "x64" */
	const char *label;		/* for text output: "non-PAE", "PAE", "x64" */
	unsigned entry_size;		/* bytes of one table entry */
	unsigned va_bits;		/* 32, or 48 (x64: canonical, sign-extended from bit 47) */
	unsigned nlevels;
	struct nm_paging_level_shape levels[NM_MAX_PAGING_LEVELS];	/* top first */
	uint64_t root_mask;		/* DirectoryTableBase bits that name the root table */
	uint64_t frame_mask;		/* bits of a valid entry that hold a physical address */
	uint64_t max_root;		/* highest root address the mode can load */
	int addrxlat_pte_format;	/* addrxlat_pte_format_t */
	struct nm_self_map self_map;	/* x86: the fixed one; x64: the default before 1607 */
	bool self_map_in_root;		/* the root table names its own self-map entry (x64) */
	nm_swpte_decoder *decode_swpte;
};

extern const struct nm_paging_mode nm_mode_x86;
extern const struct nm_paging_mode nm_mode_x86_pae;
extern const struct nm_paging_mode nm_mode_x64;

/* Shape of the level that reads entry LEVEL, or NULL when the mode lacks it. */
const struct nm_paging_level_shape *nm_mode_level(const struct nm_paging_mode *m,
						  enum nm_paging_level level);

/* One past the highest VA the mode maps, as an unsigned count of the low
 * va_bits (x86: 4 GiB). x64 VAs are canonical: nm_mode_va_canonical. */
static inline uint64_t nm_mode_va_span(const struct nm_paging_mode *m)
{
	return UINT64_C(1) << m->va_bits;
}

/* VA is an address the mode can translate (x86: below 4 GiB; x64:
 * bits 48-63 copy bit 47). */
bool nm_mode_va_canonical(const struct nm_paging_mode *m, uint64_t va);

/* The VA whose low va_bits are LOW, sign-extended on x64. */
uint64_t nm_mode_va_from_low(const struct nm_paging_mode *m, uint64_t low);

/* Reads one table entry (entry_size bytes, little-endian) at P. */
uint64_t nm_mode_load_entry(const struct nm_paging_mode *m, const uint8_t *p);

/* Decodes an invalid PTE with the mode's decoder. */
void nm_swpte_decode(const struct nm_paging_mode *m, uint64_t pte, enum nm_pte_layout layout,
		     const struct nm_swpte_bases *bases, bool is_prototype_pte,
		     struct nm_swpte *out);

/* The frame a PTE names while its data is in RAM: valid (frame_mask) or
 * transition (the layout's transition form). False for any other PTE. */
bool nm_mode_pte_frame(const struct nm_paging_mode *m, enum nm_pte_layout layout,
		       uint64_t pte, uint64_t *pfn);

/* ---- the self-map ---------------------------------------------------- */

/* The x64 self-map for the PML4 index INDEX (0x100..0x1FF: kernel half). */
struct nm_self_map nm_self_map_x64(unsigned index);

/* VA of the PDE that maps VA 0 (0xC0300000 x86, 0xC0600000 PAE). */
uint64_t nm_self_map_pde_base(const struct nm_self_map *s);

/* Bytes of PTEs (4 MiB x86, 8 MiB PAE, 512 GiB x64) and of PDEs (4 KiB,
 * 16 KiB, 1 GiB) the self-map shows. */
uint64_t nm_self_map_pte_window(const struct nm_self_map *s);
uint64_t nm_self_map_pde_window(const struct nm_self_map *s);

/* Self-map address of the PTE / PDE that maps VA. */
uint64_t nm_self_map_pte_address(const struct nm_self_map *s, uint64_t va);
uint64_t nm_self_map_pde_address(const struct nm_self_map *s, uint64_t va);

/* ADDRESS is an entry-aligned address inside the PTE / PDE window. */
bool nm_self_map_holds_pte(const struct nm_self_map *s, uint64_t address);
bool nm_self_map_holds_pde(const struct nm_self_map *s, uint64_t address);

/* The VA that the PTE / PDE at ADDRESS maps (ADDRESS inside the window). */
uint64_t nm_self_map_va_of_pte(const struct nm_self_map *s, uint64_t address);
uint64_t nm_self_map_va_of_pde(const struct nm_self_map *s, uint64_t address);

#endif
