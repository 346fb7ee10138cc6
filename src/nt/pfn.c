/* Reading a PFN database entry of the dump (docs/mmpfn.md). */
#include <string.h>

#include <ntmem/pfn.h>

int nm_pfn_read(struct nm_kernel *k, uint64_t pfn, struct nm_pfn_entry *out)
{
	const struct nm_mmpfn_layout *layout;
	struct nm_vmem mem;
	uint8_t entry[64];
	uint64_t addr;
	enum nm_page_state st;

	memset(out, 0, sizeof(*out));
	out->pfn = pfn;
	out->entry_state = NM_PAGE_NOT_MAPPED;
	if (!k->has_pfn_database || !k->version)
		return -1;
	layout = nm_kernel_mmpfn(k);
	/* pfn_count was bounded when the database was found (kernel.c): the
	 * entries fit below the end of the address space, so no wrap here. */
	addr = k->pfn_database + pfn * layout->entry_size;
	if (pfn >= k->pfn_count || layout->entry_size > sizeof(entry)) {
		out->out_of_range = true;
		return -1;
	}
	out->entry_address = addr;
	/* Not through nm_kernel_walk: the stale check itself calls this. */
	mem = nm_vmem_from_xlat(k->xlat);
	if (nm_vmem_read(&mem, addr, entry, layout->entry_size, NM_STALE_REFUSE, &st) != 0) {
		out->entry_state = st;
		return -1;
	}
	out->entry_state = NM_PAGE_VALID;
	nm_pfn_decode(entry, layout, nm_kernel_self_map(k), out);
	return 0;
}
