/* Finding one export by name in an image that lives in kernel memory.
 * Layout: PE/COFF specification, "The .edata Section" (IMAGE_EXPORT_DIRECTORY:
 * NumberOfFunctions at 0x14, NumberOfNames 0x18, AddressOfFunctions 0x1C,
 * AddressOfNames 0x20, AddressOfNameOrdinals 0x24; the name pointer table
 * is sorted so that the loader can binary-search it; an export RVA inside
 * the export directory is a forwarder string, not code or data). Sources in
 * docs/memory-facts.md. */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/page_state.h>
#include <ntmem/pe.h>
#include <ntmem/pe_exports.h>

#define EXPORT_DIRECTORY_SIZE 40
#define DIR_EXPORT 0

struct export_table {
	const struct nm_vmem *mem;
	uint64_t base;
	uint32_t size_of_image;
	uint32_t dir_rva, dir_size;
	uint32_t nfunctions, nnames;
	uint32_t functions, names, ordinals;
};

static int read_at(const struct export_table *t, uint32_t rva, void *buf, size_t len, const char *field,
		   nm_error *err)
{
	enum nm_page_state state = NM_PAGE_VALID;

	if (rva > t->size_of_image || len > t->size_of_image - rva)
		return nm_fail(err, field, "RVA 0x%x+0x%zx lies outside SizeOfImage 0x%x", rva, len,
			       t->size_of_image);
	if (nm_vmem_read(t->mem, t->base + rva, buf, len, NM_STALE_REFUSE, &state) != 0)
		return nm_fail(err, field, "RVA 0x%x is unreadable (%s)", rva, nm_page_state_name(state));
	return 0;
}

/* A table of COUNT entries of WIDTH bytes at RVA must fit in the image. */
static int check_table(const struct export_table *t, uint32_t rva, uint32_t count, uint32_t width,
		       const char *field, nm_error *err)
{
	uint64_t end = (uint64_t)rva + (uint64_t)count * width;

	if (end > t->size_of_image)
		return nm_fail(err, field, "table at RVA 0x%x with %u entries ends past SizeOfImage 0x%x", rva,
			       count, t->size_of_image);
	return 0;
}

static int open_table(const struct nm_vmem *mem, uint64_t base, struct export_table *t, nm_error *err)
{
	uint8_t page[NM_PAGE_SIZE], dir[EXPORT_DIRECTORY_SIZE];
	struct nm_pe_image pe;
	enum nm_page_state state = NM_PAGE_VALID;

	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->base = base;
	if (nm_vmem_read(mem, base, page, sizeof(page), NM_STALE_REFUSE, &state) != 0)
		return nm_fail(err, "export.headers", "the header page at 0x%llx is unreadable (%s)",
			       (unsigned long long)base, nm_page_state_name(state));
	if (nm_pe_parse(page, sizeof(page), &pe, err) != 0)
		return -1;
	t->size_of_image = pe.size_of_image;
	if (pe.number_of_rva_and_sizes <= DIR_EXPORT || pe.dir_rva[DIR_EXPORT] == 0)
		return nm_fail(err, "export.DataDirectory[0]", "the image has no export directory");
	t->dir_rva = pe.dir_rva[DIR_EXPORT];
	t->dir_size = pe.dir_size[DIR_EXPORT];
	if (read_at(t, t->dir_rva, dir, sizeof(dir), "export.Directory", err) != 0)
		return -1;
	t->nfunctions = nm_le32(dir + 0x14);
	t->nnames = nm_le32(dir + 0x18);
	t->functions = nm_le32(dir + 0x1C);
	t->names = nm_le32(dir + 0x20);
	t->ordinals = nm_le32(dir + 0x24);
	if (t->nnames > NM_PE_MAX_EXPORT_NAMES || t->nfunctions > NM_PE_MAX_EXPORT_NAMES)
		return nm_fail(err, "export.NumberOfNames", "%u names, %u functions: more than %u",
			       t->nnames, t->nfunctions, NM_PE_MAX_EXPORT_NAMES);
	if (check_table(t, t->functions, t->nfunctions, 4, "export.AddressOfFunctions", err) != 0 ||
	    check_table(t, t->names, t->nnames, 4, "export.AddressOfNames", err) != 0 ||
	    check_table(t, t->ordinals, t->nnames, 2, "export.AddressOfNameOrdinals", err) != 0)
		return -1;
	return 0;
}

/* The I-th name, NUL-terminated, cut after NM_PE_EXPORT_NAME_MAX + 1
 * bytes: a longer name then never equals a name we look for and still
 * sorts the same way against it. The string may end near SizeOfImage:
 * only what lies inside is read. */
static int name_at(const struct export_table *t, uint32_t i, char *out, nm_error *err)
{
	uint8_t ptr[4];
	uint32_t rva, len = NM_PE_EXPORT_NAME_MAX + 1;

	if (read_at(t, t->names + 4 * i, ptr, 4, "export.AddressOfNames", err) != 0)
		return -1;
	rva = nm_le32(ptr);
	if (rva >= t->size_of_image)
		return nm_fail(err, "export.AddressOfNames", "name %u at RVA 0x%x lies outside the image", i, rva);
	if (len > t->size_of_image - rva)
		len = t->size_of_image - rva;
	if (read_at(t, rva, out, len, "export.Name", err) != 0)
		return -1;
	out[len] = '\0';	/* OUT holds NM_PE_EXPORT_NAME_MAX + 2 */
	return 0;
}

int nm_pe_find_export(const struct nm_vmem *mem, uint64_t base, const char *name, uint32_t *rva,
		      nm_error *err)
{
	struct export_table t;
	char probe[NM_PE_EXPORT_NAME_MAX + 2];
	uint32_t lo = 0, hi, found = UINT32_MAX;
	uint8_t b[4];

	if (strlen(name) > NM_PE_EXPORT_NAME_MAX)
		return nm_fail(err, "export.Names", "a name longer than %u bytes is not looked for",
			       NM_PE_EXPORT_NAME_MAX);
	if (open_table(mem, base, &t, err) != 0)
		return -1;
	hi = t.nnames;
	while (lo < hi) {	/* at most log2(NM_PE_MAX_EXPORT_NAMES) + 1 rounds */
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp;

		if (name_at(&t, mid, probe, err) != 0)
			return -1;
		cmp = strcmp(name, probe);
		if (cmp == 0) {
			found = mid;
			break;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (found == UINT32_MAX)
		return nm_fail(err, "export.Names", "%s is not exported", name);
	if (read_at(&t, t.ordinals + 2 * found, b, 2, "export.AddressOfNameOrdinals", err) != 0)
		return -1;
	if (nm_le16(b) >= t.nfunctions)
		return nm_fail(err, "export.AddressOfNameOrdinals", "%s: ordinal index %u, only %u functions", name,
			       nm_le16(b), t.nfunctions);
	if (read_at(&t, t.functions + 4 * nm_le16(b), b, 4, "export.AddressOfFunctions", err) != 0)
		return -1;
	*rva = nm_le32(b);
	if (*rva >= t.dir_rva && *rva - t.dir_rva < t.dir_size)
		return nm_fail(err, "export.AddressOfFunctions", "%s is forwarded to another image", name);
	return 0;
}
