/*
 * fuzz_target.c - the libFuzzer target for one codec family: FUZZ_FAMILY,
 * set when the Makefile builds fuzz_<family>.  Every decoder of that
 * family's plugin, chosen by the input's header (see fuzz_host.h); the
 * other families are loaded too, as array elements and for host->find().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_host.h"

#ifndef FUZZ_FAMILY
#error "FUZZ_FAMILY must name the family this target fuzzes"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const fz_family *family;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    family = fz_family_named(FUZZ_FAMILY);
    if (!family) {
        fprintf(stderr, "fuzz: family %s is not loaded\n", FUZZ_FAMILY);
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run_one(family, data, size);
    return 0;
}
