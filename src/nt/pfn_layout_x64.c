/* MMPFN layouts of 64-bit Windows kernels (docs/mmpfn.md, "x64"). The
 * entry is 0x30 bytes in every release; Windows 10 moved PteAddress and
 * OriginalPte to the front and the share count behind them. Sources:
 * Volatility 2 vtypes win7_sp1_x64 / vista_sp2_x64 / win8_sp0_x64 /
 * win81_u1_x64 / win10_x64 / win10_x64_19041 (_MMPFN, its u2/u3/u4 unions,
 * _MMPFNENTRY / _MMPFNENTRY1 with PageLocation in bits 0-2). */
#include <ntmem/pfn.h>

/* { size, PteAddress, ShareCount, ReferenceCount, flags (e1 byte), PageLocation
 *   shift, OriginalPte, u4, PteFrame bits } */
static const struct nm_mmpfn_layout nt6_x64 = { 0x30, 0x10, 0x08, 0x18, 0x1A, 0, 0x20, 0x28, 52 };
static const struct nm_mmpfn_layout win8_x64 = { 0x30, 0x10, 0x08, 0x18, 0x1A, 0, 0x20, 0x28, 36 };
static const struct nm_mmpfn_layout win10_x64 = { 0x30, 0x08, 0x18, 0x20, 0x22, 0, 0x10, 0x28, 36 };

const struct nm_mmpfn_layout *nm_mmpfn_layout_x64(uint32_t build)
{
	if (build >= 10240)
		return &win10_x64;
	if (build >= 9200)
		return &win8_x64;
	return &nt6_x64;
}
