/* Regular files only, opened without blocking, mapped under a fault guard.
 *
 * The guard: a mapping faults with SIGBUS when the file is cut short after
 * it was mapped (a dump still being copied, a hostile writer on a shared
 * folder). Page pointers into the mapping are handed to every layer above,
 * so a pread at each use is not possible without copying every page; the
 * handler instead finds which guarded mapping holds the faulting address,
 * prints the contract's line naming the file offset, and ends the process
 * with status 2. It needs to know the mappings, from inside a signal
 * handler: that table is the project's one piece of mutable state outside
 * an object (thread-local, so threads never see each other's). Output files
 * are never under their final name before they are complete (carve_files.c),
 * so ending here leaves nothing half-written behind. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntmem/mapped_file.h>

struct guarded {
	const uint8_t *base;
	size_t len;
	const char *name;
};

static _Thread_local struct guarded guarded_maps[NM_GUARDED_MAX];

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device (copy it to a file first)";
	return "not a regular file";
}

int nm_open_regular(const char *path, int *fd, uint64_t *size, nm_error *err)
{
	struct stat st;
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	*fd = -1;
	if (f < 0)
		return nm_fail(err, "file", "cannot open: %s", strerror(errno));
	if (fstat(f, &st) != 0) {
		int e = errno;

		close(f);
		return nm_fail(err, "file", "cannot inspect: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(f);
		return nm_fail(err, "file", "%s, not a regular file", file_kind(st.st_mode));
	}
	/* Reads of a regular file never block; the flag is dropped only so that
	 * libraries handed the descriptor see an ordinary one. */
	(void)fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK);
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
}

static void put(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void nm_write_printable(int fd, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		char c = *p < 0x20 || *p == 0x7F ? '?' : (char)*p;

		put(fd, &c, 1);
	}
}

static void put_str(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

static void put_hex(int fd, uint64_t v)
{
	char buf[19];
	int i = sizeof(buf);

	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	put(fd, buf + i, sizeof(buf) - (size_t)i);
}

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	const uint8_t *a = si->si_addr;

	(void)uctx;
	for (int i = 0; i < NM_GUARDED_MAX; i++) {
		const struct guarded *g = &guarded_maps[i];

		if (!g->base || a < g->base || a >= g->base + g->len)
			continue;
		put_str(2, "ntmem: ");
		nm_write_printable(2, g->name);
		put_str(2, ": file: changed while being read: no data at offset ");
		put_hex(2, (uint64_t)(a - g->base) & ~UINT64_C(0xFFF));
		put_str(2, " (the file is now shorter than the ");
		put_hex(2, g->len);
		put_str(2, " bytes it had when opened)\n");
		_exit(2);
	}
	/* Not a guarded mapping: the default action, as if no handler were set. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static int guard(const uint8_t *p, size_t len, const char *name)
{
	struct sigaction sa;

	for (int i = 0; i < NM_GUARDED_MAX; i++) {
		if (guarded_maps[i].base)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, NULL) != 0)
			return -1;
		guarded_maps[i].len = len;
		guarded_maps[i].name = name ? name : "-";
		guarded_maps[i].base = p;
		return 0;
	}
	return -1;
}

const uint8_t *nm_map_guarded(int fd, size_t len, const char *name, nm_error *err)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);

	if (p == MAP_FAILED) {
		nm_fail(err, "file", "cannot map: %s", strerror(errno));
		return NULL;
	}
	if (guard(p, len, name) != 0) {
		munmap(p, len);
		nm_fail(err, "file", "cannot guard the mapping (more than %d files at once)", NM_GUARDED_MAX);
		return NULL;
	}
	return p;
}

void nm_unmap_guarded(const uint8_t *p, size_t len)
{
	if (!p)
		return;
	for (int i = 0; i < NM_GUARDED_MAX; i++)
		if (guarded_maps[i].base == p)
			guarded_maps[i].base = NULL;
	munmap((void *)p, len);
}
