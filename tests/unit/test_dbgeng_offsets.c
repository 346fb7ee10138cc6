/* Cross-check with someone else's definition: every KDBG offset ntmem uses
 * must equal the DEBUG_DATA_* constant of the dbgeng.h that Debian's
 * mingw-w64-common installs. The header text is parsed here, at test time;
 * nothing is generated from it. Skipped, with the reason, without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ntmem/kdbg.h>

#define DBGENG_H "/usr/share/mingw-w64/include/dbgeng.h"

struct pairing {
	enum nm_kdbg_field ours;
	const char *theirs;
};

/* Every member of enum nm_kdbg_field except PaeEnabled: dbgeng numbers that
 * one as a pseudo index (100000), not as a block offset (checked below). */
static const struct pairing pairings[] = {
	{ NM_KDBG_KERN_BASE, "DEBUG_DATA_KernBase" },
	{ NM_KDBG_PS_LOADED_MODULE_LIST, "DEBUG_DATA_PsLoadedModuleListAddr" },
	{ NM_KDBG_PS_ACTIVE_PROCESS_HEAD, "DEBUG_DATA_PsActiveProcessHeadAddr" },
	{ NM_KDBG_MM_SYSTEM_CACHE_START, "DEBUG_DATA_MmSystemCacheStartAddr" },
	{ NM_KDBG_MM_SYSTEM_CACHE_END, "DEBUG_DATA_MmSystemCacheEndAddr" },
	{ NM_KDBG_MM_PFN_DATABASE, "DEBUG_DATA_MmPfnDatabaseAddr" },
	{ NM_KDBG_MM_SYSTEM_PTES_START, "DEBUG_DATA_MmSystemPtesStartAddr" },
	{ NM_KDBG_MM_SYSTEM_PTES_END, "DEBUG_DATA_MmSystemPtesEndAddr" },
	{ NM_KDBG_MM_SUBSECTION_BASE, "DEBUG_DATA_MmSubsectionBaseAddr" },
	{ NM_KDBG_MM_NUMBER_OF_PAGING_FILES, "DEBUG_DATA_MmNumberOfPagingFilesAddr" },
	{ NM_KDBG_MM_LOWEST_PHYSICAL_PAGE, "DEBUG_DATA_MmLowestPhysicalPageAddr" },
	{ NM_KDBG_MM_HIGHEST_PHYSICAL_PAGE, "DEBUG_DATA_MmHighestPhysicalPageAddr" },
	{ NM_KDBG_MM_NUMBER_OF_PHYSICAL_PAGES, "DEBUG_DATA_MmNumberOfPhysicalPagesAddr" },
	{ NM_KDBG_MM_MAXIMUM_NONPAGED_POOL_IN_BYTES, "DEBUG_DATA_MmMaximumNonPagedPoolInBytesAddr" },
	{ NM_KDBG_MM_NONPAGED_SYSTEM_START, "DEBUG_DATA_MmNonPagedSystemStartAddr" },
	{ NM_KDBG_MM_NONPAGED_POOL_START, "DEBUG_DATA_MmNonPagedPoolStartAddr" },
	{ NM_KDBG_MM_NONPAGED_POOL_END, "DEBUG_DATA_MmNonPagedPoolEndAddr" },
	{ NM_KDBG_MM_PAGED_POOL_START, "DEBUG_DATA_MmPagedPoolStartAddr" },
	{ NM_KDBG_MM_PAGED_POOL_END, "DEBUG_DATA_MmPagedPoolEndAddr" },
	{ NM_KDBG_MM_PAGED_POOL_INFORMATION, "DEBUG_DATA_MmPagedPoolInformationAddr" },
	{ NM_KDBG_MM_PAGE_SIZE, "DEBUG_DATA_MmPageSize" },
	{ NM_KDBG_MM_SIZE_OF_PAGED_POOL_IN_BYTES, "DEBUG_DATA_MmSizeOfPagedPoolInBytesAddr" },
	{ NM_KDBG_MM_HIGHEST_USER_ADDRESS, "DEBUG_DATA_MmHighestUserAddressAddr" },
	{ NM_KDBG_MM_SYSTEM_RANGE_START, "DEBUG_DATA_MmSystemRangeStartAddr" },
	{ NM_KDBG_MM_USER_PROBE_ADDRESS, "DEBUG_DATA_MmUserProbeAddressAddr" },
	{ NM_KDBG_NT_BUILD_LAB, "DEBUG_DATA_NtBuildLabAddr" },
	{ NM_KDBG_KI_PROCESSOR_BLOCK, "DEBUG_DATA_KiProcessorBlockAddr" },
	{ NM_KDBG_MM_UNLOADED_DRIVERS, "DEBUG_DATA_MmUnloadedDriversAddr" },
	{ NM_KDBG_MM_PHYSICAL_MEMORY_BLOCK, "DEBUG_DATA_MmPhysicalMemoryBlockAddr" },
	{ NM_KDBG_MM_SESSION_BASE, "DEBUG_DATA_MmSessionBase" },
	{ NM_KDBG_MM_SESSION_SIZE, "DEBUG_DATA_MmSessionSize" },
};

/* The value of "#define NAME number" in TEXT, or -1 when absent. */
static long define_value(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while ((p = strstr(p, "#define ")) != NULL) {
		const char *q = p + 8;
		char *end;
		long v;

		p = q;
		while (*q == ' ' || *q == '\t')
			q++;
		if (strncmp(q, name, n) != 0 || (q[n] != ' ' && q[n] != '\t'))
			continue;
		v = strtol(q + n, &end, 0);
		if (end != q + n)
			return v;
	}
	return -1;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = len > 0 ? calloc(1, (size_t)len + 1) : NULL;
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void offsets_equal_dbgeng_constants(void **state)
{
	char *text = slurp(DBGENG_H);

	(void)state;
	if (!text) {
		print_message("SKIP: %s is absent (Debian package mingw-w64-common not installed)\n",
			      DBGENG_H);
		skip();
	}
	for (size_t i = 0; i < sizeof(pairings) / sizeof(pairings[0]); i++) {
		long theirs = define_value(text, pairings[i].theirs);

		if (theirs != (long)pairings[i].ours)
			fail_msg("%s is %ld in dbgeng.h, ntmem uses 0x%x", pairings[i].theirs, theirs,
				 (unsigned)pairings[i].ours);
	}
	/* dbgeng's PaeEnabled is a request index far past any block offset. */
	assert_true(define_value(text, "DEBUG_DATA_PaeEnabled") >= (long)NM_KDBG_MAX_SIZE);
	free(text);
}

static void parser_reads_a_define(void **state)
{
	(void)state;
	assert_int_equal(define_value("#define A_B 7\n#define A 24\n", "A"), 24);
	assert_int_equal(define_value("#define A_B 7\n", "A"), -1);
	assert_int_equal(define_value("#define  X\t0x48\n", "X"), 0x48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parser_reads_a_define),
		cmocka_unit_test(offsets_equal_dbgeng_constants),
	};
	return cmocka_run_group_tests_name("dbgeng_offsets", tests, NULL, NULL);
}
