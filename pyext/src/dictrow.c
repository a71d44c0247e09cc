/*
 * dictrow.c - row dicts filled in place.
 *
 * result() makes one dict per row, all with the same keys in the same
 * order.  Each starts as a copy of a template (the column names mapped to
 * None; PyDict_Copy clones its key table, hashes and all), and then only
 * its values change.  Through PyDict_SetItem that is a hash-table lookup
 * per cell, about 200 instructions, a fifth of what a pg_type row costs.
 *
 * On CPython 3.11 the values are written straight into the copy's entry
 * table instead: a copy of a combined table of str keys (dk_kind
 * DICT_KEYS_UNICODE) keeps the template's entries in insertion order, so
 * column i's value is entry i's.  That needs the layout from CPython's
 * internal header, which later versions do not let an extension include
 * cleanly; there, and whenever a dict is not in the shape checked for
 * (duplicate column names, say), the values go in through PyDict_SetItem,
 * with the same result.
 */
#include "pyext.h"

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && !defined(Py_LIMITED_API)
#define Py_BUILD_CORE 1
#include "internal/pycore_dict.h"
#define DICTROW_IN_PLACE 1
#endif

/* The template's shape allows filling its copies in place: a dict whose
 * entries are names[0..n) in order (so no name repeats) in a combined
 * table of str keys. */
int
dictrow_template_ok(PyObject *template, PyObject *names)
{
#ifdef DICTROW_IN_PLACE
    PyDictObject *mp = (PyDictObject *)template;
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    if (!PyDict_CheckExact(template) || mp->ma_values != NULL || mp->ma_used != n ||
        mp->ma_keys->dk_kind != DICT_KEYS_UNICODE || mp->ma_keys->dk_nentries != n)
        return 0;
    PyDictUnicodeEntry *e = DK_UNICODE_ENTRIES(mp->ma_keys);
    for (Py_ssize_t i = 0; i < n; i++)
        if (e[i].me_key != PyTuple_GET_ITEM(names, i))
            return 0;
    return 1;
#else
    (void)template;
    (void)names;
    return 0;
#endif
}

/* Put values[0..n) (stolen, all set) into `row`, a fresh copy of a
 * template that passed dictrow_template_ok(), under names[0..n).  Returns
 * 0, or -1 with an exception set (the values are released either way). */
int
dictrow_fill(PyObject *row, PyObject *names, PyObject **values, Py_ssize_t n, int in_place)
{
#ifdef DICTROW_IN_PLACE
    PyDictObject *mp = (PyDictObject *)row;
    if (in_place && mp->ma_values == NULL && mp->ma_keys->dk_kind == DICT_KEYS_UNICODE &&
        mp->ma_keys->dk_nentries == n && mp->ma_used == n) {
        PyDictUnicodeEntry *e = DK_UNICODE_ENTRIES(mp->ma_keys);
        int track = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *old = e[i].me_value;
            e[i].me_value = values[i];
            Py_XDECREF(old);
            track |= PyType_IS_GC(Py_TYPE(values[i])) && PyObject_GC_IsTracked(values[i]);
        }
        /* as PyDict_SetItem would: a dict holding a tracked value is tracked */
        if (track && !PyObject_GC_IsTracked(row))
            PyObject_GC_Track(row);
        return 0;
    }
#else
    (void)in_place;
#endif
    int rc = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rc == 0 && PyDict_SetItem(row, PyTuple_GET_ITEM(names, i), values[i]) < 0)
            rc = -1;
        Py_DECREF(values[i]);
    }
    return rc;
}
