/* The loaded kernel module list (PsLoadedModuleList), in load order. */
#ifndef NTMEM_MODULES_H
#define NTMEM_MODULES_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/kernel.h>

#define NM_MAX_MODULES 4096

struct nm_module {
	uint32_t entry_va;		/* VA of the LDR entry */
	uint32_t base, size, entry_point;
	char *name;			/* BaseDllName as UTF-8, NULL when unreadable */
	enum nm_page_state name_state;
	char *path;			/* FullDllName as UTF-8, NULL when unreadable */
	enum nm_page_state path_state;
};

struct nm_module_list {
	unsigned count;
	struct nm_module *items;
	bool incomplete;		/* an entry was unreadable, a cycle or the bound ended the walk */
	char stop_reason[160];		/* why the walk ended early, when incomplete */
};

int nm_modules_read(struct nm_kernel *k, struct nm_module_list *out, nm_error *err);
void nm_modules_free(struct nm_module_list *l);

/* The module whose image holds VA, or NULL. */
const struct nm_module *nm_modules_find(const struct nm_module_list *l, uint64_t va);

#endif
