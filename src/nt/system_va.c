/* Finding nt!MiSystemVaType without symbols (docs/address-space.md, "Vista
 * and later"). A window of the kernel image is the array when every byte is
 * a MI_SYSTEM_VA_TYPE value and the entries agree with every clue the dump
 * gives; the array is taken only when exactly one content fits, so that a
 * run of small bytes elsewhere in .data never becomes a map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/system_va.h>

enum {
	TYPE_UNUSED = 0,
	TYPE_SESSION_SPACE = 1,
	TYPE_BOOT_LOADED = 3,
	TYPE_PFN_DATABASE = 4,
	TYPE_SYSTEM_PTES = 9,
	TYPE_DRIVER_IMAGES = 12,
};

/* Values 0-12 are the same in every build; 13-15 differ (reference §6.2:
 * variant A Vista, B 7, C 8 and 8.1, D 10; the attribution is unconfirmed). */
struct va_type_names {
	const char *kernel[NM_SYSTEM_VA_TYPE_MAX + 1];
	const char *region[NM_SYSTEM_VA_TYPE_MAX + 1];
};

#define COMMON_KERNEL_NAMES \
	"Unused", "SessionSpace", "ProcessSpace", "BootLoaded", "PfnDatabase", "NonPagedPool", \
	"PagedPool"
#define COMMON_REGION_NAMES \
	NULL, "session_space", "process_space", "boot_images", "pfn_database", "nonpaged_pool", \
	"paged_pool"
#define TAIL_KERNEL_NAMES "SystemCache", "SystemPtes", "Hal", "SessionGlobalSpace", "DriverImages"
#define TAIL_REGION_NAMES "system_cache", "system_ptes", "hal", "session_global_space", "driver_images"

static const struct va_type_names variants[4] = {
	{ { COMMON_KERNEL_NAMES, "SpecialPool", TAIL_KERNEL_NAMES },
	  { COMMON_REGION_NAMES, "special_pool", TAIL_REGION_NAMES } },
	{ { COMMON_KERNEL_NAMES, "SpecialPoolPaged", TAIL_KERNEL_NAMES, "SpecialPoolNonPaged" },
	  { COMMON_REGION_NAMES, "special_pool_paged", TAIL_REGION_NAMES, "special_pool_nonpaged" } },
	{ { COMMON_KERNEL_NAMES, "SpecialPoolPaged", TAIL_KERNEL_NAMES, "SpecialPoolNonPaged",
	    "PagedProtoPool" },
	  { COMMON_REGION_NAMES, "special_pool_paged", TAIL_REGION_NAMES, "special_pool_nonpaged",
	    "paged_proto_pool" } },
	{ { COMMON_KERNEL_NAMES, "SpecialPoolPaged", TAIL_KERNEL_NAMES, "SystemPtesLarge",
	    "KernelStacks", "SecureNonPagedPool" },
	  { COMMON_REGION_NAMES, "special_pool_paged", TAIL_REGION_NAMES, "system_ptes_large",
	    "kernel_stacks", "secure_nonpaged_pool" } },
};

static const struct va_type_names *names_for(uint32_t build)
{
	if (build < 7000)
		return &variants[0];
	if (build < 9000)
		return &variants[1];
	if (build < 10000)
		return &variants[2];
	return &variants[3];
}

const char *nm_system_va_type_region(unsigned type, uint32_t build)
{
	return type <= NM_SYSTEM_VA_TYPE_MAX ? names_for(build)->region[type] : NULL;
}

const char *nm_system_va_type_name(unsigned type, uint32_t build)
{
	return type <= NM_SYSTEM_VA_TYPE_MAX ? names_for(build)->kernel[type] : NULL;
}

/* ---- testing one window against the clues ------------------------------ */

struct layout {
	unsigned entries, shift;	/* one entry per page-directory entry of system space */
	const struct nm_self_map *self_map;
};

static bool index_of(const struct layout *l, uint64_t va, unsigned *i)
{
	if (va < NM_SYSTEM_VA_BASE || va >= 0x100000000ull)
		return false;
	*i = (unsigned)((va - NM_SYSTEM_VA_BASE) >> l->shift);
	return *i < l->entries;
}

static bool may_hold_images(uint8_t t)
{
	return t == TYPE_BOOT_LOADED || t == TYPE_DRIVER_IMAGES || t == TYPE_SYSTEM_PTES ||
	       t == TYPE_SESSION_SPACE;
}

