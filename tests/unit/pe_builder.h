/* Test helper: hand-built PE32 and PE32+ images and a fake page source, so the PE and
 * carve code can be tested without a dump. The layout follows the PE/COFF
 * field offsets written out here on purpose (not taken from ntmem's own
 * constants), so a wrong constant in the code fails a test. */
#ifndef PE_BUILDER_H
#define PE_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntmem/carve.h>

struct tb_section {
	const char *name;
	uint32_t va, vsize, raw_size, raw_offset, characteristics;
};

static inline void tb_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void tb_put32(uint8_t *p, uint32_t v)
{
	tb_put16(p, (uint16_t)v);
	tb_put16(p + 2, (uint16_t)(v >> 16));
}

static inline uint32_t tb_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void tb_put64(uint8_t *p, uint64_t v)
{
	tb_put32(p, (uint32_t)v);
	tb_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t tb_get64(const uint8_t *p)
{
	return tb_get32(p) | ((uint64_t)tb_get32(p + 4) << 32);
}

#define TB_LFANEW 0x80u
#define TB_OPT (TB_LFANEW + 24u)		/* optional header */
#define TB_SECTIONS (TB_OPT + 0xE0u)		/* section table */

/* Writes DOS + NT headers and the section table into BUF (zeroed by the
 * caller, at least TB_SECTIONS + 40*n bytes). Raw offsets: as given, or the
 * VA when raw_offset is 0 and the section has raw data. */
static inline void tb_write_headers(uint8_t *buf, uint32_t image_base, uint32_t section_alignment,
				    uint32_t file_alignment, uint32_t size_of_image,
				    const struct tb_section *s, unsigned n)
{
	buf[0] = 'M';
	buf[1] = 'Z';
	tb_put32(buf + 0x3C, TB_LFANEW);
	memcpy(buf + TB_LFANEW, "PE\0\0", 4);
	tb_put16(buf + TB_LFANEW + 4, 0x14C);
	tb_put16(buf + TB_LFANEW + 6, (uint16_t)n);
	tb_put32(buf + TB_LFANEW + 8, 0x45678901u);
	tb_put16(buf + TB_LFANEW + 20, 0xE0);
	tb_put16(buf + TB_LFANEW + 22, 0x0102);
	tb_put16(buf + TB_OPT, 0x10B);
	tb_put32(buf + TB_OPT + 0x10, 0x1234);		/* AddressOfEntryPoint */
	tb_put32(buf + TB_OPT + 0x1C, image_base);
	tb_put32(buf + TB_OPT + 0x20, section_alignment);
	tb_put32(buf + TB_OPT + 0x24, file_alignment);
	tb_put32(buf + TB_OPT + 0x38, size_of_image);
	tb_put32(buf + TB_OPT + 0x3C, 0x400);		/* SizeOfHeaders */
	tb_put32(buf + TB_OPT + 0x40, 0xCAFE);		/* CheckSum */
	tb_put16(buf + TB_OPT + 0x44, 1);
	tb_put32(buf + TB_OPT + 0x5C, 16);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *sh = buf + TB_SECTIONS + 40 * i;

		memcpy(sh, s[i].name, strnlen(s[i].name, 8));
		tb_put32(sh + 8, s[i].vsize);
		tb_put32(sh + 12, s[i].va);
		tb_put32(sh + 16, s[i].raw_size);
		tb_put32(sh + 20, s[i].raw_offset ? s[i].raw_offset : (s[i].raw_size ? s[i].va : 0));
		tb_put32(sh + 36, s[i].characteristics);
	}
}

/* Sets data directory slot I. */
static inline void tb_set_directory(uint8_t *buf, unsigned i, uint32_t rva, uint32_t size)
{
	tb_put32(buf + TB_OPT + 0x60 + 8 * i, rva);
	tb_put32(buf + TB_OPT + 0x60 + 8 * i + 4, size);
}

/* PE32+ (64-bit) images: the optional header is 0xF0 bytes with 16
 * directories (Microsoft "PE Format": ImageBase 8 bytes at +24, the stack
 * and heap sizes 8 bytes each from +72, NumberOfRvaAndSizes +108, the
 * directories from +112). */
#define TB_SECTIONS64 (TB_OPT + 0xF0u)

