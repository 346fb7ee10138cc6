/* Layer 1: the driver list of a triage ("small memory") dump.
 *
 * A triage dump holds no page tables, but TRIAGE_DUMP32/64 (after the dump
 * header) points at a copy of the loaded-module list: one DUMP_DRIVER_ENTRY
 * per driver, each naming a DUMP_STRING in the string pool. Offsets and
 * sources: docs/dump-format.md. Nothing is allocated: entries are read by
 * index from the mapping. */
#ifndef NTMEM_TRIAGE_H
#define NTMEM_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ntmem/error.h>
#include <ntmem/source.h>

#define NM_TRIAGE_DRIVER_LIST 0x40u	/* MiniDumpFields: TRIAGE_DUMP_DRIVER_LIST */

struct nm_triage {
	bool wide;			/* TRIAGE_DUMP64 (64-bit header) */
	uint64_t header_offset;		/* 0x1000 or 0x2000 */
	bool has_driver_list;		/* MiniDumpFields says so (or leaves it unset) */
	uint32_t driver_count;		/* DriverCount, checked to fit in the file */
	uint64_t driver_list_offset;	/* absolute file offset */
	uint32_t driver_entry_size;	/* 0x4C (32-bit) or 0x90 (64-bit) */
	uint64_t string_pool_offset, string_pool_size;	/* clipped to the file */
	uint32_t context_offset;	/* ContextOffset, 0 when outside the file */
};

struct nm_triage_driver {
	uint64_t entry_offset;		/* file offset of this DUMP_DRIVER_ENTRY */
	uint64_t base, entry_point;
	uint32_t size;			/* SizeOfImage */
	uint32_t checksum, timestamp;
	const uint8_t *name;		/* UTF-16LE from the string pool; NULL when unreadable */
	size_t name_bytes;
	const char *name_problem;	/* why name is NULL */
};

/* Reads the triage header of SRC (a DumpType 4 dump). -1 with ERR naming the
 * field when it points outside the file. */
int nm_triage_open(const nm_source *src, struct nm_triage *t, nm_error *err);

/* Driver I (< t->driver_count). */
void nm_triage_driver(const nm_source *src, const struct nm_triage *t, uint32_t i,
		      struct nm_triage_driver *d);

#endif
