/*
 * notify.c - LISTEN/NOTIFY on a RawConn: the driver's notification hook
 * collects what arrives during an I/O step, and the connection's callback
 * (the Listener's) gets the batch once the step is over, or None when the
 * connection is gone.
 */
#include "pyext.h"

/* The driver's hook (inside pgd_conn_io): only collect; the callback runs
 * once the step is over (dispatch_notifies), when the connection is in a
 * state Python code may look at. */
static void
on_notify(void *arg, int pid, const char *channel, const char *payload)
{
    RawConn *rc = arg;
    PyObject *item = NULL, *ch = NULL, *pl = NULL;

    if (rc->notify_cb == NULL)
        return;
    if (rc->notifies == NULL && (rc->notifies = PyList_New(0)) == NULL)
        goto error;
    ch = PyUnicode_DecodeUTF8(channel, (Py_ssize_t)strlen(channel), "replace");
    pl = PyUnicode_DecodeUTF8(payload, (Py_ssize_t)strlen(payload), "replace");
    if (ch == NULL || pl == NULL)
        goto error;
    item = Py_BuildValue("(iOO)", pid, ch, pl);
    if (item == NULL || PyList_Append(rc->notifies, item) < 0)
        goto error;
    Py_DECREF(item);
    Py_DECREF(ch);
    Py_DECREF(pl);
    return;
error:
    Py_XDECREF(item);
    Py_XDECREF(ch);
    Py_XDECREF(pl);
    PyErr_WriteUnraisable((PyObject *)rc); /* out of memory: this one is lost */
}

void
rawconn_dispatch_notifies(RawConn *rc)
{
    if (rc->notifies == NULL)
        return;
    PyObject *list = rc->notifies;
    rc->notifies = NULL;
    if (rc->notify_cb != NULL && PyList_GET_SIZE(list) > 0) {
        PyObject *cb = Py_NewRef(rc->notify_cb);
        PyObject *r = PyObject_CallOneArg(cb, list);
        if (r == NULL)
            PyErr_WriteUnraisable(cb);
        Py_XDECREF(r);
        Py_DECREF(cb);
    }
    Py_DECREF(list);
}

/* The connection is gone: the callback learns it from the loop (None), after
 * what was read before the end. */
void
rawconn_lost_notify(RawConn *rc)
{
    if (rc->notify_cb == NULL || psqlpy_tearing_down(rc->st) || rc->loop == NULL)
        return;
    PyObject *r = PyObject_CallMethod(rc->loop, "call_soon", "OO", rc->notify_cb, Py_None);
    if (r == NULL)
        PyErr_WriteUnraisable((PyObject *)rc);
    Py_XDECREF(r);
}

void
rawconn_set_notify(RawConn *rc, PyObject *cb)
{
    if (cb == Py_None)
        cb = NULL;
    Py_XSETREF(rc->notify_cb, Py_XNewRef(cb));
    if (cb == NULL)
        Py_CLEAR(rc->notifies);
    if (rc->conn != NULL)
        pgd_conn_set_notify_hook(rc->conn, cb != NULL ? on_notify : NULL, rc);
}
