/* The bug check table. Meanings are paraphrased from Microsoft's public
 * "Bug Check Code Reference" pages (one per code, learn.microsoft.com); see
 * docs/bugchecks.md for the page of each code and for the choices made where
 * the reference's wording changed between Windows versions. */
#include <ntmem/bugcheck.h>

#include <stddef.h>

#define P(meaning, kind) { meaning, NM_PARAM_##kind }
#define RESERVED P("reserved", OTHER)

struct bugcheck_row {
	uint32_t code;
	const char *name;
	const char *summary;
	struct nm_bugcheck_param params[4];
};

/* A variant selected by Parameter 1: its cause and the meanings of
 * Parameters 2 to 4 (Parameter 1 itself is "the type of violation"). */
struct subcode_row {
	uint32_t code;
	uint32_t arg1;
	const char *cause;
	struct nm_bugcheck_param params[3];
};

/* Parameters shared by the stop codes that report an unhandled exception. */
#define EXCEPTION_CODE P("exception code that was not handled", STATUS)
#define EXCEPTION_IP P("address of the instruction that raised the exception", IP)

/* The stop codes that report a bad memory reference share this shape. */
#define REFERENCED_VA P("memory address that was referenced", VA)
#define ACCESS_TYPE P("type of access: 0 read, 1 write (8 execute where the version reports it)", OTHER)
#define REFERENCING_IP P("address of the instruction that made the reference", IP)

