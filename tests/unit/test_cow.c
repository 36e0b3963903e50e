/* UML COW v3 format: header bytes, layout, bitmap bit order and runs, validation,
 * and a COW file made by real UML (tests/fixtures/make_uml_cow.sh). */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ubd/cow.h"
#include "uml_fixture.h"

static void test_header_bytes(void **state)
{
	static uint8_t buf[COW_HEADER_SIZE];
	struct cow_header h;

	assert_int_equal(cow_header_init(&h, "/srv/base.img", 0x0000000100000200ULL, 0x12345678),
			 0);
	memset(buf, 0xaa, sizeof(buf));
	cow_encode(&h, buf);
	assert_int_equal(COW_HEADER_SIZE, 4128);
	assert_memory_equal(buf + 0, "\x4f\x4f\x4f\x4d", 4);		      /* magic */
	assert_memory_equal(buf + 4, "\x00\x00\x00\x03", 4);		      /* version */
	assert_memory_equal(buf + 8, "\x12\x34\x56\x78", 4);		      /* mtime */
	assert_memory_equal(buf + 12, "\x00\x00\x00\x01\x00\x00\x02\x00", 8); /* size */
	assert_memory_equal(buf + 20, "\x00\x00\x02\x00", 4);		      /* sectorsize */
	assert_memory_equal(buf + 24, "\x00\x00\x10\x00", 4);		      /* alignment */
	assert_memory_equal(buf + 28, "\x00\x00\x00\x00", 4);		      /* cow_format */
	assert_string_equal((char *)buf + 32, "/srv/base.img");
	for (size_t i = 32 + strlen("/srv/base.img"); i < COW_HEADER_SIZE; i++)
		assert_int_equal(buf[i], 0);
}

static void test_roundtrip(void **state)
{
	static uint8_t buf[COW_HEADER_SIZE];
	struct cow_header h, d;

	assert_int_equal(cow_header_init(&h, "/a/b c/ünïcode.img", 123456789012ULL, 1700000000), 0);
	cow_encode(&h, buf);
	assert_int_equal(cow_decode(buf, sizeof(buf), &d), COW_OK);
	assert_int_equal(d.mtime, 1700000000);
	assert_int_equal(d.size, 123456789012ULL);
	assert_int_equal(d.sectorsize, 512);
	assert_int_equal(d.alignment, 4096);
	assert_int_equal(d.cow_format, 0);
	assert_string_equal(d.backing_file, "/a/b c/ünïcode.img");
	/* A longer buffer (the start of the bitmap) changes nothing. */
	assert_int_equal(cow_decode(buf, sizeof(buf), &d), COW_OK);
}

static void test_mtime_32bit(void **state)
{
	struct cow_header h;

	/* UML keeps the low 32 bits of st_mtime. */
	cow_header_init(&h, "/b", 512, 0x100000005LL);
	assert_int_equal(h.mtime, 5);
	assert_int_equal(cow_check_backing(&h, 512, 0x100000005LL), COW_OK);
	assert_int_equal(cow_check_backing(&h, 512, 6), COW_MTIME_CHANGED);
	assert_int_equal(cow_check_backing(&h, 1024, 0x100000005LL), COW_SIZE_CHANGED);
}

static void test_path_length(void **state)
{
	static char path[COW_PATH_LEN + 1];
	static uint8_t buf[COW_HEADER_SIZE];
	struct cow_header h;

	memset(path, 'x', COW_PATH_LEN);
	path[0] = '/';
	path[COW_PATH_LEN] = 0;
	assert_int_equal(cow_header_init(&h, path, 0, 0), -ENAMETOOLONG);
	path[COW_PATH_LEN - 1] = 0; /* 4095 characters and the NUL: the most there is room for */
	assert_int_equal(cow_header_init(&h, path, 0, 0), 0);
	cow_encode(&h, buf);
	assert_int_equal(buf[COW_HEADER_SIZE - 1], 0);
	assert_int_equal(buf[COW_HEADER_SIZE - 2], 'x');
	assert_int_equal(cow_decode(buf, sizeof(buf), &h), COW_OK);
	assert_int_equal(strlen(h.backing_file), COW_PATH_LEN - 1);
}

