/* The host side of the guest console (/dev/console): by default vmlinux's own stdin and
 * stdout, or the channel given with UML's con=, con0= options. A terminal is put in raw
 * mode (the guest's line discipline does the editing) and restored at every exit. */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>

/* A command-line option: key is "con", "con<N>" or "ssl"/"ssl<N>", value a channel:
 * "fd:N", "fd:N,fd:M" (input, output), "null", or "null"/"fd:N" mixed as "IN,OUT".
 * Only console 0 exists: con= is the default for it, con0= wins over con=; other
 * lines and ssl are checked and ignored. Returns 0, or -1 after a one-line message. */
int console_setup(const char *key, const char *value);
/* At boot, on the main thread before any other thread starts (it blocks SIGWINCH).
 * Returns 0, or -1 after a one-line message. */
int console_init(void);
/* Put the host terminal back as it was. Async-signal-safe; also registered atexit. */
void console_restore(void);
/* Kernel messages (printk) straight to the host output, as they are: the caller turns
 * \n into \r\n for the raw terminal. Before console_init(), to stderr. */
void console_write(const char *buf, size_t n);

struct tty;
struct tty *console_tty(void);

#endif
