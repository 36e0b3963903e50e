/* UML's COW version 3 header, bitmap and layout: see cow.h. */
#include "cow.h"

#include <errno.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Division, not masking: the header may carry any alignment. */
static uint64_t round_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

const char *cow_strerror(enum cow_err e)
{
	switch (e) {
	case COW_OK:
		return "valid COW file";
	case COW_NOT_COW:
		return "not a COW file";
	case COW_TRUNCATED:
		return "truncated COW file (shorter than its header)";
	case COW_OLD_VERSION:
		return "COW file of an old format (version 1, 2 or pre-2006 version 3), "
		       "not supported";
	case COW_BAD_VERSION:
		return "COW file of an unknown version";
	case COW_BAD_HEADER:
		return "corrupt COW header (sector size, alignment, format or path)";
	case COW_SIZE_CHANGED:
		return "backing file changed size since the COW file was made";
	case COW_MTIME_CHANGED:
		return "backing file was modified since the COW file was made";
	}
	return "unknown COW error";
}

int cow_header_init(struct cow_header *h, const char *path, uint64_t size, int64_t mtime)
{
	size_t n = strlen(path);

	if (n >= COW_PATH_LEN)
		return -ENAMETOOLONG;
	memset(h, 0, sizeof(*h));
	h->mtime = (uint32_t)mtime;
	h->size = size;
	h->sectorsize = COW_SECTOR;
	h->alignment = COW_ALIGN;
	h->cow_format = 0;
	memcpy(h->backing_file, path, n);
	return 0;
}

void cow_encode(const struct cow_header *h, uint8_t out[COW_HEADER_SIZE])
{
	memset(out, 0, COW_HEADER_SIZE);
	put32(out + COW_OFF_MAGIC, COW_MAGIC);
	put32(out + COW_OFF_VERSION, COW_VERSION);
	put32(out + COW_OFF_MTIME, h->mtime);
	put64(out + COW_OFF_SIZE, h->size);
	put32(out + COW_OFF_SECTORSIZE, h->sectorsize);
	put32(out + COW_OFF_ALIGNMENT, h->alignment);
	put32(out + COW_OFF_FORMAT, h->cow_format);
	memcpy(out + COW_OFF_PATH, h->backing_file, strnlen(h->backing_file, COW_PATH_LEN - 1));
}

enum cow_err cow_decode(const uint8_t *buf, size_t n, struct cow_header *h)
{
	const char *path = (const char *)buf + COW_OFF_PATH;
	uint32_t version;

	if (n < 4)
		return COW_NOT_COW;
	/* UML's version 1 headers were written in host order: little-endian here. */
	if (get32(buf) != COW_MAGIC)
		return get32(buf) == __builtin_bswap32(COW_MAGIC) ? COW_OLD_VERSION : COW_NOT_COW;
	if (n < 8)
		return COW_TRUNCATED;
	version = get32(buf + COW_OFF_VERSION);
	if (version == 1 || version == 2)
		return COW_OLD_VERSION;
	if (version != COW_VERSION)
		return COW_BAD_VERSION;
	if (n < COW_HEADER_SIZE)
		return COW_TRUNCATED;
	/* Before Dec 2005, 64-bit UML wrote version 3 unpacked: mtime took 8 bytes and
	 * cow_format (always 0) landed on the first 4 bytes of the path. A real path
	 * never starts with 4 zeros. */
	if (!memcmp(path, "\0\0\0\0", 4))
		return COW_OLD_VERSION;
	if (!memchr(path, 0, COW_PATH_LEN))
		return COW_BAD_HEADER;

	memset(h, 0, sizeof(*h));
	h->mtime = get32(buf + COW_OFF_MTIME);
	h->size = get64(buf + COW_OFF_SIZE);
	h->sectorsize = get32(buf + COW_OFF_SECTORSIZE);
	h->alignment = get32(buf + COW_OFF_ALIGNMENT);
	h->cow_format = get32(buf + COW_OFF_FORMAT);
	strcpy(h->backing_file, path);
	/* The bitmap maps 512-byte sectors; an absurd alignment or size would put
	 * the data area beyond any file. */
	if (h->sectorsize != COW_SECTOR || h->cow_format != 0 || !h->alignment ||
	    h->alignment > (1u << 24) || h->size > (UINT64_C(1) << 60))
		return COW_BAD_HEADER;
	return COW_OK;
}

void cow_layout(const struct cow_header *h, struct cow_layout *l)
{
	uint64_t sectors = (h->size + h->sectorsize - 1) / h->sectorsize;

	l->bitmap_offset = round_up(COW_HEADER_SIZE, h->alignment);
	l->bitmap_len = (sectors + 7) / 8;
	l->data_offset = round_up(l->bitmap_offset + l->bitmap_len, h->alignment);
}

enum cow_err cow_check_backing(const struct cow_header *h, uint64_t size, int64_t mtime)
{
	if (size != h->size)
		return COW_SIZE_CHANGED;
	/* UML keeps only the low 32 bits of the seconds. */
	if ((uint32_t)mtime != h->mtime)
		return COW_MTIME_CHANGED;
	return COW_OK;
}

uint64_t cow_run(const uint8_t *bm, uint64_t sector, uint64_t count, bool *present)
{
	bool state = cow_test_bit(bm, sector);
	uint8_t full = state ? 0xff : 0;
	uint64_t n = 1;

	*present = state;
	while (n < count) {
		uint64_t s = sector + n;

		/* Whole bytes at a time through long uniform stretches. */
		if (!(s & 7) && count - n >= 8 && bm[s >> 3] == full) {
			n += 8;
			continue;
		}
		if (cow_test_bit(bm, s) != state)
			break;
		n++;
	}
	return n;
}
