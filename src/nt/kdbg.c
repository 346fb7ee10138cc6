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
/* x64 kernel space is the canonical upper half (Intel SDM 3.3.7.1;
 * Windows x64 system space starts at 0xFFFF080000000000 and the kernel
 * image lies far above it). */
#define SYSTEM_SPACE_MIN_X64 UINT64_C(0xFFFF800000000000)

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

uint64_t nm_kdbg_slot(const struct nm_kdbg *k, enum nm_kdbg_field f)
{
	if ((uint32_t)f + 8 > NM_KDBG_MAX_SIZE)
		return 0;
	return k->pointer_size == 8 ? nm_le64(k->raw + (uint32_t)f) : nm_le32(k->raw + (uint32_t)f);
}

/* A slot as an address of this kernel: x86 keeps the low dword (after the
 * upper-dword check), x64 the whole canonical value. */
static uint64_t slot_address(const uint8_t *raw, uint32_t off, unsigned pointer_size)
{
	return pointer_size == 8 ? nm_le64(raw + off) : nm_le32(raw + off);
}

static bool is_system_address(uint64_t va, unsigned pointer_size)
{
	return pointer_size == 8 ? va >= SYSTEM_SPACE_MIN_X64 : (va >= SYSTEM_SPACE_MIN && va <= 0xFFFFFFFFu);
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
static uint32_t kernel_image_size(const struct nm_vmem *mem, uint64_t base)
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

static int check_kernel_base(const struct nm_vmem *mem, const uint8_t *raw, unsigned ptr, nm_error *err)
{
	uint64_t base = slot_address(raw, NM_KDBG_KERN_BASE, ptr);
	uint8_t mz[2];
	enum nm_page_state st;

	if (ptr == 4 && !slot_upper_ok(raw, NM_KDBG_KERN_BASE))
		return nm_fail(err, "kdbg.KernBase", "upper dword 0x%08x is neither 0 nor sign extension",
			       nm_le32(raw + NM_KDBG_KERN_BASE + 4));
	if (!is_system_address(base, ptr) || (base & 0xFFFu))
		return nm_fail(err, "kdbg.KernBase", "0x%08llx is not a page-aligned system address",
			       (unsigned long long)base);
	if (nm_vmem_read(mem, base, mz, 2, NM_STALE_REFUSE, &st) != 0)
		return nm_fail(err, "kdbg.KernBase", "image at 0x%08llx is unreadable (%s)",
			       (unsigned long long)base, nm_page_state_name(st));
	if (mz[0] != 'M' || mz[1] != 'Z')
		return nm_fail(err, "kdbg.KernBase", "no MZ header at 0x%08llx", (unsigned long long)base);
	return 0;
}

static int check_module_list(const struct nm_vmem *mem, const uint8_t *raw, unsigned ptr, nm_error *err)
{
	uint64_t base = slot_address(raw, NM_KDBG_KERN_BASE, ptr);
	uint64_t list = slot_address(raw, NM_KDBG_PS_LOADED_MODULE_LIST, ptr);
	uint32_t size = kernel_image_size(mem, base);

	if (ptr == 4 && !slot_upper_ok(raw, NM_KDBG_PS_LOADED_MODULE_LIST))
		return nm_fail(err, "kdbg.PsLoadedModuleList",
			       "upper dword 0x%08x is neither 0 nor sign extension",
			       nm_le32(raw + NM_KDBG_PS_LOADED_MODULE_LIST + 4));
	if (list < base || list - base >= size)
		return nm_fail(err, "kdbg.PsLoadedModuleList",
			       "0x%08llx is outside the kernel image 0x%08llx..0x%08llx",
			       (unsigned long long)list, (unsigned long long)base,
			       (unsigned long long)(base + size));
	return 0;
}

int nm_kdbg_validate(const struct nm_vmem *mem, uint64_t va, uint32_t build,
		     enum nm_kdbg_source source, struct nm_kdbg *out, nm_error *err)
{
	uint8_t hdr[KDBG_HEADER_SIZE];
	enum nm_page_state st;
	unsigned ptr = nm_vmem_pointer_size(mem);
	uint32_t size;

	if (nm_vmem_read(mem, va, hdr, sizeof(hdr), NM_STALE_REFUSE, &st) != 0)
		return nm_fail(err, "kdbg", "block at 0x%08llx is unreadable (%s)", (unsigned long long)va,
			       nm_page_state_name(st));
	if (nm_le32(hdr + KDBG_TAG_OFFSET) != NM_KDBG_TAG)
		return nm_fail(err, "kdbg.OwnerTag", "0x%08x at 0x%08llx is not \"KDBG\"%s",
			       nm_le32(hdr + KDBG_TAG_OFFSET), (unsigned long long)va,
			       ptr == 8 ? " (an x64 Windows 8+ block left encoded in memory? docs/kdbg.md)" : "");
	size = nm_le32(hdr + KDBG_SIZE_OFFSET);
	if (check_size(size, build, err) != 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (nm_vmem_read(mem, va, out->raw, size, NM_STALE_REFUSE, &st) != 0)
		return nm_fail(err, "kdbg", "block 0x%08llx..0x%08llx is partly unreadable (%s)",
			       (unsigned long long)va, (unsigned long long)(va + size), nm_page_state_name(st));
	if (check_kernel_base(mem, out->raw, ptr, err) != 0 || check_module_list(mem, out->raw, ptr, err) != 0)
		return -1;
	out->va = va;
	out->pointer_size = ptr;
	out->size = size;
	out->source = source;
	return 0;
}