static void test_layout(void **state)
{
	static const struct {
		uint64_t size;
		uint32_t align;
		uint64_t bitmap_offset, bitmap_len, data_offset;
	} t[] = {
	    {0, 4096, 8192, 0, 8192},
	    {1, 4096, 8192, 1, 12288}, /* a partial sector still has a bit */
	    {512, 4096, 8192, 1, 12288},
	    {1000, 4096, 8192, 1, 12288},
	    {8 * 512, 4096, 8192, 1, 12288},
	    {9 * 512, 4096, 8192, 2, 12288},
	    {4 << 20, 4096, 8192, 1024, 12288},
	    {32768 * 512, 4096, 8192, 4096, 12288},
	    {32769 * 512, 4096, 8192, 4097, 16384},
	    {1ULL << 30, 4096, 8192, 262144, 270336},
	    {(1ULL << 30) + 512, 4096, 8192, 262145, 274432},
	    {(1ULL << 40), 4096, 8192, 268435456, 268443648},
	    {4 << 20, 512, 4608, 1024, 5632},
	    {4 << 20, 65536, 65536, 1024, 131072},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct cow_header h;
		struct cow_layout l;

		cow_header_init(&h, "/b", t[i].size, 0);
		h.alignment = t[i].align;
		cow_layout(&h, &l);
		assert_int_equal(l.bitmap_offset, t[i].bitmap_offset);
		assert_int_equal(l.bitmap_len, t[i].bitmap_len);
		assert_int_equal(l.data_offset, t[i].data_offset);
	}
}

static void test_bit_order(void **state)
{
	uint8_t bm[4] = {0};

	/* Least significant bit first, as UML's ubd_set_bit(). */
	cow_set_bit(bm, 0);
	assert_int_equal(bm[0], 0x01);
	cow_set_bit(bm, 7);
	assert_int_equal(bm[0], 0x81);
	cow_set_bit(bm, 8);
	cow_set_bit(bm, 13);
	assert_int_equal(bm[1], 0x21);
	cow_set_bit(bm, 31);
	assert_int_equal(bm[3], 0x80);
	assert_true(cow_test_bit(bm, 0) && cow_test_bit(bm, 7) && cow_test_bit(bm, 13));
	assert_false(cow_test_bit(bm, 1) || cow_test_bit(bm, 12) || cow_test_bit(bm, 30));
}

static uint64_t naive_run(const uint8_t *bm, uint64_t s, uint64_t n, bool *present)
{
	uint64_t i = 1;

	*present = cow_test_bit(bm, s);
	while (i < n && cow_test_bit(bm, s + i) == *present)
		i++;
	return i;
}

static void test_runs(void **state)
{
	uint8_t bm[64] = {0};
	bool present;

	/* sectors 3..20 present, 21..99 absent, 100..511 present */
	for (int s = 3; s <= 20; s++)
		cow_set_bit(bm, s);
	for (int s = 100; s < 512; s++)
		cow_set_bit(bm, s);
	assert_int_equal(cow_run(bm, 0, 512, &present), 3);
	assert_false(present);
	assert_int_equal(cow_run(bm, 3, 509, &present), 18);
	assert_true(present);
	assert_int_equal(cow_run(bm, 21, 491, &present), 79);
	assert_false(present);
	assert_int_equal(cow_run(bm, 100, 412, &present), 412);
	assert_true(present);
	assert_int_equal(cow_run(bm, 100, 5, &present), 5); /* the count bounds a run */
	assert_int_equal(cow_run(bm, 5, 1, &present), 1);

	/* Against a plain bit loop, on random bitmaps of long and short runs. */
	srand(42);
	for (int round = 0; round < 2000; round++) {
		uint64_t s, n, got, want;
		bool p1, p2;

		for (size_t i = 0; i < sizeof(bm); i++) {
			int r = rand() % 4;

			bm[i] = r == 0 ? 0 : r == 1 ? 0xff : rand();
		}
		s = rand() % (sizeof(bm) * 8);
		n = 1 + rand() % (sizeof(bm) * 8 - s);
		got = cow_run(bm, s, n, &p1);
		want = naive_run(bm, s, n, &p2);
		assert_int_equal(got, want);
		assert_int_equal(p1, p2);
	}
}

