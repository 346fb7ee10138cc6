/* ELF core headers, checked before libkdumpfile sees the file (it trusts
 * them: a PT_LOAD past the end of a truncated file opens without a word),
 * and the facts the container itself states: machine, vCPUs, and QEMU's
 * per-vCPU register note (CR3, CR4). Layouts and sources: docs/containers.md. */
#include <string.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

#define ET_CORE 4
#define EM_386 3
#define EM_X86_64 62
#define PT_NULL 0
#define PT_LOAD 1
#define PT_NOTE 4
#define NT_PRSTATUS 1
#define MAX_NOTES 4096u		/* more vCPU notes than any machine has */

/* QEMUCPUState: version, size, 18 general/rip/rflags quadwords, 10 segment
 * descriptors of 24 bytes, then cr[0..4]. */
#define QEMU_CR_OFFSET (8u + 18u * 8u + 10u * 24u)
#define QEMU_STATE_MIN (QEMU_CR_OFFSET + 5u * 8u)
#define CR4_PAE (1u << 5)

bool nm_elf_magic(const uint8_t *data, size_t len)
{
	return len >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0;
}

struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void read_phdr(const uint8_t *p, bool elf64, struct phdr *h)
{
	h->type = nm_le32(p);
	if (elf64) {
		h->offset = nm_le64(p + 8);
		h->paddr = nm_le64(p + 24);
		h->filesz = nm_le64(p + 32);
		h->memsz = nm_le64(p + 40);
	} else {
		h->offset = nm_le32(p + 4);
		h->paddr = nm_le32(p + 12);
		h->filesz = nm_le32(p + 16);
		h->memsz = nm_le32(p + 20);
	}
}

static int check_ident(const uint8_t *d, size_t len, struct nm_elf_info *info, nm_error *err)
{
	uint16_t type, machine;

	if (len < 52)
		return nm_fail(err, "elf.header", "%zu bytes is too short for an ELF header", len);
	if (d[4] != 1 && d[4] != 2)
		return nm_fail(err, "elf.e_ident[EI_CLASS]", "%u is neither ELFCLASS32 nor ELFCLASS64", d[4]);
	info->elf64 = d[4] == 2;
	if (info->elf64 && len < 64)
		return nm_fail(err, "elf.header", "%zu bytes is too short for an ELF64 header", len);
	if (d[6] != 1 || nm_le32(d + 20) != 1)
		return nm_fail(err, "elf.e_version", "not version 1 (EV_CURRENT)");
	if (nm_le16(d + (info->elf64 ? 52 : 40)) != (info->elf64 ? 64 : 52))
		return nm_fail(err, "elf.e_ehsize", "%u is not the %s header size",
			       nm_le16(d + (info->elf64 ? 52 : 40)), info->elf64 ? "ELF64" : "ELF32");
	if (d[5] != 1)
		return nm_fail(err, "elf.e_ident[EI_DATA]", "%u: only little-endian (x86) cores are read", d[5]);
	type = nm_le16(d + 16);
	machine = nm_le16(d + 18);
	if (type != ET_CORE)
		return nm_fail(err, "elf.e_type", "%u is not ET_CORE (4): not a memory dump", type);
	if (machine != EM_386 && machine != EM_X86_64)
		return nm_fail(err, "elf.e_machine", "%u is neither EM_386 (3) nor EM_X86_64 (62)", machine);
	info->machine = machine;
	return 0;
}

/* Memory dump writers (QEMU below PN_XNUM segments, the kernel's vmcore)
 * write no sections; libkdumpfile trusts a section count it is given even
 * with no table, so any section header field makes the file refused. */
static bool has_sections(const uint8_t *d, const struct nm_elf_info *info)
{
	uint64_t shoff = info->elf64 ? nm_le64(d + 40) : nm_le32(d + 32);

	return shoff != 0 || nm_le16(d + (info->elf64 ? 60 : 48)) != 0 ||
	       nm_le16(d + (info->elf64 ? 62 : 50)) != 0;
}

