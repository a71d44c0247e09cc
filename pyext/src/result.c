/*
 * result.c - QueryResult and SingleQueryResult.
 *
 * Both keep the driver's pgd_result and decode on demand: result() builds
 * fresh dicts (column name -> value, in column order) each time it is
 * called, or tuples (as_tuple=True); records() builds Records sharing one
 * column map; as_class(cls) calls cls(**row) and row_factory(f) f(row) per
 * row dict.  res[i], res[i:j] and iteration give the dicts result() gives.
 * Made once per result, on first use: the column names as Python strings,
 * Records' column map, the dict template that rows of a result of several
 * rows are copies of, and each column's builder table.
 *
 * Each call resolves its row shape and custom decoders once (a rowplan),
 * then builds its rows.  A custom decoder gets the cell's bytes as the
 * server sent them (binary for types with a binary codec, text otherwise);
 * SQL NULL is None without a call; its exceptions propagate unchanged.
 *
 * A result decodes under a profile (builders.c): the default one, or
 * psqlpy 0.13's, which the ConnectionPool side of the package sets through
 * the private `_profile` attribute on every result it hands out; the
 * builder tables are made again when it changes.
 */
#include "pyext.h"

typedef struct ResultObject {
    PyObject_HEAD
    module_state *st;
    pgd_result *res;
    PyObject *names;  /* tuple of str, made on first use */
    PyObject *colmap; /* Records' column map, made on first use */
    const pgd_host **hosts; /* per column, the builder table of its profile
                               (hosts_profile), made on first use */
    PyObject *template;     /* the names mapped to None, that dict rows of a
                               result of several rows are copies of; made
                               on first use */
    int profile;            /* PSQLPY_PROFILE_* */
    int hosts_profile;
} ResultObject;

static PyObject *
result_make(module_state *st, PyTypeObject *tp, pgd_result *res)
{
    ResultObject *self = PyObject_New(ResultObject, tp);
    if (self == NULL) {
        pgd_result_free(res);
        return NULL;
    }
    self->st = st;
    self->res = res;
    self->names = NULL;
    self->colmap = NULL;
    self->hosts = NULL;
    self->template = NULL;
    self->profile = PSQLPY_PROFILE_DEFAULT;
    self->hosts_profile = -1;
    return (PyObject *)self;
}

PyObject *
queryresult_new(module_state *st, pgd_result *res)
{
    return result_make(st, st->QueryResultType, res);
}

PyObject *
singleresult_new(module_state *st, pgd_result *res)
{
    return result_make(st, st->SingleQueryResultType, res);
}

static PyObject *
names_of(ResultObject *self)
{
    if (self->names != NULL)
        return self->names;
    int n = pgd_result_ncols(self->res);
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        const char *name = pgd_result_colname(self->res, i);
        PyObject *s = PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "replace");
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyUnicode_InternInPlace(&s);
        PyTuple_SET_ITEM(t, i, s);
    }
    self->names = t;
    return t;
}

/* The column map Records of this result share; borrowed, made on first use. */
static PyObject *
colmap_of(ResultObject *self)
{
    if (self->colmap == NULL) {
        PyObject *names = names_of(self);
        if (names == NULL)
            return NULL;
        self->colmap = record_colmap_new(names);
    }
    return self->colmap;
}

/* Each column's builder table for the result's current profile; borrowed,
 * made on first use and again after _profile changes. */
static const pgd_host **
hosts_of(ResultObject *self)
{
    if (self->hosts != NULL && self->hosts_profile == self->profile)
        return self->hosts;
    int n = pgd_result_ncols(self->res);
    if (self->hosts == NULL) {
        self->hosts = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(pgd_host *));
        if (self->hosts == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
    }
    for (int c = 0; c < n; c++)
        self->hosts[c] = psqlpy_host_for(self->profile, pgd_result_coltype(self->res, c));
    self->hosts_profile = self->profile;
    return self->hosts;
}

/* Dicts for several rows start as copies of a template holding every
 * name, so each key is in place with its hash and room for all of them:
 * filling one only replaces values (dict_fill).  Borrowed, made on first
 * use. */
