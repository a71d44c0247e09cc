/*
 * test_registry.c - the allocator table and the codec registry (no server):
 * both allocators work through the table; lookups of base types, arrays
 * (array handler + element codec), OIDs in the dense range and in the
 * hash, unknown OIDs; in-process module checks.
 */
#include "tutil.h"

static int fake_calls;
static void *fake_malloc(size_t n) { fake_calls++; return malloc(n); }
static void *fake_realloc(void *p, size_t n) { fake_calls++; return realloc(p, n); }
static void fake_free(void *p) { fake_calls++; free(p); }
static const pgd_allocator fake = {"counting", fake_malloc, fake_realloc, fake_free};

static void exercise(const pgd_allocator *a)
{
    char *p, *q;
    size_t i;

    p = a->malloc(10);
    CHECK(p != NULL);
    memset(p, 'x', 10);
    p = a->realloc(p, 100000);
    CHECK(p != NULL);
    for (i = 0; i < 10; i++)
        CHECK(p[i] == 'x');
    a->free(p);
    q = a->malloc(0); /* mapped to 1 byte, never NULL */
    CHECK(q != NULL);
    a->free(q);
    q = a->realloc(NULL, 8);
    CHECK(q != NULL);
    a->free(q);
}

static void test_allocators(void)
{
    const pgd_allocator *def = pgd_allocator_get();
    char *s;
    int *z;

    CHECK(def != NULL);
    CHECK_STREQ(pgd_allocator_system()->name, "system");
    exercise(pgd_allocator_system());
#ifdef PGD_WITH_JEMALLOC
    CHECK(pgd_allocator_jemalloc() != NULL);
    CHECK(def == pgd_allocator_jemalloc());
    CHECK_STREQ(pgd_allocator_jemalloc()->name, "jemalloc");
    exercise(pgd_allocator_jemalloc());
#else
    CHECK(pgd_allocator_jemalloc() == NULL);
    CHECK(def == pgd_allocator_system());
#endif
    s = pgd_strdup("hello");
    CHECK_STREQ(s, "hello");
    pgd_free(s);
    z = pgd_calloc(16, sizeof *z);
    CHECK(z && z[0] == 0 && z[15] == 0);
    pgd_free(z);
    CHECK(pgd_calloc(SIZE_MAX / 2, 4) == NULL); /* overflow is refused */

    /* every pgd_* allocation goes through the table */
    pgd_allocator_set(&fake);
    fake_calls = 0;
    s = pgd_strdup("x");
    s = pgd_realloc(s, 64);
    pgd_free(s);
    CHECK(fake_calls == 3);
    pgd_allocator_set(NULL); /* back to the default */
    CHECK(pgd_allocator_get() == def);
}

/* ---- registry ------------------------------------------------------------- */

static pgd_obj *dec_dummy(const pgd_cx *cx, const char *d, size_t n)
{
    return cx->host->make_str(cx->h, d, n);
}
static int enc_dummy(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    (void)v;
    (void)out;
    return cx->host->error(cx->h, "no");
}

/* extension-type OIDs: beyond the dense range */
static const pgd_codec ext_codecs[] = {
    {"hstore", 70001, 70002, PGD_CODEC_BINARY, 0, enc_dummy, dec_dummy, NULL, {0}},
    {"ltree", 99999999, 0, PGD_CODEC_TEXT, 0, NULL, NULL, dec_dummy, {0}},
    {"byname", 0, 0, PGD_CODEC_TEXT, 0, NULL, NULL, dec_dummy, {0}},
};
static const pgd_codec_module ext_module = PGD_CODEC_MODULE_INIT("ext", "0.1", ext_codecs);

static const pgd_codec clash_codecs[] = {
    {"myint", 23, 0, PGD_CODEC_TEXT, 0, NULL, NULL, dec_dummy, {0}},
};
static const pgd_codec_module clash_module = PGD_CODEC_MODULE_INIT("clash", "0.1", clash_codecs);

static const pgd_codec clash_arr_codecs[] = {
    {"notint", 4000, 1007, PGD_CODEC_TEXT, 0, NULL, NULL, dec_dummy, {0}},
};
static const pgd_codec_module clash_arr_module =
    PGD_CODEC_MODULE_INIT("clasharr", "0.1", clash_arr_codecs);

static const pgd_codec handler2_codecs[] = {
    {"anyarray2", 0, 0, PGD_CODEC_BINARY | PGD_CODEC_ARRAY, 0, enc_dummy, dec_dummy, NULL, {0}},
};
static const pgd_codec_module handler2_module =
    PGD_CODEC_MODULE_INIT("handler2", "0.1", handler2_codecs);

static const pgd_codec selfdup_codecs[] = {
    {"a", 5001, 0, PGD_CODEC_TEXT, 0, NULL, NULL, dec_dummy, {0}},
    {"b", 5002, 5001, PGD_CODEC_TEXT, 0, NULL, NULL, dec_dummy, {0}},
};
static const pgd_codec_module selfdup_module =
    PGD_CODEC_MODULE_INIT("selfdup", "0.1", selfdup_codecs);

