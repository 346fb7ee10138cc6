/* Walking PsLoadedModuleList over kernel memory (docs/address-space.md,
 * "Modules"). The list comes from the dump and may be corrupt or hostile:
 * every entry is checked, a visited set stops cycles, and NM_MAX_MODULES
 * bounds the walk whatever the list says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/modules.h>

/* KLDR_DATA_TABLE_ENTRY fields that are the same XP -> 10 (reference §4),
 * and their x64 places (ntdiff/headers Win10_1803_RS4 x64
 * _KLDR_DATA_TABLE_ENTRY.h; the fields before SizeOfImage are pointers, so
 * they double). A UNICODE_STRING's Buffer is at +4 on x86, +8 on x64. */
struct ldr_layout {
	unsigned ptr;			/* pointer size */
	unsigned flink, blink, dll_base, entry_point, size_of_image, full_name, base_name;
	unsigned string_buffer;		/* offset of Buffer in a UNICODE_STRING */
	unsigned read_size;
	uint64_t lowest_base;		/* images live in system space */
	uint64_t highest_end;		/* one past the last byte an image may use */
};

static const struct ldr_layout ldr_x86 = {
	4, 0x00, 0x04, 0x18, 0x1C, 0x20, 0x24, 0x2C, 4, 0x34, 0x80000000u, UINT64_C(0x100000000),
};

static const struct ldr_layout ldr_x64 = {
	8, 0x00, 0x08, 0x30, 0x38, 0x40, 0x48, 0x58, 8, 0x68, UINT64_C(0xFFFF800000000000), 0,
};

#define LDR_READ_MAX 0x68
#define MAX_IMAGE_SIZE 0x10000000u	/* no driver image is 256 MiB */

static uint64_t load_ptr(const struct ldr_layout *L, const uint8_t *p)
{
	return L->ptr == 8 ? nm_le64(p) : nm_le32(p);
}

#define VISITED_SLOTS (NM_MAX_MODULES * 2)

struct visited {
	uint64_t slot[VISITED_SLOTS];	/* 0 = empty: an entry at VA 0 is refused earlier */
};

/* Adds VA; false when it was already there. */
static bool visit(struct visited *v, uint64_t va)
{
	uint32_t i = (uint32_t)(((va ^ (va >> 32)) * 2654435761u) % VISITED_SLOTS);

	for (unsigned n = 0; n < VISITED_SLOTS; n++, i = (i + 1) % VISITED_SLOTS) {
		if (v->slot[i] == va)
			return false;
		if (v->slot[i] == 0) {
			v->slot[i] = va;
			return true;
		}
	}
	return false;
}

static void stop(struct nm_module_list *l, const char *fmt, uint64_t a, uint64_t b, const char *s)
{
	l->incomplete = true;
	snprintf(l->stop_reason, sizeof(l->stop_reason), fmt, (unsigned long long)a, (unsigned long long)b, s);
}

/* Reads a UNICODE_STRING's text; NULL with *state when its page is missing. */
static char *read_string(const struct nm_vmem *mem, const struct ldr_layout *L, const uint8_t *us,
			 enum nm_page_state *state)
{
	uint32_t len = nm_le16(us);
	uint64_t buf = load_ptr(L, us + L->string_buffer);
	uint8_t text[NM_MODULE_NAME_MAX_BYTES];

	*state = NM_PAGE_VALID;
	if (len > NM_MODULE_NAME_MAX_BYTES)
		len = NM_MODULE_NAME_MAX_BYTES;
	len &= ~1u;
	if (len == 0)
		return nm_utf16le_to_utf8((const uint8_t *)"", 0);
	if (nm_vmem_read(mem, buf, text, len, NM_STALE_REFUSE, state) != 0)
		return NULL;
	return nm_utf16le_to_utf8(text, len);
}

/* "\\SystemRoot\\System32\\drivers\\afd.sys" -> "afd.sys" (both slash kinds). */
static const char *last_path_component(const char *path)
{
	const char *last = path;

	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			last = p + 1;
	return last;
}

static const char *entry_problem(const struct ldr_layout *L, const uint8_t *e)
{
	uint64_t base = load_ptr(L, e + L->dll_base);
	uint32_t size = nm_le32(e + L->size_of_image);

	if (size == 0 || size > MAX_IMAGE_SIZE)
		return "SizeOfImage is not plausible";
	if (L->highest_end && base + size > L->highest_end)
		return "image would end past 4 GiB";
	if (base < L->lowest_base || base + size < base)
		return "DllBase is not a system address";
	if (base & 0xFFFu)
		return "DllBase is not page aligned";
	return NULL;
}

