/*
 * loader.c - codec plugins: dlopen, descriptor checks, registration.
 *
 * The descriptor is read defensively, in order: magic first (4 bytes),
 * then the ABI major, then struct_size before any later field, then
 * codec_size before any codec is looked at.  Every refusal names the
 * field that is wrong.  Plugins are never dlclose'd: their codecs and
 * strings are referenced by statements and results for the process's life.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Bytes of pgd_codec_module / pgd_codec this host reads. */
#define MODULE_MIN_SIZE offsetof(pgd_codec_module, reserved_)
#define CODEC_MIN_SIZE offsetof(pgd_codec, reserved_)
#define MAX_CODECS 4096u
#define MAX_NAME 128u

static int check_codec(pgd_registry *r, const pgd_codec_module *m, size_t i, const pgd_codec *k)
{
    const char *tn = k->type_name;

    if (!tn || !*tn || strnlen(tn, MAX_NAME) >= MAX_NAME)
        return pgd_registry_fail(r, "module '%s': codec %zu has no valid type_name", m->name, i);
    if (!(k->flags & (PGD_CODEC_BINARY | PGD_CODEC_TEXT)))
        return pgd_registry_fail(r, "module '%s': codec %zu (%s) has neither the binary nor the "
                                    "text flag", m->name, i, tn);
    if ((k->flags & PGD_CODEC_BINARY) && (!k->decode_binary || !k->encode_binary))
        return pgd_registry_fail(r, "module '%s': codec %zu (%s) has the binary flag but no %s",
                                 m->name, i, tn, k->decode_binary ? "encode_binary" : "decode_binary");
    if ((k->flags & PGD_CODEC_TEXT) && !k->decode_text)
        return pgd_registry_fail(r, "module '%s': codec %zu (%s) has the text flag but no "
                                    "decode_text", m->name, i, tn);
    return PGD_OK;
}

int pgd_registry_add_checked(pgd_registry *r, const pgd_codec_module *m, const char *expected_name,
                             const char *file)
{
    size_t i;

    if (!m)
        return pgd_registry_fail(r, "no module descriptor (NULL)");
    if (m->magic != PGD_CODEC_MAGIC)
        return pgd_registry_fail(r, "bad magic 0x%08x (expected 0x%08x)", (unsigned)m->magic,
                                 (unsigned)PGD_CODEC_MAGIC);
    if (m->abi_major != PGD_CODEC_ABI_MAJOR)
        return pgd_registry_fail(r, "ABI major %u, this host supports %d", (unsigned)m->abi_major,
                                 PGD_CODEC_ABI_MAJOR);
    if (m->struct_size < MODULE_MIN_SIZE)
        return pgd_registry_fail(r, "struct_size %u smaller than %zu (the pgd_codec_module "
                                    "fields of ABI %d.0)", (unsigned)m->struct_size,
                                 MODULE_MIN_SIZE, PGD_CODEC_ABI_MAJOR);
    if (m->codec_size < CODEC_MIN_SIZE)
        return pgd_registry_fail(r, "codec_size %u smaller than %zu (the pgd_codec fields of "
                                    "ABI %d.0)", (unsigned)m->codec_size, CODEC_MIN_SIZE,
                                 PGD_CODEC_ABI_MAJOR);
    if (m->codec_size % sizeof(void *) != 0)
        return pgd_registry_fail(r, "codec_size %u is not a multiple of %zu",
                                 (unsigned)m->codec_size, sizeof(void *));
    if (!m->name || !*m->name || strnlen(m->name, MAX_NAME) >= MAX_NAME)
        return pgd_registry_fail(r, "module name missing or longer than %u bytes", MAX_NAME - 1);
    if (expected_name && strcmp(m->name, expected_name) != 0) {
        if (file)
            return pgd_registry_fail(r, "module name '%s' does not match file '%s'", m->name,
                                     file);
        return pgd_registry_fail(r, "module name '%s' does not match the expected '%s'", m->name,
                                 expected_name);
    }
    if (m->n_codecs > MAX_CODECS)
        return pgd_registry_fail(r, "module '%s': n_codecs %zu exceeds %u", m->name, m->n_codecs,
                                 MAX_CODECS);
    if (m->n_codecs && !m->codecs)
        return pgd_registry_fail(r, "module '%s': n_codecs %zu but codecs is NULL", m->name,
                                 m->n_codecs);
    for (i = 0; i < m->n_codecs; i++) {
        const pgd_codec *k =
            (const pgd_codec *)(const void *)((const char *)m->codecs + i * m->codec_size);

        if (check_codec(r, m, i, k) != PGD_OK)
            return PGD_ERROR;
    }
    return pgd_registry_register(r, m);
}