static void test_truncated(void **state)
{
	static uint8_t buf[COW_HEADER_SIZE];
	struct cow_header h;

	cow_header_init(&h, "/base", 4096, 1);
	cow_encode(&h, buf);
	assert_int_equal(cow_decode(buf, COW_HEADER_SIZE - 1, &h), COW_TRUNCATED);
	assert_int_equal(cow_decode(buf, 100, &h), COW_TRUNCATED);
	assert_int_equal(cow_decode(buf, 7, &h), COW_TRUNCATED);
	assert_int_equal(cow_decode(buf, 4, &h), COW_TRUNCATED);
	/* Too short to hold the magic: an ordinary (tiny) image. */
	assert_int_equal(cow_decode(buf, 3, &h), COW_NOT_COW);
	assert_int_equal(cow_decode(buf, 0, &h), COW_NOT_COW);
}

static void test_not_cow(void **state)
{
	static uint8_t buf[COW_HEADER_SIZE], good[COW_HEADER_SIZE];
	struct cow_header h;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(cow_decode(buf, sizeof(buf), &h), COW_NOT_COW);
	memcpy(buf,
	       "\x7f"
	       "ELF",
	       4);
	assert_int_equal(cow_decode(buf, sizeof(buf), &h), COW_NOT_COW);

	cow_header_init(&h, "/base", 4096, 1);
	cow_encode(&h, good);
#define MUTATE(off, bytes, expect)                                                                 \
	do {                                                                                       \
		memcpy(buf, good, sizeof(buf));                                                    \
		memcpy(buf + (off), bytes, sizeof(bytes) - 1);                                     \
		assert_int_equal(cow_decode(buf, sizeof(buf), &h), expect);                        \
	} while (0)
	MUTATE(0, "\x4d\x4f\x4f\x4f", COW_OLD_VERSION); /* host-order magic: version 1 */
	MUTATE(4, "\x00\x00\x00\x01", COW_OLD_VERSION);
	MUTATE(4, "\x00\x00\x00\x02", COW_OLD_VERSION);
	MUTATE(4, "\x00\x00\x00\x04", COW_BAD_VERSION);
	MUTATE(20, "\x00\x00\x10\x00", COW_BAD_HEADER);	 /* sector size 4096 */
	MUTATE(24, "\x00\x00\x00\x00", COW_BAD_HEADER);	 /* alignment 0 */
	MUTATE(24, "\x10\x00\x00\x00", COW_BAD_HEADER);	 /* alignment 256 MiB */
	MUTATE(28, "\x00\x00\x00\x01", COW_BAD_HEADER);	 /* cow_format 1 */
	MUTATE(32, "\x00\x00\x00\x00", COW_OLD_VERSION); /* unpacked pre-2006 layout */
	memcpy(buf, good, sizeof(buf));
	memset(buf + 32, 'a', COW_PATH_LEN); /* no NUL */
	assert_int_equal(cow_decode(buf, sizeof(buf), &h), COW_BAD_HEADER);
	assert_non_null(cow_strerror(COW_MTIME_CHANGED));
}

/* --- the COW file real UML made ------------------------------------------------- */

static char tmpdir[64];

