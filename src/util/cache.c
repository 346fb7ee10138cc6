/* The per-file cache (include/ntmem/cache.h). Directory: XDG Base Directory
 * Specification ($XDG_CACHE_HOME, default $HOME/.cache), created 0700. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntmem/cache.h>

static bool cache_dir(char *buf, size_t size, bool create)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	/* The specification: a relative $XDG_CACHE_HOME is invalid, ignore it. */
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.cache", home);
	else
		return false;
	if (n < 0 || (size_t)n >= size)
		return false;
	if (create)
		(void)mkdir(buf, 0700);
	if ((size_t)n + sizeof("/ntmem") > size)
		return false;
	strcat(buf, "/ntmem");
	if (create)
		(void)mkdir(buf, 0700);
	return true;
}

static bool file_path(const struct nm_file_identity *id, const char *kind, char *buf, size_t size,
		      bool create)
{
	char dir[3072];
	int n;

	if (!id || !id->known || !cache_dir(dir, sizeof(dir), create))
		return false;
	n = snprintf(buf, size, "%s/%s-%llx-%llx-%llx-%llx.%09lld", dir, kind,
		     (unsigned long long)id->dev, (unsigned long long)id->ino,
		     (unsigned long long)id->size, (unsigned long long)id->mtime_sec,
		     (long long)id->mtime_nsec);
	return n > 0 && (size_t)n < size;
}

bool nm_cache_path(const struct nm_file_identity *id, const char *kind, char *buf, size_t size)
{
	return file_path(id, kind, buf, size, false);
}

long nm_cache_read(const struct nm_file_identity *id, const char *kind, void *buf, size_t cap)
{
	char path[4096];
	struct stat st;
	size_t done = 0;
	int fd;

	if (!file_path(id, kind, path, sizeof(path), false))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > cap) {
		close(fd);
		return -1;
	}
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, (char *)buf + done, (size_t)st.st_size - done);

		if (r <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)r;
	}
	close(fd);
	return (long)done;
}

/* Entries kept per cache folder: one per image ntmem has scanned; the
 * oldest go first when a new one would exceed it (a CI job over an archive
 * keeps its working set, the folder does not grow without bound). */
#define MAX_ENTRIES 256
#define MAX_LISTED 4096		/* names looked at per pruning */

static void prune(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char oldest[512] = "", path[4096];
	struct timespec when = { 0, 0 };
	unsigned n = 0;

	if (!d)
		return;
	while (n < MAX_LISTED && (e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(oldest))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
		    lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		n++;
		if (!oldest[0] || st.st_mtim.tv_sec < when.tv_sec ||
		    (st.st_mtim.tv_sec == when.tv_sec && st.st_mtim.tv_nsec < when.tv_nsec)) {
			when = st.st_mtim;
			strcpy(oldest, e->d_name);
		}
	}
	closedir(d);
	/* One out per write keeps the folder at the bound once it is reached. */
	if (n > MAX_ENTRIES && oldest[0] &&
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, oldest) < sizeof(path))
		unlink(path);
}

void nm_cache_write(const struct nm_file_identity *id, const char *kind, const void *data, size_t len)
{
	char path[4096], tmp[4200];
	size_t done = 0;
	int fd;

	if (!file_path(id, kind, path, sizeof(path), true))
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= sizeof(tmp))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	while (done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);

		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (close(fd) != 0 || done != len || rename(tmp, path) != 0) {
		unlink(tmp);
		return;
	}
	if (cache_dir(tmp, sizeof(tmp), false))
		prune(tmp);
}

int nm_cache_open(const struct nm_file_identity *id, const char *kind)
{
	char path[4096];
	struct stat st;
	int fd;

	if (!file_path(id, kind, path, sizeof(path), false))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

int nm_cache_create(const struct nm_file_identity *id, const char *kind, char *tmp, size_t size)
{
	char path[4096];

	if (!file_path(id, kind, path, sizeof(path), true))
		return -1;
	if ((size_t)snprintf(tmp, size, "%s.%ld.tmp", path, (long)getpid()) >= size)
		return -1;
	return open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
}

void nm_cache_commit(const struct nm_file_identity *id, const char *kind, const char *tmp)
{
	char path[4096], dir[4096];

	if (!file_path(id, kind, path, sizeof(path), false) || rename(tmp, path) != 0) {
		unlink(tmp);
		return;
	}
	if (cache_dir(dir, sizeof(dir), false))
		prune(dir);
}

void nm_cache_abandon(const char *tmp)
{
	unlink(tmp);
}
