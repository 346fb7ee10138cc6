/* What a headerless image can tell about its machine, read from kernel
 * memory (docs/memory-facts.md). Each value is read at most once and
 * bounded: a 63-byte string, a 32-entry array, one page of shared data. */
#include <ctype.h>
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/memory_facts.h>
#include <ntmem/vmem.h>

#define KUSER_SYSTEM_TIME 0x014		/* KSYSTEM_TIME: LowPart, High1Time, High2Time */
#define KUSER_NT_MAJOR 0x26C
#define KUSER_NT_MINOR 0x270

static int kread(struct nm_kernel *k, uint32_t va, void *buf, size_t len)
{
	struct nm_vmem mem = nm_kernel_vmem(k);
	enum nm_page_state state;

	return nm_vmem_read(&mem, va, buf, len, NM_STALE_REFUSE, &state);
}

static void read_build(struct nm_kernel *k, struct nm_memory_facts *out)
{
	uint32_t lab = nm_kdbg_slot(&k->kdbg, NM_KDBG_NT_BUILD_LAB);
	char buf[sizeof(out->build_lab)];
	uint32_t build = 0;
	size_t i;

	/* The string may end before a page that is not in the image: read the
	 * longest prefix that is. */
	memset(buf, 0, sizeof(buf));
	if (!lab || kread(k, lab, buf, sizeof(buf) - 1) != 0) {
		size_t in_page = NM_PAGE_SIZE - (lab & (NM_PAGE_SIZE - 1));

		if (!lab || in_page >= sizeof(buf) - 1 || kread(k, lab, buf, in_page) != 0)
			return;
	}
	buf[sizeof(buf) - 1] = '\0';
	for (i = 0; i < 6 && isdigit((unsigned char)buf[i]); i++)
		build = build * 10 + (uint32_t)(buf[i] - '0');
	if (i == 0 || i == 6 || (buf[i] != '.' && buf[i] != '\0'))
		return;
	for (size_t j = 0; buf[j]; j++) {
		if (!isprint((unsigned char)buf[j]))
			return;
	}
	out->has_build = true;
	out->build = build;
	memcpy(out->build_lab, buf, sizeof(buf));
}

static void read_processors(struct nm_kernel *k, struct nm_memory_facts *out)
{
	uint32_t block = nm_kdbg_slot(&k->kdbg, NM_KDBG_KI_PROCESSOR_BLOCK);
	uint8_t prcbs[4 * NM_X86_MAX_PROCESSORS];
	uint32_t n = 0;

	if (!block || kread(k, block, prcbs, sizeof(prcbs)) != 0)
		return;
	/* Processors are numbered from 0 without gaps (KeNumberProcessors). */
	while (n < NM_X86_MAX_PROCESSORS && nm_le32(prcbs + 4 * n) >= 0x80000000u)
		n++;
	if (n == 0)
		return;
	out->has_processors = true;
	out->processors = n;
}

static void read_shared_data(struct nm_kernel *k, struct nm_memory_facts *out)
{
	uint8_t page[KUSER_NT_MINOR + 4];
	int32_t high1, high2;

	if (kread(k, NM_KUSER_SHARED_DATA_X86, page, sizeof(page)) != 0)
		return;
	/* KSYSTEM_TIME: the writer stores High2Time, LowPart, then High1Time;
	 * equal high parts mean the value was not torn. */
	high1 = (int32_t)nm_le32(page + KUSER_SYSTEM_TIME + 4);
	high2 = (int32_t)nm_le32(page + KUSER_SYSTEM_TIME + 8);
	if (high1 == high2 && high1 > 0) {
		out->has_system_time = true;
		out->system_time = (uint64_t)(uint32_t)high1 << 32 | nm_le32(page + KUSER_SYSTEM_TIME);
	}
	if (nm_le32(page + KUSER_NT_MAJOR) >= 3 && nm_le32(page + KUSER_NT_MAJOR) <= 10) {
		out->has_version = true;
		out->nt_major = nm_le32(page + KUSER_NT_MAJOR);
		out->nt_minor = nm_le32(page + KUSER_NT_MINOR);
	}
}

static void read_bugcheck(struct nm_kernel *k, struct nm_memory_facts *out)
{
	uint32_t va = nm_kdbg_slot(&k->kdbg, NM_KDBG_KI_BUGCHECK_DATA);
	uint8_t data[20];

	if (!va || kread(k, va, data, sizeof(data)) != 0)
		return;
	out->bugcheck_code = nm_le32(data);
	for (int i = 0; i < 4; i++)
		out->bugcheck_params[i] = nm_le32(data + 4 + 4 * i);
	out->bugcheck = out->bugcheck_code ? NM_BUGCHECK_FOUND : NM_BUGCHECK_NONE;
}

void nm_memory_facts_read(struct nm_kernel *k, struct nm_memory_facts *out)
{
	memset(out, 0, sizeof(*out));
	read_shared_data(k, out);
	if (!k->has_kdbg)
		return;
	read_build(k, out);
	read_processors(k, out);
	read_bugcheck(k, out);
}
