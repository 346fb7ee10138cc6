/* Paging files (pagefile.h) and the page-file hook of the one virtual
 * memory reader (vmem.h): specs, lookups at the file's edge, and which
 * walks may take a paging file's page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <ntmem/pagefile.h>
#include <ntmem/vmem.h>

static void specs_name_a_number_or_file_zero(void **state)
{
	nm_error err;
	unsigned n;
	const char *path;

	(void)state;
	assert_int_equal(nm_pagefile_parse_spec("pagefile.sys", &n, &path, &err), 0);
	assert_int_equal(n, 0);
	assert_string_equal(path, "pagefile.sys");
	assert_int_equal(nm_pagefile_parse_spec("2=/x/swap=1.sys", &n, &path, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(path, "/x/swap=1.sys");
	assert_int_equal(nm_pagefile_parse_spec("15=f", &n, &path, &err), 0);
	assert_int_equal(n, 15);
	/* A name with '=' after something that is not a number is a name. */
	assert_int_equal(nm_pagefile_parse_spec("a=b", &n, &path, &err), 0);
	assert_int_equal(n, 0);
	assert_string_equal(path, "a=b");
	assert_int_equal(nm_pagefile_parse_spec("16=f", &n, &path, &err), -1);
	assert_string_equal(err.what, "pagefile");
	assert_int_equal(nm_pagefile_parse_spec("007=f", &n, &path, &err), -1);
	assert_int_equal(nm_pagefile_parse_spec("1=", &n, &path, &err), -1);
	assert_int_equal(nm_pagefile_parse_spec("", &n, &path, &err), -1);
}