/* The gzip file gz, unpacked into memory (malloc'ed); its length in *len. */
static uint8_t *gunzip(const char *gz, size_t *len)
{
	char path[128];
	uint8_t *buf;

	snprintf(path, sizeof(path), "%s/unpacked", tmpdir);
	fixture_gunzip(gz, path);
	buf = slurp(path, len);
	unlink(path);
	return buf;
}

static void test_uml_fixture(void **state)
{
	static uint8_t ours[COW_HEADER_SIZE];
	uint64_t size = strtoull(fixture_desc("size"), NULL, 10);
	char marker[64];
	struct cow_header h, mine;
	struct cow_layout l;
	size_t len, defined, tail = 0, written = 0;
	uint8_t *cow = gunzip(FIXTURES "uml.cow.gz", &len);
	uint8_t *hit;

	/* fixture_desc() reuses its buffer */
	snprintf(marker, sizeof(marker), "%s", fixture_desc("marker"));
	/* UML's header decodes to what the script recorded. */
	assert_int_equal(cow_decode(cow, len, &h), COW_OK);
	assert_string_equal(h.backing_file, fixture_desc("backing"));
	assert_int_equal(h.size, size);
	assert_int_equal(h.mtime, strtoul(fixture_desc("mtime"), NULL, 10));
	assert_int_equal(h.sectorsize, strtoul(fixture_desc("sectorsize"), NULL, 10));
	assert_int_equal(h.sectorsize, 512);
	assert_int_equal(h.alignment, strtoul(fixture_desc("alignment"), NULL, 10));
	assert_int_equal(h.cow_format, strtoul(fixture_desc("cow_format"), NULL, 10));

	/* Our encoder writes the same bytes for the same inputs. UML leaves the rest of
	 * the path field as it found it in memory (kmalloc'ed, not zeroed): only the
	 * bytes up to the path's NUL are defined there. Ours are zeros. */
	assert_int_equal(cow_header_init(&mine, fixture_desc("backing"), size,
					 strtoll(fixture_desc("mtime"), NULL, 10)),
			 0);
	cow_encode(&mine, ours);
	defined = COW_OFF_PATH + strlen(h.backing_file) + 1;
	assert_memory_equal(ours, cow, defined);
	for (size_t i = defined; i < COW_HEADER_SIZE; i++) {
		assert_int_equal(ours[i], 0);
		tail += cow[i] != 0;
	}
	print_message("UML header: %zu defined bytes identical; %zu leftover bytes after "
		      "the path's NUL\n",
		      defined, tail);

	/* UML sized the file data offset + backing size. */
	cow_layout(&h, &l);
	assert_int_equal(l.bitmap_offset, 8192);
	assert_int_equal(l.data_offset + size, strtoull(fixture_desc("cow_file_size"), NULL, 10));
	assert_int_equal(len, l.data_offset + size);

	/* Bitmap position and bit order: every sector UML put data in has its bit set,
	 * and the marker its init wrote is in one of them. */
	for (uint64_t s = 0; s < size / 512; s++) {
		const uint8_t *sec = cow + l.data_offset + s * 512;
		bool zero = true;

		for (int i = 0; i < 512 && zero; i++)
			zero = !sec[i];
		if (!zero) {
			assert_true(cow_test_bit(cow + l.bitmap_offset, s));
			written++;
		}
	}
	assert_true(written > 0);
	hit = memmem(cow + l.data_offset, size, marker, strlen(marker));
	assert_non_null(hit);
	assert_true(cow_test_bit(cow + l.bitmap_offset, (hit - cow - l.data_offset) / 512));
	free(cow);
}

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/test_cow.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_bytes), cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_mtime_32bit),	 cmocka_unit_test(test_path_length),
	    cmocka_unit_test(test_layout),	 cmocka_unit_test(test_bit_order),
	    cmocka_unit_test(test_runs),	 cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_not_cow),	 cmocka_unit_test(test_uml_fixture),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