static PyObject *
template_of(ResultObject *self)
{
    if (self->template != NULL)
        return self->template;
    PyObject *names = names_of(self);
    if (names == NULL)
        return NULL;
    PyObject *t = PyDict_New();
    if (t == NULL)
        return NULL;
    for (Py_ssize_t c = 0; c < PyTuple_GET_SIZE(names); c++) {
        if (PyDict_SetItem(t, PyTuple_GET_ITEM(names, c), Py_None) < 0) {
            Py_DECREF(t);
            return NULL;
        }
    }
    self->template = t;
    return t;
}

enum row_shape { ROW_DICT, ROW_TUPLE, ROW_RECORD };

#define PLAN_SMALL 16 /* columns whose values a plan holds without an allocation */

/* How to build the rows of one call, resolved once before the first row. */
typedef struct rowplan {
    ResultObject *self;
    PyObject *names;  /* borrowed */
    PyObject *colmap; /* borrowed; ROW_RECORD only */
    PyObject **dec;   /* NULL, or ncols entries: a decoder (strong) or NULL */
    const pgd_host **hosts; /* borrowed: hosts_of() */
    pyhost_ctx cx;          /* the builders' context, for every cell */
    PyObject *template; /* borrowed: template_of() for a result of several
                           rows, else NULL (a dict made directly) */
    PyObject **vals;    /* ROW_DICT: ncols slots for one row's values */
    PyObject *small[PLAN_SMALL]; /* vals when ncols <= PLAN_SMALL */
    int shape, ncols;
} rowplan;

static void
plan_fini(rowplan *p)
{
    if (p->vals != NULL && p->vals != p->small)
        PyMem_Free(p->vals);
    p->vals = NULL;
    if (p->dec != NULL) {
        for (int c = 0; c < p->ncols; c++)
            Py_XDECREF(p->dec[c]);
        PyMem_Free(p->dec);
        p->dec = NULL;
    }
}

/* custom_decoders (None or a mapping column name -> callable) picks the
 * columns whose raw cells go through a Python callable. */
static int
plan_init(rowplan *p, ResultObject *self, int shape, PyObject *custom_decoders)
{
    p->self = self;
    p->shape = shape;
    p->dec = NULL;
    p->hosts = NULL;
    p->colmap = NULL;
    p->template = NULL;
    p->vals = NULL;
    p->names = names_of(self);
    if (p->names == NULL)
        return -1;
    p->ncols = (int)PyTuple_GET_SIZE(p->names);
    if (shape == ROW_DICT) {
        if (p->ncols <= PLAN_SMALL) {
            p->vals = p->small;
        } else if ((p->vals = PyMem_Malloc((size_t)p->ncols * sizeof(PyObject *))) == NULL) {
            PyErr_NoMemory();
            goto error;
        }
        if (pgd_result_nrows(self->res) > 1) {
            if ((p->template = template_of(self)) == NULL)
                goto error;
        }
    }
    if (shape == ROW_RECORD && (p->colmap = colmap_of(self)) == NULL)
        goto error;
    p->cx.st = self->st;
    p->cx.err[0] = 0;
    if ((p->hosts = hosts_of(self)) == NULL)
        goto error;
    if (custom_decoders == NULL || custom_decoders == Py_None)
        return 0;
    if (!PyMapping_Check(custom_decoders)) {
        PyErr_Format(PyExc_TypeError,
                     "custom_decoders must be a mapping of column names to callables, not %s",
                     Py_TYPE(custom_decoders)->tp_name);
        goto error;
    }
    p->dec = PyMem_Calloc(p->ncols > 0 ? (size_t)p->ncols : 1, sizeof(PyObject *));
    if (p->dec == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (int c = 0; c < p->ncols; c++) {
        PyObject *f = PyObject_GetItem(custom_decoders, PyTuple_GET_ITEM(p->names, c));
        if (f == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_KeyError))
                goto error;
            PyErr_Clear();
            continue;
        }
        p->dec[c] = f;
        if (!PyCallable_Check(f)) {
            PyErr_Format(PyExc_TypeError, "custom_decoders[%R] must be callable, not %s",
                         PyTuple_GET_ITEM(p->names, c), Py_TYPE(f)->tp_name);
            goto error;
        }
    }
    return 0;
