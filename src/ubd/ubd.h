/* The UML block driver: image files (and UML COW files over a read-only base) as
 * block devices ubda..ubdp, served through io_uring by a block I/O host thread. */
#ifndef UBD_H
#define UBD_H

/* One command-line option whose key is ubd<N>[r][s][d][c][t] (N = 0-15 or a-p),
 * e.g. key "ubd0s", value "cow.img,base.img". Returns 0, or -1 after one line on
 * stderr. */
int ubd_setup(const char *key, const char *value);
/* At boot, from the main thread before the scheduler runs: open, validate and lock
 * every configured image, start the I/O thread, register the block devices.
 * Returns 0, or -1 after one line on stderr naming the file and the problem. */
int ubd_init(void);
/* Complete in-flight I/O, flush, write the COW bitmaps, close, forget the
 * configuration. Also what closing each device through blk_close_all() does. */
void ubd_shutdown(void);

#endif
