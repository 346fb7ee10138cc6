/* The loaded kernel module list (PsLoadedModuleList), in load order. */
#ifndef NTMEM_MODULES_H
#define NTMEM_MODULES_H

#include <stdbool.h>
#include <stdint.h>

#include <ntmem/kernel.h>

#define NM_MAX_MODULES 4096

struct nm_module {
	uint64_t entry_va;		/* VA of the LDR entry */
	uint64_t base, entry_point;
	uint32_t size;
	/* BaseDllName as UTF-8; when its page cannot be read, the last component
	 * of FullDllName (name_from_path), so that the module has one name in
	 * every output; NULL when neither can be read. */
	char *name;
	enum nm_page_state name_state;	/* state of BaseDllName's page, even when named from the path */
	bool name_from_path;
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

/* The walk itself over any kernel memory, from the list head at HEAD (the
 * address PsLoadedModuleList names), with the x86 or x64 entry layout as
 * the memory's pointer size says. Returns -1 only when memory runs out;
 * everything the list lacks is out->incomplete with a stop_reason. */
int nm_modules_walk(const struct nm_vmem *mem, uint64_t head, struct nm_module_list *out,
		    nm_error *err);

/* UTF-16LE (LEN bytes, odd last byte ignored) to NUL-terminated UTF-8 in a
 * new string; unpaired surrogates become U+FFFD. NULL when out of memory. */
char *nm_utf16le_to_utf8(const uint8_t *s, size_t len);

/* Longest UNICODE_STRING the walk reads, in bytes (longer ones are cut). */
#define NM_MODULE_NAME_MAX_BYTES 1024u
void nm_modules_free(struct nm_module_list *l);

/* The module whose image holds VA, or NULL. */
const struct nm_module *nm_modules_find(const struct nm_module_list *l, uint64_t va);

#endif
