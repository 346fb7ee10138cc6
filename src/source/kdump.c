/* kdump-compressed files ("KDUMP   ", and the older "DISKDUMP"): makedumpfile's
 * and QEMU's (dump-guest-memory -z) format. The header, the bitmap and every
 * page descriptor are checked here against the file, so that no size a
 * header claims drives an allocation or a read past the end; then the file
 * is opened through libkdumpfile (kdumpfile.c), which decompresses pages
 * (zlib, lzo, snappy) as they are asked for. makedumpfile's flattened
 * stream ("makedumpfile") is recognised and refused: it must be rearranged
 * first (makedumpfile -R). Layout facts and sources: docs/containers.md. */
#include <string.h>

#include <ntmem/bytes.h>

#include "source_internal.h"

#define KDUMP_BLOCK 4096u		/* the only page size ntmem reads */
#define DESC_SIZE 24u			/* struct page_desc: offset u64, size u32, flags u32, page_flags u64 */
#define UTS_FIELD 65u			/* struct new_utsname: six char[65] */
#define UTS_MACHINE (12u + 4u * UTS_FIELD)

/* Compression flags of a page descriptor (libkdumpfile diskdump.c). */
#define DH_ZLIB 0x1u
#define DH_LZO 0x2u
#define DH_SNAPPY 0x4u
#define DH_ZSTD 0x20u
#define DH_KNOWN (DH_ZLIB | DH_LZO | DH_SNAPPY | DH_ZSTD)

/* The fields of struct disk_dump_header ntmem needs. The 32-bit form (an
 * i386 machine) keeps its fields 12 bytes earlier than the 64-bit one (a
 * 4-byte shorter utsname pad and an 8-byte shorter timeval). */
struct kdump_header {
	bool wide;			/* the 64-bit form */
	int32_t version;
	int32_t block_size;
	int32_t sub_hdr_size;		/* blocks */
	uint32_t bitmap_blocks;
	uint32_t max_mapnr;
	int32_t nr_cpus;
	char machine[UTS_FIELD + 1];
};

bool nm_kdump_magic(const uint8_t *data, size_t len)
{
	return (len >= 8 && (memcmp(data, "KDUMP   ", 8) == 0 || memcmp(data, "DISKDUMP", 8) == 0)) ||
	       (len >= 12 && memcmp(data, "makedumpfile", 12) == 0);
}

int nm_kdump_refuse(nm_error *err)
{
	return nm_fail(err, "format", "kdump-compressed file inside gzip: its pages are compressed already; gunzip it first");
}

static void read_fields(const uint8_t *d, unsigned at, struct kdump_header *h)
{
	h->block_size = (int32_t)nm_le32(d + at);
	h->sub_hdr_size = (int32_t)nm_le32(d + at + 4);
	h->bitmap_blocks = nm_le32(d + at + 8);
	h->max_mapnr = nm_le32(d + at + 12);
	h->nr_cpus = (int32_t)nm_le32(d + at + 32);
}

/* A form whose page size is sane and whose bitmap covers max_mapnr: the
 * test libkdumpfile applies to tell the two forms apart. */
static bool form_fits(const struct kdump_header *h)
{
	return h->block_size >= 512 && h->block_size <= (1 << 18) && h->bitmap_blocks > 0 && h->max_mapnr > 0 &&
	       (uint64_t)8 * h->bitmap_blocks * (uint64_t)h->block_size >= h->max_mapnr;
}

static int read_header(const uint8_t *d, size_t len, struct kdump_header *h, nm_error *err)
{
	memset(h, 0, sizeof(*h));
	if (len < 464)
		return nm_fail(err, "header", "%zu bytes is too short for a kdump header (464)", len);
	h->version = (int32_t)nm_le32(d + 8);
	memcpy(h->machine, d + UTS_MACHINE, UTS_FIELD);
	read_fields(d, 416, h);
	if (!form_fits(h)) {
		struct kdump_header wide = *h;

		read_fields(d, 428, &wide);
		wide.wide = true;
		if (form_fits(&wide))
			*h = wide;
	}
	if (h->version < 0)
		return nm_fail(err, "header.header_version", "%d is negative", h->version);
	if (h->block_size != (int32_t)KDUMP_BLOCK)
		return nm_fail(err, "header.block_size", "%d: ntmem reads dumps of %u-byte pages", h->block_size,
			       KDUMP_BLOCK);
	if (h->sub_hdr_size < 0 || h->bitmap_blocks == 0)
		return nm_fail(err, h->sub_hdr_size < 0 ? "header.sub_hdr_size" : "header.bitmap_blocks",
			       "%d sub-header blocks, %u bitmap blocks: not a kdump layout",
			       h->sub_hdr_size, h->bitmap_blocks);
	if ((uint64_t)8 * h->bitmap_blocks * KDUMP_BLOCK < h->max_mapnr)
		return nm_fail(err, "header.max_mapnr", "0x%x pages, but %u bitmap blocks cover only 0x%llx",
			       h->max_mapnr, h->bitmap_blocks,
			       (unsigned long long)((uint64_t)8 * h->bitmap_blocks * KDUMP_BLOCK));
	if ((1 + (uint64_t)h->sub_hdr_size + h->bitmap_blocks) * KDUMP_BLOCK > len)
		return nm_fail(err, "header.bitmap_blocks",
			       "the header, %d sub-header and %u bitmap blocks end at 0x%llx, past the end of the file (0x%zx)",
			       h->sub_hdr_size, h->bitmap_blocks,
			       (unsigned long long)((1 + (uint64_t)h->sub_hdr_size + h->bitmap_blocks) * KDUMP_BLOCK), len);
	return 0;
}

