/* Walking PsLoadedModuleList over kernel memory (docs/address-space.md,
 * "Modules"). The list comes from the dump and may be corrupt or hostile:
 * every entry is checked, a visited set stops cycles, and NM_MAX_MODULES
 * bounds the walk whatever the list says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/modules.h>

/* KLDR_DATA_TABLE_ENTRY fields that are the same XP -> 10 (reference §4). */
#define LDR_FLINK 0x00
#define LDR_BLINK 0x04
#define LDR_DLL_BASE 0x18
#define LDR_ENTRY_POINT 0x1C
#define LDR_SIZE_OF_IMAGE 0x20
#define LDR_FULL_DLL_NAME 0x24
#define LDR_BASE_DLL_NAME 0x2C
#define LDR_READ_SIZE 0x34
#define MAX_IMAGE_SIZE 0x10000000u	/* no driver image is 256 MiB */

#define VISITED_SLOTS (NM_MAX_MODULES * 2)

struct visited {
	uint32_t slot[VISITED_SLOTS];	/* 0 = empty: an entry at VA 0 is refused earlier */
};

/* Adds VA; false when it was already there. */
static bool visit(struct visited *v, uint32_t va)
{
	uint32_t i = (va * 2654435761u) % VISITED_SLOTS;

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

static void stop(struct nm_module_list *l, const char *fmt, uint32_t a, uint32_t b, const char *s)
{
	l->incomplete = true;
	snprintf(l->stop_reason, sizeof(l->stop_reason), fmt, a, b, s);
}

/* Reads a UNICODE_STRING's text; NULL with *state when its page is missing. */
static char *read_string(const struct nm_vmem *mem, const uint8_t *us, enum nm_page_state *state)
{
	uint32_t len = nm_le16(us), buf = nm_le32(us + 4);
	uint8_t text[NM_MODULE_NAME_MAX_BYTES];

	*state = NM_PAGE_VALID;
	if (len > NM_MODULE_NAME_MAX_BYTES)
		len = NM_MODULE_NAME_MAX_BYTES;
	len &= ~1u;
	if (len == 0)
		return nm_utf16le_to_utf8((const uint8_t *)"", 0);
	if (nm_vmem_read(mem, buf, text, len, state) != 0)
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

static const char *entry_problem(const uint8_t *e)
{
	uint32_t base = nm_le32(e + LDR_DLL_BASE), size = nm_le32(e + LDR_SIZE_OF_IMAGE);

	if (size == 0 || size > MAX_IMAGE_SIZE)
		return "SizeOfImage is not plausible";
	if ((uint64_t)base + size > 0x100000000ull)
		return "image would end past 4 GiB";
	if (base & 0xFFFu)
		return "DllBase is not page aligned";
	return NULL;
}

static int add_module(const struct nm_vmem *mem, uint32_t va, const uint8_t *e,
		      struct nm_module_list *l)
{
	struct nm_module *m = &l->items[l->count];

	memset(m, 0, sizeof(*m));
	m->entry_va = va;
	m->base = nm_le32(e + LDR_DLL_BASE);
	m->size = nm_le32(e + LDR_SIZE_OF_IMAGE);
	m->entry_point = nm_le32(e + LDR_ENTRY_POINT);
	m->name = read_string(mem, e + LDR_BASE_DLL_NAME, &m->name_state);
	m->path = read_string(mem, e + LDR_FULL_DLL_NAME, &m->path_state);
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
static int step(const struct nm_vmem *mem, struct visited *seen, uint32_t prev, uint32_t va,
		struct nm_module_list *l, uint32_t *next)
{
	uint8_t e[LDR_READ_SIZE];
	enum nm_page_state st;
	const char *why;

	if (l->count >= NM_MAX_MODULES) {
		stop(l, "the walk stopped after %u entries (bound), at 0x%08x%s", NM_MAX_MODULES, va, "");
		return 0;
	}
	if (va == 0 || (va & 3u)) {
		stop(l, "entry after 0x%08x has a bad address 0x%08x%s", prev, va, "");
		return 0;
	}
	if (!visit(seen, va)) {
		stop(l, "cycle: entry 0x%08x (reached from 0x%08x) was already visited%s", va, prev, "");
		return 0;
	}
	if (nm_vmem_read(mem, va, e, sizeof(e), &st) != 0) {
		stop(l, "entry 0x%08x (reached from 0x%08x) is unreadable: %s", va, prev,
		     nm_page_state_name(st));
		return 0;
	}
	if (nm_le32(e + LDR_BLINK) != prev) {
		stop(l, "entry 0x%08x: Blink 0x%08x does not point back at the previous entry%s", va,
		     nm_le32(e + LDR_BLINK), "");
		return 0;
	}
	why = entry_problem(e);
	if (why) {
		stop(l, "entry 0x%08x (reached from 0x%08x): %s", va, prev, why);
		return 0;
	}
	if (add_module(mem, va, e, l) != 0)
		return -1;
	*next = nm_le32(e + LDR_FLINK);
	return 1;
}

int nm_modules_walk(const struct nm_vmem *mem, uint32_t head, struct nm_module_list *out,
		    nm_error *err)
{
	struct visited *seen = calloc(1, sizeof(*seen));
	uint32_t prev = head, cur;
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
	if (nm_vmem_u32(mem, head, &cur, &st) != 0) {
		out->incomplete = true;
		snprintf(out->stop_reason, sizeof(out->stop_reason),
			 "list head 0x%08x is unreadable: %s", head, nm_page_state_name(st));
		rc = 0;
	}
	while (rc == 1 && cur != head) {
		uint32_t next = 0;

		rc = step(mem, seen, prev, cur, out, &next);
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
