/*
 * pycodecs.c - codecs written in Python: register_codec(type_name, encode,
 * decode, binary).
 *
 * Each registered type name gets a codec of its own in the process-wide
 * registry, registered by name (oid 0), so a connection uses it for every
 * type of that name it learns from pg_type (an extension type, an enum, a
 * composite, a domain: a codec by name takes precedence over the generic
 * ones).  The codec's functions find their codec by the type name in the
 * registry and call the Python callables it holds:
 *
 *   text format    decode(str) -> value; encode(value) -> str; the type's
 *                  results come in text (so does the rest of the result)
 *   binary format  decode(bytes) -> value; encode(value) -> bytes, which
 *                  must be the type's binary wire form
 *
 * A missing decode gives the str / bytes as they are; a missing encode
 * refuses parameters of the type.  The value handed to encode is the
 * parameter as the user gave it: an object of the user's own class as it
 * is, str, bytes, numbers, Decimal, dict, list and tuple rebuilt from the
 * converted value.  Registering a name again replaces its callables (for
 * statements prepared afterwards on new connections; a connection keeps
 * the codec it resolved, whose callables are looked up at each call).
 * Everything runs on the event loop's thread with the GIL held.
 *
 * Ownership: the codec (a pycodec, allocated here) holds strong references
 * to its callables and to the two helpers that rebuild parameters
 * (decimal.Decimal, json.loads).  The registry is process-wide and never
 * drops a codec, so these references last as long as the process, like the
 * plugins; this is one reason the module does not support subinterpreters.
 */
#include "pyext.h"

typedef struct pycodec {
    pgd_codec codec; /* first: the registry hands out &codec */
    pgd_codec_module module;
    char modname[80];
    char type_name[64];
    int binary;
    PyObject *encode, *decode;      /* callables or None (strong) */
    PyObject *decimal, *json_loads; /* strong */
} pycodec;

static pgd_obj *py_decode_binary(const pgd_cx *cx, const char *data, size_t len);
static pgd_obj *py_decode_text(const pgd_cx *cx, const char *data, size_t len);

/* The codec registered from Python under `name`, or NULL: the one the
 * registry hands out for the name, when it is one of ours. */
static pycodec *
pycodec_named(const char *name)
{
    const pgd_codec *c = pgd_registry_find_named(psqlpy_registry, name);
    if (c == NULL || (c->decode_binary != py_decode_binary && c->decode_text != py_decode_text))
        return NULL;
    return (pycodec *)c;
}

/* The codec cx is coding with, borrowed; NULL when there is none, which
 * happens only if a plugin registered the name after it. */
static const pycodec *
pycodec_of(const pgd_cx *cx)
{
    const char *name = cx->host->abi_minor >= 1 && cx->type ? cx->type->name : NULL;
    return name ? pycodec_named(name) : NULL;
}

/* ---- decoding ------------------------------------------------------------- */

static pgd_obj *
decode_with(const pgd_cx *cx, PyObject *raw)
{
    if (raw == NULL)
        return NULL;
    const pycodec *pc = pycodec_of(cx);
    PyObject *fn = pc ? pc->decode : NULL;
    if (fn == NULL || fn == Py_None)
        return (pgd_obj *)raw;
    Py_INCREF(fn); /* the call may register the name again */
    PyObject *v = PyObject_CallOneArg(fn, raw);
    Py_DECREF(fn);
    Py_DECREF(raw);
    return (pgd_obj *)v; /* NULL with the callable's exception set */
}

static pgd_obj *
py_decode_binary(const pgd_cx *cx, const char *data, size_t len)
{
    return decode_with(cx, PyBytes_FromStringAndSize(data, (Py_ssize_t)len));
}

static pgd_obj *
py_decode_text(const pgd_cx *cx, const char *data, size_t len)
{
    return decode_with(cx, PyUnicode_DecodeUTF8(data, (Py_ssize_t)len, NULL));
}

/* ---- encoding ------------------------------------------------------------- */

/* The Python value a converted parameter came from (new reference), or
 * NULL with an exception set. */
