/*
 * pydatetime.h - the datetime C API, imported once for the whole extension.
 *
 * <datetime.h> declares a `static PyDateTimeAPI` in every file that
 * includes it, each to be filled by its own PyDateTime_IMPORT.  Instead,
 * module.c imports the capsule once into psqlpy_datetime_api and every
 * file's datetime macros read that pointer; the header's own static copy is
 * left unused (hence the pragma).  Include this instead of <datetime.h>.
 */
#ifndef PSQLPY_PYDATETIME_H
#define PSQLPY_PYDATETIME_H

#include <Python.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-variable"
#include <datetime.h>
#pragma GCC diagnostic pop

/* Set by module.c at module execution (PyCapsule_Import of
 * PyDateTime_CAPSULE_NAME); a process-wide table of C functions and static
 * types, like the one each file would otherwise hold. */
extern PyDateTime_CAPI *psqlpy_datetime_api;
#define PyDateTimeAPI psqlpy_datetime_api

#endif
