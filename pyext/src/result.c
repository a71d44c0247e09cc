/*
 * result.c - QueryResult and SingleQueryResult.
 *
 * Both keep the driver's pgd_result and decode on demand: result() builds
 * fresh dicts (column name -> value, in column order) each time it is
 * called, as_class(cls) calls cls(**row) per row.  Column names are made
 * into Python strings once per result.
 */
#include "pyext.h"

typedef struct ResultObject {
    PyObject_HEAD
    module_state *st;
    pgd_result *res;
    PyObject *names; /* tuple of str, made on first use */
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

/* One row as a new dict.  With a template (a dict of the column names, see
 * rows_list) the dict starts as its copy, so every key is in place with its
 * hash and room for all of them: filling it only replaces values. */
static PyObject *
row_dict(ResultObject *self, PyObject *names, PyObject *template, int row)
{
    int ncols = (int)PyTuple_GET_SIZE(names);
    PyObject *d = template ? PyDict_Copy(template) : PyDict_New();
    if (d == NULL)
        return NULL;
    for (int c = 0; c < ncols; c++) {
        PyObject *v = psqlpy_get_cell(self->st, self->res, row, c);
        if (v == NULL || PyDict_SetItem(d, PyTuple_GET_ITEM(names, c), v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

/* Rows [0, nrows) through make(row dict) into a new list. */
static PyObject *
rows_list(ResultObject *self, PyObject *cls)
{
    PyObject *names = names_of(self);
    if (names == NULL)
        return NULL;
    int nrows = pgd_result_nrows(self->res);
    PyObject *list = PyList_New(nrows);
    if (list == NULL)
        return NULL;
    /* the public stand-in for a presized dict: the names mapped to None,
     * copied for each row (a flat copy of the key table) */
    PyObject *template = nrows > 1 ? PyDict_New() : NULL;
    if (template != NULL)
        for (Py_ssize_t c = 0; c < PyTuple_GET_SIZE(names); c++)
            if (PyDict_SetItem(template, PyTuple_GET_ITEM(names, c), Py_None) < 0) {
                Py_CLEAR(template);
                break;
            }
    if (nrows > 1 && template == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    for (int r = 0; r < nrows; r++) {
        PyObject *d = row_dict(self, names, template, r);
        if (d != NULL && cls != NULL) {
            Py_SETREF(d, PyObject_Call(cls, self->st->empty_tuple, d));
        }
        if (d == NULL) {
            Py_XDECREF(template);
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, r, d);
    }
    Py_XDECREF(template);
    return list;
}

static PyObject *
qr_result(PyObject *self, PyObject *unused)
{
    (void)unused;
    return rows_list((ResultObject *)self, NULL);
}

static int
parse_class(PyObject *args, PyObject *kwds, PyObject **cls)
{
    static char *kwlist[] = {"as_class", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:as_class", kwlist, cls))
        return -1;
    if (!PyCallable_Check(*cls)) {
        PyErr_Format(PyExc_TypeError, "as_class must be callable, not %s",
                     Py_TYPE(*cls)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *
qr_as_class(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *cls;
    if (parse_class(args, kwds, &cls) < 0)
        return NULL;
    return rows_list((ResultObject *)self, cls);
}

static PyObject *
sr_first(ResultObject *self, PyObject *cls)
{
    PyObject *names = names_of(self);
    if (names == NULL)
        return NULL;
    if (pgd_result_nrows(self->res) < 1) {
        PyErr_SetString(self->st->NoRowsError, "the query returned no rows");
        return NULL;
    }
    PyObject *d = row_dict(self, names, NULL, 0);
    if (d != NULL && cls != NULL)
        Py_SETREF(d, PyObject_Call(cls, self->st->empty_tuple, d));
    return d;
}

static PyObject *
sr_result(PyObject *self, PyObject *unused)
{
    (void)unused;
    return sr_first((ResultObject *)self, NULL);
}

static PyObject *
sr_as_class(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *cls;
    if (parse_class(args, kwds, &cls) < 0)
        return NULL;
    return sr_first((ResultObject *)self, cls);
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
    PyObject_Free(self);
    Py_DECREF(tp);
}

static PyGetSetDef qr_getset[] = {
    {"columns", qr_get_columns, NULL, "Column names, in order.", NULL},
    {"status", qr_get_status, NULL, "The command tag, e.g. 'INSERT 0 1'.", NULL},
    {"rows_affected", qr_get_affected, NULL,
     "Rows the command affected or returned, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef qr_methods[] = {
    {"result", qr_result, METH_NOARGS,
     "result($self, /)\n--\n\nThe rows as a list of dicts (column name -> value)."},
    {"as_class", (PyCFunction)(void (*)(void))qr_as_class, METH_VARARGS | METH_KEYWORDS,
     "as_class($self, /, as_class)\n--\n\nThe rows as a list of as_class(**row)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot qr_slots[] = {
    {Py_tp_dealloc, qr_dealloc},
    {Py_tp_methods, qr_methods},
    {Py_tp_getset, qr_getset},
    {Py_tp_repr, qr_repr},
    {Py_sq_length, qr_len},
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
    {"result", sr_result, METH_NOARGS,
     "result($self, /)\n--\n\nThe row as a dict (column name -> value)."},
    {"as_class", (PyCFunction)(void (*)(void))sr_as_class, METH_VARARGS | METH_KEYWORDS,
     "as_class($self, /, as_class)\n--\n\nThe row as as_class(**row)."},
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
