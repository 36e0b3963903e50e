/* The COW file real UML made (tests/fixtures/make_uml_cow.sh), for test_cow and test_ubd
 * (uml_fixture.c). Tests run from the top directory. */
#ifndef UML_FIXTURE_H
#define UML_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#define FIXTURES "tests/fixtures/"

/* The value of key in uml_cow.desc, what the script recorded (a static buffer that the
 * next call reuses). */
char *fixture_desc(const char *key);
/* Unpack the gzip file gz into the file at to. */
void fixture_gunzip(const char *gz, const char *to);
/* The whole file at path, malloc'ed; its length in *len. */
uint8_t *slurp(const char *path, size_t *len);

#endif
