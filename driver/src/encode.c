/*
 * encode.c - parameters -> wire form through the codecs.
 *
 * The connection owns one growable buffer (pgd_malloc'ed, reused by every
 * operation) and parallel arrays of offsets/lengths/formats.  Codecs write
 * into the buffer through the driver's own pgd_host (services only: an
 * encoder never builds objects, so the builder slots are NULL).  Offsets
 * are turned into pointers only after a whole operation is encoded, because
 * the buffer may move while it grows.
 *
 * Per parameter: PGD_V_NULL -> SQL NULL; PGD_V_RAW -> its bytes as they are,
 * binary format, whatever the type; a type with a binary encoder ->
 * binary (format 1); a type without one -> only PGD_V_STR is accepted and
 * sent as NUL-terminated text (format 0); anything else is an ENCODE error
 * naming the parameter.  A PGD_V_STR also goes as text, for the server to
 * parse, to an array type and to a type whose codec says
 * PGD_CODEC_STR_TEXT.  A codec marked PGD_CODEC_TEXT_ENCODE writes text,
 * which goes in text format.  Nothing is sent when any parameter fails.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NULL_OFFSET SIZE_MAX
#define WBUF_MAX ((size_t)1 << 30) /* the server's limit on one message */

typedef pgd_encstate enc_state; /* internal.h: COPY keeps one per connection */

static int enc_error(void *h, const char *fmt, ...)
{
    enc_state *st = h;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
    return -1;
}

char *pgd_wbuf_reserve(pgd_wbuf *b, size_t n)
{
    char *p;

    if (n > WBUF_MAX - b->len)
        return NULL;
    if (b->p == NULL || b->len + n > b->cap) { /* never hand out NULL, even for 0 bytes */
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + n)
            cap *= 2;
        p = pgd_realloc(b->p, cap);
        if (!p)
            return NULL;
        b->p = p;
        b->cap = cap;
    }
    p = b->p + b->len;
    b->len += n;
    return p;
}

static size_t enc_tell(const pgd_wbuf *b) { return b->len; }

static char *enc_at(pgd_wbuf *b, size_t off) { return off <= b->len ? b->p + off : NULL; }

static const pgd_codec *enc_find(void *h, uint32_t oid)
{
    return pgd_registry_find(((enc_state *)h)->reg, oid, NULL, NULL);
}

static const pgd_host enc_host = {
    .size = sizeof(pgd_host),
    .abi_minor = PGD_CODEC_ABI_MINOR,
    .error = enc_error,
    .reserve = pgd_wbuf_reserve,
    .tell = enc_tell,
    .at = enc_at,
    .find = enc_find,
};

int pgd_params_reserve(pgd_conn *c, size_t n)
{
    size_t cap = c->pcap ? c->pcap : 16;
    void *p;

    if (n <= c->pcap)
        return PGD_OK;
    while (cap < n)
        cap *= 2;
    if (!(p = pgd_realloc((void *)c->pvals, cap * sizeof *c->pvals)))
        return PGD_ERROR;
    c->pvals = p;
    if (!(p = pgd_realloc(c->plens, cap * sizeof *c->plens)))
        return PGD_ERROR;
    c->plens = p;
    if (!(p = pgd_realloc(c->pfmts, cap * sizeof *c->pfmts)))
        return PGD_ERROR;
    c->pfmts = p;
    if (!(p = pgd_realloc(c->poffs, cap * sizeof *c->poffs)))
        return PGD_ERROR;
    c->poffs = p;
    c->pcap = cap;
    return PGD_OK;
}

static char empty_value[1];

void pgd_params_finish(pgd_conn *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        /* an empty value must not become NULL when nothing was ever buffered */
        c->pvals[i] = c->poffs[i] == NULL_OFFSET ? NULL
                      : c->wbuf.p               ? c->wbuf.p + c->poffs[i]
                                                : empty_value;
}

static const char *type_label(const pgd_colcodec *cc, char *buf, size_t n)
{
    if (cc->codec && (cc->codec->flags & PGD_CODEC_ARRAY) && cc->elem)
        snprintf(buf, n, "%s[]", cc->elem->type_name);
    else if (cc->codec)
        snprintf(buf, n, "%s", cc->codec->type_name);
    else
        snprintf(buf, n, "oid %u", cc->oid);
    return buf;
}

/* A text-format parameter: NUL-terminated copy. */
/* PGD_V_RAW: the bytes as they are, in binary format; -2 out of memory. */
static int put_raw(pgd_conn *c, const pgd_value *v, size_t slot)
{
    char *p;

    if (v->u.s.n > INT_MAX || !(p = pgd_wbuf_reserve(&c->wbuf, v->u.s.n ? v->u.s.n : 1)))
        return -2;
    if (v->u.s.n)
        memcpy(p, v->u.s.p, v->u.s.n);
    else
        c->wbuf.len--; /* room for nothing: keep the offset valid */
    c->poffs[slot] = (size_t)(p - c->wbuf.p);
    c->plens[slot] = (int)v->u.s.n;
    c->pfmts[slot] = 1;
    return 0;
}

