/*
 * pycompat.h - the few CPython calls whose public form depends on the
 * version, so that the extension uses only the public C API on every
 * supported Python (3.11-3.13).
 *
 *   PyObject_GetOptionalAttr  public since 3.13; before, the same contract
 *                             built from PyObject_GetAttr (1 found, 0 no
 *                             such attribute, -1 error; *result is a new
 *                             reference or NULL)
 *   psqlpy_long_from_be128    an int from 16 big-endian bytes, unsigned
 *                             (a UUID's 128 bits); new reference
 *   psqlpy_long_as_be128      the reverse: 0, or -1 with OverflowError when
 *                             the int is negative or needs more than 128 bits
 *   psqlpy_is_finalizing      1 once the interpreter is exiting:
 *                             Py_IsFinalizing() on 3.13; before, a flag an
 *                             atexit callback sets (module.c), since
 *                             finalization starts after the atexit callbacks
 *
 * 3.13 has PyLong_FromNativeBytes / PyLong_AsNativeBytes for the 128-bit
 * conversions.  Before, the value goes through two 64-bit halves: an int
 * from 32 hex digits (one object, parsed in linear time for a power-of-two
 * base), and back with a mask and one shift.
 */
#ifndef PSQLPY_PYCOMPAT_H
#define PSQLPY_PYCOMPAT_H

#include <Python.h>
#include <stdint.h>

#if PY_VERSION_HEX >= 0x030D0000
static inline int
psqlpy_is_finalizing(void)
{
    return Py_IsFinalizing();
}
#else
extern int psqlpy_exiting;
static inline int
psqlpy_is_finalizing(void)
{
    return psqlpy_exiting;
}
#endif

#if PY_VERSION_HEX < 0x030D0000
static inline int
PyObject_GetOptionalAttr(PyObject *obj, PyObject *name, PyObject **result)
{
    *result = PyObject_GetAttr(obj, name);
    if (*result != NULL)
        return 1;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return -1;
    PyErr_Clear();
    return 0;
}
#endif

static inline PyObject *
psqlpy_long_from_be128(const uint8_t b[16])
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_FromUnsignedNativeBytes(b, 16, Py_ASNATIVEBYTES_BIG_ENDIAN);
#else
    static const char digits[] = "0123456789abcdef";
    char hex[33];
    for (int i = 0; i < 16; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[32] = '\0';
    return PyLong_FromString(hex, NULL, 16);
#endif
}

static inline int
psqlpy_long_as_be128(PyObject *v, uint8_t out[16])
{
#if PY_VERSION_HEX >= 0x030D0000
    Py_ssize_t n = PyLong_AsNativeBytes(v, out, 16,
                                        Py_ASNATIVEBYTES_BIG_ENDIAN |
                                            Py_ASNATIVEBYTES_UNSIGNED_BUFFER |
                                            Py_ASNATIVEBYTES_REJECT_NEGATIVE);
    if (n < 0)
        return -1;
    if (n > 16) {
        PyErr_SetString(PyExc_OverflowError, "int too big to convert");
        return -1;
    }
    return 0;
#else
    unsigned long long lo = PyLong_AsUnsignedLongLongMask(v);
    if (lo == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    PyObject *shift = PyLong_FromLong(64); /* a cached small int */
    PyObject *high = shift ? PyNumber_Rshift(v, shift) : NULL;
    Py_XDECREF(shift);
    if (high == NULL)
        return -1;
    /* negative values shift to a negative int: refused here too */
    unsigned long long hi = PyLong_AsUnsignedLongLong(high);
    Py_DECREF(high);
    if (hi == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    for (int i = 0; i < 8; i++) {
        out[7 - i] = (uint8_t)(hi >> (8 * i));
        out[15 - i] = (uint8_t)(lo >> (8 * i));
    }
    return 0;
#endif
}

#endif
