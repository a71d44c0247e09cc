/*
 * record.c - Record, one row of a result as an immutable sequence that can
 * also be read by column name.
 *
 * A Record is one variable-size object: a reference to its result's column
 * map and its values inline.  The column map is built once per result and
 * shared by all of its Records:
 *
 *     colmap = (names, index)    a 2-tuple: names is a tuple of str in
 *                                column order, index a dict str -> int
 *
 * With duplicate column names the index holds the first column of that
 * name, so r["a"] is the leftmost "a" (as in asyncpg); every column stays
 * reachable by position, keys() and items().
 *
 * Behaviour (psqlpy 0.13's Record, asyncpg's where 0.13 says nothing):
 *   r[i] (negative too), r["name"] (KeyError), r[i:j] -> list,
 *   iteration over the values, len(r), "name" in r (column names),
 *   get(key, default=None), keys()/values()/items() -> lists,
 *   r == other: with a Record, same names and equal values; with a tuple,
 *   equal values; hash(r) is the hash of its values as a tuple.
 *
 * Garbage collection: a Record is tracked only when one of its values is
 * (see record_finish()).
 */
#include "pyext.h"

typedef struct RecordObject {
    PyObject_VAR_HEAD
    PyObject *colmap;      /* (names, index), shared; strong */
    PyObject *values[1];   /* ob_size of them, strong */
} RecordObject;

#define REC(o) ((RecordObject *)(o))
#define REC_NAMES(r) PyTuple_GET_ITEM((r)->colmap, 0)
#define REC_INDEX(r) PyTuple_GET_ITEM((r)->colmap, 1)

/* A new column map for `names` (a tuple of str); new reference. */
PyObject *
record_colmap_new(PyObject *names)
{
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    PyObject *index = PyDict_New();
    if (index == NULL)
        return NULL;
    for (Py_ssize_t i = n - 1; i >= 0; i--) { /* backwards: the first wins */
        PyObject *pos = PyLong_FromSsize_t(i);
        if (pos == NULL || PyDict_SetItem(index, PyTuple_GET_ITEM(names, i), pos) < 0) {
            Py_XDECREF(pos);
            Py_DECREF(index);
            return NULL;
        }
        Py_DECREF(pos);
    }
    PyObject *map = PyTuple_Pack(2, names, index);
    Py_DECREF(index);
    return map;
}

/* A new Record of len(names) values, all NULL: the caller fills every
 * slot of record_values(), then calls record_finish(), before the Record is
 * seen by anyone. */
PyObject *
record_new(module_state *st, PyObject *colmap)
{
    Py_ssize_t n = PyTuple_GET_SIZE(PyTuple_GET_ITEM(colmap, 0));
    RecordObject *r = PyObject_GC_NewVar(RecordObject, st->RecordType, n);
    if (r == NULL)
        return NULL;
    r->colmap = Py_NewRef(colmap);
    for (Py_ssize_t i = 0; i < n; i++)
        r->values[i] = NULL;
    return (PyObject *)r;
}

/* The Record is complete.  It joins the garbage collector only when a value
 * can be part of a reference cycle (is tracked itself): a Record of ints,
 * strings, floats... never can (its values never change, and the column map
 * never refers to a Record), and leaving it out spares every collection
 * from walking a large result's rows again and again, as CPython does for
 * tuples and dicts of such values. */
void
record_finish(PyObject *rec)
{
    RecordObject *r = REC(rec);
    for (Py_ssize_t i = 0; i < Py_SIZE(r); i++) {
        PyObject *v = r->values[i];
        /* the type's flag first: ints, strs, floats... are never tracked */
        if (PyType_IS_GC(Py_TYPE(v)) && PyObject_GC_IsTracked(v)) {
            PyObject_GC_Track(rec);
            return;
        }
    }
}

/* The new Record's value slots, to be filled (each takes a reference);
 * slots still NULL when it is freed are skipped. */
PyObject **
record_values(PyObject *rec)
{
    return REC(rec)->values;
}

static int
rec_traverse(PyObject *self, visitproc visit, void *arg)
{
    RecordObject *r = REC(self);
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(r->colmap);
    for (Py_ssize_t i = 0; i < Py_SIZE(r); i++)
        Py_VISIT(r->values[i]);
    return 0;
}

