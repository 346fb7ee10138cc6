/* The parts of a report, each rendered from what its own command computes:
 * the command prints one; report renders all four from one open dump, so
 * that report.json says exactly what the commands say without running them
 * and reading their output back. */
#ifndef NTMEM_CLI_PARTS_H
#define NTMEM_CLI_PARTS_H

#include "cli.h"

/* info: K is a kernel view already open on SRC, or NULL to open one. */
void info_add_json(const struct cli *c, const nm_source *src, struct nm_kernel *k, json_t *doc);
void info_print_text(const struct cli *c, const nm_source *src, struct nm_kernel *k);

/* pools: the map and the kernel it was read from; the status is the
 * command's (partial without a KDBG or with the map incomplete), after the
 * warnings for unreadable variables. */
void pools_add_json(json_t *doc, const struct nm_kernel *k, const struct nm_va_map *m);
void pools_print_text(const struct nm_kernel *k, const struct nm_va_map *m);
int pools_warn_and_status(const struct cli *c, const struct nm_kernel *k, const struct nm_va_map *m);

/* modules: the list from the kernel, each image placed in the map M. */
void modules_add_json(json_t *doc, const struct nm_kernel *k, const struct nm_module_list *l,
		      const struct nm_va_map *m);
void modules_print_text(const struct nm_kernel *k, const struct nm_module_list *l,
			const struct nm_va_map *m);
int modules_warn_and_status(const struct cli *c, const struct nm_kernel *k, const struct nm_module_list *l);

#endif
