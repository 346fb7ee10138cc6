/* Untrusted module names become safe file names, files are created only
 * inside the output directory, never through links, never over a file
 * without force; JSON strings from the dump are always valid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntmem/carve_files.h>

static void assert_safe(const char *s)
{
	size_t n = strlen(s);

	assert_true(n > 0 && n <= NM_OUTPUT_NAME_MAX);
	assert_true(s[0] != '.');
	for (size_t i = 0; i < n; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@", s[i]));
}

static void hostile_names_are_sanitised(void **state)
{
	char out[NM_SAFE_NAME_MAX + 1], stem[NM_OUTPUT_NAME_MAX + 1];
	char *long_name = malloc(4001);

	(void)state;
	nm_safe_name("..\\..\\x", out);
	assert_string_equal(out, "_._.._x");
	nm_safe_name("/etc/passwd", out);
	assert_string_equal(out, "_etc_passwd");
	nm_safe_name("srv.sys", out);
	assert_string_equal(out, "srv.sys");
	nm_safe_name(".hidden", out);
	assert_string_equal(out, "_hidden");
	nm_safe_name("a\x01\x1b[31m\n\tb\x7f", out);
	assert_string_equal(out, "a___31m__b_");
	nm_safe_name("caf\xc3\xa9.sys", out);
	assert_string_equal(out, "caf__.sys");
	nm_safe_name("", out);
	assert_string_equal(out, "unnamed");
	nm_safe_name(NULL, out);
	assert_string_equal(out, "unnamed");
	memset(long_name, 'A', 4000);
	long_name[4000] = 0;
	nm_safe_name(long_name, out);
	assert_int_equal(strlen(out), NM_SAFE_NAME_MAX);
	nm_carve_stem(long_name, 0xFFFFFFFFu, stem);
	assert_true(strlen(stem) + strlen(".holes.json") <= NM_OUTPUT_NAME_MAX);
	assert_safe(stem);
	nm_carve_stem(long_name, 0xFFFFFFFFFFFFF000ull, stem);	/* the widest x64 base */
	assert_true(strlen(stem) + strlen(".holes.json") <= NM_OUTPUT_NAME_MAX);
	assert_string_equal(stem + NM_SAFE_NAME_MAX, "@0xfffffffffffff000");
	nm_carve_stem("srv.sys", 0xF7E8B000u, stem);
	assert_string_equal(stem, "srv.sys@0xf7e8b000");
	nm_carve_stem("x64net.sys", 0xFFFFF88001100000ull, stem);
	assert_string_equal(stem, "x64net.sys@0xfffff88001100000");
	nm_carve_stem("../../../etc/cron.d/x", 0x1000, stem);
	assert_safe(stem);
	free(long_name);
}

struct tmpdir {
	char path[64];
	int fd;
};

static int make_tmpdir(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));
	nm_error err;

	strcpy(t->path, "/tmp/ntmem-names-XXXXXX");
	if (!mkdtemp(t->path) || nm_outdir_open(t->path, &t->fd, &err) != 0)
		return -1;
	*state = t;
	return 0;
}

static int remove_tmpdir(void **state)
{
	struct tmpdir *t = *state;
	char cmd[128];

	close(t->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void creates_without_replacing(void **state)
{
	struct tmpdir *t = *state;
	int fd;
	nm_error err;
	struct stat st;

	assert_int_equal(nm_outdir_create(t->fd, "a.mem", false, &fd, &err), 0);
	assert_int_equal(write(fd, "old", 3), 3);
	close(fd);
	assert_int_equal(nm_outdir_create(t->fd, "a.mem", false, &fd, &err), -1);
	assert_non_null(strstr(err.why, "--force"));
	assert_int_equal(nm_outdir_create(t->fd, "a.mem", true, &fd, &err), 0);
	close(fd);
	assert_int_equal(fstatat(t->fd, "a.mem", &st, 0), 0);
	assert_int_equal(st.st_size, 0);
}

static void never_follows_or_replaces_links(void **state)
{
	struct tmpdir *t = *state;
	char target[128];
	int fd;
	nm_error err;
	struct stat st;

	snprintf(target, sizeof(target), "%s/target", t->path);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(symlinkat(target, t->fd, "link.pe"), 0);
	assert_int_equal(nm_outdir_create(t->fd, "link.pe", false, &fd, &err), -1);
	assert_int_equal(nm_outdir_create(t->fd, "link.pe", true, &fd, &err), -1);
	assert_non_null(strstr(err.why, "not a regular file"));
	assert_int_equal(symlinkat("/nonexistent/dangling", t->fd, "dangling.pe"), 0);
	assert_int_equal(nm_outdir_create(t->fd, "dangling.pe", true, &fd, &err), -1);
	assert_int_equal(mkdirat(t->fd, "dir.mem", 0755), 0);
	assert_int_equal(nm_outdir_create(t->fd, "dir.mem", true, &fd, &err), -1);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 4);
}

static void refuses_unsafe_components(void **state)
{
	struct tmpdir *t = *state;
	static const char *const bad[] = { "../x", "/etc/passwd", ".hidden", "", "a/b", "..", ".", "a b" };
	char long_name[200];
	int fd;
	nm_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nm_outdir_create(t->fd, bad[i], true, &fd, &err), -1);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_int_equal(nm_outdir_create(t->fd, long_name, true, &fd, &err), -1);
}

static void output_directory_is_created_one_level(void **state)
{
	struct tmpdir *t = *state;
	char path[128];
	int fd;
	nm_error err;

	snprintf(path, sizeof(path), "%s/new", t->path);
	assert_int_equal(nm_outdir_open(path, &fd, &err), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/no/such/deep", t->path);
	assert_int_equal(nm_outdir_open(path, &fd, &err), -1);
}

static char *json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	nm_json_write_string(f, s);
	fclose(f);
	return buf;
}

static void json_strings_are_always_valid(void **state)
{
	char *j;
	char out[32];

	(void)state;
	j = json_of("a\"b\\c\n\x01");
	assert_string_equal(j, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	free(j);
	j = json_of("caf\xc3\xa9");
	assert_string_equal(j, "\"caf\xc3\xa9\"");
	free(j);
	j = json_of("bad\xff\xc3(\xed\xa0\x80");	/* invalid byte, truncated sequence, surrogate */
	assert_string_equal(j, "\"bad\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\"");
	free(j);
	nm_utf8_sanitize("x\xffy", out, sizeof(out));
	assert_string_equal(out, "x\xef\xbf\xbdy");
	nm_utf8_sanitize("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_names_are_sanitised),
		cmocka_unit_test_setup_teardown(creates_without_replacing, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(never_follows_or_replaces_links, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(refuses_unsafe_components, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(output_directory_is_created_one_level, make_tmpdir, remove_tmpdir),
		cmocka_unit_test(json_strings_are_always_valid),
	};
	return cmocka_run_group_tests_name("safe_names", tests, NULL, NULL);
}
