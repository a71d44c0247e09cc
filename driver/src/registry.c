/*
 * registry.c - type OID -> codec.
 *
 * Built-in types (OID < PGD_REG_DENSE) are an index into a dense array;
 * larger OIDs (extension types) live in an open-addressing hash with linear
 * probing.  The registry only grows (modules are never unloaded), so the
 * hash needs no tombstones.  An array type's entry points at its element
 * codec; lookups return the module-provided PGD_CODEC_ARRAY handler with
 * that element codec beside it.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

pgd_registry *pgd_registry_new(void)
{
    pgd_registry *r = pgd_calloc(1, sizeof *r);

    if (!r)
        return NULL;
    r->dense = pgd_calloc(PGD_REG_DENSE, sizeof *r->dense);
    if (!r->dense) {
        pgd_free(r);
        return NULL;
    }
    return r;
}

void pgd_registry_free(pgd_registry *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->nmodules; i++)
        pgd_free(r->modules[i].name);
    pgd_free(r->modules);
    pgd_free(r->named);
    pgd_free(r->hash);
    pgd_free(r->dense);
    pgd_free(r);
}

const char *pgd_registry_error(const pgd_registry *r) { return r->err; }

int pgd_registry_fail(pgd_registry *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return PGD_ERROR;
}

static size_t hash_oid(uint32_t oid)
{
    /* Fibonacci hashing spreads consecutive OIDs. */
    return (size_t)((oid * 2654435761u) ^ (oid >> 16));
}

/* The entry for oid (possibly empty: codec NULL), or NULL when the hash
 * has no slot for it. */
static const pgd_reg_entry *entry_get(const pgd_registry *r, uint32_t oid)
{
    size_t i, mask;

    if (oid < PGD_REG_DENSE)
        return &r->dense[oid];
    if (!r->hash)
        return NULL;
    mask = r->hcap - 1;
    for (i = hash_oid(oid) & mask;; i = (i + 1) & mask) {
        if (r->hash[i].oid == oid)
            return &r->hash[i];
        if (r->hash[i].oid == 0)
            return NULL;
    }
}

static int hash_grow(pgd_registry *r)
{
    size_t ncap = r->hcap ? r->hcap * 2 : 64, i, j, mask = ncap - 1;
    pgd_reg_entry *nh = pgd_calloc(ncap, sizeof *nh);

    if (!nh)
        return PGD_ERROR;
    for (i = 0; i < r->hcap; i++) {
        if (!r->hash[i].oid)
            continue;
        for (j = hash_oid(r->hash[i].oid) & mask; nh[j].oid; j = (j + 1) & mask)
            ;
        nh[j] = r->hash[i];
    }
    pgd_free(r->hash);
    r->hash = nh;
    r->hcap = ncap;
    return PGD_OK;
}

/* Insert (the caller checked the OID is free). */
static int entry_put(pgd_registry *r, uint32_t oid, const pgd_codec *codec, size_t module,
                     int is_array)
{
    pgd_reg_entry *e;
    size_t i, mask;

    if (oid < PGD_REG_DENSE) {
        e = &r->dense[oid];
    } else {
        if ((r->hcount + 1) * 2 > r->hcap && hash_grow(r) != PGD_OK)
            return PGD_ERROR;
        mask = r->hcap - 1;
        for (i = hash_oid(oid) & mask; r->hash[i].oid; i = (i + 1) & mask)
            ;
        e = &r->hash[i];
        r->hcount++;
    }
    e->oid = oid;
    e->codec = codec;
    e->module = (uint16_t)module;
    e->is_array = (uint16_t)is_array;
    return PGD_OK;
}

const pgd_codec *pgd_registry_find(const pgd_registry *r, uint32_t oid, const pgd_codec **elem,
                                   uint32_t *elem_oid)
{
    const pgd_reg_entry *e = r ? entry_get(r, oid) : NULL;

    if (elem)
        *elem = NULL;
    if (elem_oid)
        *elem_oid = 0;
    if (!e || !e->codec)
        return NULL;
    if (!e->is_array)
        return e->codec;
    if (elem)
        *elem = e->codec;
    if (elem_oid)
        *elem_oid = e->codec->oid;
    return r->array_handler;
}

/* ---- registration ------------------------------------------------------- */

static const pgd_codec *codec_at(const pgd_codec_module *m, size_t i)
{
    return (const pgd_codec *)(const void *)((const char *)m->codecs + i * m->codec_size);
}

static const char *module_name(const pgd_registry *r, size_t i) { return r->modules[i].name; }

/* Is oid taken, by the registry or by codecs [0, upto) of m?  Names the
 * holder in *who. */
static int oid_taken(const pgd_registry *r, const pgd_codec_module *m, size_t upto, uint32_t oid,
                     const char **who)
{
    const pgd_reg_entry *e = entry_get(r, oid);
    size_t i;

    if (e && e->codec) {
        *who = module_name(r, e->module);
        return 1;
    }
    for (i = 0; i < upto; i++) {
        const pgd_codec *k = codec_at(m, i);

        if (k->flags & PGD_CODEC_ARRAY)
            continue;
        if (k->oid == oid || k->array_oid == oid) {
            *who = m->name;
            return 1;
        }
    }
    return 0;
}

static int add_named(pgd_registry *r, const pgd_codec *k)
{
    if (pgd_grow(&r->named, r->nnamed, &r->capnamed, sizeof *r->named, 8) != PGD_OK)
        return PGD_ERROR;
    r->named[r->nnamed++] = k;
    return PGD_OK;
}

/*
 * Register the codecs of a module whose descriptor loader.c has checked.
 * All-or-nothing: every conflict is found before anything is inserted.
 * PGD_OK, or PGD_ERROR with the registry's message naming the conflict.
 */
