/*
 * plugin_variants.c - purpose-built codec plugins for the loader tests.
 * Built once per variant (PLUGIN_<NAME> defined), each into <name>.so:
 *   good        a correct plugin (type "goodtype", oid 90001, array 90002)
 *   bad_magic   wrong magic
 *   bad_major   ABI major 2
 *   short_struct struct_size 16
 *   misnamed    module name "other" in misnamed.so
 *   dup_a/dup_b both register oid 23 (int4)
 *   nosym       exports no pgd_codec_module_v1
 */
#include <string.h>

#include "pgd_codec.h"

static pgd_obj *dec(const pgd_cx *cx, const char *d, size_t n)
{
    return cx->host->make_str(cx->h, d, n);
}

static int enc(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    char *p;

    if (v->kind != PGD_V_STR)
        return cx->host->error(cx->h, "expected str");
    p = cx->host->reserve(out, v->u.s.n);
    if (!p && v->u.s.n)
        return -1;
    if (v->u.s.n)
        memcpy(p, v->u.s.p, v->u.s.n);
    return (int)v->u.s.n;
}

#if defined(PLUGIN_DUP_A) || defined(PLUGIN_DUP_B)
static const pgd_codec codecs[] = {
    {"int4", 23, 1007, PGD_CODEC_BINARY, 0, enc, dec, NULL, {0}},
};
#else
static const pgd_codec codecs[] = {
    {"goodtype", 90001, 90002, PGD_CODEC_BINARY | PGD_CODEC_TEXT, 0, enc, dec, dec, {0}},
};
#endif

#if defined(PLUGIN_GOOD)
static const pgd_codec_module mod = PGD_CODEC_MODULE_INIT("good", "1.2.3", codecs);
#elif defined(PLUGIN_BAD_MAGIC)
static const pgd_codec_module mod = {0xdeadbeefu, PGD_CODEC_ABI_MAJOR, PGD_CODEC_ABI_MINOR,
                                     sizeof(pgd_codec_module), sizeof(pgd_codec), "bad_magic",
                                     "1", 1, codecs, {0}};
#elif defined(PLUGIN_BAD_MAJOR)
static const pgd_codec_module mod = {PGD_CODEC_MAGIC, 2, 0, sizeof(pgd_codec_module),
                                     sizeof(pgd_codec), "bad_major", "1", 1, codecs, {0}};
#elif defined(PLUGIN_SHORT_STRUCT)
static const pgd_codec_module mod = {PGD_CODEC_MAGIC, PGD_CODEC_ABI_MAJOR, PGD_CODEC_ABI_MINOR,
                                     16, sizeof(pgd_codec), "short_struct", "1", 1, codecs, {0}};
#elif defined(PLUGIN_MISNAMED)
static const pgd_codec_module mod = PGD_CODEC_MODULE_INIT("other", "1", codecs);
#elif defined(PLUGIN_DUP_A)
static const pgd_codec_module mod = PGD_CODEC_MODULE_INIT("dup_a", "1", codecs);
#elif defined(PLUGIN_DUP_B)
static const pgd_codec_module mod = PGD_CODEC_MODULE_INIT("dup_b", "1", codecs);
#elif defined(PLUGIN_NOSYM)
static const pgd_codec_module mod = PGD_CODEC_MODULE_INIT("nosym", "1", codecs);
#else
#error "define one PLUGIN_* variant"
#endif

#if defined(PLUGIN_NOSYM)
/* The entry point under a wrong name. */
PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v2(void);
PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v2(void) { return &mod; }
#else
PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void);
PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void) { return &mod; }
#endif