/* A file of NPAGES pages plus EXTRA bytes, page P filled with byte P+1. */
static char *make_file(unsigned npages, unsigned extra)
{
	char *path = strdup("/tmp/ntmem-pagefile-XXXXXX");
	int fd = mkstemp(path);
	uint8_t page[4096];

	assert_true(fd >= 0);
	for (unsigned p = 0; p < npages; p++) {
		memset(page, (int)(p + 1), sizeof(page));
		assert_int_equal(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	}
	memset(page, 0xEE, sizeof(page));
	assert_int_equal(write(fd, page, extra), (ssize_t)extra);
	close(fd);
	return path;
}

static void offset_zero_is_page_zero_and_the_end_is_exact(void **state)
{
	struct nm_pagefiles set;
	struct nm_pagefile_lookup l;
	nm_error err;
	char *path = make_file(3, 100);	/* a partial fourth page */

	(void)state;
	memset(&set, 0, sizeof(set));
	assert_int_equal(nm_pagefiles_add(&set, 1, path, &err), 0);
	nm_pagefiles_lookup(&set, 1, 0, &l);
	assert_int_equal(l.outcome, NM_PAGEFILE_READ);
	assert_int_equal(l.bytes[0], 1);
	nm_pagefiles_lookup(&set, 1, 2 * 4096, &l);
	assert_int_equal(l.outcome, NM_PAGEFILE_READ);
	assert_int_equal(l.bytes[4095], 3);
	nm_pagefiles_lookup(&set, 1, 3 * 4096, &l);	/* cut by the end */
	assert_int_equal(l.outcome, NM_PAGEFILE_BEYOND_END);
	assert_null(l.bytes);
	nm_pagefiles_lookup(&set, 1, UINT64_MAX & ~UINT64_C(0xFFF), &l);
	assert_int_equal(l.outcome, NM_PAGEFILE_BEYOND_END);
	nm_pagefiles_lookup(&set, 0, 0, &l);
	assert_int_equal(l.outcome, NM_PAGEFILE_NOT_GIVEN);
	nm_pagefiles_lookup(NULL, 1, 0, &l);
	assert_int_equal(l.outcome, NM_PAGEFILE_NOT_GIVEN);
	assert_int_equal(nm_pagefiles_add(&set, 1, path, &err), -1);	/* twice */
	assert_int_equal(nm_pagefiles_add(&set, 16, path, &err), -1);
	assert_int_equal(nm_pagefiles_add(&set, 2, "/nonexistent/pagefile.sys", &err), -1);
	assert_string_equal(err.what, "file");
	nm_pagefiles_close(&set);
	assert_int_equal(set.count, 0);
	unlink(path);
	free(path);
}

/* A hand-built memory: every walk is what the test put in `walk`. */
struct one_walk {
	struct nm_walk walk;
	uint8_t page[4096];
};

static void fixed_walk(void *ctx, uint64_t va, struct nm_walk *out)
{
	*out = ((struct one_walk *)ctx)->walk;
	out->va = va;
}

static const uint8_t *fixed_page(void *ctx, const struct nm_walk *w)
{
	(void)w;
	return ((struct one_walk *)ctx)->page;
}

static void pagefile_walk(struct nm_walk *w, enum nm_paging_level last, unsigned number, uint64_t offset)
{
	memset(w, 0, sizeof(*w));
	w->state = NM_PAGE_PAGEFILE;
	w->nentries = 2;
	w->entries[0].level = NM_LEVEL_PDE;
	w->entries[1].level = last;
	if (last == NM_LEVEL_PDE)
		w->nentries = 1;
	w->sw.state = NM_PAGE_PAGEFILE;
	w->sw.pagefile_number = number;
	w->sw.pagefile_offset = offset;
}

static void the_reader_takes_pte_pages_only(void **state)
{
	struct nm_pagefiles set;
	struct one_walk mem;
	struct nm_vmem m = { &mem, fixed_walk, fixed_page, false, 4, NULL };
	struct nm_pagefile_lookup l;
	enum nm_page_state st;
	uint8_t buf[8];
	nm_error err;
	char *path = make_file(4, 0);

	(void)state;
	memset(&set, 0, sizeof(set));
	memset(mem.page, 0x77, sizeof(mem.page));
	assert_int_equal(nm_pagefiles_add(&set, 3, path, &err), 0);
	pagefile_walk(&mem.walk, NM_LEVEL_PTE, 3, 2 * 4096);
	/* No paging files: a hole, as before. */
	assert_int_equal(nm_vmem_read(&m, 0x80001000, buf, sizeof(buf), NM_STALE_REFUSE, &st), -1);
	assert_int_equal(st, NM_PAGE_PAGEFILE);
	m.pagefiles = &set;
	assert_int_equal(nm_vmem_read(&m, 0x80001ff8, buf, sizeof(buf), NM_STALE_REFUSE, &st), 0);
	assert_int_equal(buf[0], 3);
	assert_true(nm_vmem_pagefile(&m, &mem.walk, &l));
	assert_int_equal(l.outcome, NM_PAGEFILE_READ);
	/* Another paging file number: not given. */
	mem.walk.sw.pagefile_number = 2;
	assert_int_equal(nm_vmem_read(&m, 0x80001000, buf, sizeof(buf), NM_STALE_REFUSE, &st), -1);
	/* The walk stopped at a PDE in the paging file: the file holds the
	 * page table there, not the page. */
	pagefile_walk(&mem.walk, NM_LEVEL_PDE, 3, 0);
	assert_int_equal(nm_vmem_read(&m, 0x80001000, buf, sizeof(buf), NM_STALE_REFUSE, &st), -1);
	assert_true(nm_vmem_pagefile(&m, &mem.walk, &l));
	assert_int_equal(l.outcome, NM_PAGEFILE_TABLE);
	/* A prototype PTE that is itself in the paging file. */
	memset(&mem.walk, 0, sizeof(mem.walk));
	mem.walk.state = NM_PAGE_PROTOTYPE;
	mem.walk.proto_resolved = true;
	mem.walk.proto_state = NM_PAGE_PAGEFILE;
	mem.walk.proto_sw.pagefile_number = 3;
	mem.walk.proto_sw.pagefile_offset = 3 * 4096;
	assert_int_equal(nm_vmem_read(&m, 0x80001000, buf, sizeof(buf), NM_STALE_REFUSE, &st), 0);
	assert_int_equal(buf[7], 4);
	/* Other states are untouched by the hook. */
	memset(&mem.walk, 0, sizeof(mem.walk));
	mem.walk.state = NM_PAGE_NOT_MAPPED;
	assert_false(nm_vmem_pagefile(&m, &mem.walk, &l));
	assert_int_equal(nm_vmem_read(&m, 0x80001000, buf, sizeof(buf), NM_STALE_REFUSE, &st), -1);
	nm_pagefiles_close(&set);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(specs_name_a_number_or_file_zero),
		cmocka_unit_test(offset_zero_is_page_zero_and_the_end_is_exact),
		cmocka_unit_test(the_reader_takes_pte_pages_only),
	};
	return cmocka_run_group_tests_name("pagefile", tests, NULL, NULL);
}
