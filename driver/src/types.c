/*
 * types.c - per-connection knowledge of types whose OIDs differ between
 * databases (OID >= 16384: enums, composites, domains, ranges, multiranges,
 * extension types and the arrays of all of these).
 *
 * When a statement's Describe names such a type and the registry has no
 * codec for its OID, the OID is queued; before the statement's first
 * Bind/Execute the operation engine (pipeline.c) sends TYPES_SQL for the
 * queued OIDs, which follows every component (array element, domain base,
 * range subtype, multirange range, composite attribute) recursively, so
 * one round trip learns the whole closure.  Each row becomes an entry,
 * and the entries are resolved into colcodecs:
 *
 *   array ('b' with typelem and typlen -1)  the array handler over the element's
 *   domain ('d')       coded exactly as its base type (OID kept)
 *   enum ('e')         the codec registered for anyenum, else text's
 *   composite ('c')    the codec registered for record, with the attributes
 *   range ('r')        the codec registered for anyrange, with the subtype
 *   multirange ('m')   the codec registered for anymultirange, with the range
 *   base ('b')         a codec the registry holds by type name (oid 0), if any
 *
 * A codec registered by type name takes precedence over the generic one
 * for any of these kinds but arrays: it is how a user codes an enum, a
 * composite or an extension type their own way.
 *
 * An OID the server did not return (a dropped type) is remembered as
 * unknown, so it is not asked for again.  Entries never change once
 * resolved and live as long as the map, which results share (refcount),
 * so a result may outlive its connection.  After ALTER TYPE on a
 * composite, a connection still codes it with the attributes it learnt.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FIRST_NORMAL_OID 16384u /* OIDs below are the server's own, fixed */
#define MAX_DEPTH 32            /* nesting of types resolved through each other */

/* Rows: kind 0 = a type (oid, typname, nspname, typtype, elem, base, sub),
 * kind 1 = a composite's attribute (oid = the composite type, name, type).
 * `elem` is set only for true arrays; `sub` is the range's subtype or the
 * multirange's range type. */
static const char TYPES_SQL[] =
    "WITH RECURSIVE q(oid) AS ("
    " SELECT unnest($1::oid[])"
    " UNION"
    " SELECT d.oid FROM q JOIN pg_catalog.pg_type t ON t.oid = q.oid"
    " CROSS JOIN LATERAL ("
    "  SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1"
    "  UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0"
    "  UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid"
    "  UNION ALL SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid"
    "  UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a"
    "   WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0"
    "   AND NOT a.attisdropped"
    " ) d(oid) WHERE d.oid >= 16384"
    ")"
    " SELECT 0, t.oid, t.typname::text, n.nspname::text, t.typtype::text,"
    "  CASE WHEN t.typlen = -1 THEN t.typelem ELSE 0 END, t.typbasetype,"
    "  COALESCE((SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid),"
    "   (SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid), 0), 0"
    " FROM q JOIN pg_catalog.pg_type t ON t.oid = q.oid"
    " JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
    " UNION ALL"
    " SELECT 1, t.oid, a.attname::text, '', '', 0, a.atttypid, 0, a.attnum"
    " FROM q JOIN pg_catalog.pg_type t ON t.oid = q.oid"
    " JOIN pg_catalog.pg_attribute a ON a.attrelid = t.typrelid"
    " WHERE t.typrelid <> 0 AND a.attnum > 0 AND NOT a.attisdropped"
    " ORDER BY 1, 2, 9";

typedef struct pgd_typeent {
    pgd_typeinfo info;
    pgd_colcodec cc;   /* how its values are coded, once resolved */
    uint32_t elem, base, sub;
    pgd_field *fields; /* info.fields, owned */
    size_t capfields;
    char *name, *schema;
    int known;         /* the server returned it (else: no such type) */
    int fresh;         /* filled by the load in progress */
    int resolving, resolved;
} pgd_typeent;

struct pgd_typemap {
    int refs;
    pgd_typeent **slots; /* open addressing by OID; entries never move */
    size_t count, cap;
    uint32_t *pending;   /* OIDs to ask the server about */
    size_t npending, cappending;
};

pgd_typemap *pgd_types_new(void)
{
    pgd_typemap *tm = pgd_calloc(1, sizeof *tm);

    if (tm)
        tm->refs = 1;
    return tm;
}

pgd_typemap *pgd_types_retain(pgd_typemap *tm)
{
    if (tm)
        tm->refs++;
    return tm;
}

void pgd_types_release(pgd_typemap *tm)
{
    size_t i;

    if (!tm || --tm->refs > 0)
        return;
    for (i = 0; i < tm->cap; i++) {
        pgd_typeent *e = tm->slots[i];

        if (!e)
            continue;
        if (e->info.kind == 'c')
            for (uint32_t k = 0; k < e->info.n_fields; k++)
                pgd_free((char *)e->fields[k].name);
        pgd_free(e->fields);
        pgd_free(e->name);
        pgd_free(e->schema);
        pgd_free(e);
    }
    pgd_free(tm->slots);
    pgd_free(tm->pending);
    pgd_free(tm);
}

