/*
 * looptime.c - the event loop's clock for the extension: whether the loop
 * may still be called (not at interpreter exit, not once the module state
 * is cleared), timeouts given as seconds, and loop timers
 * (loop.call_later and their cancellation).
 */
#include "pyext.h"
#include "pycompat.h"

#include <math.h>

int
psqlpy_tearing_down(const module_state *st)
{
    if (psqlpy_is_finalizing())
        return 1;
    return st == NULL || st->s_remove_reader == NULL;
}

int
psqlpy_seconds(PyObject *arg, double *out)
{
    double t = -1;
    if ((PyLong_Check(arg) || PyFloat_Check(arg)) && !PyBool_Check(arg)) {
        t = PyFloat_AsDouble(arg);
        if (t == -1 && PyErr_Occurred())
            PyErr_Clear();
    }
    if (!(t > 0) || isinf(t))
        return -1;
    *out = t;
    return 0;
}

PyObject *
psqlpy_call_later(module_state *st, PyObject *loop, double secs, PyMethodDef *def,
                  PyObject *self)
{
    PyObject *cb = PyCFunction_New(def, self);
    PyObject *delay = cb ? PyFloat_FromDouble(secs) : NULL;
    PyObject *timer = delay ? PyObject_CallMethodObjArgs(loop, st->s_call_later, delay, cb,
                                                         NULL)
                            : NULL;
    Py_XDECREF(delay);
    Py_XDECREF(cb);
    return timer;
}

void
psqlpy_cancel_timer(module_state *st, PyObject **timer)
{
    PyObject *h = *timer;
    if (h == NULL)
        return;
    *timer = NULL;
    if (!psqlpy_tearing_down(st)) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyObject *r = PyObject_CallMethodNoArgs(h, st->s_cancel);
        if (r == NULL)
            PyErr_Clear();
        Py_XDECREF(r);
        PyErr_Restore(t, v, tb);
    }
    Py_DECREF(h);
}
