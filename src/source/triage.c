/* Triage dumps: TRIAGE_DUMP32 at 0x1000 / TRIAGE_DUMP64 at 0x2000, their
 * driver list and string pool. All *Offset fields are absolute file offsets.
 * Every count is checked against the file before it bounds a loop. */
#include <string.h>

#include <ntmem/bytes.h>
#include <ntmem/triage.h>

#include "source_internal.h"

/* Field offsets inside TRIAGE_DUMP32 / TRIAGE_DUMP64 (they agree up to
 * TopOfStack, which is 8 bytes wide in the 64-bit form). */
#define T_CONTEXT_OFFSET 0x0C
#define T_DRIVER_LIST_OFFSET 0x30
#define T_DRIVER_COUNT 0x34
#define T_STRING_POOL_OFFSET 0x38
#define T_STRING_POOL_SIZE 0x3C

/* DUMP_DRIVER_ENTRY: DriverNameOffset, then a KLDR_DATA_TABLE_ENTRY copy
 * (after 4 bytes of alignment in the 64-bit form). */
struct entry_layout {
	uint32_t size, dll_base, entry_point, size_of_image, checksum, timestamp;
};
static const struct entry_layout entry32 = { 0x4C, 0x1C, 0x20, 0x24, 0x44, 0x48 };
static const struct entry_layout entry64 = { 0x90, 0x38, 0x40, 0x48, 0x80, 0x88 };

int nm_triage_open(const nm_source *src, struct nm_triage *t, nm_error *err)
{
	const struct nm_dump_facts *f = nm_source_facts(src);
	size_t len;
	const uint8_t *file = nm_source_file(src, &len);
	const uint8_t *h;
	uint64_t pool_end;
	const struct entry_layout *e;

	memset(t, 0, sizeof(*t));
	if (f->type != NM_DUMP_TRIAGE || f->format != NM_FORMAT_WINDOWS_CRASH_DUMP)
		return nm_fail(err, "header.DumpType", "not a triage dump");
	t->wide = f->arch == NM_ARCH_X64 || f->arch == NM_ARCH_ARM64;
	t->header_offset = t->wide ? NM_HEADER64_SIZE : NM_HEADER32_SIZE;
	e = t->wide ? &entry64 : &entry32;
	if (len < t->header_offset + 0x80)
		return nm_fail(err, "triage", "file ends at %zu, inside the triage header at 0x%llx", len,
			       (unsigned long long)t->header_offset);
	h = file + t->header_offset;
	t->context_offset = nm_le32(h + T_CONTEXT_OFFSET);
	if (t->context_offset >= len || len - t->context_offset < 0x100)
		t->context_offset = 0;
	t->has_driver_list = f->minidump_fields == 0 || (f->minidump_fields & NM_TRIAGE_DRIVER_LIST);
	if (!t->has_driver_list)
		return 0;
	t->driver_entry_size = e->size;
	t->driver_list_offset = nm_le32(h + T_DRIVER_LIST_OFFSET);
	t->driver_count = nm_le32(h + T_DRIVER_COUNT);
	if (t->driver_list_offset > len ||
	    (uint64_t)t->driver_count > (len - t->driver_list_offset) / e->size)
		return nm_fail(err, "triage.DriverCount",
			       "%u entries of %u bytes from DriverListOffset 0x%llx (at 0x%llx) run past end of file (%zu bytes)",
			       t->driver_count, e->size, (unsigned long long)t->driver_list_offset,
			       (unsigned long long)(t->header_offset + T_DRIVER_LIST_OFFSET), len);
	t->string_pool_offset = nm_le32(h + T_STRING_POOL_OFFSET);
	t->string_pool_size = nm_le32(h + T_STRING_POOL_SIZE);
	pool_end = t->string_pool_offset + t->string_pool_size;
	if (t->string_pool_offset > len)
		t->string_pool_offset = t->string_pool_size = 0;
	else if (pool_end > len)
		t->string_pool_size = len - t->string_pool_offset;
	return 0;
}

/* DUMP_STRING: ULONG Length in UTF-16 units (the real Windows 10 triage dump
 * has 0x21 before the 33 characters of \SystemRoot\system32\ntoskrnl.exe),
 * then the text and a NUL. Read up to the NUL, never past Length units or
 * the pool. */
static void read_name(const uint8_t *file, const struct nm_triage *t, uint64_t at,
		      struct nm_triage_driver *d)
{
	uint64_t pool_end = t->string_pool_offset + t->string_pool_size;
	uint64_t room, units;
	const uint8_t *s;
	size_t n = 0;

	if (at < t->string_pool_offset || at + 4 > pool_end) {
		d->name_problem = "DriverNameOffset points outside the string pool";
		return;
	}
	units = nm_le32(file + at);
	room = (pool_end - at - 4) / 2;
	if (units > room)
		units = room;
	s = file + at + 4;
	while (n < units && (s[2 * n] || s[2 * n + 1]))
		n++;
	d->name = s;
	d->name_bytes = 2 * n;
}

void nm_triage_driver(const nm_source *src, const struct nm_triage *t, uint32_t i,
		      struct nm_triage_driver *d)
{
	const struct entry_layout *e = t->wide ? &entry64 : &entry32;
	size_t len;
	const uint8_t *file = nm_source_file(src, &len);
	const uint8_t *p;

	memset(d, 0, sizeof(*d));
	if (i >= t->driver_count)
		return;
	d->entry_offset = t->driver_list_offset + (uint64_t)i * e->size;
	p = file + d->entry_offset;
	if (t->wide) {
		d->base = nm_le64(p + e->dll_base);
		d->entry_point = nm_le64(p + e->entry_point);
	} else {
		d->base = nm_le32(p + e->dll_base);
		d->entry_point = nm_le32(p + e->entry_point);
	}
	d->size = nm_le32(p + e->size_of_image);
	d->checksum = nm_le32(p + e->checksum);
	d->timestamp = nm_le32(p + e->timestamp);
	read_name(file, t, nm_le32(p), d);
}
