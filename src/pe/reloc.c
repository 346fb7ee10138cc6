/* An original driver file laid out in memory and relocated for the base it
 * was carved from, then compared with the carve byte for byte. What differs
 * outside holes and the IAT was changed after loading: a hook, a patch.
 * Relocation block format: PE/COFF ".reloc" (reference §7.2, MINGW winnt.h). */
#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/reloc.h>

#define RELOC_ABSOLUTE 0
#define RELOC_HIGHLOW 3		/* 32-bit field += delta (PE32) */
#define RELOC_DIR64 10		/* 64-bit field += delta (PE32+; docs/pe-loader.md) */

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
	uint64_t r = ((uint64_t)v + a - 1) & ~((uint64_t)a - 1);

	return r > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)r;
}

/* Copies the headers and each section's raw data to its RVA, as the loader
 * maps them: at most SizeOfRawData bytes, never past the section's aligned
 * span, the file or the image. */
static void lay_out_sections(const uint8_t *file, size_t len, struct nm_loaded_file *f)
{
	uint32_t hdr = min_u32(f->pe.size_of_headers, f->size);

	memcpy(f->image, file, min_u32(hdr, (uint32_t)min_u32((uint32_t)len, f->size)));
	for (unsigned i = 0; i < f->pe.nsections; i++) {
		const struct nm_pe_section *s = &f->pe.sections[i];
		uint32_t n = min_u32(s->raw_size, align_up(nm_pe_section_span(s), f->pe.section_alignment));

		if (s->raw_offset >= len || s->virtual_address >= f->size)
			continue;
		n = min_u32(n, (uint32_t)(len - s->raw_offset < 0xFFFFFFFFu ? len - s->raw_offset : 0xFFFFFFFFu));
		n = min_u32(n, f->size - s->virtual_address);
		memcpy(f->image + s->virtual_address, file + s->raw_offset, n);
	}
}