/* The bitmap of pages the file holds: the second of two when the bitmap
 * area holds two (makedumpfile writes the machine's pages, then the dumped
 * ones), else the whole area; as libkdumpfile chooses. */
static void held_bitmap(const struct kdump_header *h, const uint8_t *d, const uint8_t **bits, uint64_t *nbytes)
{
	uint64_t start = (1 + (uint64_t)h->sub_hdr_size) * KDUMP_BLOCK;
	uint64_t size = (uint64_t)h->bitmap_blocks * KDUMP_BLOCK;

	if (h->max_mapnr <= size * 8 / 2) {
		size /= 2;
		start += size;
	}
	*bits = d + start;
	*nbytes = size;
}

/* Every descriptor lies in the file, names page data inside the file, and
 * says a size and compression libkdumpfile can take without reading more
 * than one page's worth: the count comes from the bitmap, which the file
 * holds, so this costs what the file holds. */
static int check_descriptors(const struct kdump_header *h, const uint8_t *d, size_t len, nm_error *err)
{
	const uint8_t *bits;
	uint64_t nbytes, ndesc = 0;
	uint64_t desc_at = (1 + (uint64_t)h->sub_hdr_size + h->bitmap_blocks) * KDUMP_BLOCK;

	held_bitmap(h, d, &bits, &nbytes);
	for (uint64_t i = 0; i < nbytes; i++)
		ndesc += (unsigned)__builtin_popcount(bits[i]);
	if (ndesc > (len - desc_at) / DESC_SIZE)
		return nm_fail(err, "page_desc[]", "%llu descriptors from 0x%llx end past the end of the file (0x%zx)",
			       (unsigned long long)ndesc, (unsigned long long)desc_at, len);
	for (uint64_t i = 0; i < ndesc; i++) {
		const uint8_t *pd = d + desc_at + i * DESC_SIZE;
		uint64_t offset = nm_le64(pd);
		uint32_t size = nm_le32(pd + 8), flags = nm_le32(pd + 12);

		if (flags & ~DH_KNOWN)
			return nm_fail(err, "page_desc[].flags", "descriptor %llu: flags 0x%x name no compression ntmem knows",
				       (unsigned long long)i, flags);
		if ((flags & DH_KNOWN) ? size == 0 || size > KDUMP_BLOCK : size != KDUMP_BLOCK)
			return nm_fail(err, "page_desc[].size", "descriptor %llu: %u bytes for a %u-byte page%s",
				       (unsigned long long)i, size, KDUMP_BLOCK,
				       (flags & DH_KNOWN) ? " (compressed)" : "");
		if (offset > len || len - offset < size)
			return nm_fail(err, "page_desc[].offset",
				       "descriptor %llu: data at 0x%llx + 0x%x ends past the end of the file (0x%zx)",
				       (unsigned long long)i, (unsigned long long)offset, size, len);
	}
	return 0;
}

/* What the header says beyond the memory. A Windows guest's kdump file
 * names no page-table root: the DTB is found by scanning. */
static void kdump_facts(const struct kdump_header *h, struct nm_dump_facts *f)
{
	f->format = NM_FORMAT_KDUMP;
	f->type = NM_DUMP_FULL;
	f->arch = h->wide && strcmp(h->machine, "x86_64") == 0 ? NM_ARCH_X64 : NM_ARCH_X86;
	f->processors = h->nr_cpus > 0 && h->nr_cpus <= 4096 ? (uint32_t)h->nr_cpus : 0;
	f->pae_unknown = true;
}

int nm_kdump_compressed_open(struct nm_input *in, struct nm_source **out, nm_error *err)
{
	struct kdump_header h;
	int fd;

	*out = NULL;
	if (in->len >= 12 && memcmp(in->data, "makedumpfile", 12) == 0)
		return nm_fail(err, "format",
			       "makedumpfile flattened stream: rearrange it first (makedumpfile -R FILE < STREAM)");
	if (read_header(in->data, in->len, &h, err) != 0 || check_descriptors(&h, in->data, in->len, err) != 0)
		return -1;
	fd = nm_container_fd(in->path, in->fd, in->data, in->len, err);
	if (fd < 0)
		return -1;
	if (nm_kdump_open(fd, NULL, out, err) != 0)
		return -1;
	kdump_facts(&h, &(*out)->facts);
	return 0;
}