/* The program header table: where, how many, and inside the file. */
static int check_table(const uint8_t *d, size_t len, const struct nm_elf_info *info,
		       uint64_t *phoff, uint32_t *phnum, uint32_t *phentsize, nm_error *err)
{
	uint64_t end;

	*phoff = info->elf64 ? nm_le64(d + 32) : nm_le32(d + 28);
	*phentsize = nm_le16(d + (info->elf64 ? 54 : 42));
	*phnum = nm_le16(d + (info->elf64 ? 56 : 44));
	if (*phentsize != (info->elf64 ? 56u : 32u))
		return nm_fail(err, "elf.e_phentsize", "%u is not the %s program header size",
			       *phentsize, info->elf64 ? "ELF64" : "ELF32");
	if (*phnum == 0 || *phnum == 0xFFFF)
		return nm_fail(err, "elf.e_phnum", "%u program headers (none, or an extended count)", *phnum);
	if (has_sections(d, info))
		return nm_fail(err, "elf.e_shoff", "section headers (e_shoff, e_shnum, e_shstrndx) are not expected in a memory dump");
	end = *phoff + (uint64_t)*phnum * *phentsize;
	if (*phoff > len || end > len)
		return nm_fail(err, "elf.e_phoff", "program headers at 0x%llx..0x%llx run past the end of the file (0x%zx bytes)",
			       (unsigned long long)*phoff, (unsigned long long)end, len);
	return 0;
}

static void qemu_cpu_note(const uint8_t *desc, uint32_t descsz, struct nm_elf_info *info)
{
	uint64_t cr3, cr4;

	if (descsz < QEMU_STATE_MIN || nm_le32(desc + 4) < QEMU_STATE_MIN)
		return;
	info->qemu_cpus++;
	if (info->has_cr3)
		return;		/* the first vCPU's registers are used */
	cr3 = nm_le64(desc + QEMU_CR_OFFSET + 3 * 8);
	cr4 = nm_le64(desc + QEMU_CR_OFFSET + 4 * 8);
	info->has_cr3 = true;
	info->cr3 = cr3;
	info->cr4_pae = (cr4 & CR4_PAE) != 0;
}

/* Each note: namesz, descsz, type, then name and desc, each padded to 4
 * bytes (gABI "Note Section"). Only whole notes inside the segment count. */
static int walk_notes(const uint8_t *seg, uint64_t size, uint32_t index, struct nm_elf_info *info,
		      nm_error *err)
{
	uint64_t at = 0;

	for (uint32_t n = 0; n < MAX_NOTES && size - at >= 12; n++) {
		uint32_t namesz = nm_le32(seg + at), descsz = nm_le32(seg + at + 4);
		uint32_t type = nm_le32(seg + at + 8);
		uint64_t name_at = at + 12;
		uint64_t desc_at = name_at + (((uint64_t)namesz + 3) & ~UINT64_C(3));
		uint64_t next = desc_at + (((uint64_t)descsz + 3) & ~UINT64_C(3));

		if (next > size)
			return nm_fail(err, "elf.PT_NOTE", "segment %u: note %u (namesz %u, descsz %u) runs past its end",
				       index, n, namesz, descsz);
		if (namesz == 5 && memcmp(seg + name_at, "CORE", 5) == 0 && type == NT_PRSTATUS)
			info->prstatus_notes++;
		if (namesz == 5 && memcmp(seg + name_at, "QEMU", 5) == 0)
			qemu_cpu_note(seg + desc_at, descsz, info);
		at = next;
	}
	return 0;
}

static int check_segment(const uint8_t *d, size_t len, const struct phdr *h, uint32_t i,
			 struct nm_elf_info *info, nm_error *err)
{
	uint64_t end = h->offset + h->filesz;

