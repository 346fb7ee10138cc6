/* The DTB of an image whose container names none: a scan's candidates
 * (src/mm/dtb_scan.c), kept in the per-file cache so that the next command on
 * the same file does not scan again. Cache format: docs/dtb-scan.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ntmem/cache.h>
#include <ntmem/dtb_find.h>

#define CACHE_KIND "dtb"
#define CACHE_MAGIC "ntmem-dtb-scan 2\n"
#define CACHE_MAX 8192u

static bool parse_cache(char *text, struct nm_dtb_scan *scan, uint32_t *kdbg_va)
{
	unsigned long long pages;
	unsigned candidates, kdbg, n = 0;
	char *line, *save = NULL;

	if (strncmp(text, CACHE_MAGIC, strlen(CACHE_MAGIC)) != 0)
		return false;
	line = strtok_r(text + strlen(CACHE_MAGIC), "\n", &save);
	if (!line || sscanf(line, "pages %llu candidates %u kdbg %x", &pages, &candidates, &kdbg) != 3)
		return false;
	*kdbg_va = kdbg;
	memset(scan, 0, sizeof(*scan));
	scan->pages_scanned = pages;
	scan->candidates = candidates;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		unsigned long long dtb;
		unsigned pae, entries, verdict;
		struct nm_dtb_candidate *c;

		if (n >= NM_DTB_MAX_LISTED ||
		    sscanf(line, "c %llx %u %u %u", &dtb, &pae, &entries, &verdict) != 4 ||
		    pae > 1 || verdict > NM_DTB_NOT_TRIED)
			return false;
		c = &scan->listed[n++];
		c->dtb = dtb;
		c->pae = pae;
		c->kernel_entries = entries;
		c->verdict = verdict;
	}
	scan->nlisted = n;
	/* Only a chosen first candidate is a result worth keeping. */
	return n > 0 && scan->listed[0].verdict == NM_DTB_CHOSEN && candidates >= n;
}

static bool load(const nm_source *src, struct nm_dtb_scan *scan, uint32_t *kdbg_va)
{
	char *text = malloc(CACHE_MAX + 1);
	long len;
	bool ok = false;

	if (!text)
		return false;
	len = nm_cache_read(nm_source_identity(src), CACHE_KIND, text, CACHE_MAX);
	if (len > 0) {
		text[len] = '\0';
		ok = parse_cache(text, scan, kdbg_va);
	}
	free(text);
	return ok;
}

int nm_dtb_find(const nm_source *src, const struct nm_progress *progress, struct nm_dtb_scan *scan,
		bool *from_cache, uint32_t *kdbg_va, nm_error *err)
{
	*kdbg_va = 0;
	*from_cache = load(src, scan, kdbg_va);
	if (*from_cache)
		return 0;
	return nm_dtb_scan_with(src, progress, scan, err);
}

void nm_dtb_remember(const nm_source *src, const struct nm_dtb_scan *scan, uint32_t kdbg_va)
{
	char *text = malloc(CACHE_MAX);
	size_t n;

	if (!text)
		return;
	n = (size_t)snprintf(text, CACHE_MAX, CACHE_MAGIC "pages %llu candidates %u kdbg %x\n",
			     (unsigned long long)scan->pages_scanned, scan->candidates, kdbg_va);
	for (uint32_t i = 0; i < scan->nlisted && n < CACHE_MAX; i++) {
		const struct nm_dtb_candidate *c = &scan->listed[i];

		n += (size_t)snprintf(text + n, CACHE_MAX - n, "c %llx %u %u %u\n",
				      (unsigned long long)c->dtb, c->pae ? 1u : 0u,
				      c->kernel_entries, (unsigned)c->verdict);
	}
	if (n < CACHE_MAX)
		nm_cache_write(nm_source_identity(src), CACHE_KIND, text, n);
	free(text);
}