static const struct bugcheck_row table[] = {
	{ 0x0A, "IRQL_NOT_LESS_OR_EQUAL",
	  "kernel code touched pageable or invalid memory at an IRQL too high to take a page fault",
	  { REFERENCED_VA, P("IRQL at the time of the reference", IRQL),
	    P("access bits: bit 0 set for a write, bit 3 set for an execute", OTHER),
	    REFERENCING_IP } },
	{ 0x19, "BAD_POOL_HEADER",
	  "a pool block header is corrupt",
	  { P("type of violation (selects the meaning of the other parameters)", OTHER),
	    P("depends on Parameter 1", OTHER), P("depends on Parameter 1", OTHER),
	    P("depends on Parameter 1", OTHER) } },
	{ 0x1A, "MEMORY_MANAGEMENT",
	  "the memory manager found an inconsistency",
	  { P("type of violation (selects the meaning of the other parameters)", OTHER),
	    P("depends on Parameter 1", OTHER), P("depends on Parameter 1", OTHER),
	    P("depends on Parameter 1", OTHER) } },
	{ 0x1E, "KMODE_EXCEPTION_NOT_HANDLED",
	  "a kernel-mode exception was not caught by any handler",
	  { EXCEPTION_CODE, EXCEPTION_IP,
	    P("first exception parameter (for an access violation: 0 read, 1 write, 8 execute)", OTHER),
	    P("second exception parameter (for an access violation: the address referenced)", VA) } },
	{ 0x3B, "SYSTEM_SERVICE_EXCEPTION",
	  "an exception happened while a system service routine ran",
	  { EXCEPTION_CODE, EXCEPTION_IP,
	    P("address of the context record of the exception", VA), RESERVED } },
	{ 0x4E, "PFN_LIST_CORRUPT",
	  "the page frame number (PFN) database is inconsistent, typically because a driver "
	  "passed a bad memory descriptor list (MDL)",
	  { P("type of violation (selects the meaning of the other parameters)", OTHER),
	    P("depends on Parameter 1", OTHER), P("depends on Parameter 1", OTHER),
	    P("depends on Parameter 1", OTHER) } },
	{ 0x50, "PAGE_FAULT_IN_NONPAGED_AREA",
	  "invalid system memory was referenced: the address is wrong or points at freed memory",
	  { REFERENCED_VA,
	    P("type of access: 0 read, 1 write (Windows 10: 0 read, 2 write, 0x10 execute)", OTHER),
	    P("address of the instruction that made the reference, when known", IP),
	    P("reserved (Windows 10: the type of page fault)", OTHER) } },
	{ 0x76, "PROCESS_HAS_LOCKED_PAGES",
	  "a driver left pages locked in a process that ended, or unlocked process pages that were not locked",
	  { P("type of violation (selects the meaning of the other parameters)", OTHER),
	    P("depends on Parameter 1", OTHER), P("depends on Parameter 1", OTHER),
	    P("depends on Parameter 1", OTHER) } },
	{ 0x7E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
	  "a system thread raised an exception that no handler caught",
	  { EXCEPTION_CODE, EXCEPTION_IP,
	    P("address of the exception record", VA),
	    P("address of the context record", VA) } },
	{ 0x7F, "UNEXPECTED_KERNEL_MODE_TRAP",
	  "the processor raised a trap the kernel did not expect or could not handle (8 is a double fault)",
	  { P("trap number (processor exception vector)", OTHER), RESERVED, RESERVED, RESERVED } },
	{ 0x8E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED",
	  "a kernel-mode application raised an exception that no handler caught",
	  { EXCEPTION_CODE, EXCEPTION_IP,
	    P("address of the trap frame of the exception", VA), RESERVED } },
	{ 0xBE, "ATTEMPTED_WRITE_TO_READONLY_MEMORY",
	  "a driver wrote to read-only memory",
	  { P("virtual address of the attempted write", VA),
	    P("contents of the PTE that maps it", OTHER), RESERVED, RESERVED } },
	{ 0xC2, "BAD_POOL_CALLER",
	  "the current thread made a bad pool request",
	  { P("type of violation (selects the meaning of the other parameters)", OTHER),
	    P("depends on Parameter 1", OTHER), P("depends on Parameter 1", OTHER),
	    P("depends on Parameter 1", OTHER) } },
	{ 0xC4, "DRIVER_VERIFIER_DETECTED_VIOLATION",
	  "Driver Verifier caught a driver breaking a rule",
	  { P("type of violation (selects the meaning of the other parameters)", OTHER),
	    P("depends on Parameter 1", OTHER), P("depends on Parameter 1", OTHER),
	    P("depends on Parameter 1", OTHER) } },
	{ 0xC5, "DRIVER_CORRUPTED_EXPOOL",
	  "the system touched invalid memory at a raised IRQL, most often because a driver "
	  "corrupted the system pool",
	  { REFERENCED_VA, P("IRQL at the time of the reference", IRQL),
	    P("type of access: 0 read, 1 write", OTHER), REFERENCING_IP } },
	{ 0xCB, "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS",
	  "a driver did not release pages it locked for an I/O operation",
	  { P("address of the caller of the lock routine", IP),
	    P("address of the caller's caller", IP),
	    P("address of the MDL holding the locked pages", VA),
	    P("number of locked pages", COUNT) } },
	{ 0xCE, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS",
	  "a driver was unloaded while operations it started were still pending; the address is in its old image",
	  { REFERENCED_VA, ACCESS_TYPE, REFERENCING_IP, RESERVED } },
	{ 0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
	  "a driver touched pageable or invalid memory at an IRQL too high to take a page fault",
	  { REFERENCED_VA, P("IRQL at the time of the reference", IRQL),
	    ACCESS_TYPE, REFERENCING_IP } },
	{ 0xD5, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL",
	  "a driver referenced special-pool memory it had already freed",
	  { REFERENCED_VA, ACCESS_TYPE, REFERENCING_IP, RESERVED } },
	{ 0xD6, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
	  "a driver read or wrote past the end of its special-pool allocation",
	  { REFERENCED_VA, ACCESS_TYPE, REFERENCING_IP, RESERVED } },
	{ 0xE2, "MANUALLY_INITIATED_CRASH",
	  "the user asked for the crash (keyboard or debugger)",
	  { RESERVED, RESERVED, RESERVED, RESERVED } },
	{ 0xEA, "THREAD_STUCK_IN_DEVICE_DRIVER",
	  "a thread in a display driver spun waiting for the hardware to go idle",
	  { P("address of the stuck thread object", VA),
	    P("address of the DEFERRED_WATCHDOG object", VA),
	    P("address of the name of the offending driver", VA),
	    P("number of times the watchdog intercepted the thread", COUNT) } },
	{ 0x1000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
	  "same as 0x7E: a system thread raised an exception that no handler caught",
	  { EXCEPTION_CODE, EXCEPTION_IP,
	    P("address of the exception record", VA),
	    P("address of the context record", VA) } },
	{ 0x1000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M",
	  "same as 0x8E: a kernel-mode application raised an exception that no handler caught",
	  { EXCEPTION_CODE, EXCEPTION_IP,
	    P("address of the trap frame of the exception", VA), RESERVED } },
};

