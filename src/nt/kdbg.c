/* The kernel debugger data block: validation, slot reading, and the
 * physical-memory scan used when the dump header's pointer is unusable.
 * Facts and their sources: docs/kdbg.md. */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/kdbg.h>
#include <ntmem/source.h>
#include <ntmem/version.h>

#define KDBG_HEADER_SIZE 0x18u
#define KDBG_TAG_OFFSET 0x10u
#define KDBG_SIZE_OFFSET 0x14u
/* Without a readable PE header the kernel image is assumed no larger than
 * this when checking that PsLoadedModuleList lies inside it. */
#define KERNEL_IMAGE_FALLBACK_SIZE 0x2000000u
#define KERNEL_IMAGE_MAX_SIZE 0x4000000u
#define SYSTEM_SPACE_MIN 0x80000000u

const char *nm_kdbg_source_name(enum nm_kdbg_source s)
{
	switch (s) {
	case NM_KDBG_FROM_HEADER: return "header";
	case NM_KDBG_FROM_SCAN: return "scan";
	case NM_KDBG_FROM_OPTION: return "option";
	}
	return "unknown";
}

/* x86 kernels store 32-bit pointers in 64-bit slots; the upper dword has
 * been seen as zero and is sign extension elsewhere (docs/kdbg.md). */
static bool slot_upper_ok(const uint8_t *raw, uint32_t off)
{
	uint32_t hi = nm_le32(raw + off + 4);

	return hi == 0 || hi == 0xFFFFFFFFu;
}

uint32_t nm_kdbg_slot(const struct nm_kdbg *k, enum nm_kdbg_field f)
{
	if ((uint32_t)f + 8 > NM_KDBG_MAX_SIZE)
		return 0;
	return nm_le32(k->raw + (uint32_t)f);
}

static int check_size(uint32_t size, uint32_t build, nm_error *err)
{
	const struct nm_version *row;

	if (!nm_version_for_kdbg_size(size))
		return nm_fail(err, "kdbg.Size", "0x%x is not the size of any known KDBG", size);
	if (build == 0)
		return 0;
	row = nm_version_for_build(build);
	if (row->kdbg_size != size)
		return nm_fail(err, "kdbg.Size", "0x%x does not match build %u (%s has 0x%x)",
			       size, build, row->name, row->kdbg_size);
	return 0;
}

/* SizeOfImage from the kernel's PE header, or a generous default when the
 * header cannot be read: the check it feeds only has to reject nonsense. */
static uint32_t kernel_image_size(const struct nm_vmem *mem, uint32_t base)
{
	uint32_t lfanew, sig, size;
	enum nm_page_state st;

	if (nm_vmem_u32(mem, base + 0x3C, &lfanew, &st) != 0 || lfanew < 0x40 || lfanew > 0xF00)
		return KERNEL_IMAGE_FALLBACK_SIZE;
	if (nm_vmem_u32(mem, base + lfanew, &sig, &st) != 0 || sig != 0x00004550u)
		return KERNEL_IMAGE_FALLBACK_SIZE;
	if (nm_vmem_u32(mem, base + lfanew + 0x18 + 0x38, &size, &st) != 0 ||
	    size < 0x1000 || size > KERNEL_IMAGE_MAX_SIZE)
		return KERNEL_IMAGE_FALLBACK_SIZE;
	return size;
}

static int check_kernel_base(const struct nm_vmem *mem, const uint8_t *raw, nm_error *err)
{
	uint32_t base = nm_le32(raw + NM_KDBG_KERN_BASE);
	uint8_t mz[2];
	enum nm_page_state st;

	if (!slot_upper_ok(raw, NM_KDBG_KERN_BASE))
		return nm_fail(err, "kdbg.KernBase", "upper dword 0x%08x is neither 0 nor sign extension",
			       nm_le32(raw + NM_KDBG_KERN_BASE + 4));
	if (base < SYSTEM_SPACE_MIN || (base & 0xFFFu))
		return nm_fail(err, "kdbg.KernBase", "0x%08x is not a page-aligned system address", base);
	if (nm_vmem_read(mem, base, mz, 2, &st) != 0)
		return nm_fail(err, "kdbg.KernBase", "image at 0x%08x is unreadable (%s)", base,
			       nm_page_state_name(st));
	if (mz[0] != 'M' || mz[1] != 'Z')
		return nm_fail(err, "kdbg.KernBase", "no MZ header at 0x%08x", base);
	return 0;
}

static int check_module_list(const struct nm_vmem *mem, const uint8_t *raw, nm_error *err)
{
	uint32_t base = nm_le32(raw + NM_KDBG_KERN_BASE);
	uint32_t list = nm_le32(raw + NM_KDBG_PS_LOADED_MODULE_LIST);
	uint32_t size = kernel_image_size(mem, base);

	if (!slot_upper_ok(raw, NM_KDBG_PS_LOADED_MODULE_LIST))
		return nm_fail(err, "kdbg.PsLoadedModuleList",
			       "upper dword 0x%08x is neither 0 nor sign extension",
			       nm_le32(raw + NM_KDBG_PS_LOADED_MODULE_LIST + 4));
	if (list < base || list - base >= size)
		return nm_fail(err, "kdbg.PsLoadedModuleList",
			       "0x%08x is outside the kernel image 0x%08x..0x%08x", list, base,
			       (uint32_t)(base + size));
	return 0;
}

int nm_kdbg_validate(const struct nm_vmem *mem, uint32_t va, uint32_t build,
		     enum nm_kdbg_source source, struct nm_kdbg *out, nm_error *err)
{
	uint8_t hdr[KDBG_HEADER_SIZE];
	enum nm_page_state st;
	uint32_t size;

	if (nm_vmem_read(mem, va, hdr, sizeof(hdr), &st) != 0)
		return nm_fail(err, "kdbg", "block at 0x%08x is unreadable (%s)", va,
			       nm_page_state_name(st));
	if (nm_le32(hdr + KDBG_TAG_OFFSET) != NM_KDBG_TAG)
		return nm_fail(err, "kdbg.OwnerTag", "0x%08x at 0x%08x is not \"KDBG\"",
			       nm_le32(hdr + KDBG_TAG_OFFSET), va);
	size = nm_le32(hdr + KDBG_SIZE_OFFSET);
	if (check_size(size, build, err) != 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (nm_vmem_read(mem, va, out->raw, size, &st) != 0)
		return nm_fail(err, "kdbg", "block 0x%08x..0x%08x is partly unreadable (%s)", va,
			       va + size, nm_page_state_name(st));
	if (check_kernel_base(mem, out->raw, err) != 0 || check_module_list(mem, out->raw, err) != 0)
		return -1;
	out->va = va;
	out->size = size;
	out->source = source;
	return 0;
}
