/* Decoding PFN database entries (MMPFN), and the page-table self-map.
 * Layouts and sources: docs/mmpfn.md. */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/pfn.h>
#include <ntmem/vmem.h>

const char *nm_pfn_list_name(enum nm_pfn_list l)
{
	static const char *const names[] = {
		"zeroed", "free", "standby", "modified", "modified_no_write",
		"bad", "active", "transition",
	};

	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "unknown";
}

/* PteAddress as stored: a pointer (4 bytes on x86, PAE or not; 8 on x64).
 * Vista and later keep the entry's lock in bit 0; PTEs are at least 4-byte
 * aligned, so that bit is never address. An x64 value is made canonical
 * from bit 47, so a flag kept in the unused top bits cannot make a kernel
 * PTE address look like another one [derived: the self-map lies in the
 * canonical kernel half]. */
static uint64_t pte_address_of(const uint8_t *p, const struct nm_paging_mode *mode)
{
	if (nm_mode_pointer_size(mode) == 8)
		return nm_mode_va_from_low(mode, nm_le64(p) & ((UINT64_C(1) << mode->va_bits) - 1) & ~UINT64_C(1));
	return nm_le32(p) & ~1u;
}

/* u4's PteFrame bit field: 23 to 26 bits on x86, 36 or 52 on x64. */
static uint64_t pte_frame_of(const uint8_t *p, const struct nm_mmpfn_layout *layout)
{
	uint64_t raw = layout->pte_frame_bits > 32 ? nm_le64(p) : nm_le32(p);

	return layout->pte_frame_bits >= 64 ? raw : raw & ((UINT64_C(1) << layout->pte_frame_bits) - 1);
}

void nm_pfn_decode(const uint8_t *entry, const struct nm_mmpfn_layout *layout,
		   const struct nm_self_map *self_map, struct nm_pfn_entry *out)
{
	uint32_t location = (nm_le16(entry + layout->flags) >> layout->location_shift) & 7u;

	out->pte_address = pte_address_of(entry + layout->pte_address, self_map->mode);
	out->share_count = nm_le32(entry + layout->share_count);
	out->reference_count = nm_le16(entry + layout->reference_count);
	out->list = (enum nm_pfn_list)location;
	out->original_pte = nm_mode_load_entry(self_map->mode, entry + layout->original_pte);
	out->pte_frame = pte_frame_of(entry + layout->pte_frame, layout);
	out->has_va = nm_self_map_holds_pte(self_map, out->pte_address);
	out->va = out->has_va ? nm_self_map_va_of_pte(self_map, out->pte_address) : 0;
	out->readable = true;
}