static int put_text(pgd_conn *c, const pgd_value *v, size_t slot)
{
    char *p;

    if (memchr(v->u.s.p, 0, v->u.s.n))
        return -1;
    if (v->u.s.n > INT_MAX || !(p = pgd_wbuf_reserve(&c->wbuf, v->u.s.n + 1)))
        return -2;
    memcpy(p, v->u.s.p, v->u.s.n);
    p[v->u.s.n] = '\0';
    c->poffs[slot] = (size_t)(p - c->wbuf.p);
    c->plens[slot] = (int)v->u.s.n;
    c->pfmts[slot] = 0;
    return 0;
}

/* ---- integers for money as cents (pgd_conn_set_money_int_cents) ----------- */

#define CENTS_TEXT 24 /* "-92233720368547758.08" and a spare byte */

static int is_money(const pgd_codec *k) { return k != NULL && strcmp(k->type_name, "money") == 0; }

static size_t cents_nodes(const pgd_value *v)
{
    size_t n = 1;

    if (v->kind == PGD_V_LIST || v->kind == PGD_V_TUPLE)
        for (size_t i = 0; i < v->u.list.n; i++)
            n += cents_nodes(&v->u.list.items[i]);
    return n;
}

/* *out = v with every PGD_V_INT turned into the decimal of as many cents;
 * lists' items come from *items, texts from *text. */
static void cents_copy(const pgd_value *v, pgd_value *out, pgd_value **items, char **text)
{
    *out = *v;
    if (v->kind == PGD_V_INT) {
        uint64_t mag = v->u.i < 0 ? (uint64_t)0 - (uint64_t)v->u.i : (uint64_t)v->u.i;
        int n = snprintf(*text, CENTS_TEXT, "%s%llu.%02u", v->u.i < 0 ? "-" : "",
                         (unsigned long long)(mag / 100), (unsigned)(mag % 100));
        out->kind = PGD_V_DECIMAL;
        out->u.s.p = *text;
        out->u.s.n = (size_t)n;
        *text += CENTS_TEXT;
    } else if (v->kind == PGD_V_LIST || v->kind == PGD_V_TUPLE) {
        pgd_value *mine = *items;

        *items += v->u.list.n;
        for (size_t i = 0; i < v->u.list.n; i++)
            cents_copy(&v->u.list.items[i], &mine[i], items, text);
        out->u.list.items = mine;
    }
}

/* The value to encode for a parameter of a connection that reads integers
 * for money as cents: for a money or money[] parameter, a converted copy in
 * the connection's scratch space (valid until the next call), else v
 * itself; NULL when out of memory. */
const pgd_value *pgd_cents_value(pgd_conn *c, const pgd_colcodec *cc, const pgd_value *v)
{
    size_t nodes, need;
    pgd_value *items, *root;
    char *text;

    if (!(is_money(cc->codec) && v->kind == PGD_V_INT) &&
        !(cc->codec != NULL && (cc->codec->flags & PGD_CODEC_ARRAY) && is_money(cc->elem) &&
          (v->kind == PGD_V_LIST || v->kind == PGD_V_TUPLE)))
        return v;
    nodes = cents_nodes(v);
    need = nodes * (sizeof(pgd_value) + CENTS_TEXT);
    if (need > c->cents_cap) {
        void *grown = pgd_malloc(need);

        if (grown == NULL)
            return NULL;
        pgd_free(c->cents_buf);
        c->cents_buf = grown;
        c->cents_cap = need;
    }
    root = c->cents_buf;
    items = root + 1;
    text = (char *)(root + nodes);
    cents_copy(v, root, &items, &text);
    return root;
}