int pgd_registry_register(pgd_registry *r, const pgd_codec_module *m)
{
    const char *who;
    size_t i, idx;
    int have_handler = r->array_handler != NULL;

    for (i = 0; i < r->nmodules; i++)
        if (strcmp(r->modules[i].name, m->name) == 0)
            return pgd_registry_fail(r, "module '%s' is already loaded", m->name);
    if (r->nmodules >= 0xffff)
        return pgd_registry_fail(r, "too many codec modules");
    for (i = 0; i < m->n_codecs; i++) {
        const pgd_codec *k = codec_at(m, i);

        if (k->flags & PGD_CODEC_ARRAY) {
            if (have_handler)
                return pgd_registry_fail(r,
                                         "array handler '%s' of module '%s': an array handler "
                                         "is already registered by module '%s'",
                                         k->type_name, m->name,
                                         r->array_handler ? module_name(r, r->array_module)
                                                          : m->name);
            have_handler = 1;
            continue;
        }
        if (k->oid && oid_taken(r, m, i, k->oid, &who))
            return pgd_registry_fail(r, "type oid %u (%s) already registered by module '%s'",
                                     k->oid, k->type_name, who);
        if (k->array_oid && (k->array_oid == k->oid || oid_taken(r, m, i, k->array_oid, &who)))
            return pgd_registry_fail(r, "type oid %u (%s[]) already registered by module '%s'",
                                     k->array_oid, k->type_name,
                                     k->array_oid == k->oid ? m->name : who);
    }

    if (pgd_grow(&r->modules, r->nmodules, &r->capmodules, sizeof *r->modules, 8) != PGD_OK)
        goto oom;
    idx = r->nmodules;
    r->modules[idx].name = pgd_strdup(m->name);
    if (!r->modules[idx].name)
        goto oom;
    r->modules[idx].m = m;
    r->nmodules++;

    /* From here on a failure (OOM while growing the hash) leaves the
     * codecs inserted so far registered: the module stays listed so the
     * message names the truth. */
    for (i = 0; i < m->n_codecs; i++) {
        const pgd_codec *k = codec_at(m, i);

        if (k->flags & PGD_CODEC_ARRAY) {
            r->array_handler = k;
            r->array_module = idx;
            continue;
        }
        if (!k->oid) {
            if (add_named(r, k) != PGD_OK)
                goto oom;
            continue;
        }
        if (entry_put(r, k->oid, k, idx, 0) != PGD_OK)
            goto oom;
        if (k->array_oid && entry_put(r, k->array_oid, k, idx, 1) != PGD_OK)
            goto oom;
    }
    r->err[0] = '\0';
    return PGD_OK;
oom:
    return pgd_registry_fail(r, "out of memory registering module '%s'", m->name);
}

/* ---- per-column resolution -------------------------------------------------- */

void pgd_colcodec_resolve(const pgd_registry *reg, uint32_t oid, pgd_colcodec *cc)
{
    cc->oid = oid;
    cc->codec = pgd_registry_find(reg, oid, &cc->elem, &cc->elem_oid);
    cc->type = NULL;
    cc->elem_type = NULL;
}

/*
 * Whether values of a type can travel in binary, decoding (dir 0) or
 * encoding (dir 1): its codec has the function, an array's element codec
 * too, and the components of a per-database type (attributes, subtype,
 * range) all the way down.
 */
static int codes(const pgd_codec *k, int dir)
{
    if (!k || !(k->flags & PGD_CODEC_BINARY))
        return 0;
    return dir ? k->encode_binary != NULL && !(k->flags & PGD_CODEC_TEXT_ENCODE)
               : k->decode_binary != NULL;
}

static int type_codes(const pgd_typeinfo *t, int dir, int depth);

static int part_codes(const pgd_codec *k, const pgd_codec *elem, const pgd_typeinfo *type,
                      const pgd_typeinfo *elem_type, int dir, int depth)
{
    if (!codes(k, dir))
        return 0;
    if ((k->flags & PGD_CODEC_ARRAY) && (!codes(elem, dir) || !type_codes(elem_type, dir, depth)))
        return 0;
    return type_codes(type, dir, depth);
}

static int type_codes(const pgd_typeinfo *t, int dir, int depth)
{
    uint32_t i;

    if (!t || t->kind == 'd')
        return 1; /* built-in; a domain's coding is its base type's */
    if (depth > 32)
        return 0;
    for (i = 0; i < t->n_fields; i++) {
        const pgd_field *f = &t->fields[i];

        if (!part_codes(f->codec, f->elem, f->type, f->elem_type, dir, depth + 1))
            return 0;
    }
    return 1;
}

int pgd_colcodec_binary_decode(const pgd_colcodec *cc)
{
    return part_codes(cc->codec, cc->elem, cc->type, cc->elem_type, 0, 0);
}

int pgd_colcodec_binary_encode(const pgd_colcodec *cc)
{
    return part_codes(cc->codec, cc->elem, cc->type, cc->elem_type, 1, 0);
}

const pgd_codec *pgd_registry_array_handler(const pgd_registry *r)
{
    return r ? r->array_handler : NULL;
}

/* The codec registered with oid 0 for `type_name`: the last one
 * registered, so a later registration overrides an earlier one. */
const pgd_codec *pgd_registry_find_named(const pgd_registry *r, const char *type_name)
{
    size_t i;

    if (!r || !type_name)
        return NULL;
    for (i = r->nnamed; i-- > 0;)
        if (strcmp(r->named[i]->type_name, type_name) == 0)
            return r->named[i];
    return NULL;
}