static void add_le32(uint8_t *p, uint32_t delta)
{
	uint32_t v = nm_le32(p) + delta;

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void add_le64(uint8_t *p, uint64_t delta)
{
	uint64_t v = nm_le64(p) + delta;

	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void relocate_block(struct nm_loaded_file *f, uint32_t page_rva, const uint8_t *entries,
			   uint32_t count, uint64_t delta, uint64_t *budget)
{
	for (uint32_t i = 0; i < count && *budget > 0; i++, (*budget)--) {
		uint16_t e = nm_le16(entries + 2 * i);
		uint64_t at = (uint64_t)page_rva + (e & 0x0FFF);
		unsigned type = e >> 12;

		if (type == RELOC_ABSOLUTE)
			continue;
		/* HIGHLOW in either kind of image (the loader applies it in
		 * PE32+ too); DIR64 only in PE32+: a PE32 image has no 64-bit
		 * pointers, so such an entry there is counted as ignored. */
		if (type == RELOC_HIGHLOW && at + 4 <= f->size) {
			add_le32(f->image + at, (uint32_t)delta);
		} else if (type == RELOC_DIR64 && f->pe.pe32plus && at + 8 <= f->size) {
			add_le64(f->image + at, delta);
		} else {
			f->relocs_ignored++;
			continue;
		}
		f->relocs_applied++;
	}
}

void nm_pe_apply_relocations(struct nm_loaded_file *f, uint64_t delta)
{
	uint32_t rva = f->pe.dir_rva[NM_PE_DIR_BASERELOC], size = f->pe.dir_size[NM_PE_DIR_BASERELOC];
	uint64_t budget = NM_RELOC_MAX_ENTRIES;
	uint32_t off = 0;

	f->has_relocations = rva != 0 && size != 0 && f->pe.number_of_rva_and_sizes > NM_PE_DIR_BASERELOC;
	if (!f->has_relocations)
		return;
	if (rva >= f->size || size > f->size - rva) {
		f->relocs_truncated = true;
		return;
	}
	/* The table is read from a private copy: fixups land in other
	 * sections, but a forged one could point into the table itself. */
	uint8_t *table = malloc(size);

	if (!table) {
		f->relocs_truncated = true;
		return;
	}
	memcpy(table, f->image + rva, size);
	while (size - off >= 8 && budget > 0) {
		uint32_t page_rva = nm_le32(table + off), block = nm_le32(table + off + 4);

		if (block < 8 || block > size - off) {
			f->relocs_truncated = true;
			break;
		}
		relocate_block(f, page_rva, table + off + 8, (block - 8) / 2, delta, &budget);
		off += block;
	}
	free(table);
}

int nm_pe_load_file(const uint8_t *file, size_t len, uint64_t load_base,
		    struct nm_loaded_file *out, nm_error *err)
{
	memset(out, 0, sizeof(*out));
	if (nm_pe_parse(file, len, &out->pe, err) != 0)
		return -1;
	if (out->pe.size_of_image > NM_CARVE_MAX_IMAGE)
		return nm_fail(err, "pe.SizeOfImage", "0x%x is above the %u MiB limit",
			       out->pe.size_of_image, NM_CARVE_MAX_IMAGE >> 20);
	out->size = out->pe.size_of_image;
	out->load_base = load_base;
	out->image = calloc(1, out->size);
	if (!out->image)
		return nm_fail(err, "pe.SizeOfImage", "no memory for 0x%x bytes", out->size);
	lay_out_sections(file, len, out);
	nm_pe_apply_relocations(out, load_base - out->pe.image_base);
	return 0;
}

void nm_loaded_file_free(struct nm_loaded_file *f)
{
	free(f->image);
	f->image = NULL;
}

struct diff_run {
	bool open;
	struct nm_modified_range r;
	nm_modified_visitor *visit;
	void *ctx;
	int rc;
};

static void flush_run(struct diff_run *d)
{
	if (d->open && d->rc == 0)
		d->rc = d->visit(d->ctx, &d->r);
	d->open = false;
}

static void note_diff(struct diff_run *d, uint32_t rva, int section)
{
	if (d->open && d->r.rva_end == rva) {
		d->r.rva_end++;
		return;
	}
	flush_run(d);
	d->open = true;
	d->r.rva_start = rva;
	d->r.rva_end = rva + 1;
	d->r.section = section;
}

static void compare_bytes(const uint8_t *carved, const uint8_t *expected, uint32_t rva,
			  uint32_t n, int section, struct diff_run *d, struct nm_compare_stats *st)
{
	st->bytes_compared += n;
	if (memcmp(carved, expected, n) == 0)
		return;
	for (uint32_t i = 0; i < n; i++)
		if (carved[i] != expected[i]) {
			note_diff(d, rva + i, section);
			st->bytes_modified++;
		}
}

/* [start, end) of one readable page, minus the IAT. */
static void compare_chunk(const struct nm_carve *c, const struct nm_loaded_file *f, uint32_t start,
			  uint32_t end, int section, struct diff_run *d, struct nm_compare_stats *st)
{
	const uint8_t *page = c->pages[start >> 12].bytes;
	uint32_t iat = f->pe.dir_rva[NM_PE_DIR_IAT];
	uint64_t iat_end = (uint64_t)iat + f->pe.dir_size[NM_PE_DIR_IAT];

	while (start < end) {
		uint32_t stop = end;

		if (f->pe.dir_size[NM_PE_DIR_IAT] && start >= iat && start < iat_end) {
			stop = (uint32_t)(iat_end < end ? iat_end : end);
			st->bytes_skipped_iat += stop - start;
		} else {
			if (f->pe.dir_size[NM_PE_DIR_IAT] && iat > start && iat < end)
				stop = iat;
			compare_bytes(page + (start & 4095u), f->image + start, start, stop - start, section, d, st);
		}
		start = stop;
	}
}

static void compare_section(const struct nm_carve *c, const struct nm_loaded_file *f, unsigned i,
			    struct diff_run *d, struct nm_compare_stats *st)
{
	const struct nm_pe_section *s = &f->pe.sections[i];
	uint64_t end64 = (uint64_t)s->virtual_address + nm_pe_section_span(s);
	uint32_t end = (uint32_t)(end64 < f->size ? end64 : f->size);
	uint32_t rva = s->virtual_address;

	end = min_u32(end, c->size);
	while (rva < end) {
		uint32_t stop = min_u32((rva | 4095u) + 1u, end);
		const struct nm_carve_page *p = &c->pages[rva >> 12];

		if (p->reason != NM_REASON_NONE || !p->bytes)
			st->bytes_skipped_holes += stop - rva;
		else
			compare_chunk(c, f, rva, stop, (int)i, d, st);
		rva = stop;
	}
	flush_run(d);
}

int nm_pe_compare(const struct nm_carve *c, const struct nm_loaded_file *f,
		  nm_modified_visitor *visit, void *ctx, struct nm_compare_stats *stats)
{
	struct diff_run d = { .visit = visit, .ctx = ctx };
	struct nm_compare_stats local;
	struct nm_compare_stats *st = stats ? stats : &local;

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < f->pe.nsections && d.rc == 0; i++)
		compare_section(c, f, i, &d, st);
	return d.rc;
}