static int add_module(const struct nm_vmem *mem, const struct ldr_layout *L, uint64_t va,
		      const uint8_t *e, struct nm_module_list *l)
{
	struct nm_module *m = &l->items[l->count];

	memset(m, 0, sizeof(*m));
	m->entry_va = va;
	m->base = load_ptr(L, e + L->dll_base);
	m->size = nm_le32(e + L->size_of_image);
	m->entry_point = load_ptr(L, e + L->entry_point);
	m->name = read_string(mem, L, e + L->base_name, &m->name_state);
	m->path = read_string(mem, L, e + L->full_name, &m->path_state);
	/* A readable string that still came back NULL means no memory. */
	if ((!m->name && m->name_state == NM_PAGE_VALID) || (!m->path && m->path_state == NM_PAGE_VALID)) {
		free(m->name);
		free(m->path);
		return -1;
	}
	if (!m->name && m->path) {
		m->name = strdup(last_path_component(m->path));
		if (!m->name) {
			free(m->path);
			return -1;
		}
		m->name_from_path = true;
	}
	l->count++;
	return 0;
}

/* One step: checks the entry at VA (reached from PREV) and records it.
 * Returns 1 to go on (with *next), 0 when the walk ended, -1 on no memory. */
static int step(const struct nm_vmem *mem, const struct ldr_layout *L, struct visited *seen,
		uint64_t prev, uint64_t va, struct nm_module_list *l, uint64_t *next)
{
	uint8_t e[LDR_READ_MAX];
	enum nm_page_state st;
	const char *why;

	if (l->count >= NM_MAX_MODULES) {
		stop(l, "the walk stopped after %llu entries (bound), at 0x%08llx%s", NM_MAX_MODULES, va, "");
		return 0;
	}
	if (va == 0 || (va & (L->ptr - 1))) {
		stop(l, "entry after 0x%08llx has a bad address 0x%08llx%s", prev, va, "");
		return 0;
	}
	if (!visit(seen, va)) {
		stop(l, "cycle: entry 0x%08llx (reached from 0x%08llx) was already visited%s", va, prev, "");
		return 0;
	}
	if (nm_vmem_read(mem, va, e, L->read_size, NM_STALE_REFUSE, &st) != 0) {
		stop(l, "entry 0x%08llx (reached from 0x%08llx) is unreadable: %s", va, prev,
		     nm_page_state_name(st));
		return 0;
	}
	if (load_ptr(L, e + L->blink) != prev) {
		stop(l, "entry 0x%08llx: Blink 0x%08llx does not point back at the previous entry%s", va,
		     load_ptr(L, e + L->blink), "");
		return 0;
	}
	why = entry_problem(L, e);
	if (why) {
		stop(l, "entry 0x%08llx (reached from 0x%08llx): %s", va, prev, why);
		return 0;
	}
	if (add_module(mem, L, va, e, l) != 0)
		return -1;
	*next = load_ptr(L, e + L->flink);
	return 1;
}

int nm_modules_walk(const struct nm_vmem *mem, uint64_t head, struct nm_module_list *out,
		    nm_error *err)
{
	const struct ldr_layout *L = nm_vmem_pointer_size(mem) == 8 ? &ldr_x64 : &ldr_x86;
	struct visited *seen = calloc(1, sizeof(*seen));
	uint64_t prev = head, cur = 0;
	enum nm_page_state st;
	int rc = 1;

	memset(out, 0, sizeof(*out));
	out->items = calloc(NM_MAX_MODULES, sizeof(*out->items));
	if (!seen || !out->items) {
		free(seen);
		free(out->items);
		out->items = NULL;
		return nm_fail(err, "modules", "out of memory");
	}
	if (nm_vmem_pointer(mem, head, &cur, &st) != 0) {
		out->incomplete = true;
		snprintf(out->stop_reason, sizeof(out->stop_reason),
			 "list head 0x%08llx is unreadable: %s", (unsigned long long)head, nm_page_state_name(st));
		rc = 0;
	}
	while (rc == 1 && cur != head) {
		uint64_t next = 0;

		rc = step(mem, L, seen, prev, cur, out, &next);
		prev = cur;
		cur = next;
	}
	free(seen);
	if (rc < 0) {
		nm_modules_free(out);
		return nm_fail(err, "modules", "out of memory");
	}
	return 0;
}

void nm_modules_free(struct nm_module_list *l)
{
	if (!l || !l->items)
		return;
	for (unsigned i = 0; i < l->count; i++) {
		free(l->items[i].name);
		free(l->items[i].path);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

const struct nm_module *nm_modules_find(const struct nm_module_list *l, uint64_t va)
{
	for (unsigned i = 0; l && i < l->count; i++) {
		const struct nm_module *m = &l->items[i];

		if (va >= m->base && va - m->base < m->size)
			return m;
	}
	return NULL;
}