/* Every entry [base, base+size) covers is one type; WANT, when not 0, is it. */
static bool span_is_one_type(const struct layout *l, const uint8_t *w, uint32_t base, uint32_t size,
			     uint8_t want)
{
	unsigned first, last;

	if (size == 0 || !index_of(l, base, &first) || !index_of(l, (uint64_t)base + size - 1, &last))
		return false;
	for (unsigned i = first; i <= last; i++)
		if (w[i] != w[first])
			return false;
	return want ? w[first] == want : may_hold_images(w[first]);
}

static unsigned distinct_used_types(const uint8_t *w, unsigned n)
{
	bool seen[NM_SYSTEM_VA_TYPE_MAX + 1] = { false };
	unsigned count = 0;

	for (unsigned i = 0; i < n; i++)
		if (w[i] != TYPE_UNUSED && !seen[w[i]]) {
			seen[w[i]] = true;
			count++;
		}
	return count;
}

static bool window_fits(const struct layout *l, const uint8_t *w, const struct nm_system_va_clues *c)
{
	unsigned pfn;

	if (!span_is_one_type(l, w, c->kernel_base, c->kernel_size, TYPE_BOOT_LOADED))
		return false;
	if (c->pfn_database && (!index_of(l, c->pfn_database, &pfn) || w[pfn] != TYPE_PFN_DATABASE))
		return false;
	for (unsigned i = 0; i < c->nimages; i++)
		if (!span_is_one_type(l, w, c->images[i].base, c->images[i].size, 0))
			return false;
	return distinct_used_types(w, l->entries) >= 3;
}

/* ---- ranking the windows that fit ----------------------------------------- */

/* Whether the page-directory entry of each system-space entry is valid
 * (1), not valid (0) or unreadable (-1), read through the self-map. */
static void read_pde_validity(const struct nm_vmem *mem, const struct layout *l, int8_t *valid)
{
	uint32_t size = l->self_map->mode->entry_size;
	uint32_t at = (uint32_t)nm_self_map_pde_address(l->self_map, NM_SYSTEM_VA_BASE);

	for (unsigned i = 0; i < l->entries; i++) {
		enum nm_page_state st;
		uint32_t pde;

		valid[i] = nm_vmem_u32(mem, at + i * size, &pde, &st) == 0 ? (int8_t)(pde & 1) : -1;
	}
}

/* Entries whose use agrees with the page directory: a range that has a
 * page table was given to something. The fixed page-table and hyperspace
 * window is no one's allocation and is left out. */
static unsigned pde_agreement(const struct layout *l, const uint8_t *w, const int8_t *valid)
{
	unsigned score = 0, fixed_first = 0, fixed_last = 0;

	index_of(l, l->self_map->pte_base, &fixed_first);
	index_of(l, 0xC0FFFFFFu, &fixed_last);
	for (unsigned i = 0; i < l->entries; i++)
		if ((i < fixed_first || i > fixed_last) && valid[i] >= 0 &&
		    (valid[i] == 1) == (w[i] != TYPE_UNUSED))
			score++;
	return score;
}

/* Windows that fit every clue: the best by page-directory agreement, and
 * how many others with different content tie with it. A window shifted by
 * one entry can fit every clue and differs only at run edges, where the
 * page directory tells them apart. */
struct candidates {
	const struct layout *l;
	const struct nm_system_va_clues *c;
	const int8_t *pde_valid;
	uint32_t image_va, image_len;	/* the kernel image scanned */
	unsigned probes;		/* pointers followed */
	unsigned considered;		/* windows checked against the clues */
	uint8_t best[NM_SYSTEM_VA_MAX_ENTRIES];
	uint32_t best_address;
	unsigned best_score, fits, ties;
};

static bool gave_up(const struct candidates *k)
{
	return k->considered > NM_SYSTEM_VA_MAX_WINDOWS;
}

