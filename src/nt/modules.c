/* The loaded-module list of a dump's kernel (PsLoadedModuleList). */
#include <ntmem/modules.h>

int nm_modules_read(struct nm_kernel *k, struct nm_module_list *out, nm_error *err)
{
	struct nm_vmem mem;

	if (!k->has_kdbg)
		return nm_fail(err, k->kdbg_error.what, "%s", k->kdbg_error.why);
	mem = nm_kernel_vmem(k);
	return nm_modules_walk(&mem, nm_kdbg_slot(&k->kdbg, NM_KDBG_PS_LOADED_MODULE_LIST), out, err);
}
