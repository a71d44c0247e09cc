/*
 * test_loader.c - plugin loader refusals, each with its own purpose-built
 * plugin file (see plugin_variants.c), and a good plugin that loads and
 * whose codecs are found.  PGD_TEST_PLUGIN_DIR is the directory holding
 * the built variants.
 */
#include "tutil.h"

#ifndef PGD_TEST_PLUGIN_DIR
#error "PGD_TEST_PLUGIN_DIR must name the directory of the test plugins"
#endif

static char path_buf[4096];

static const char *plugin(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s.so", PGD_TEST_PLUGIN_DIR, name);
    return path_buf;
}

/* Load `name` into a fresh registry; expect a refusal mentioning `want`. */
static void refused(const char *name, const char *want)
{
    pgd_registry *r = pgd_registry_new();

    CHECK_MSG(pgd_registry_load(r, plugin(name)) == PGD_ERROR, "%s.so was accepted", name);
    CHECK_CONTAINS(pgd_registry_error(r), want);
    /* the refusal names the file too */
    CHECK_CONTAINS(pgd_registry_error(r), name);
    pgd_registry_free(r);
}

int main(void)
{
    pgd_registry *r;
    const pgd_codec *k, *elem;
    uint32_t eo;

    refused("bad_magic", "bad magic 0xdeadbeef (expected 0x43444750)");
    refused("bad_major", "ABI major 2, this host supports 1");
    refused("short_struct", "struct_size 16 smaller than");
    refused("misnamed", "module name 'other' does not match file 'misnamed.so'");
    refused("nosym", "missing entry symbol pgd_codec_module_v1");

    r = pgd_registry_new();
    CHECK(pgd_registry_load(r, plugin("does_not_exist")) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "cannot load plugin");

    /* duplicate OID across two plugins */
    CHECK_MSG(pgd_registry_load(r, plugin("dup_a")) == PGD_OK, "%s", pgd_registry_error(r));
    CHECK(pgd_registry_load(r, plugin("dup_b")) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "type oid 23 (int4) already registered by module "
                                          "'dup_a'");
    /* the good one */
    CHECK_MSG(pgd_registry_load(r, plugin("good")) == PGD_OK, "%s", pgd_registry_error(r));
    k = pgd_registry_find(r, 90001, &elem, &eo);
    CHECK(k && strcmp(k->type_name, "goodtype") == 0);
    k = pgd_registry_find(r, 23, NULL, NULL);
    CHECK(k && strcmp(k->type_name, "int4") == 0);
    /* no array handler registered: arrays have no codec */
    CHECK(pgd_registry_find(r, 90002, &elem, &eo) == NULL);
    /* loading the same file again is refused, not duplicated */
    CHECK(pgd_registry_load(r, plugin("good")) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "already loaded");
    pgd_registry_free(r);

    /* a directory load stops at the first refusal (bad_magic sorts first) */
    r = pgd_registry_new();
    CHECK(pgd_registry_load_dir(r, PGD_TEST_PLUGIN_DIR) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "bad_magic.so");
    CHECK(pgd_registry_load_dir(r, "/nonexistent/dir") == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "cannot open plugin directory");
    pgd_registry_free(r);
    return t_done("test_loader");
}