static void consider(struct candidates *k, const uint8_t *w, uint32_t address)
{
	unsigned score;

	/* Hostile bytes can make every window a candidate (an image of 3s):
	 * a real kernel has a handful, so past the bound the search stops. */
	if (++k->considered > NM_SYSTEM_VA_MAX_WINDOWS || !window_fits(k->l, w, k->c))
		return;
	score = pde_agreement(k->l, w, k->pde_valid);
	if (k->fits++ == 0 || score > k->best_score) {
		memcpy(k->best, w, k->l->entries);
		k->best_address = address;
		k->best_score = score;
		k->ties = 0;
	} else if (score == k->best_score && memcmp(w, k->best, k->l->entries) != 0) {
		k->ties++;
	}
}

/* ---- the scans ------------------------------------------------------------ */

/* The kernel image is read a chunk at a time, each chunk with the next
 * entries-1 bytes after it so that every window starting in it is whole. */
#define CHUNK (64u << 10)

struct chunk {
	const uint8_t *bytes;
	uint32_t va, len;
	uint32_t starts;		/* windows and pointers start before this offset */
};

/* Unreadable pages as 0xFF: no type has that value, so no window crosses
 * them. False when nothing before STARTS could be read: no window or
 * pointer can start in such a chunk, so it is not scanned. */
static bool read_chunk(const struct nm_vmem *mem, uint32_t va, uint8_t *buf, uint32_t len,
		       uint32_t starts)
{
	bool readable = false;

	for (uint32_t off = 0; off < len; ) {
		uint32_t n = 4096u - ((va + off) & 4095u);
		enum nm_page_state st;

		if (n > len - off)
			n = len - off;
		if (nm_vmem_read(mem, va + off, buf + off, n, NM_STALE_REFUSE, &st) != 0)
			memset(buf + off, 0xFF, n);
		else if (off < starts)
			readable = true;
		off += n;
	}
	return readable;
}

static bool word_holds_only_types(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return (w & 0xF0F0F0F0F0F0F0F0ull) == 0;	/* every byte <= NM_SYSTEM_VA_TYPE_MAX */
}

/* Every window start in [FROM, TO) of a stretch of bytes that are all type
 * values, widened by the few such bytes on either side. */
static void scan_stretch(struct candidates *k, const struct chunk *c, uint32_t from, uint32_t to,
			 unsigned kernel_index)
{
	unsigned n = k->l->entries;
	uint32_t last;

	while (from > 0 && c->bytes[from - 1] <= NM_SYSTEM_VA_TYPE_MAX)
		from--;
	while (to < c->len && c->bytes[to] <= NM_SYSTEM_VA_TYPE_MAX)
		to++;
	if (to - from < n || from >= c->starts)
		return;
	last = to - n < c->starts - 1 ? to - n : c->starts - 1;
	/* The kernel's own entry first: it rejects almost every window. */
	for (const uint8_t *p = c->bytes + from + kernel_index, *end = c->bytes + last + kernel_index;
	     p <= end && !gave_up(k) && (p = memchr(p, TYPE_BOOT_LOADED, (size_t)(end - p) + 1)) != NULL;
	     p++) {
		uint32_t at = (uint32_t)(p - c->bytes) - kernel_index;

		consider(k, c->bytes + at, c->va + at);
	}
}

/* The array itself inside the image. A window of N type values holds at
 * least N/8 - 1 whole aligned words of them, so only stretches of such
 * words are looked at byte by byte (code and most data have none). */
static void scan_for_array(struct candidates *k, const struct chunk *c, unsigned kernel_index)
{
	uint32_t words = c->len / 8, need = k->l->entries / 8 - 1, run = 0;

	for (uint32_t i = 0; i <= words; i++) {
		if (i < words && word_holds_only_types(c->bytes + 8 * i)) {
			run++;
			continue;
		}
		if (run >= need)
			scan_stretch(k, c, (i - run) * 8, i * 8, kernel_index);
		run = 0;
	}
}

/* A pointer in the image to the array elsewhere (sources differ on whether
 * the symbol is the array or points to it: docs/address-space.md). */
