/* Shared by the command files of the ntmem tool: parsed options, exit
 * statuses, and the helpers every command uses to open a dump and print. */
#ifndef NTMEM_CLI_H
#define NTMEM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <ntmem/ntmem.h>

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_USAGE = 1,
	CLI_EXIT_BAD_INPUT = 2,
	CLI_EXIT_PARTIAL = 3,
};
/* Output that cannot be written (stdout, -o): never 0, never the usage
 * status (contract: Exit status); the input's status, with a line naming
 * the output. */
#define CLI_EXIT_OUTPUT CLI_EXIT_BAD_INPUT

#define CLI_MAX_ARGS 256

/* A command's own options, as the parser read them; usage.c says which
 * command takes which, so a command sees only its own set. */
struct cli_command_options {
	const char *output;		/* -o: FILE for read, DIR for carve and report */
	const char *compare_with;	/* carve --compare-with DIR */
	const char *html;		/* report --html FILE */
	bool all, force, keep_stale;
	bool has_fill;
	uint8_t fill;
	unsigned nmodules, nbases;
	const char *modules[CLI_MAX_ARGS];	/* carve --module NAME... */
	uint64_t bases[CLI_MAX_ARGS];		/* carve --base VA... (x64: 64-bit) */
};

struct cli {
	const char *command;
	const char *dump_path;
	bool json;
	bool quiet;
	bool verbose;			/* -v: more detail (info: every DTB candidate) */
	bool raw;			/* --raw: the file is a flat physical image */
	const char *format;		/* --format (or --raw): the format forced, else NULL */
	struct nm_kernel_options kopt;	/* --dtb, --kdbg, --pagefile (kopt.pagefiles) */
	unsigned npagefile_specs;	/* --pagefile [N=]FILE, as given */
	unsigned pagefile_numbers[NM_PAGEFILES_MAX];
	const char *pagefile_paths[NM_PAGEFILES_MAX];
	struct nm_pagefiles pagefiles;	/* opened before the command runs */
	const char *expect;		/* --expect FILE.json, or NULL */
	bool jsonl;			/* --jsonl: one line per dump */
	struct cli_command_options opt;
	bool kernel_said;		/* report: why the kernel view is unusable or has
					 * no KDBG was said once already; parts stay quiet */
	int argc;			/* the command's positional arguments after DUMP */
	char **argv;
};

/* Parses a command-line number as WinDbg reads one: hex by default
 * ("80800000" is 0x80800000), "0x" accepted, "0n" marks decimal ("0n4096").
 * 0 on success; -1 on anything else (sign, space, overflow, empty). */
int cli_parse_number(const char *s, uint64_t *out);

/* The candidate nearest to TYPED (a likely typo, or TYPED without the
 * candidate's extension: "npf" -> "npf.sys"); NULL when none is near. */
const char *cli_nearest(const char *typed, const char *const *candidates, unsigned n);

/* PATH with control characters shown as '?' (text output and messages). */
void cli_put_path(FILE *f, const char *path);
/* "ntmem: FILE: " on stderr, FILE the dump path as cli_put_path shows it. */
void cli_error_prefix(const struct cli *c);
/* A path (bytes) as JSON: a string of valid UTF-8 (bytes that are not
 * become U+FFFD) set as KEY in OBJ, and, when that changed anything, the
 * raw bytes in hex as KEY_hex, so that nothing is lost. */
void cli_json_set_path(json_t *obj, const char *key, const char *path);
/* Prints "ntmem: FILE: WHAT: WHY" on stderr and returns CLI_EXIT_BAD_INPUT. */
int cli_fail_input(const struct cli *c, const nm_error *err);
/* Prints "ntmem: PATH: WHAT: WHY" for an output PATH that cannot be
 * written (control characters in PATH shown as '?') and returns
 * CLI_EXIT_OUTPUT. */
int cli_fail_output(const char *path, const char *what, const char *why);
/* Before anything is opened: descriptors 0-2 are made to exist (so that no
 * output file becomes "stdout"), and SIGXFSZ (a file-size limit) becomes an
 * EFBIG write error instead of killing the process. */
