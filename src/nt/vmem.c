/* Kernel virtual memory through the translator (see vmem.h). */
#include <ntmem/bytes.h>
#include <ntmem/vmem.h>

int nm_vmem_u32(const struct nm_vmem *m, uint32_t va, uint32_t *value, enum nm_page_state *state)
{
	uint8_t b[4];
	enum nm_page_state st = NM_PAGE_VALID;

	if (nm_vmem_read(m, va, b, sizeof(b), &st) != 0) {
		if (state)
			*state = st;
		return -1;
	}
	*value = nm_le32(b);
	if (state)
		*state = NM_PAGE_VALID;
	return 0;
}