static PyObject *
value_to_python(const pycodec *pc, const pgd_value *v, int depth)
{
    PyObject *o;
    size_t i;

    if (depth > 64) {
        PyErr_SetString(PyExc_ValueError, "value nested too deep");
        return NULL;
    }
    switch (v->kind) {
    case PGD_V_NULL:
        Py_RETURN_NONE;
    case PGD_V_BOOL:
        return PyBool_FromLong(v->u.b);
    case PGD_V_INT:
        return PyLong_FromLongLong(v->u.i);
    case PGD_V_FLOAT:
        return PyFloat_FromDouble(v->u.f);
    case PGD_V_STR:
        return PyUnicode_DecodeUTF8(v->u.s.p, (Py_ssize_t)v->u.s.n, NULL);
    case PGD_V_BYTES:
        return PyBytes_FromStringAndSize(v->u.s.p, (Py_ssize_t)v->u.s.n);
    case PGD_V_DECIMAL:
    case PGD_V_JSON: {
        PyObject *s = PyUnicode_DecodeUTF8(v->u.s.p, (Py_ssize_t)v->u.s.n, NULL);
        if (s == NULL)
            return NULL;
        o = PyObject_CallOneArg(v->kind == PGD_V_JSON ? pc->json_loads : pc->decimal, s);
        Py_DECREF(s);
        return o;
    }
    case PGD_V_LIST:
    case PGD_V_TUPLE:
        o = v->kind == PGD_V_LIST ? PyList_New((Py_ssize_t)v->u.list.n)
                                  : PyTuple_New((Py_ssize_t)v->u.list.n);
        for (i = 0; o != NULL && i < v->u.list.n; i++) {
            PyObject *it = value_to_python(pc, &v->u.list.items[i], depth + 1);
            if (it == NULL)
                Py_CLEAR(o);
            else if (v->kind == PGD_V_LIST)
                PyList_SET_ITEM(o, (Py_ssize_t)i, it);
            else
                PyTuple_SET_ITEM(o, (Py_ssize_t)i, it);
        }
        return o;
    case PGD_V_MAP:
        o = PyDict_New();
        for (i = 0; o != NULL && i + 1 < v->u.list.n; i += 2) {
            PyObject *k = value_to_python(pc, &v->u.list.items[i], depth + 1);
            PyObject *x = k ? value_to_python(pc, &v->u.list.items[i + 1], depth + 1) : NULL;
            if (x == NULL || PyDict_SetItem(o, k, x) < 0)
                Py_CLEAR(o);
            Py_XDECREF(k);
            Py_XDECREF(x);
        }
        return o;
    case PGD_V_OBJECT:
        return Py_NewRef((PyObject *)v->u.obj.p);
    default:
        PyErr_Format(PyExc_TypeError,
                     "a codec registered from Python cannot take this kind of value (%u); "
                     "wrap it in an object of your own",
                     (unsigned)v->kind);
        return NULL;
    }
}

/* The pending exception as the codec error (then cleared); returns -1. */
static int
fail_with_exception(const pgd_cx *cx, const char *name)
{
    PyObject *t, *val, *tb;
    PyErr_Fetch(&t, &val, &tb);
    PyErr_NormalizeException(&t, &val, &tb);
    PyObject *s = val ? PyObject_Str(val) : NULL;
    const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
    cx->host->error(cx->h, "encoder for %s raised %s: %s", name,
                    t ? ((PyTypeObject *)t)->tp_name : "an error", msg ? msg : "");
    Py_XDECREF(s);
    Py_XDECREF(t);
    Py_XDECREF(val);
    Py_XDECREF(tb);
    PyErr_Clear();
    return -1;
}