int pgd_registry_add_module(pgd_registry *r, const pgd_codec_module *m, const char *expected_name)
{
    return pgd_registry_add_checked(r, m, expected_name, NULL);
}

int pgd_registry_load(pgd_registry *r, const char *path)
{
    const char *file, *dot;
    char name[MAX_NAME];
    size_t n;
    void *dl;
    pgd_codec_module_fn entry;

    file = strrchr(path, '/');
    file = file ? file + 1 : path;
    dot = strrchr(file, '.');
    if (!dot || strcmp(dot, ".so") != 0)
        return pgd_registry_fail(r, "plugin file '%s' does not end in .so", file);
    n = (size_t)(dot - file);
    if (n == 0 || n >= sizeof name)
        return pgd_registry_fail(r, "plugin file name '%s' is empty or too long", file);
    memcpy(name, file, n);
    name[n] = '\0';

    /* RTLD_LOCAL: a plugin's symbols never leak into other plugins. */
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();

        return pgd_registry_fail(r, "cannot load plugin '%s': %s", path, e ? e : "dlopen failed");
    }
    /* Casting through a union keeps -Wpedantic quiet about object ->
     * function pointer conversion. */
    {
        union {
            void *p;
            pgd_codec_module_fn f;
        } u;

        dlerror();
        u.p = dlsym(dl, PGD_CODEC_ENTRY);
        entry = u.f;
    }
    if (!entry)
        return pgd_registry_fail(r, "plugin '%s': missing entry symbol %s", file, PGD_CODEC_ENTRY);
    if (pgd_registry_add_checked(r, entry(), name, file) != PGD_OK) {
        /* Prefix the file so a refusal from a directory load says which. */
        char tmp[sizeof r->err];

        memcpy(tmp, r->err, sizeof tmp);
        return pgd_registry_fail(r, "plugin '%s': %s", file, tmp);
    }
    return PGD_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int pgd_registry_load_dir(pgd_registry *r, const char *dir)
{
    DIR *d = NULL;
    struct dirent *de;
    char **names = NULL, *path = NULL;
    size_t n = 0, cap = 0, i;
    int rc = PGD_ERROR;

    d = opendir(dir);
    if (!d) {
        pgd_registry_fail(r, "cannot open plugin directory '%s'", dir);
        goto error;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0)
            continue;
        if (pgd_grow(&names, n, &cap, sizeof *names, 16) != PGD_OK ||
            !(names[n] = pgd_strdup(de->d_name))) {
            pgd_registry_fail(r, "out of memory listing '%s'", dir);
            goto error;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;

        pgd_free(path);
        path = pgd_malloc(len);
        if (!path) {
            pgd_registry_fail(r, "out of memory listing '%s'", dir);
            goto error;
        }
        snprintf(path, len, "%s/%s", dir, names[i]);
        if (pgd_registry_load(r, path) != PGD_OK)
            goto error;
    }
    rc = PGD_OK;
error:
    if (d)
        closedir(d);
    for (i = 0; i < n; i++)
        pgd_free(names[i]);
    pgd_free(names);
    pgd_free(path);
    return rc;
}
