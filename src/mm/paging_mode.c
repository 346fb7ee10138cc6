/* What every paging mode shares: level names, canonical VAs, entry loads
 * and the self-map arithmetic. The modes themselves: mode_*.c. */
#include <ntmem/bytes.h>
#include <ntmem/paging_mode.h>

const char *nm_paging_level_name(enum nm_paging_level l)
{
	switch (l) {
	case NM_LEVEL_PML4E: return "pml4e";
	case NM_LEVEL_PDPTE: return "pdpte";
	case NM_LEVEL_PDE: return "pde";
	case NM_LEVEL_PTE: return "pte";
	}
	return "unknown";
}

const struct nm_paging_level_shape *nm_mode_level(const struct nm_paging_mode *m,
						  enum nm_paging_level level)
{
	for (unsigned i = 0; i < m->nlevels; i++)
		if (m->levels[i].level == level)
			return &m->levels[i];
	return NULL;
}

uint64_t nm_mode_va_from_low(const struct nm_paging_mode *m, uint64_t low)
{
	uint64_t span = nm_mode_va_span(m);

	low &= span - 1;
	if (m->va_bits < 64 && m->va_bits > 32 && (low & (span >> 1)))
		low |= ~(span - 1);	/* x64: bits 48-63 copy bit 47 */
	return low;
}

bool nm_mode_va_canonical(const struct nm_paging_mode *m, uint64_t va)
{
	return nm_mode_va_from_low(m, va) == va;
}

uint64_t nm_mode_load_entry(const struct nm_paging_mode *m, const uint8_t *p)
{
	return m->entry_size == 8 ? nm_le64(p) : nm_le32(p);
}

/* ---- the self-map ------------------------------------------------------ */

static unsigned pde_shift(const struct nm_paging_mode *m)
{
	const struct nm_paging_level_shape *pde = nm_mode_level(m, NM_LEVEL_PDE);

	return pde ? pde->shift : 21;
}

uint64_t nm_self_map_pte_window(const struct nm_self_map *s)
{
	return (nm_mode_va_span(s->mode) >> 12) * s->mode->entry_size;
}

uint64_t nm_self_map_pde_window(const struct nm_self_map *s)
{
	return (nm_mode_va_span(s->mode) >> pde_shift(s->mode)) * s->mode->entry_size;
}

uint64_t nm_self_map_pte_address(const struct nm_self_map *s, uint64_t va)
{
	uint64_t low = va & (nm_mode_va_span(s->mode) - 1);

	return s->pte_base + (low >> 12) * s->mode->entry_size;
}

uint64_t nm_self_map_pde_base(const struct nm_self_map *s)
{
	return nm_self_map_pte_address(s, s->pte_base);
}

uint64_t nm_self_map_pde_address(const struct nm_self_map *s, uint64_t va)
{
	uint64_t low = va & (nm_mode_va_span(s->mode) - 1);

	return nm_self_map_pde_base(s) + (low >> pde_shift(s->mode)) * s->mode->entry_size;
}

static bool holds(const struct nm_self_map *s, uint64_t base, uint64_t window, uint64_t address)
{
	return address - base < window && (address & (s->mode->entry_size - 1)) == 0;
}

bool nm_self_map_holds_pte(const struct nm_self_map *s, uint64_t address)
{
	return holds(s, s->pte_base, nm_self_map_pte_window(s), address);
}

bool nm_self_map_holds_pde(const struct nm_self_map *s, uint64_t address)
{
	return holds(s, nm_self_map_pde_base(s), nm_self_map_pde_window(s), address);
}

uint64_t nm_self_map_va_of_pte(const struct nm_self_map *s, uint64_t address)
{
	uint64_t index = (address - s->pte_base) / s->mode->entry_size;

	return nm_mode_va_from_low(s->mode, index << 12);
}

uint64_t nm_self_map_va_of_pde(const struct nm_self_map *s, uint64_t address)
{
	uint64_t index = (address - nm_self_map_pde_base(s)) / s->mode->entry_size;

	return nm_mode_va_from_low(s->mode, index << pde_shift(s->mode));
}