static const pgd_codec noflags_codecs[] = {
    {"nf", 5003, 0, 0, 0, NULL, NULL, dec_dummy, {0}},
};
static const pgd_codec_module noflags_module =
    PGD_CODEC_MODULE_INIT("noflags", "0.1", noflags_codecs);

static const pgd_codec nodec_codecs[] = {
    {"nd", 5004, 0, PGD_CODEC_BINARY, 0, enc_dummy, NULL, NULL, {0}},
};
static const pgd_codec_module nodec_module = PGD_CODEC_MODULE_INIT("nodec", "0.1", nodec_codecs);

static void test_registry(void)
{
    pgd_registry *r = pgd_registry_new();
    const pgd_codec *k, *elem;
    uint32_t eo;
    pgd_codec_module m;

    CHECK(r != NULL);
    CHECK(pgd_registry_find(r, 23, NULL, NULL) == NULL);
    CHECK(pgd_registry_add_module(r, &t_codecs_module, "tcodecs") == PGD_OK);

    k = pgd_registry_find(r, 23, &elem, &eo);
    CHECK(k && strcmp(k->type_name, "int4") == 0 && elem == NULL && eo == 0);
    k = pgd_registry_find(r, 25, NULL, NULL);
    CHECK(k && strcmp(k->type_name, "text") == 0);
    /* int4[] -> the array handler, element int4 */
    k = pgd_registry_find(r, 1007, &elem, &eo);
    CHECK(k && (k->flags & PGD_CODEC_ARRAY) && strcmp(k->type_name, "anyarray") == 0);
    CHECK(elem && strcmp(elem->type_name, "int4") == 0 && eo == 23);
    k = pgd_registry_find(r, 1016, &elem, &eo);
    CHECK(k && (k->flags & PGD_CODEC_ARRAY) && elem && eo == 20);
    /* the handler itself is not a type */
    CHECK(pgd_registry_find(r, 0, NULL, NULL) == NULL);
    /* unknown types */
    CHECK(pgd_registry_find(r, 700, &elem, &eo) == NULL && elem == NULL && eo == 0);
    CHECK(pgd_registry_find(r, 1021, NULL, NULL) == NULL); /* float4[]: no float4 codec */
    CHECK(pgd_registry_find(r, 16383, NULL, NULL) == NULL);
    CHECK(pgd_registry_find(r, 4000000000u, NULL, NULL) == NULL);

    /* OIDs past the dense range go to the hash */
    CHECK(pgd_registry_add_module(r, &ext_module, NULL) == PGD_OK);
    k = pgd_registry_find(r, 70001, &elem, &eo);
    CHECK(k && strcmp(k->type_name, "hstore") == 0 && elem == NULL);
    k = pgd_registry_find(r, 70002, &elem, &eo);
    CHECK(k && (k->flags & PGD_CODEC_ARRAY) && elem && strcmp(elem->type_name, "hstore") == 0 &&
          eo == 70001);
    k = pgd_registry_find(r, 99999999, NULL, NULL);
    CHECK(k && strcmp(k->type_name, "ltree") == 0);
    CHECK(pgd_registry_find(r, 70003, NULL, NULL) == NULL);

    /* refusals, each naming the problem; nothing half-registered */
    CHECK(pgd_registry_add_module(r, &clash_module, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "type oid 23 (myint) already registered by module "
                                          "'tcodecs'");
    CHECK(pgd_registry_add_module(r, &clash_arr_module, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "type oid 1007 (notint[]) already registered by "
                                          "module 'tcodecs'");
    CHECK(pgd_registry_find(r, 4000, NULL, NULL) == NULL);
    CHECK(pgd_registry_add_module(r, &handler2_module, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "array handler is already registered by module "
                                          "'tcodecs'");
    CHECK(pgd_registry_add_module(r, &selfdup_module, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "type oid 5001 (b[]) already registered by module "
                                          "'selfdup'");
    CHECK(pgd_registry_find(r, 5002, NULL, NULL) == NULL);
    CHECK(pgd_registry_add_module(r, &noflags_module, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "neither the binary nor the text flag");
    CHECK(pgd_registry_add_module(r, &nodec_module, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "binary flag but no decode_binary");
    CHECK(pgd_registry_add_module(r, &t_codecs_module, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "module 'tcodecs' is already loaded");
    CHECK(pgd_registry_add_module(r, &ext_module, "other") == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "module name 'ext' does not match the expected 'other'");

    m = ext_module;
    m.magic = 0x12345678;
    CHECK(pgd_registry_add_module(r, &m, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "bad magic 0x12345678 (expected 0x43444750)");
    m = ext_module;
    m.abi_major = 2;
    CHECK(pgd_registry_add_module(r, &m, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "ABI major 2, this host supports 1");
    m = ext_module;
    m.codec_size = 24;
    CHECK(pgd_registry_add_module(r, &m, NULL) == PGD_ERROR);
    CHECK_CONTAINS(pgd_registry_error(r), "codec_size 24 smaller than");
    CHECK(pgd_registry_add_module(r, NULL, NULL) == PGD_ERROR);

    /* the good lookups still hold after the refusals */
    CHECK(pgd_registry_find(r, 23, NULL, NULL) != NULL);
    pgd_registry_free(r);
}

int main(void)
{
    test_allocators();
    test_registry();
    return t_done("test_registry");
}
