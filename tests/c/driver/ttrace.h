/* ttrace.h - libpq's protocol trace on a driver connection (ttrace.c). */
#ifndef TTRACE_H
#define TTRACE_H

#include <stdio.h>

#include "pgd.h"

/* Trace the frontend and backend messages of c into f (no timestamps). */
void t_trace_on(pgd_conn *c, FILE *f);
void t_trace_off(pgd_conn *c);

#endif /* TTRACE_H */