error:
    plan_fini(p);
    return -1;
}

/* One cell as a new reference: through its custom decoder (called with
 * the cell's bytes as the server sent them; SQL NULL stays None without a
 * call) or through the column's codec. */
static PyObject *
plan_cell(rowplan *p, int row, int col)
{
    if (p->dec == NULL || p->dec[col] == NULL) {
        PyObject *v = (PyObject *)pgd_result_get(p->self->res, row, col, p->hosts[col], &p->cx);
        return v != NULL ? v : psqlpy_cell_error(p->self->res, col, &p->cx);
    }
    const char *data;
    size_t len;
    if (pgd_result_raw(p->self->res, row, col, &data, &len) < 0)
        Py_RETURN_NONE;
    PyObject *raw = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    if (raw == NULL)
        return NULL;
    PyObject *v = PyObject_CallOneArg(p->dec[col], raw);
    Py_DECREF(raw);
    return v;
}

/* Row `row`'s values into vals[0..ncols) (new references), or -1 with
 * the exception set and nothing left in vals. */
static int
plan_values(rowplan *p, int row, PyObject **vals)
{
    int ncols = p->ncols;
    if (p->dec == NULL) {
        /* the whole row in one call into the driver */
        int done = pgd_result_get_row(p->self->res, row, p->hosts, &p->cx, (pgd_obj **)vals);
        if (done == ncols)
            return 0;
        psqlpy_cell_error(p->self->res, done, &p->cx);
        while (done-- > 0)
            Py_CLEAR(vals[done]);
        return -1;
    }
    for (int c = 0; c < ncols; c++) {
        PyObject *v = plan_cell(p, row, c);
        if (v == NULL) {
            while (c-- > 0)
                Py_CLEAR(vals[c]);
            return -1;
        }
        vals[c] = v;
    }
    return 0;
}

/* Put values[0..n) (stolen, each set) into `row` under names[0..n).
 * Through the public dict API only: a copy of the template already holds
 * every key with its hash, so each store replaces a value and never
 * resizes.  Returns 0, or -1 with an exception set (the values are
 * released either way). */
static int
dict_fill(PyObject *row, PyObject *names, PyObject **values, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && PyDict_SetItem(row, PyTuple_GET_ITEM(names, i), values[i]) < 0)
            rc = -1;
        Py_DECREF(values[i]);
    }
    return rc;
}