	if (h->type == PT_NULL)
		return 0;
	if (h->type != PT_LOAD && h->type != PT_NOTE)
		return nm_fail(err, "elf.p_type", "segment %u: type 0x%x is not expected in a memory dump (PT_LOAD, PT_NOTE)",
			       i, h->type);
	if (end < h->offset || h->offset > len || end > len)
		return nm_fail(err, h->type == PT_LOAD ? "elf.PT_LOAD" : "elf.PT_NOTE",
			       "segment %u: file bytes 0x%llx..0x%llx run past the end of the file (0x%zx bytes): truncated?",
			       i, (unsigned long long)h->offset, (unsigned long long)end, len);
	if (h->type == PT_NOTE)
		return walk_notes(d + h->offset, h->filesz, i, info, err);
	if (h->paddr + h->memsz < h->paddr || h->paddr + h->memsz > (NM_CONTAINER_MAX_PFN << NM_PAGE_SHIFT))
		return nm_fail(err, "elf.PT_LOAD", "segment %u: physical range 0x%llx + 0x%llx is beyond the %llu GiB this reader maps",
			       i, (unsigned long long)h->paddr, (unsigned long long)h->memsz,
			       (unsigned long long)(NM_CONTAINER_MAX_PFN >> (30 - NM_PAGE_SHIFT)));
	/* The plain shape QEMU and /proc/vmcore write, all that is passed on to
	 * libkdumpfile: a page-aligned physical start and every byte in the
	 * file (a p_memsz beyond p_filesz would be zeros made from nothing, and
	 * a way to make the reader fill memory without a file to match). */
	if (h->memsz == 0 || h->filesz != h->memsz || (h->paddr & (NM_PAGE_SIZE - 1)))
		return nm_fail(err, "elf.PT_LOAD", "segment %u: p_paddr 0x%llx, p_filesz 0x%llx, p_memsz 0x%llx: not a page-aligned, non-empty range held whole in the file",
			       i, (unsigned long long)h->paddr, (unsigned long long)h->filesz,
			       (unsigned long long)h->memsz);
	if (info->loads >= NM_ELF_MAX_LOADS)
		return nm_fail(err, "elf.e_phnum", "more than %u PT_LOAD segments", NM_ELF_MAX_LOADS);
	for (uint32_t j = 0; j < info->loads; j++) {
		if (h->paddr < info->load_end[j] && info->load_start[j] < h->paddr + h->memsz)
			return nm_fail(err, "elf.PT_LOAD", "segment %u: physical range 0x%llx..0x%llx overlaps another segment",
				       i, (unsigned long long)h->paddr, (unsigned long long)(h->paddr + h->memsz));
	}
	info->load_start[info->loads] = h->paddr;
	info->load_end[info->loads] = h->paddr + h->memsz;
	info->load_offset[info->loads] = h->offset;
	info->loads++;
	return 0;
}

int nm_elf_check(const uint8_t *d, size_t len, struct nm_elf_info *info, nm_error *err)
{
	uint64_t phoff;
	uint32_t phnum, phentsize;

	memset(info, 0, sizeof(*info));
	if (check_ident(d, len, info, err) != 0 ||
	    check_table(d, len, info, &phoff, &phnum, &phentsize, err) != 0)
		return -1;
	for (uint32_t i = 0; i < phnum; i++) {
		struct phdr h;

		read_phdr(d + phoff + (uint64_t)i * phentsize, info->elf64, &h);
		if (check_segment(d, len, &h, i, info, err) != 0)
			return -1;
	}
	if (info->loads == 0)
		return nm_fail(err, "elf.PT_LOAD", "no PT_LOAD segment: the core holds no memory");
	return 0;
}

/* The headers are checked on the input's bytes, then libkdumpfile reads the
 * same bytes through a descriptor of its own (the named file reopened, the
 * input's descriptor duplicated, or a memory file holding a copy). */
int nm_elf_open(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	struct nm_elf_info info;
	int fd;

	if (!nm_elf_magic(in->data, in->len))
		return nm_fail(err, "elf.e_ident", "no ELF magic (7f 'ELF') at offset 0");
	if (nm_elf_check(in->data, in->len, &info, err) != 0)
		return -1;
	fd = nm_container_fd(in->path, in->fd, in->data, in->len, err);
	if (fd < 0)
		return -1;
	return nm_kdump_open(fd, &info, out, err);
}