static void scan_for_pointer(struct candidates *k, const struct nm_vmem *mem, const struct chunk *c,
			     unsigned kernel_index)
{
	uint8_t w[NM_SYSTEM_VA_MAX_ENTRIES];
	unsigned n = k->l->entries;

	for (uint32_t at = 0; at < c->starts && at + 4 <= c->len && k->probes < NM_SYSTEM_VA_MAX_POINTER_PROBES &&
	     !gave_up(k); at += 4) {
		uint32_t p = nm_le32(c->bytes + at);
		enum nm_page_state st;
		uint8_t t;

		if (p < NM_SYSTEM_VA_BASE || (p >= k->image_va && p - k->image_va < k->image_len) ||
		    (uint64_t)p + n > 0x100000000ull)
			continue;
		k->probes++;
		if (nm_vmem_read(mem, p + kernel_index, &t, 1, NM_STALE_REFUSE, &st) != 0 || t != TYPE_BOOT_LOADED)
			continue;
		if (nm_vmem_read(mem, p, w, n, NM_STALE_REFUSE, &st) != 0)
			continue;
		for (unsigned i = 0; i < n; i++)
			if (w[i] > NM_SYSTEM_VA_TYPE_MAX)
				goto next;
		consider(k, w, p);
next:;
	}
}

static void set_not_found(struct nm_system_va_map *out, const char *why)
{
	out->found = false;
	snprintf(out->why, sizeof(out->why), "%s", why);
}

static uint32_t scan_length(const struct nm_system_va_clues *c)
{
	uint64_t room = 0x100000000ull - c->kernel_base;
	uint64_t len = c->kernel_size < room ? c->kernel_size : room;

	return (uint32_t)(len < NM_SYSTEM_VA_MAX_SCAN ? len : NM_SYSTEM_VA_MAX_SCAN);
}

static void scan_image(struct candidates *k, const struct nm_vmem *mem, uint8_t *buf, unsigned kernel_index)
{
	for (uint32_t off = 0; off < k->image_len && !gave_up(k); off += CHUNK) {
		uint32_t rest = k->image_len - off;
		struct chunk c = { buf, k->image_va + off, 0, rest < CHUNK ? rest : CHUNK };

		c.len = rest < CHUNK + k->l->entries - 1 ? rest : CHUNK + k->l->entries - 1;
		if (!read_chunk(mem, c.va, buf, c.len, c.starts))
			continue;
		scan_for_array(k, &c, kernel_index);
		scan_for_pointer(k, mem, &c, kernel_index);
	}
}

static void search(const struct nm_vmem *mem, const struct nm_system_va_clues *clues,
		   const struct layout *l, struct nm_system_va_map *out)
{
	int8_t pde_valid[NM_SYSTEM_VA_MAX_ENTRIES];
	struct candidates *k = calloc(1, sizeof(*k));
	uint8_t *buf = malloc(CHUNK + NM_SYSTEM_VA_MAX_ENTRIES);
	unsigned kernel_index = 0;

	if (!k || !buf) {
		set_not_found(out, "no memory to read the kernel image");
		goto done;
	}
	index_of(l, clues->kernel_base, &kernel_index);
	read_pde_validity(mem, l, pde_valid);
	*k = (struct candidates){ .l = l, .c = clues, .pde_valid = pde_valid,
				  .image_va = clues->kernel_base, .image_len = scan_length(clues) };
	scan_image(k, mem, buf, kernel_index);
	if (gave_up(k)) {
		snprintf(out->why, sizeof(out->why), "more than %u windows of the kernel image look like the array; none is used",
			 NM_SYSTEM_VA_MAX_WINDOWS);
	} else if (k->fits == 0) {
		set_not_found(out, "no array in or named by the kernel image fits the kernel, PFN database and images");
	} else if (k->ties) {
		snprintf(out->why, sizeof(out->why),
			 "%u different arrays in the kernel image fit equally well; none is used", k->ties + 1);
	} else {
		out->found = true;
		out->address = k->best_address;
		memcpy(out->type, k->best, l->entries);
	}
done:
	free(buf);
	free(k);
}

void nm_system_va_locate(const struct nm_vmem *mem, const struct nm_system_va_clues *clues,
			 const struct nm_self_map *self_map, struct nm_system_va_map *out)
{
	unsigned shift = nm_mode_level(self_map->mode, NM_LEVEL_PDE)->shift;
	struct layout l = { (unsigned)((0x100000000ull - NM_SYSTEM_VA_BASE) >> shift), shift, self_map };
	unsigned kernel_index;

	memset(out, 0, sizeof(*out));
	out->entries = l.entries;
	out->shift = l.shift;
	if (clues->kernel_size == 0 || !index_of(&l, clues->kernel_base, &kernel_index))
		set_not_found(out, "no kernel image in system space to search");
	else
		search(mem, clues, &l, out);
}
