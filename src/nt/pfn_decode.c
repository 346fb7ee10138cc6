/* Decoding PFN database entries (MMPFN), and the page-table self-map.
 * Layouts and sources: docs/mmpfn.md. */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/pfn.h>

const char *nm_pfn_list_name(enum nm_pfn_list l)
{
	static const char *const names[] = {
		"zeroed", "free", "standby", "modified", "modified_no_write",
		"bad", "active", "transition",
	};

	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "unknown";
}

void nm_pfn_decode(const uint8_t *entry, const struct nm_mmpfn_layout *layout,
		   const struct nm_self_map *self_map, struct nm_pfn_entry *out)
{
	uint32_t location = (nm_le16(entry + layout->flags) >> layout->location_shift) & 7u;
	uint32_t frame_mask = layout->pte_frame_bits >= 32 ? 0xFFFFFFFFu
				: (1u << layout->pte_frame_bits) - 1;

	/* Vista and later keep the entry's lock in bit 0 of PteAddress; PTEs
	 * are at least 4-byte aligned, so that bit is never address. */
	out->pte_address = nm_le32(entry + layout->pte_address) & ~1u;
	out->share_count = nm_le32(entry + layout->share_count);
	out->reference_count = nm_le16(entry + layout->reference_count);
	out->list = (enum nm_pfn_list)location;
	out->original_pte = nm_mode_load_entry(self_map->mode, entry + layout->original_pte);
	out->pte_frame = nm_le32(entry + layout->pte_frame) & frame_mask;
	out->has_va = nm_self_map_holds_pte(self_map, out->pte_address);
	out->va = out->has_va ? (uint32_t)nm_self_map_va_of_pte(self_map, out->pte_address) : 0;
	out->readable = true;
}