static size_t slot_of(uint32_t oid, size_t cap)
{
    return (size_t)((oid * 2654435761u) ^ (oid >> 16)) & (cap - 1);
}

static pgd_typeent *ent_get(const pgd_typemap *tm, uint32_t oid)
{
    size_t i;

    if (!tm || !tm->cap)
        return NULL;
    for (i = slot_of(oid, tm->cap); tm->slots[i]; i = (i + 1) & (tm->cap - 1))
        if (tm->slots[i]->info.oid == oid)
            return tm->slots[i];
    return NULL;
}

static int ent_insert(pgd_typemap *tm, pgd_typeent *e)
{
    size_t i;

    if ((tm->count + 1) * 2 > tm->cap) {
        size_t ncap = tm->cap ? tm->cap * 2 : 32, j;
        pgd_typeent **ns = pgd_calloc(ncap, sizeof *ns);

        if (!ns)
            return PGD_ERROR;
        for (j = 0; j < tm->cap; j++) {
            if (!tm->slots[j])
                continue;
            for (i = slot_of(tm->slots[j]->info.oid, ncap); ns[i]; i = (i + 1) & (ncap - 1))
                ;
            ns[i] = tm->slots[j];
        }
        pgd_free(tm->slots);
        tm->slots = ns;
        tm->cap = ncap;
    }
    for (i = slot_of(e->info.oid, tm->cap); tm->slots[i]; i = (i + 1) & (tm->cap - 1))
        ;
    tm->slots[i] = e;
    tm->count++;
    return PGD_OK;
}

/* The entry for oid, created empty (unknown) when there is none. */
static pgd_typeent *ent_ensure(pgd_typemap *tm, uint32_t oid)
{
    pgd_typeent *e = ent_get(tm, oid);

    if (e)
        return e;
    e = pgd_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->info.size = (uint32_t)sizeof e->info;
    e->info.oid = oid;
    e->info.name = "";
    e->info.schema = "";
    e->cc.oid = oid;
    if (ent_insert(tm, e) != PGD_OK) {
        pgd_free(e);
        return NULL;
    }
    return e;
}

/* ---- resolution ------------------------------------------------------------ */

static void fill_field(pgd_field *f, const pgd_colcodec *cc)
{
    f->oid = cc->oid;
    f->elem_oid = cc->elem_oid;
    f->codec = cc->codec;
    f->elem = cc->elem;
    f->type = cc->type;
    f->elem_type = cc->elem_type;
}

static void resolve_oid(const pgd_registry *reg, pgd_typemap *tm, uint32_t oid, pgd_colcodec *cc,
                        int depth);

/* Resolve an entry's colcodec (and its fields') from its components. */
static void ent_resolve(const pgd_registry *reg, pgd_typemap *tm, pgd_typeent *e, int depth)
{
    pgd_colcodec part;
    const pgd_codec *k = NULL;
    uint32_t i;

    if (e->resolved || e->resolving || !e->known || depth > MAX_DEPTH)
        return;
    e->resolving = 1;
    memset(&e->cc, 0, sizeof e->cc);
    e->cc.oid = e->info.oid;
    for (i = 0; i < e->info.n_fields; i++) {
        resolve_oid(reg, tm, e->fields[i].oid, &part, depth + 1);
        fill_field(&e->fields[i], &part);
    }
    if (e->elem) {
        /* an array of a per-database type */
        resolve_oid(reg, tm, e->elem, &part, depth + 1);
        if (part.codec && !(part.codec->flags & PGD_CODEC_ARRAY)) {
            e->cc.codec = pgd_registry_array_handler(reg);
            e->cc.elem = part.codec;
            e->cc.elem_oid = e->elem;
            e->cc.elem_type = part.type;
        }
    } else if ((k = pgd_registry_find_named(reg, e->info.name)) != NULL) {
        e->cc.codec = k;
        e->cc.type = &e->info;
    } else {
        switch (e->info.kind) {
        case 'd':
            if (e->info.n_fields == 1) {
                e->cc = part; /* the base type's coding, under the domain's OID */
                e->cc.oid = e->info.oid;
            }
            break;
        case 'e':
            k = pgd_registry_find(reg, PGD_OID_ANYENUM, NULL, NULL);
            if (!k)
                k = pgd_registry_find(reg, 25, NULL, NULL); /* text */
            break;
        case 'c':
            k = pgd_registry_find(reg, PGD_OID_RECORD, NULL, NULL);
            break;
        case 'r':
            k = pgd_registry_find(reg, PGD_OID_ANYRANGE, NULL, NULL);
            break;
        case 'm':
            k = pgd_registry_find(reg, PGD_OID_ANYMULTIRANGE, NULL, NULL);
            break;
        default:
            break;
        }
        if (k) {
            e->cc.codec = k;
            e->cc.type = &e->info;
        }
    }
    e->resolving = 0;
    e->resolved = 1;
}