static const struct subcode_row subcodes[] = {
	/* PFN_LIST_CORRUPT */
	{ 0x4E, 0x01, "the head of a page list was corrupt",
	  { P("the list head value that was corrupt", OTHER),
	    P("number of pages available", COUNT), RESERVED } },
	{ 0x4E, 0x02, "an entry of a page list was corrupt",
	  { P("page frame number of the entry being removed", PFN),
	    P("highest physical page number", OTHER),
	    P("reference count of the entry being removed", COUNT) } },
	{ 0x4E, 0x06, "a hardware or prototype PTE is corrupt (single-bit memory errors, broken DMA)",
	  { P("page frame number", PFN),
	    P("address of the prototype PTE", PTE_ADDRESS),
	    P("contents of the PTE", OTHER) } },
	{ 0x4E, 0x07, "a driver has unlocked a page more times than it locked it",
	  { P("page frame number", PFN),
	    P("current share count of the page", COUNT), RESERVED } },
	{ 0x4E, 0x8D, "the free page list is corrupt; most likely a hardware problem",
	  { P("page frame number whose state is inconsistent", PFN), RESERVED, RESERVED } },
	{ 0x4E, 0x8F, "the head of the free or zeroed page list is corrupt",
	  { P("new page frame number", PFN), P("old page frame number", PFN), RESERVED } },
	{ 0x4E, 0x99, "a PTE or a PFN database entry is corrupt",
	  { P("page frame number", PFN), P("current state of the page", OTHER), RESERVED } },
	{ 0x4E, 0x9A, "a driver tried to free a page that is still locked for I/O",
	  { P("page frame number", PFN), P("current state of the page", OTHER),
	    P("reference count of the entry being removed", COUNT) } },
	/* PROCESS_HAS_LOCKED_PAGES */
	{ 0x76, 0x00, "the process being terminated still has locked pages: a driver did not unlock them",
	  { P("address of the process object", VA), P("number of locked pages", COUNT),
	    P("address of the saved driver stacks when tracking is on, else 0", VA) } },
	{ 0x76, 0x01, "a driver unlocked process pages that were not locked",
	  { P("address of the MDL the driver passed", VA),
	    P("number of pages currently locked in the process", COUNT),
	    P("address of the saved driver stacks when tracking is on, else 0", VA) } },
	/* BAD_POOL_HEADER */
	{ 0x19, 0x02, "the special pool pattern check failed: the owner probably overran its block",
	  { P("address of the pool entry being checked", VA),
	    P("size of the pool block", COUNT), RESERVED } },
	{ 0x19, 0x03, "the pool free list is corrupt (Parameters 2 to 4 should be equal)",
	  { P("address of the pool entry being checked", VA),
	    P("forward link read back from the free list", VA),
	    P("backward link read back from the free list", VA) } },
	{ 0x19, 0x05, "two adjacent pool entries have headers that contradict each other",
	  { P("address of one of the pool entries", VA), RESERVED,
	    P("address of the other pool entry", VA) } },
	{ 0x19, 0x20, "the size in a pool block header is corrupt",
	  { P("address of the pool entry that should have been found", VA),
	    P("address of the next pool entry", VA), RESERVED } },
	/* BAD_POOL_CALLER */
	{ 0xC2, 0x07, "a driver freed a pool block that was already free",
	  { P("pool tag", OTHER), P("contents of the pool header", OTHER),
	    P("address of the block being freed", VA) } },
	{ 0xC2, 0x40, "a driver freed a user-mode address to the kernel pool",
	  { P("starting address", VA), P("start of the system address space", VA), RESERVED } },
	{ 0xC2, 0x99, "a driver freed pool at an address that is not a pool block",
	  { P("address being freed", VA), RESERVED, RESERVED } },
};

const char *nm_param_kind_name(enum nm_param_kind k)
{
	static const char *const names[NM_PARAM_KIND_COUNT] = {
		[NM_PARAM_VA] = "va",
		[NM_PARAM_PFN] = "pfn",
		[NM_PARAM_PTE_ADDRESS] = "pte_address",
		[NM_PARAM_IP] = "ip",
		[NM_PARAM_IRQL] = "irql",
		[NM_PARAM_STATUS] = "status",
		[NM_PARAM_COUNT] = "count",
		[NM_PARAM_OTHER] = "other",
	};

	if ((unsigned)k >= NM_PARAM_KIND_COUNT)
		return "other";
	return names[k];
}

static const struct bugcheck_row *find_row(uint32_t code)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == code)
			return &table[i];
	return NULL;
}

static const struct subcode_row *find_subcode(uint32_t code, uint64_t arg1)
{
	for (size_t i = 0; i < sizeof(subcodes) / sizeof(subcodes[0]); i++)
		if (subcodes[i].code == code && subcodes[i].arg1 == arg1)
			return &subcodes[i];
	return NULL;
}

static void describe_unknown(uint32_t code, struct nm_bugcheck_info *out)
{
	*out = (struct nm_bugcheck_info){ .code = code };
	for (int i = 0; i < 4; i++)
		out->params[i] = (struct nm_bugcheck_param){ NULL, NM_PARAM_OTHER };
}

void nm_bugcheck_describe(uint32_t code, uint64_t arg1, struct nm_bugcheck_info *out)
{
	const struct bugcheck_row *row = find_row(code);
	const struct subcode_row *sub;

	if (!row) {
		describe_unknown(code, out);
		return;
	}
	*out = (struct nm_bugcheck_info){ .code = code, .name = row->name, .summary = row->summary };
	for (int i = 0; i < 4; i++)
		out->params[i] = row->params[i];
	sub = find_subcode(code, arg1);
	if (!sub)
		return;
	out->cause = sub->cause;
	out->params[0] = (struct nm_bugcheck_param){ sub->cause, NM_PARAM_OTHER };
	for (int i = 0; i < 3; i++)
		out->params[i + 1] = sub->params[i];
}

unsigned nm_bugcheck_table_size(void)
{
	return (unsigned)(sizeof(table) / sizeof(table[0]));
}

uint32_t nm_bugcheck_table_code(unsigned i)
{
	return i < nm_bugcheck_table_size() ? table[i].code : 0;
}