void cli_prepare_streams(void);
/* After the command: stdout is flushed (and closed when CLOSE) and checked;
 * a failure prints its line and turns RC into CLI_EXIT_OUTPUT. */
int cli_finish_output(int rc, bool close);
/* Prints "ntmem: WHY" and returns CLI_EXIT_USAGE. */
int cli_fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning on stderr, unless --quiet. */
void cli_warn(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --pagefile: a spec read with the options (usage error when malformed);
 * the files opened before the command (exit 2 naming the file) and closed
 * after it; their list as the document's "pagefiles" (nothing when none). */
int cli_pagefile_spec(struct cli *c, const char *value);
int cli_open_pagefiles(struct cli *c);
void cli_close_pagefiles(struct cli *c);
void cli_pagefiles_json(const struct cli *c, json_t *doc);

/* Opens the dump named on the command line; on failure prints the contract's
 * line and returns CLI_EXIT_BAD_INPUT. */
int cli_open_source(const struct cli *c, nm_source **src);
/* nm_kernel_open with the command line's options, drawing a DTB scan's
 * progress line on a terminal. */
int cli_kernel_open(const struct cli *c, const nm_source *src, struct nm_kernel *k, nm_error *err);
/* The kernel address space of a dump, for commands that read memory. */
struct cli_memory {
	nm_source *src;
	struct nm_kernel kernel;	/* translator, KDBG, PFN database */
	nm_xlat *xlat;			/* the kernel's translator */
	bool pfn_checked;	/* walks are checked against the PFN database (stale) */
};

/* Opens the dump for a command that reads memory: a dump that holds no
 * physical memory ntmem can translate (triage, 64-bit, header only), or
 * whose page-table root is not in it, is refused with the contract's line. */
int cli_open_memory(const struct cli *c, struct cli_memory *m);
void cli_memory_walk(struct cli_memory *m, uint64_t va, struct nm_walk *out);
void cli_close_memory(struct cli_memory *m);

/* One walk as the contract's pte result object (also used by read). */
/* PF: the paging files given (--pagefile), or NULL: a page in one of them
 * says whether its bytes were read from it, and where from or why not. */
json_t *cli_walk_json(const struct nm_pagefiles *pf, const struct nm_walk *w);
/* "pagefile 2 offset 0x1234000", "not_in_dump (pa 0x...)" ...: a walk's
 * outcome in a few words, for text output and diagnostics. */
void cli_walk_describe(const struct nm_pagefiles *pf, const struct nm_walk *w, char *buf, size_t size);
/* Opens source and kernel view together (commands that need memory). */
int cli_open_kernel(const struct cli *c, nm_source **src, struct nm_kernel *k);
/* The kernel view on a source already open (report); the source stays the
 * caller's whatever the outcome. */
int cli_open_kernel_on(const struct cli *c, const nm_source *src, struct nm_kernel *k);
/* Opens the kernel view, walks the module list once and reads the
 * address-space map (both when there is a KDBG), for commands that take no
 * arguments after DUMP; the caller frees *map and MODULES. */
int cli_open_va_map(const struct cli *c, nm_source **src, struct nm_kernel *k,
		    struct nm_module_list *modules, struct nm_va_map **map);

/* JSON helpers: the contract's top-level object, and hex-string addresses. */
json_t *cli_json_document(const struct cli *c);
json_t *cli_json_hex(uint64_t v);
/* Prints the document on stdout and frees it. */
void cli_json_print(json_t *doc);

/* Commands: each takes the parsed command line and returns an exit status. */
int cmd_info(const struct cli *c);
int cmd_pte(const struct cli *c);
int cmd_read(const struct cli *c);
int cmd_pools(const struct cli *c);
int cmd_modules(const struct cli *c);
int cmd_carve(const struct cli *c);
int cmd_pfn(const struct cli *c);
int cmd_explain(const struct cli *c);
int cmd_report(const struct cli *c);

#endif