static inline void tb_write_headers64(uint8_t *buf, uint64_t image_base, uint32_t section_alignment,
				      uint32_t file_alignment, uint32_t size_of_image,
				      const struct tb_section *s, unsigned n)
{
	buf[0] = 'M';
	buf[1] = 'Z';
	tb_put32(buf + 0x3C, TB_LFANEW);
	memcpy(buf + TB_LFANEW, "PE\0\0", 4);
	tb_put16(buf + TB_LFANEW + 4, 0x8664);
	tb_put16(buf + TB_LFANEW + 6, (uint16_t)n);
	tb_put32(buf + TB_LFANEW + 8, 0x5A5A1234u);
	tb_put16(buf + TB_LFANEW + 20, 0xF0);
	tb_put16(buf + TB_LFANEW + 22, 0x0022);
	tb_put16(buf + TB_OPT, 0x20B);
	tb_put32(buf + TB_OPT + 16, 0x2345);		/* AddressOfEntryPoint */
	tb_put64(buf + TB_OPT + 24, image_base);
	tb_put32(buf + TB_OPT + 32, section_alignment);
	tb_put32(buf + TB_OPT + 36, file_alignment);
	tb_put32(buf + TB_OPT + 56, size_of_image);
	tb_put32(buf + TB_OPT + 60, 0x400);		/* SizeOfHeaders */
	tb_put32(buf + TB_OPT + 64, 0xBEEF);		/* CheckSum */
	tb_put16(buf + TB_OPT + 68, 1);			/* Subsystem: native */
	tb_put16(buf + TB_OPT + 70, 0x0160);		/* DllCharacteristics */
	tb_put64(buf + TB_OPT + 72, 0x0000000100080000ull);	/* SizeOfStackReserve */
	tb_put64(buf + TB_OPT + 80, 0x2000);		/* SizeOfStackCommit */
	tb_put64(buf + TB_OPT + 88, 0x0000000200100000ull);	/* SizeOfHeapReserve */
	tb_put64(buf + TB_OPT + 96, 0x1000);		/* SizeOfHeapCommit */
	tb_put32(buf + TB_OPT + 108, 16);		/* NumberOfRvaAndSizes */
	for (unsigned i = 0; i < n; i++) {
		uint8_t *sh = buf + TB_SECTIONS64 + 40 * i;

		memcpy(sh, s[i].name, strnlen(s[i].name, 8));
		tb_put32(sh + 8, s[i].vsize);
		tb_put32(sh + 12, s[i].va);
		tb_put32(sh + 16, s[i].raw_size);
		tb_put32(sh + 20, s[i].raw_offset ? s[i].raw_offset : (s[i].raw_size ? s[i].va : 0));
		tb_put32(sh + 36, s[i].characteristics);
	}
}

static inline void tb_set_directory64(uint8_t *buf, unsigned i, uint32_t rva, uint32_t size)
{
	tb_put32(buf + TB_OPT + 112 + 8 * i, rva);
	tb_put32(buf + TB_OPT + 112 + 8 * i + 4, size);
}

/* A fake page source: per page a state and bytes (NULL when absent). */
struct tb_fake_page {
	enum nm_page_state state;
	const uint8_t *bytes;
	bool proto_resolved;
	enum nm_page_state proto_state;
};

struct tb_fake {
	uint64_t base;
	unsigned npages;
	struct tb_fake_page *pages;
	unsigned walks;			/* how many walks were asked */
};

static inline void tb_fake_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	struct tb_fake *f = ctx;
	uint64_t i = (va - f->base) >> 12;

	memset(out, 0, sizeof(*out));
	out->va = va;
	f->walks++;
	if (va < f->base || i >= f->npages) {
		out->state = NM_PAGE_NOT_MAPPED;
		return;
	}
	out->state = f->pages[i].state;
	out->has_pa = f->pages[i].bytes != NULL;
	out->pa = 0x100000u + i * 4096u;
	out->proto_resolved = f->pages[i].proto_resolved;
	out->proto_state = f->pages[i].proto_state;
	if (out->state == NM_PAGE_PAGEFILE) {
		out->sw.pagefile_number = 1;
		out->sw.pagefile_offset = 0x2000u * (i + 1);
	}
}

static inline const uint8_t *tb_fake_bytes(void *ctx, const struct nm_walk *w)
{
	struct tb_fake *f = ctx;
	uint64_t i = (w->va - f->base) >> 12;

	return i < f->npages ? f->pages[i].bytes : NULL;
}

static inline struct nm_vmem tb_reader(struct tb_fake *f)
{
	struct nm_vmem r = { f, tb_fake_walk, tb_fake_bytes, true, 4, NULL };

	return r;
}

/* The same fake as a 64-bit kernel's memory (pointer size 8). */
static inline struct nm_vmem tb_reader64(struct tb_fake *f)
{
	struct nm_vmem r = { f, tb_fake_walk, tb_fake_bytes, true, 8, NULL };

	return r;
}

/* Reads a whole file into memory (NULL when absent). */
static inline uint8_t *tb_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

#define TB_REAL_DRIVERS "../shared/real/drivers/"

#endif