static int
py_encode(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
{
    const char *name = cx->host->abi_minor >= 1 && cx->type ? cx->type->name : "?";
    const pycodec *pc = pycodec_of(cx);
    PyObject *fn = pc ? pc->encode : NULL, *arg, *res;
    const char *p;
    Py_ssize_t n;

    if (fn == NULL || fn == Py_None)
        return cx->host->error(cx->h, "no encoder is registered for type %s", name);
    Py_INCREF(fn); /* the call may register the name again */
    arg = value_to_python(pc, v, 0);
    res = arg ? PyObject_CallOneArg(fn, arg) : NULL;
    Py_XDECREF(arg);
    Py_DECREF(fn);
    if (res == NULL)
        return fail_with_exception(cx, name);
    if (PyBytes_Check(res)) {
        p = PyBytes_AS_STRING(res);
        n = PyBytes_GET_SIZE(res);
    } else if (PyUnicode_Check(res)) {
        p = PyUnicode_AsUTF8AndSize(res, &n);
        if (p == NULL) {
            Py_DECREF(res);
            return fail_with_exception(cx, name);
        }
    } else {
        cx->host->error(cx->h, "encoder for %s returned %s, expected str or bytes", name,
                        Py_TYPE(res)->tp_name);
        Py_DECREF(res);
        return -1;
    }
    if (n > INT32_MAX) {
        Py_DECREF(res);
        return cx->host->error(cx->h, "encoder for %s returned %zd bytes", name, n);
    }
    char *dst = n ? cx->host->reserve(out, (size_t)n) : NULL;
    if (n && dst == NULL) {
        Py_DECREF(res);
        return cx->host->error(cx->h, "out of memory");
    }
    if (n)
        memcpy(dst, p, (size_t)n);
    Py_DECREF(res);
    return (int)n;
}

/* ---- registration ---------------------------------------------------------- */

/* register_codec(type_name, encode, decode, binary) */
PyObject *
psqlpy_register_codec(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    module_state *st = PyModule_GetState(m);
    if (nargs != 4 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "_register_codec(type_name: str, encode, decode, binary: bool)");
        return NULL;
    }
    for (int i = 1; i <= 2; i++)
        if (args[i] != Py_None && !PyCallable_Check(args[i])) {
            PyErr_Format(PyExc_TypeError, "%s must be callable or None",
                         i == 1 ? "encode" : "decode");
            return NULL;
        }
    int binary = PyObject_IsTrue(args[3]);
    if (binary < 0)
        return NULL;
    Py_ssize_t len;
    const char *name = PyUnicode_AsUTF8AndSize(args[0], &len);
    if (name == NULL)
        return NULL;
    if (len == 0 || len >= 64 || strlen(name) != (size_t)len) {
        PyErr_SetString(PyExc_ValueError, "type_name must be 1 to 63 characters, no NUL");
        return NULL;
    }
    pycodec *pc = pycodec_named(name);
    if (pc != NULL && pc->binary != binary) {
        PyErr_Format(PyExc_ValueError, "a codec for %s is registered in %s format already",
                     name, binary ? "text" : "binary");
        return NULL;
    }
    if (pc == NULL) {
        /* a codec in the registry, for the life of the process */
        pc = PyMem_RawCalloc(1, sizeof *pc);
        if (pc == NULL)
            return PyErr_NoMemory();
        memcpy(pc->type_name, name, (size_t)len + 1);
        snprintf(pc->modname, sizeof pc->modname, "python:%s", name);
        pc->binary = binary;
        pc->codec.type_name = pc->type_name;
        pc->codec.encode_binary = py_encode;
        if (binary) {
            pc->codec.flags = PGD_CODEC_BINARY;
            pc->codec.decode_binary = py_decode_binary;
        } else {
            pc->codec.flags = PGD_CODEC_TEXT | PGD_CODEC_TEXT_ENCODE;
            pc->codec.decode_text = py_decode_text;
        }
        pc->module.magic = PGD_CODEC_MAGIC;
        pc->module.abi_major = PGD_CODEC_ABI_MAJOR;
        pc->module.abi_minor = PGD_CODEC_ABI_MINOR;
        pc->module.struct_size = (uint32_t)sizeof pc->module;
        pc->module.codec_size = (uint32_t)sizeof pc->codec;
        pc->module.name = pc->modname;
        pc->module.version = "1.0.0";
        pc->module.n_codecs = 1;
        pc->module.codecs = &pc->codec;
        pc->encode = Py_NewRef(Py_None);
        pc->decode = Py_NewRef(Py_None);
        pc->decimal = Py_NewRef(st->Decimal);
        pc->json_loads = Py_NewRef(st->json_loads);
        if (pgd_registry_add_module(psqlpy_registry, &pc->module, NULL) != PGD_OK) {
            PyErr_SetString(st->PoolConfigurationError, pgd_registry_error(psqlpy_registry));
            Py_DECREF(pc->encode);
            Py_DECREF(pc->decode);
            Py_DECREF(pc->decimal);
            Py_DECREF(pc->json_loads);
            PyMem_RawFree(pc);
            return NULL;
        }
    }
    Py_SETREF(pc->encode, Py_NewRef(args[1]));
    Py_SETREF(pc->decode, Py_NewRef(args[2]));
    Py_RETURN_NONE;
}
