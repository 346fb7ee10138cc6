/* The ground around the parsers (issue 15): only regular files are opened,
 * and without blocking; a sparse file's extents are known; a mapping that
 * loses its file's pages ends the process with status 2 and the offset,
 * not SIGBUS; output files appear under their name only when complete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ntmem/carve_files.h>
#include <ntmem/mapped_file.h>

#include "../../src/source/source_internal.h"

struct scratch {
	char dir[64];
};

static int make_scratch(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	snprintf(s->dir, sizeof(s->dir), "/tmp/ntmem-unit-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	*state = s;
	return 0;
}

static int remove_scratch(void **state)
{
	struct scratch *s = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		return -1;
	free(s);
	return 0;
}

static void path_in(const struct scratch *s, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", s->dir, name);
}

static void only_regular_files_open(void **state)
{
	struct scratch *s = *state;
	char fifo[128];
	nm_error err;
	uint64_t size;
	int fd;

	path_in(s, "fifo", fifo, sizeof(fifo));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Would block for ever in open() without O_NONBLOCK. */
	assert_int_equal(nm_open_regular(fifo, &fd, &size, &err), -1);
	assert_non_null(strstr(err.why, "FIFO"));
	assert_int_equal(nm_open_regular(s->dir, &fd, &size, &err), -1);
	assert_non_null(strstr(err.why, "directory"));
	assert_int_equal(nm_open_regular("/dev/null", &fd, &size, &err), -1);
	assert_non_null(strstr(err.why, "character device"));
}

static void sparse_extents(void **state)
{
	struct scratch *s = *state;
	char path[128];
	struct nm_extents x;
	uint8_t page[4096];
	int fd;

	path_in(s, "sparse", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	memset(page, 0xAB, sizeof(page));
	assert_int_equal(pwrite(fd, page, sizeof(page), 0), (ssize_t)sizeof(page));
	assert_int_equal(pwrite(fd, page, sizeof(page), 64 << 20), (ssize_t)sizeof(page));
	assert_int_equal(ftruncate(fd, 128 << 20), 0);
	nm_extents_read(fd, 128 << 20, &x);
	close(fd);
	if (!x.known || x.count != 2) {
		nm_extents_free(&x);
		skip();		/* a file system that does not keep holes */
	}
	assert_int_equal(nm_extents_data_from(&x, 0), 0);
	assert_int_equal(nm_extents_data_from(&x, 4096), 64 << 20);
	assert_int_equal(nm_extents_data_from(&x, (64 << 20) + 100), (64 << 20) + 100);
	assert_true(nm_extents_data_from(&x, (64 << 20) + 4096) == UINT64_MAX);
	nm_extents_free(&x);
}

/* The child maps a file, the file is cut, the child touches the lost page:
 * it must exit 2 with the line naming the offset, not die of SIGBUS. */
static void shrinking_file_is_exit_2(void **state)
{
	struct scratch *s = *state;
	char path[128], line[512] = { 0 };
	uint8_t buf[3 * 4096];
	int pipefd[2], status;
	pid_t pid;
	int fd;

	path_in(s, "shrinks", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT, 0600);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		nm_error err;
		const uint8_t *p;
		volatile uint8_t v;

		dup2(pipefd[1], 2);
		p = nm_map_guarded(fd, sizeof(buf), "the-dump", &err);
		if (!p || ftruncate(fd, 4096) != 0)
			_exit(9);
		v = p[2 * 4096 + 5];
		(void)v;
		_exit(0);
	}
	close(pipefd[1]);
	/* The handler writes the line in pieces: read to the end. */
	for (size_t got = 0; got < sizeof(line) - 1;) {
		ssize_t r = read(pipefd[0], line + got, sizeof(line) - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fd);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(line, "ntmem: the-dump: file: changed while being read: no data at offset 0x2000"));
}

static int count_entries(const char *dir)
{
	char cmd[160];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void output_named_only_when_complete(void **state)
{
	struct scratch *s = *state;
	struct nm_outfile o;
	nm_error err;
	char out[128], path[160];
	struct stat st;
	int dirfd;

	path_in(s, "out", out, sizeof(out));
	assert_int_equal(nm_outdir_open(out, &dirfd, &err), 0);
	snprintf(path, sizeof(path), "%s/a.mem", out);
	/* Abandoned: nothing under either name. */
	assert_int_equal(nm_outfile_begin(dirfd, "a.mem", false, &o, &err), 0);
	assert_int_equal(write(o.fd, "partial", 7), 7);
	assert_int_not_equal(stat(path, &st), 0);
	nm_outfile_abandon(&o);
	assert_int_equal(count_entries(out), 0);
	/* Committed: the complete file under its name, nothing else. */
	assert_int_equal(nm_outfile_begin(dirfd, "a.mem", false, &o, &err), 0);
	assert_int_equal(write(o.fd, "complete", 8), 8);
	assert_int_equal(nm_outfile_commit(&o, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(count_entries(out), 1);
	/* An existing name: refused without force, replaced with it, and then
	 * only at commit. */
	assert_int_equal(nm_outfile_begin(dirfd, "a.mem", false, &o, &err), -1);
	assert_int_equal(nm_outfile_begin(dirfd, "a.mem", true, &o, &err), 0);
	assert_int_equal(write(o.fd, "new", 3), 3);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(nm_outfile_commit(&o, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(nm_outfile_begin(dirfd, "../x", true, &o, &err), -1);
	close(dirfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(only_regular_files_open, make_scratch, remove_scratch),
		cmocka_unit_test_setup_teardown(sparse_extents, make_scratch, remove_scratch),
		cmocka_unit_test_setup_teardown(shrinking_file_is_exit_2, make_scratch, remove_scratch),
		cmocka_unit_test_setup_teardown(output_named_only_when_complete, make_scratch, remove_scratch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