static void resolve_oid(const pgd_registry *reg, pgd_typemap *tm, uint32_t oid, pgd_colcodec *cc,
                        int depth)
{
    pgd_typeent *e;

    pgd_colcodec_resolve(reg, oid, cc);
    if (cc->codec || oid < FIRST_NORMAL_OID)
        return;
    e = ent_get(tm, oid);
    if (!e || !e->known)
        return;
    ent_resolve(reg, tm, e, depth);
    if (e->resolved)
        *cc = e->cc;
}

int pgd_types_resolve(const pgd_registry *reg, pgd_typemap *tm, uint32_t oid, pgd_colcodec *cc)
{
    size_t i;

    resolve_oid(reg, tm, oid, cc, 0);
    if (cc->codec || oid < FIRST_NORMAL_OID || !tm || ent_get(tm, oid))
        return PGD_OK;
    for (i = 0; i < tm->npending; i++)
        if (tm->pending[i] == oid)
            return PGD_OK;
    if (pgd_grow(&tm->pending, tm->npending, &tm->cappending, sizeof *tm->pending, 8) != PGD_OK)
        return PGD_ERROR;
    tm->pending[tm->npending++] = oid;
    return PGD_OK;
}

int pgd_types_have_pending(const pgd_typemap *tm) { return tm && tm->npending > 0; }

/* ---- the query and its result ------------------------------------------------------ */

const char *pgd_types_sql(void) { return TYPES_SQL; }

char *pgd_types_pending_param(pgd_typemap *tm)
{
    size_t i, n = 0, cap = 2 + tm->npending * 11;
    char *s = pgd_malloc(cap);

    if (!s)
        return NULL;
    s[n++] = '{';
    for (i = 0; i < tm->npending; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s%u", i ? "," : "", tm->pending[i]);
    s[n++] = '}';
    s[n] = '\0';
    return s;
}

static uint32_t get_oid(const PGresult *res, int row, int col)
{
    return (uint32_t)strtoul(PQgetvalue(res, row, col), NULL, 10);
}

static int add_field(pgd_typeent *e, const char *name, uint32_t oid)
{
    pgd_field *f;

    if (pgd_grow(&e->fields, e->info.n_fields, &e->capfields, sizeof *e->fields, 4) != PGD_OK)
        return PGD_ERROR;
    f = &e->fields[e->info.n_fields];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->oid = oid;
    e->info.n_fields++;
    e->info.fields = e->fields;
    return PGD_OK;
}

/* Take the rows of TYPES_SQL (text format).  The pending OIDs are all
 * answered: those without a row become unknown entries. */
int pgd_types_load(pgd_typemap *tm, const PGresult *res)
{
    int row, nrows = PQntuples(res);
    size_t i;

    if (PQnfields(res) != 9)
        return PGD_ERROR;
    for (row = 0; row < nrows; row++) {
        uint32_t oid = get_oid(res, row, 1);
        pgd_typeent *e = ent_ensure(tm, oid);

        if (!e)
            return PGD_ERROR;
        if (strcmp(PQgetvalue(res, row, 0), "0") == 0) {
            if (e->known)
                continue; /* learnt before */
            e->name = pgd_strdup(PQgetvalue(res, row, 2));
            e->schema = pgd_strdup(PQgetvalue(res, row, 3));
            if (!e->name || !e->schema)
                return PGD_ERROR;
            e->info.name = e->name;
            e->info.schema = e->schema;
            e->info.kind = PQgetvalue(res, row, 4)[0];
            e->elem = get_oid(res, row, 5);
            e->base = get_oid(res, row, 6);
            e->sub = get_oid(res, row, 7);
            e->known = 1;
            e->fresh = 1;
            if ((e->info.kind == 'd' && add_field(e, "", e->base) != PGD_OK) ||
                ((e->info.kind == 'r' || e->info.kind == 'm') &&
                 add_field(e, "", e->sub) != PGD_OK))
                return PGD_ERROR;
        } else if (e->fresh && e->info.kind == 'c') {
            /* attribute rows follow every type row (ORDER BY) */
            char *name = pgd_strdup(PQgetvalue(res, row, 2));

            if (!name || add_field(e, name, get_oid(res, row, 6)) != PGD_OK) {
                pgd_free(name);
                return PGD_ERROR;
            }
        }
    }
    for (i = 0; i < tm->cap; i++)
        if (tm->slots[i])
            tm->slots[i]->fresh = 0;
    for (i = 0; i < tm->npending; i++)
        if (!ent_ensure(tm, tm->pending[i]))
            return PGD_ERROR;
    tm->npending = 0;
    return PGD_OK;
}

void pgd_types_clear_pending(pgd_typemap *tm)
{
    if (tm)
        tm->npending = 0;
}
