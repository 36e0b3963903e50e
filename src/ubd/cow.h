/* UML's copy-on-write file format, version 3, bit for bit (as written by
 * arch/um/drivers/cow_user.c), so COW files move between vmlinux and real UML.
 *
 *   offset  size  field (big-endian, packed)
 *        0     4  magic 0x4F4F4F4D ("OOOM")
 *        4     4  version 3
 *        8     4  mtime of the backing file, seconds, truncated to 32 bits
 *       12     8  size of the backing file in bytes
 *       20     4  sector size, 512
 *       24     4  alignment of bitmap and data, 4096
 *       28     4  cow_format, 0 (a bitmap)
 *       32  4096  absolute path of the backing file, NUL-terminated
 *
 * The bitmap (one bit per sector, least significant bit first) starts at
 * round_up(4128, alignment); the data at round_up(bitmap end, alignment), and
 * sector N lives at data + N * 512.
 *
 * Everything here is pure (no I/O) so unit tests can check it directly. */
#ifndef UBD_COW_H
#define UBD_COW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COW_MAGIC 0x4f4f4f4dU
#define COW_VERSION 3
#define COW_PATH_LEN 4096
#define COW_HEADER_SIZE 4128
#define COW_SECTOR 512
#define COW_ALIGN 4096 /* what UML writes: its PAGE_SIZE */

enum {
	COW_OFF_MAGIC = 0,
	COW_OFF_VERSION = 4,
	COW_OFF_MTIME = 8,
	COW_OFF_SIZE = 12,
	COW_OFF_SECTORSIZE = 20,
	COW_OFF_ALIGNMENT = 24,
	COW_OFF_FORMAT = 28,
	COW_OFF_PATH = 32,
};

struct cow_header {
	uint32_t mtime;
	uint64_t size;
	uint32_t sectorsize;
	uint32_t alignment;
	uint32_t cow_format;
	char backing_file[COW_PATH_LEN];
};

struct cow_layout {
	uint64_t bitmap_offset;
	uint64_t bitmap_len;
	uint64_t data_offset;
};

enum cow_err {
	COW_OK,
	COW_NOT_COW,	   /* no COW magic: an ordinary image */
	COW_TRUNCATED,	   /* COW magic, but shorter than a version 3 header */
	COW_OLD_VERSION,   /* version 1 or 2, or the unpacked pre-2006 version 3 */
	COW_BAD_VERSION,   /* a version that never existed */
	COW_BAD_HEADER,	   /* sector size, alignment, format or path out of range */
	COW_SIZE_CHANGED,  /* the backing file is not the size the header says */
	COW_MTIME_CHANGED, /* the backing file was modified after the COW file was made */
};

const char *cow_strerror(enum cow_err e);

/* Fill a header for a new COW file; path must be absolute (UML stores it so).
 * Returns 0 or -ENAMETOOLONG. */
int cow_header_init(struct cow_header *h, const char *path, uint64_t size, int64_t mtime);
/* Serialise h; bytes after the path's NUL are zero. */
void cow_encode(const struct cow_header *h, uint8_t out[COW_HEADER_SIZE]);
/* Parse the first n bytes of a file. */
enum cow_err cow_decode(const uint8_t *buf, size_t n, struct cow_header *h);
void cow_layout(const struct cow_header *h, struct cow_layout *l);
/* Does the backing file (its size and st_mtime) still match the header? */
enum cow_err cow_check_backing(const struct cow_header *h, uint64_t size, int64_t mtime);

static inline bool cow_test_bit(const uint8_t *bm, uint64_t sector)
{
	return bm[sector >> 3] & (1u << (sector & 7));
}

static inline void cow_set_bit(uint8_t *bm, uint64_t sector)
{
	bm[sector >> 3] |= 1u << (sector & 7);
}

/* Length of the run of sectors starting at sector, at most count, that are all
 * in the COW file (*present) or all in the backing file. */
uint64_t cow_run(const uint8_t *bm, uint64_t sector, uint64_t count, bool *present);

#endif
