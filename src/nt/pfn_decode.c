/* Decoding PFN database entries (MMPFN), and the page-table self-map.
 * Layouts and sources: docs/mmpfn.md. */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/pfn.h>

#define SELF_MAP_BASE 0xC0000000u
#define SELF_MAP_SIZE 0x00400000u	/* PTEs of 4 GiB: 4 MiB, or 8 MiB with PAE */

const char *nm_pfn_list_name(enum nm_pfn_list l)
{
	static const char *const names[] = {
		"zeroed", "free", "standby", "modified", "modified_no_write",
		"bad", "active", "transition",
	};

	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "unknown";
}

uint32_t nm_va_to_pte_address(uint32_t va, bool pae)
{
	return SELF_MAP_BASE + (va >> NM_PAGE_SHIFT) * (pae ? 8u : 4u);
}

uint32_t nm_pte_address_to_va(uint32_t pte_address, bool pae)
{
	uint32_t index = (pte_address - SELF_MAP_BASE) / (pae ? 8u : 4u);

	return index << NM_PAGE_SHIFT;
}

static bool in_self_map(uint32_t pte_address, bool pae)
{
	uint32_t size = pae ? 2 * SELF_MAP_SIZE : SELF_MAP_SIZE;

	return pte_address >= SELF_MAP_BASE && pte_address - SELF_MAP_BASE < size &&
	       (pte_address & (pae ? 7u : 3u)) == 0;
}

void nm_pfn_decode(const uint8_t *entry, const struct nm_mmpfn_layout *layout,
		   bool pae, struct nm_pfn_entry *out)
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
	out->original_pte = pae ? nm_le64(entry + layout->original_pte)
				: nm_le32(entry + layout->original_pte);
	out->pte_frame = nm_le32(entry + layout->pte_frame) & frame_mask;
	out->has_va = in_self_map(out->pte_address, pae);
	out->va = out->has_va ? nm_pte_address_to_va(out->pte_address, pae) : 0;
	out->readable = true;
}