/* One row in the plan's shape; new reference. */
static PyObject *
plan_row(rowplan *p, int row)
{
    int ncols = p->ncols;
    PyObject *out;
    if (p->shape == ROW_DICT) {
        /* the values first, then the dict in one go */
        if (plan_values(p, row, p->vals) < 0)
            return NULL;
        out = p->template ? PyDict_Copy(p->template) : PyDict_New();
        if (out == NULL) {
            for (int c = 0; c < ncols; c++)
                Py_DECREF(p->vals[c]);
            return NULL;
        }
        if (dict_fill(out, p->names, p->vals, ncols) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        return out;
    }
    /* tuples and Records: the values straight into their slots */
    if (p->shape == ROW_RECORD)
        out = record_new(p->self->st, p->colmap);
    else
        out = PyTuple_New(ncols);
    if (out == NULL)
        return NULL;
    PyObject **slots = p->shape == ROW_RECORD ? record_values(out)
                                              : &PyTuple_GET_ITEM(out, 0);
    if (plan_values(p, row, slots) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    if (p->shape == ROW_RECORD)
        record_finish(out);
    return out;
}

/* What is done with each row dict before it goes into the list. */
enum row_post { POST_NONE, POST_CLASS /* cls(**row) */, POST_CALL /* f(row) */ };

static PyObject *
post_row(ResultObject *self, PyObject *row, int post, PyObject *fn)
{
    if (row == NULL || post == POST_NONE)
        return row;
    PyObject *v = post == POST_CLASS ? PyObject_Call(fn, self->st->empty_tuple, row)
                                     : PyObject_CallOneArg(fn, row);
    Py_DECREF(row);
    return v;
}

/* Rows [start, start + n*step) (step may be negative) into a new list. */
static PyObject *
plan_rows(rowplan *p, Py_ssize_t start, Py_ssize_t n, Py_ssize_t step, int post, PyObject *fn)
{
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t k = 0, r = start; k < n; k++, r += step) {
        PyObject *row = post_row(p->self, plan_row(p, (int)r), post, fn);
        if (row == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, row);
    }
    return list;
}

/* Every row, shaped and post-processed, into a new list. */
static PyObject *
rows_list(ResultObject *self, int shape, PyObject *custom_decoders, int post, PyObject *fn)
{
    rowplan p;
    if (plan_init(&p, self, shape, custom_decoders) < 0)
        return NULL;
    PyObject *list = plan_rows(&p, 0, pgd_result_nrows(self->res), 1, post, fn);
    plan_fini(&p);
    return list;
}

/* custom_decoders=None, as_tuple=None, keyword-only: the shape asked for. */
static int
parse_result_args(PyObject *args, PyObject *kwds, PyObject **decoders, int *shape)
{
    static char *kwlist[] = {"custom_decoders", "as_tuple", NULL};
    PyObject *as_tuple = Py_None;
    *decoders = Py_None;
    if (PyTuple_GET_SIZE(args) == 0 && (kwds == NULL || PyDict_GET_SIZE(kwds) == 0)) {
        *shape = ROW_DICT; /* result(): the common call */
        return 0;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OO:result", kwlist, decoders, &as_tuple))
        return -1;
    int t = as_tuple == Py_None ? 0 : PyObject_IsTrue(as_tuple);
    if (t < 0)
        return -1;
    *shape = t ? ROW_TUPLE : ROW_DICT;
    return 0;
}

static PyObject *
qr_result(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *decoders;
    int shape;
    if (parse_result_args(args, kwds, &decoders, &shape) < 0)
        return NULL;
    return rows_list((ResultObject *)self, shape, decoders, POST_NONE, NULL);
}

static PyObject *
qr_records(PyObject *self, PyObject *unused)
{
    (void)unused;
    return rows_list((ResultObject *)self, ROW_RECORD, NULL, POST_NONE, NULL);
}

static int
check_callable(PyObject *f, const char *what)
{
    if (PyCallable_Check(f))
        return 0;
    PyErr_Format(PyExc_TypeError, "%s must be callable, not %s", what, Py_TYPE(f)->tp_name);
    return -1;
}

static int
parse_class(PyObject *args, PyObject *kwds, PyObject **cls)
{
    static char *kwlist[] = {"as_class", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:as_class", kwlist, cls))
        return -1;
    return check_callable(*cls, "as_class");
}

/* row_factory, custom_decoders=None */
static int
parse_factory(PyObject *args, PyObject *kwds, PyObject **fn, PyObject **decoders)
{
    static char *kwlist[] = {"row_factory", "custom_decoders", NULL};
    *decoders = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:row_factory", kwlist, fn, decoders))
        return -1;
    return check_callable(*fn, "row_factory");
}

static PyObject *
qr_as_class(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *cls;
    if (parse_class(args, kwds, &cls) < 0)
        return NULL;
    return rows_list((ResultObject *)self, ROW_DICT, NULL, POST_CLASS, cls);
}

static PyObject *
qr_row_factory(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *fn, *decoders;
    if (parse_factory(args, kwds, &fn, &decoders) < 0)
        return NULL;
    return rows_list((ResultObject *)self, ROW_DICT, decoders, POST_CALL, fn);
}

/* Row i as a dict (what result() gives), for indexing and iteration. */
static PyObject *
qr_item(PyObject *op, Py_ssize_t i)
{
    ResultObject *self = (ResultObject *)op;
    if (i < 0 || i >= pgd_result_nrows(self->res)) {
        PyErr_SetString(PyExc_IndexError, "QueryResult index out of range");
        return NULL;
    }
    rowplan p;
    if (plan_init(&p, self, ROW_DICT, NULL) < 0)
        return NULL;
    PyObject *row = plan_row(&p, (int)i);
    plan_fini(&p);
    return row;
}

static PyObject *
qr_subscript(PyObject *op, PyObject *key)
{
    ResultObject *self = (ResultObject *)op;
    Py_ssize_t nrows = pgd_result_nrows(self->res);
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0)
            return NULL;
        Py_ssize_t n = PySlice_AdjustIndices(nrows, &start, &stop, step);
        rowplan p;
        if (plan_init(&p, self, ROW_DICT, NULL) < 0)
            return NULL;
        PyObject *list = plan_rows(&p, start, n, step, POST_NONE, NULL);
        plan_fini(&p);
        return list;
    }
    if (!PyIndex_Check(key)) {
        PyErr_Format(PyExc_TypeError, "QueryResult indices must be integers or slices, not %s",
                     Py_TYPE(key)->tp_name);
        return NULL;
    }
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    return qr_item(op, i < 0 ? i + nrows : i);
}

static PyObject *
qr_iter(PyObject *self)
{
    return PySeqIter_New(self);
}

/* The first row through the plan, or NoRowsError. */
static PyObject *
sr_first(ResultObject *self, int shape, PyObject *custom_decoders, int post, PyObject *fn)
{
    rowplan p;
    if (plan_init(&p, self, shape, custom_decoders) < 0)
        return NULL;
    PyObject *row = NULL;
    if (pgd_result_nrows(self->res) < 1)
        PyErr_SetString(self->st->NoRowsError, "the query returned no rows");
    else
        row = post_row(self, plan_row(&p, 0), post, fn);
    plan_fini(&p);
    return row;
}

static PyObject *
sr_result(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *decoders;
    int shape;
    if (parse_result_args(args, kwds, &decoders, &shape) < 0)
        return NULL;
    return sr_first((ResultObject *)self, shape, decoders, POST_NONE, NULL);
}

static PyObject *
sr_as_class(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *cls;
    if (parse_class(args, kwds, &cls) < 0)
        return NULL;
    return sr_first((ResultObject *)self, ROW_DICT, NULL, POST_CLASS, cls);
}

static PyObject *
sr_row_factory(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *fn, *decoders;
    if (parse_factory(args, kwds, &fn, &decoders) < 0)
        return NULL;
    return sr_first((ResultObject *)self, ROW_DICT, decoders, POST_CALL, fn);
}

static Py_ssize_t
qr_len(PyObject *self)
{
    return pgd_result_nrows(((ResultObject *)self)->res);
}

static PyObject *
qr_get_columns(PyObject *self, void *c)
{
    (void)c;
    PyObject *names = names_of((ResultObject *)self);
    return names ? Py_NewRef(names) : NULL;
}

/* _column_tables: per column, the OID of the table it comes from, or None
 * (computed columns); Column.table_oid of the 0.13 API. */
static PyObject *
qr_get_column_tables(PyObject *self, void *c)
{
    (void)c;
    const pgd_result *res = ((ResultObject *)self)->res;
    int n = pgd_result_ncols(res);
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        uint32_t oid = pgd_result_coltable(res, i);
        PyObject *v = oid ? PyLong_FromUnsignedLong(oid) : Py_NewRef(Py_None);
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static PyObject *
qr_get_status(PyObject *self, void *c)
{
    (void)c;
    const char *s = pgd_result_command(((ResultObject *)self)->res);
    return PyUnicode_FromString(s ? s : "");
}

static PyObject *
qr_get_affected(PyObject *self, void *c)
{
    (void)c;
    int64_t n = pgd_result_affected(((ResultObject *)self)->res);
    if (n < 0)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(n);
}

static PyObject *
qr_get_profile(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromLong(((ResultObject *)self)->profile);
}

static int
qr_set_profile(PyObject *self, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL) {
        PyErr_SetString(PyExc_TypeError, "_profile cannot be deleted");
        return -1;
    }
    long n = PyLong_AsLong(v);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (n != PSQLPY_PROFILE_DEFAULT && n != PSQLPY_PROFILE_013) {
        PyErr_SetString(PyExc_ValueError, "_profile must be 0 (default) or 1 (psqlpy 0.13)");
        return -1;
    }
    ((ResultObject *)self)->profile = (int)n;
    return 0;
}

static PyObject *
qr_repr(PyObject *op)
{
    ResultObject *self = (ResultObject *)op;
    return PyUnicode_FromFormat("<%s %d rows x %d columns>", Py_TYPE(op)->tp_name,
                                pgd_result_nrows(self->res), pgd_result_ncols(self->res));
}

static void
qr_dealloc(ResultObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (self->res)
        pgd_result_free(self->res);
    Py_XDECREF(self->names);
    Py_XDECREF(self->colmap);
    Py_XDECREF(self->template);
    if (self->hosts != NULL)
        PyMem_Free((void *)self->hosts);
    PyObject_Free(self);
    Py_DECREF(tp);
}

static PyGetSetDef qr_getset[] = {
    {"columns", qr_get_columns, NULL, "Column names, in order.", NULL},
    {"_column_tables", qr_get_column_tables, NULL,
     "Per column, the OID of its source table, or None.", NULL},
    {"status", qr_get_status, NULL, "The command tag, e.g. 'INSERT 0 1'.", NULL},
    {"rows_affected", qr_get_affected, NULL,
     "Rows the command affected or returned, or None.", NULL},
    {"_profile", qr_get_profile, qr_set_profile,
     "The decoding profile: 0 (default) or 1 (psqlpy 0.13).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef qr_methods[] = {
    {"result", (PyCFunction)(void (*)(void))qr_result, METH_VARARGS | METH_KEYWORDS,
     "result($self, /, *, custom_decoders=None, as_tuple=None)\n--\n\n"
     "The rows as a list of dicts (column name -> value), or of tuples with "
     "as_tuple=True. custom_decoders maps column names to callables that get "
     "the column's cells as the server sent them (bytes; NULL stays None)."},
    {"as_class", (PyCFunction)(void (*)(void))qr_as_class, METH_VARARGS | METH_KEYWORDS,
     "as_class($self, /, as_class)\n--\n\nThe rows as a list of as_class(**row)."},
    {"row_factory", (PyCFunction)(void (*)(void))qr_row_factory, METH_VARARGS | METH_KEYWORDS,
     "row_factory($self, /, row_factory, custom_decoders=None)\n--\n\n"
     "The rows as a list of row_factory(row), row being the dict result() gives."},
    {"records", qr_records, METH_NOARGS,
     "records($self, /)\n--\n\nThe rows as a list of Record."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot qr_slots[] = {
    {Py_tp_dealloc, qr_dealloc},
    {Py_tp_methods, qr_methods},
    {Py_tp_getset, qr_getset},
    {Py_tp_repr, qr_repr},
    {Py_tp_iter, qr_iter},
    {Py_sq_length, qr_len},
    {Py_sq_item, qr_item},
    {Py_mp_length, qr_len},
    {Py_mp_subscript, qr_subscript},
    {Py_tp_doc, "The result of a statement."},
    {0, NULL},
};

PyType_Spec QueryResultSpec = {
    .name = "psqlpy._psqlpy.QueryResult",
    .basicsize = sizeof(ResultObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = qr_slots,
};

static PyMethodDef sr_methods[] = {
    {"result", (PyCFunction)(void (*)(void))sr_result, METH_VARARGS | METH_KEYWORDS,
     "result($self, /, *, custom_decoders=None, as_tuple=None)\n--\n\n"
     "The row as a dict (column name -> value), or a tuple with as_tuple=True. "
     "custom_decoders as in QueryResult.result()."},
    {"as_class", (PyCFunction)(void (*)(void))sr_as_class, METH_VARARGS | METH_KEYWORDS,
     "as_class($self, /, as_class)\n--\n\nThe row as as_class(**row)."},
    {"row_factory", (PyCFunction)(void (*)(void))sr_row_factory, METH_VARARGS | METH_KEYWORDS,
     "row_factory($self, /, row_factory, custom_decoders=None)\n--\n\n"
     "row_factory(row), row being the dict result() gives."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot sr_slots[] = {
    {Py_tp_dealloc, qr_dealloc},
    {Py_tp_methods, sr_methods},
    {Py_tp_getset, qr_getset},
    {Py_tp_repr, qr_repr},
    {Py_tp_doc, "The first row of a statement's result."},
    {0, NULL},
};

PyType_Spec SingleQueryResultSpec = {
    .name = "psqlpy._psqlpy.SingleQueryResult",
    .basicsize = sizeof(ResultObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = sr_slots,
};
