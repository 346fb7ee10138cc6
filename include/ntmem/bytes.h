/* Little-endian loads from untrusted buffers. Every dump structure is
 * little-endian and may sit at any alignment, so nothing is cast in place. */
#ifndef NTMEM_BYTES_H
#define NTMEM_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Whether all N bytes at P are 0: the first is, and each equals the next. */
static inline bool nm_all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static inline uint16_t nm_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint32_t nm_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) |
	       ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static inline uint64_t nm_le64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)nm_le32(b) | ((uint64_t)nm_le32(b + 4) << 32);
}

#endif
