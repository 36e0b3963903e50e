#ifndef EXEC_H
#define EXEC_H

#include "task.h"

struct strv;
/* NULL-terminated argument and environment arrays in kernel memory. */
struct strv_in {
	const char *const *argv;
	const char *const *envp;
};

/* Replace the current process image (boot uses this to start init). */
int do_execve(int dirfd, const char *path, struct strv_in *in, int at_flags);
int execve_strv(int dirfd, const char *path, struct strv *argv, struct strv *envp, int at_flags);

#endif
