/*
 * ttrace.c - libpq's protocol trace on a driver connection, for tests that
 * count the messages an operation sends (test_unnamed.c).  A file of its
 * own because it needs the driver's private structures (internal.h),
 * which clash with the C codec host's.
 */
#include <stdio.h>

#include "../../../driver/src/internal.h"

#include "ttrace.h"

void t_trace_on(pgd_conn *c, FILE *f)
{
    PQtrace(c->pg, f);
    PQsetTraceFlags(c->pg, PQTRACE_SUPPRESS_TIMESTAMPS);
}

void t_trace_off(pgd_conn *c) { PQuntrace(c->pg); }