int pgd_encode_row(pgd_conn *c, const pgd_stmt *s, size_t nparams, const pgd_value *params,
                   size_t base, int row_index)
{
    enc_state st;
    char label[160], where[48];
    size_t i;

    if (row_index >= 0)
        snprintf(where, sizeof where, "%s %d, ",
                 c->op.kind == PGD_OP_PIPELINE ? "query" : "row", row_index);
    else
        where[0] = '\0';
    if (nparams != (size_t)s->nparams)
        return pgd_conn_fail(c, PGD_E_USAGE, row_index,
                             "%sthe statement takes %d parameter%s, %zu given", where, s->nparams,
                             s->nparams == 1 ? "" : "s", nparams);
    st.reg = c->reg;
    for (i = 0; i < nparams; i++) {
        const pgd_value *v = &params[i];
        const pgd_colcodec *cc = &s->params[i];
        size_t slot = base + i, off = c->wbuf.len;

        if (c->money_int_cents && (v = pgd_cents_value(c, cc, v)) == NULL)
            return pgd_conn_fail(c, PGD_E_NOMEM, (int)i, "%sparameter $%zu: out of memory",
                                 where, i + 1);

        if (v->kind == PGD_V_NULL) {
            c->poffs[slot] = NULL_OFFSET;
            c->plens[slot] = 0;
            c->pfmts[slot] = 0;
        } else if (v->kind == PGD_V_RAW) {
            if (put_raw(c, v, slot) < 0)
                return pgd_conn_fail(c, PGD_E_NOMEM, (int)i, "%sparameter $%zu: out of memory",
                                     where, i + 1);
        } else if (pgd_colcodec_binary_encode(cc) &&
                   !(v->kind == PGD_V_STR &&
                     (cc->codec->flags & (PGD_CODEC_STR_TEXT | PGD_CODEC_ARRAY)))) {
            pgd_cx cx = PGD_CX_FOR(cc, &enc_host, &st);
            int n;

            st.msg[0] = '\0';
            n = cc->codec->encode_binary(&cx, v, &c->wbuf);
            if (n < 0)
                return pgd_conn_fail(c, PGD_E_ENCODE, (int)i, "%sparameter $%zu (%s): %s", where,
                                     i + 1, type_label(cc, label, sizeof label),
                                     st.msg[0] ? st.msg : "cannot encode the value");
            if ((size_t)n != c->wbuf.len - off)
                return pgd_conn_fail(c, PGD_E_ENCODE, (int)i,
                                     "%sparameter $%zu (%s): codec reported %d bytes but wrote %zu",
                                     where, i + 1, type_label(cc, label, sizeof label), n,
                                     c->wbuf.len - off);
            c->poffs[slot] = off;
            c->plens[slot] = n;
            c->pfmts[slot] = 1;
        } else if (cc->codec && (cc->codec->flags & PGD_CODEC_TEXT_ENCODE) &&
                   cc->codec->encode_binary) {
            pgd_cx cx = PGD_CX_FOR(cc, &enc_host, &st);
            int n;

            st.msg[0] = '\0';
            n = cc->codec->encode_binary(&cx, v, &c->wbuf);
            if (n < 0 || (size_t)n != c->wbuf.len - off ||
                (n > 0 && memchr(c->wbuf.p + off, 0, (size_t)n)))
                return pgd_conn_fail(c, PGD_E_ENCODE, (int)i, "%sparameter $%zu (%s): %s", where,
                                     i + 1, type_label(cc, label, sizeof label),
                                     n < 0 ? (st.msg[0] ? st.msg : "cannot encode the value")
                                           : "the text encoder wrote a NUL byte or a wrong length");
            if (!pgd_wbuf_reserve(&c->wbuf, 1))
                return pgd_conn_fail(c, PGD_E_NOMEM, (int)i, "%sparameter $%zu: out of memory",
                                     where, i + 1);
            c->wbuf.p[c->wbuf.len - 1] = '\0';
            c->poffs[slot] = off;
            c->plens[slot] = n;
            c->pfmts[slot] = 0;
        } else if (v->kind == PGD_V_STR) {
            int rc = put_text(c, v, slot);

            if (rc == -1)
                return pgd_conn_fail(c, PGD_E_ENCODE, (int)i,
                                     "%sparameter $%zu (%s): text contains a NUL byte", where,
                                     i + 1, type_label(cc, label, sizeof label));
            if (rc < 0)
                return pgd_conn_fail(c, PGD_E_NOMEM, (int)i, "%sparameter $%zu: out of memory",
                                     where, i + 1);
        } else {
            return pgd_conn_fail(c, PGD_E_ENCODE, (int)i,
                                 "%sparameter $%zu (%s): no binary codec for this type; only a "
                                 "string can be sent for it (as text)",
                                 where, i + 1, type_label(cc, label, sizeof label));
        }
    }
    return PGD_OK;
}

void pgd_encplan_init(pgd_encplan *p, const pgd_colcodec *cc, pgd_encstate *st)
{
    pgd_cx cx = PGD_CX_FOR(cc, &enc_host, st);

    p->cx = cx;
    p->codec = cc->codec;
    p->binary = pgd_colcodec_binary_encode(cc);
}

int pgd_encplan_encode(const pgd_encplan *p, const pgd_value *v, pgd_wbuf *b)
{
    pgd_encstate *st = p->cx.h;
    size_t off = b->len;
    int n;

    st->msg[0] = '\0';
    if (!p->binary) {
        snprintf(st->msg, sizeof st->msg, "no binary codec for this type");
        return -1;
    }
    n = p->codec->encode_binary(&p->cx, v, b);
    if (n < 0 || (size_t)n != b->len - off) {
        if (n >= 0 || !st->msg[0])
            snprintf(st->msg, sizeof st->msg, "%s",
                     n < 0 ? "cannot encode the value" : "the codec reported a wrong length");
        b->len = off;
        return -1;
    }
    return n;
}

const char *pgd_colcodec_label(const pgd_colcodec *cc, char *buf, size_t n)
{
    return type_label(cc, buf, n);
}
