/* Shared by the libFuzzer targets: takes typed values off the front of the
 * fuzzer's input, so one input can hold both parameters (flags, addresses)
 * and the bytes to parse. Running out of input yields zeros, never a read
 * past the end. */
#ifndef NTMEM_FUZZ_COMMON_H
#define NTMEM_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <ntmem/bytes.h>

struct fuzz_input {
	const uint8_t *p;
	size_t n;
};

static inline uint32_t fuzz_take_u32(struct fuzz_input *in)
{
	uint8_t b[4] = { 0 };

	for (size_t i = 0; i < sizeof(b) && in->n > 0; i++, in->p++, in->n--)
		b[i] = *in->p;
	return nm_le32(b);
}

static inline uint64_t fuzz_take_u64(struct fuzz_input *in)
{
	uint64_t lo = fuzz_take_u32(in);

	return lo | ((uint64_t)fuzz_take_u32(in) << 32);
}

static inline uint8_t fuzz_take_u8(struct fuzz_input *in)
{
	uint8_t b = 0;

	if (in->n > 0) {
		b = *in->p;
		in->p++;
		in->n--;
	}
	return b;
}

/* Reads every byte of a page a parser handed out, so that ASan sees a
 * pointer that strays outside its buffer. */
static inline unsigned fuzz_touch(const uint8_t *p, size_t len)
{
	unsigned sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return sum;
}

#endif