static int
rec_clear(PyObject *self)
{
    RecordObject *r = REC(self);
    for (Py_ssize_t i = 0; i < Py_SIZE(r); i++)
        Py_CLEAR(r->values[i]);
    Py_CLEAR(r->colmap);
    return 0;
}

static void
rec_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)rec_clear(self);
    PyObject_GC_Del(self);
    Py_DECREF(tp);
}

static Py_ssize_t
rec_len(PyObject *self)
{
    return Py_SIZE(self);
}

/* Borrowed value at position i (already range-checked) or NULL. */
static PyObject *
rec_at(RecordObject *r, Py_ssize_t i)
{
    PyObject *v = r->values[i];
    return v ? v : Py_None; /* only during construction */
}

static PyObject *
rec_item(PyObject *self, Py_ssize_t i)
{
    if (i < 0 || i >= Py_SIZE(self)) {
        PyErr_SetString(PyExc_IndexError, "Record index out of range");
        return NULL;
    }
    return Py_NewRef(rec_at(REC(self), i));
}

/* Position of column `key`, -1 when there is none (no exception), -2 with
 * an exception (an unhashable key). */
static Py_ssize_t
rec_find(RecordObject *r, PyObject *key)
{
    PyObject *pos = PyDict_GetItemWithError(REC_INDEX(r), key);
    if (pos == NULL)
        return PyErr_Occurred() ? -2 : -1;
    return PyLong_AsSsize_t(pos);
}

static PyObject *
rec_subscript(PyObject *self, PyObject *key)
{
    RecordObject *r = REC(self);
    if (PyUnicode_Check(key)) {
        Py_ssize_t i = rec_find(r, key);
        if (i == -1)
            PyErr_SetObject(PyExc_KeyError, key);
        return i < 0 ? NULL : Py_NewRef(rec_at(r, i));
    }
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        if (i < 0)
            i += Py_SIZE(r);
        return rec_item(self, i);
    }
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0)
            return NULL;
        Py_ssize_t n = PySlice_AdjustIndices(Py_SIZE(r), &start, &stop, step);
        PyObject *list = PyList_New(n);
        if (list == NULL)
            return NULL;
        for (Py_ssize_t k = 0, i = start; k < n; k++, i += step)
            PyList_SET_ITEM(list, k, Py_NewRef(rec_at(r, i)));
        return list;
    }
    PyErr_Format(PyExc_TypeError, "Record indices must be integers, slices or column names, not %s",
                 Py_TYPE(key)->tp_name);
    return NULL;
}

static int
rec_contains(PyObject *self, PyObject *key)
{
    Py_ssize_t i = rec_find(REC(self), key);
    return i == -2 ? -1 : i >= 0;
}

static PyObject *
rec_iter(PyObject *self)
{
    return PySeqIter_New(self);
}

/* The values as a new tuple. */
static PyObject *
rec_as_tuple(RecordObject *r)
{
    PyObject *t = PyTuple_New(Py_SIZE(r));
    if (t == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < Py_SIZE(r); i++)
        PyTuple_SET_ITEM(t, i, Py_NewRef(rec_at(r, i)));
    return t;
}

static Py_hash_t
rec_hash(PyObject *self)
{
    PyObject *t = rec_as_tuple(REC(self));
    if (t == NULL)
        return -1;
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    return h;
}

