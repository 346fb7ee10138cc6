/* Per-version facts of 32-bit Windows kernels. Each value and its source is
 * listed in docs/versions.md; rows are ordered by first build. */
#include <stddef.h>

#include <ntmem/version.h>

/* MMPFN placements (docs/mmpfn.md). Under PAE the 4-byte OriginalPte grows
 * to 8 bytes, which pushes u4 (PteFrame) and the entry size up by 4. */
#define XP_MMPFN      { 0x18, 0x04, 0x08, 0x0E, 0x0C, 8, 0x10, 0x14, 26 }
#define XP_MMPFN_PAE  { 0x1C, 0x04, 0x08, 0x0E, 0x0C, 8, 0x10, 0x18, 26 }
#define S03_MMPFN     { 0x18, 0x04, 0x08, 0x0C, 0x0E, 8, 0x10, 0x14, 25 }
#define S03_MMPFN_PAE { 0x1C, 0x04, 0x08, 0x0C, 0x0E, 8, 0x10, 0x18, 25 }
#define NT6_MMPFN     { 0x18, 0x08, 0x04, 0x0C, 0x0E, 0, 0x10, 0x14, 25 }
#define NT6_MMPFN_PAE { 0x1C, 0x08, 0x04, 0x0C, 0x0E, 0, 0x10, 0x18, 25 }
/* Windows 8 and later x86 kernels always run with PAE. */
#define W10_MMPFN     { 0x1C, 0x04, 0x10, 0x14, 0x16, 0, 0x08, 0x18, 23 }

static const struct nm_version versions[] = {
	{ "Windows XP", 2600, 0x290, NM_PTE_LAYOUT_XP, false, XP_MMPFN, XP_MMPFN_PAE },
	{ "Windows Server 2003", 3790, 0x318, NM_PTE_LAYOUT_XP, false, S03_MMPFN, S03_MMPFN_PAE },
	{ "Windows Vista", 6000, 0x328, NM_PTE_LAYOUT_VISTA, true, NT6_MMPFN, NT6_MMPFN_PAE },
	{ "Windows Vista SP1/SP2", 6001, 0x330, NM_PTE_LAYOUT_VISTA, true, NT6_MMPFN, NT6_MMPFN_PAE },
	{ "Windows 7", 7600, 0x340, NM_PTE_LAYOUT_VISTA, true, NT6_MMPFN, NT6_MMPFN_PAE },
	{ "Windows 8", 9200, 0x360, NM_PTE_LAYOUT_WIN8, true, W10_MMPFN, W10_MMPFN },
	{ "Windows 8.1", 9600, 0x360, NM_PTE_LAYOUT_WIN8, true, W10_MMPFN, W10_MMPFN },
	{ "Windows 10", 10240, 0x360, NM_PTE_LAYOUT_WIN8, true, W10_MMPFN, W10_MMPFN },
	{ "Windows 10 1607", 14393, 0x368, NM_PTE_LAYOUT_WIN8, true, W10_MMPFN, W10_MMPFN },
	{ "Windows 10 1809", 17763, 0x380, NM_PTE_LAYOUT_WIN10_L1TF, true, W10_MMPFN, W10_MMPFN },
};

#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

const struct nm_version *nm_version_for_build(uint32_t build)
{
	const struct nm_version *best = &versions[0];

	for (size_t i = 0; i < NVERSIONS; i++)
		if (versions[i].first_build <= build)
			best = &versions[i];
	return best;
}

/* Sizes shared by several rows name the oldest of them: a scan cannot tell
 * 8 from 8.1 from early 10, and their facts in this table agree. */
const struct nm_version *nm_version_for_kdbg_size(uint32_t size)
{
	for (size_t i = 0; i < NVERSIONS; i++)
		if (versions[i].kdbg_size == size)
			return &versions[i];
	return NULL;
}