static PyObject *
rec_richcompare(PyObject *self, PyObject *other, int op)
{
    if (op != Py_EQ && op != Py_NE)
        Py_RETURN_NOTIMPLEMENTED;
    RecordObject *r = REC(self);
    int eq;
    if (Py_TYPE(other) == Py_TYPE(self)) {
        RecordObject *o = REC(other);
        eq = Py_SIZE(r) == Py_SIZE(o);
        if (eq && r->colmap != o->colmap) {
            eq = PyObject_RichCompareBool(REC_NAMES(r), REC_NAMES(o), Py_EQ);
            if (eq < 0)
                return NULL;
        }
        for (Py_ssize_t i = 0; eq == 1 && i < Py_SIZE(r); i++) {
            eq = PyObject_RichCompareBool(rec_at(r, i), rec_at(o, i), Py_EQ);
            if (eq < 0)
                return NULL;
        }
    } else if (PyTuple_Check(other)) {
        eq = Py_SIZE(r) == PyTuple_GET_SIZE(other);
        for (Py_ssize_t i = 0; eq == 1 && i < Py_SIZE(r); i++) {
            eq = PyObject_RichCompareBool(rec_at(r, i), PyTuple_GET_ITEM(other, i), Py_EQ);
            if (eq < 0)
                return NULL;
        }
    } else {
        Py_RETURN_NOTIMPLEMENTED;
    }
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
rec_repr(PyObject *self)
{
    RecordObject *r = REC(self);
    if (Py_SIZE(r) == 0)
        return PyUnicode_FromString("<Record>");
    int rc = Py_ReprEnter(self);
    if (rc != 0)
        return rc > 0 ? PyUnicode_FromString("<Record ...>") : NULL;
    PyObject *parts = PyList_New(Py_SIZE(r));
    PyObject *out = NULL;
    if (parts == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < Py_SIZE(r); i++) {
        PyObject *s = PyUnicode_FromFormat("%U=%R", PyTuple_GET_ITEM(REC_NAMES(r), i),
                                           rec_at(r, i));
        if (s == NULL)
            goto done;
        PyList_SET_ITEM(parts, i, s);
    }
    PyObject *sep = PyUnicode_FromString(" ");
    PyObject *body = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    if (body != NULL) {
        out = PyUnicode_FromFormat("<Record %U>", body);
        Py_DECREF(body);
    }
done:
    Py_XDECREF(parts);
    Py_ReprLeave(self);
    return out;
}

static PyObject *
rec_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get expected 1 or 2 arguments, got %zd", nargs);
        return NULL;
    }
    RecordObject *r = REC(self);
    Py_ssize_t i = rec_find(r, args[0]);
    if (i == -2)
        return NULL;
    if (i >= 0)
        return Py_NewRef(rec_at(r, i));
    return Py_NewRef(nargs > 1 ? args[1] : Py_None);
}

static PyObject *
rec_keys(PyObject *self, PyObject *unused)
{
    (void)unused;
    return PySequence_List(REC_NAMES(REC(self)));
}

static PyObject *
rec_values(PyObject *self, PyObject *unused)
{
    (void)unused;
    RecordObject *r = REC(self);
    PyObject *list = PyList_New(Py_SIZE(r));
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < Py_SIZE(r); i++)
        PyList_SET_ITEM(list, i, Py_NewRef(rec_at(r, i)));
    return list;
}

static PyObject *
rec_items(PyObject *self, PyObject *unused)
{
    (void)unused;
    RecordObject *r = REC(self);
    PyObject *list = PyList_New(Py_SIZE(r));
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < Py_SIZE(r); i++) {
        PyObject *pair = PyTuple_Pack(2, PyTuple_GET_ITEM(REC_NAMES(r), i), rec_at(r, i));
        if (pair == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, pair);
    }
    return list;
}

static PyMethodDef rec_methods[] = {
    {"get", (PyCFunction)(void (*)(void))rec_get, METH_FASTCALL,
     "get($self, key, default=None, /)\n--\n\n"
     "The value of column key (the first one of that name), or default."},
    {"keys", rec_keys, METH_NOARGS,
     "keys($self, /)\n--\n\nThe column names, in order, as a list."},
    {"values", rec_values, METH_NOARGS,
     "values($self, /)\n--\n\nThe values, in column order, as a list."},
    {"items", rec_items, METH_NOARGS,
     "items($self, /)\n--\n\nThe (column name, value) pairs, in column order, as a list."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot rec_slots[] = {
    {Py_tp_dealloc, rec_dealloc},
    {Py_tp_traverse, rec_traverse},
    {Py_tp_clear, rec_clear},
    {Py_tp_repr, rec_repr},
    {Py_tp_hash, rec_hash},
    {Py_tp_richcompare, rec_richcompare},
    {Py_tp_iter, rec_iter},
    {Py_tp_methods, rec_methods},
    {Py_sq_length, rec_len},
    {Py_sq_item, rec_item},
    {Py_sq_contains, rec_contains},
    {Py_mp_length, rec_len},
    {Py_mp_subscript, rec_subscript},
    {Py_tp_doc, "One row of a result: its values by position, by column name or by slice."},
    {0, NULL},
};

PyType_Spec RecordSpec = {
    .name = "psqlpy._psqlpy.Record",
    .basicsize = offsetof(RecordObject, values),
    .itemsize = sizeof(PyObject *),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = rec_slots,
};
