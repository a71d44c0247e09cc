/*
 * module.c - the _psqlpy module: multi-phase init, module state (heap
 * types, exception classes, cached stdlib objects, interned names), the
 * process-wide codec registry and the plugin-loading functions.
 */
#include "pyext.h"

#include "pydatetime.h"

pgd_registry *psqlpy_registry = NULL;
PyDateTime_CAPI *psqlpy_datetime_api = NULL;

static struct PyModuleDef psqlpy_module;

module_state *
psqlpy_state_of_type(PyTypeObject *tp)
{
    PyObject *m = PyType_GetModuleByDef(tp, &psqlpy_module);
    return m ? (module_state *)PyModule_GetState(m) : NULL;
}

/* Borrow-free attribute fetch: new reference or NULL + exception. */
static PyObject *
import_attr(const char *module, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module);
    if (mod == NULL)
        return NULL;
    PyObject *v = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return v;
}

static int
intern_names(module_state *st)
{
#define INTERN(name, text)                                                     \
    if ((st->name = PyUnicode_InternFromString(text)) == NULL)                \
        return -1;
    PSQLPY_STATE_NAMES(INTERN)
#undef INTERN
    return 0;
}

static int
load_stdlib(module_state *st)
{
    /* the one import of the datetime C API (pydatetime.h) */
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return -1;
    if ((st->Decimal = import_attr("decimal", "Decimal")) == NULL ||
        (st->UUID = import_attr("uuid", "UUID")) == NULL ||
        (st->json_loads = import_attr("json", "loads")) == NULL ||
        (st->json_dumps = import_attr("json", "dumps")) == NULL ||
        (st->timezone = import_attr("datetime", "timezone")) == NULL ||
        (st->CancelledError = import_attr("asyncio", "CancelledError")) == NULL ||
        (st->get_running_loop = import_attr("asyncio", "get_running_loop")) == NULL)
        return -1;
    PyObject *safe = import_attr("uuid", "SafeUUID");
    if (safe == NULL)
        return -1;
    st->SafeUUID_unknown = PyObject_GetAttrString(safe, "unknown");
    Py_DECREF(safe);
    if (st->SafeUUID_unknown == NULL)
        return -1;
    PyObject *ipa = PyImport_ImportModule("ipaddress");
    if (ipa == NULL)
        return -1;
    PyObject *v4a = PyObject_GetAttrString(ipa, "IPv4Address");
    PyObject *v6a = PyObject_GetAttrString(ipa, "IPv6Address");
    PyObject *v4n = PyObject_GetAttrString(ipa, "IPv4Network");
    PyObject *v6n = PyObject_GetAttrString(ipa, "IPv6Network");
    Py_DECREF(ipa);
    if (v4a && v6a && v4n && v6n)
        st->ip_types = PyTuple_Pack(4, v4a, v6a, v4n, v6n);
    Py_XDECREF(v4a);
    Py_XDECREF(v6a);
    Py_XDECREF(v4n);
    Py_XDECREF(v6n);
    if (st->ip_types == NULL)
        return -1;
    st->utc = PyObject_GetAttrString(st->timezone, "utc");
    st->object_new = import_attr("builtins", "object");
    if (st->utc == NULL || st->object_new == NULL)
        return -1;
    Py_SETREF(st->object_new, PyObject_GetAttrString(st->object_new, "__new__"));
    if (st->object_new == NULL)
        return -1;
    PyObject *date = (PyObject *)PyDateTimeAPI->DateType;
    PyObject *dt = (PyObject *)PyDateTimeAPI->DateTimeType;
    st->date_max = PyObject_GetAttrString(date, "max");
    st->date_min = PyObject_GetAttrString(date, "min");
    st->datetime_max = PyObject_GetAttrString(dt, "max");
    st->datetime_min = PyObject_GetAttrString(dt, "min");
    if (!st->date_max || !st->date_min || !st->datetime_max || !st->datetime_min)
        return -1;
    PyObject *kw = Py_BuildValue("{s:O}", "tzinfo", st->utc);
    PyObject *replace = kw ? PyObject_GetAttrString(st->datetime_max, "replace") : NULL;
    if (replace) {
        st->datetime_max_utc = PyObject_Call(replace, st->empty_tuple, kw);
        Py_DECREF(replace);
    }
    replace = kw ? PyObject_GetAttrString(st->datetime_min, "replace") : NULL;
    if (replace) {
        st->datetime_min_utc = PyObject_Call(replace, st->empty_tuple, kw);
        Py_DECREF(replace);
    }
    Py_XDECREF(kw);
    if (!st->datetime_max_utc || !st->datetime_min_utc)
        return -1;
    return 0;
}

static int
load_package_objects(module_state *st)
{
    PyObject *exc = PyImport_ImportModule("psqlpy.exceptions");
    if (exc == NULL)
        return -1;
    int rc = psqlpy_init_errors(st, exc);
    Py_DECREF(exc);
    if (rc < 0)
        return -1;
    PyObject *xt = PyImport_ImportModule("psqlpy.extra_types");
    if (xt == NULL)
        return -1;
    st->SmallInt = PyObject_GetAttrString(xt, "SmallInt");
    st->Integer = PyObject_GetAttrString(xt, "Integer");
    st->BigInt = PyObject_GetAttrString(xt, "BigInt");
    st->PyUUID = PyObject_GetAttrString(xt, "PyUUID");
    st->PyJSON = PyObject_GetAttrString(xt, "PyJSON");
    st->Interval = PyObject_GetAttrString(xt, "Interval");
    st->Pinned = PyObject_GetAttrString(xt, "_Pinned");
    Py_DECREF(xt);
    if (!st->SmallInt || !st->Integer || !st->BigInt || !st->PyUUID || !st->PyJSON ||
        !st->Interval || !st->Pinned)
        return -1;
    if ((st->callables = PyDict_New()) == NULL)
        return -1;
    return 0;
}

static int
add_type(PyObject *m, PyType_Spec *spec, PyTypeObject **slot, const char *name)
{
    PyObject *t = PyType_FromModuleAndSpec(m, spec, NULL);
    if (t == NULL)
        return -1;
    *slot = (PyTypeObject *)t;
    if (name != NULL && PyModule_AddObjectRef(m, name, t) < 0)
        return -1;
    return 0;
}

#if PY_VERSION_HEX < 0x030D0000
/* Before 3.13 the public API cannot ask whether the interpreter is
 * finalizing; an atexit callback, which runs before finalization starts,
 * records that the process is exiting (pycompat.h: psqlpy_is_finalizing). */
int psqlpy_exiting = 0;

static PyObject *
mark_exiting(PyObject *unused_module, PyObject *unused)
{
    (void)unused_module;
    (void)unused;
    psqlpy_exiting = 1;
    Py_RETURN_NONE;
}

static PyMethodDef mark_exiting_def = {"_mark_exiting", mark_exiting, METH_NOARGS, NULL};

static int
register_exit_mark(PyObject *m)
{
    PyObject *cb = PyCFunction_NewEx(&mark_exiting_def, NULL, PyModule_GetNameObject(m));
    if (cb == NULL)
        return -1;
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *r = atexit ? PyObject_CallMethod(atexit, "register", "O", cb) : NULL;
    Py_XDECREF(atexit);
    Py_DECREF(cb);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}
#endif

static int
psqlpy_exec(PyObject *m)
{
    module_state *st = PyModule_GetState(m);
    if (psqlpy_registry == NULL) {
        /* before the driver's first allocation; the table the build chose
         * (pyext/CMakeLists.txt), never a jemalloc found at run time */
#ifdef PSQLPY_JEMALLOC
        psqlpy_use_jemalloc();
#else
        pgd_allocator_set(pgd_allocator_system());
#endif
        psqlpy_registry = pgd_registry_new();
        if (psqlpy_registry == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if ((st->empty_tuple = PyTuple_New(0)) == NULL)
        return -1;
#if PY_VERSION_HEX < 0x030D0000
    if (register_exit_mark(m) < 0)
        return -1;
#endif
    if (intern_names(st) < 0 || load_stdlib(st) < 0 || load_package_objects(st) < 0)
        return -1;
    if (add_type(m, &PoolSpec, &st->PoolType, "Pool") < 0 ||
        add_type(m, &RawConnSpec, &st->RawConnType, NULL) < 0 ||
        add_type(m, &OpSpec, &st->OpType, "PendingQuery") < 0 ||
        add_type(m, &ConnectionSpec, &st->ConnectionType, "Connection") < 0 ||
        add_type(m, &QueryResultSpec, &st->QueryResultType, "QueryResult") < 0 ||
        add_type(m, &SingleQueryResultSpec, &st->SingleQueryResultType,
                 "SingleQueryResult") < 0)
        return -1;
    if (add_type(m, &RecordSpec, &st->RecordType, "Record") < 0)
        return -1;
    if (PyModule_AddStringConstant(m, "allocator", pgd_allocator_get()->name) < 0)
        return -1;
    return 0;
}

static int
psqlpy_traverse(PyObject *m, visitproc visit, void *arg)
{
    module_state *st = PyModule_GetState(m);
#define VISIT(name) Py_VISIT(st->name);
#define VISIT_NAME(name, text) VISIT(name)
    PSQLPY_STATE_TYPES(VISIT)
    PSQLPY_STATE_OBJECTS(VISIT)
    PSQLPY_STATE_NAMES(VISIT_NAME)
#undef VISIT_NAME
#undef VISIT
    return 0;
}

static int
psqlpy_clear(PyObject *m)
{
    module_state *st = PyModule_GetState(m);
#define CLEAR(name) Py_CLEAR(st->name);
#define CLEAR_NAME(name, text) CLEAR(name)
    PSQLPY_STATE_TYPES(CLEAR)
    PSQLPY_STATE_OBJECTS(CLEAR)
    PSQLPY_STATE_NAMES(CLEAR_NAME)
#undef CLEAR_NAME
#undef CLEAR
    return 0;
}

static void
psqlpy_free(void *m)
{
    psqlpy_clear((PyObject *)m);
}

/* Run a registry loader on a path argument; PoolConfigurationError with
 * the loader's message when it refuses. */
static PyObject *
load_with(PyObject *m, PyObject *arg, int (*load)(pgd_registry *, const char *))
{
    module_state *st = PyModule_GetState(m);
    PyObject *bytes = NULL;
    if (!PyUnicode_FSConverter(arg, &bytes))
        return NULL;
    int rc = load(psqlpy_registry, PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    if (rc != PGD_OK) {
        PyErr_SetString(st->PoolConfigurationError, pgd_registry_error(psqlpy_registry));
        return NULL;
    }
    Py_RETURN_NONE;
}

/* load_codec_plugin(path): load one codec plugin into the process. */
static PyObject *
load_codec_plugin(PyObject *m, PyObject *arg)
{
    return load_with(m, arg, pgd_registry_load);
}

/* _load_codec_dir(path): load every plugin in a directory. */
static PyObject *
load_codec_dir(PyObject *m, PyObject *arg)
{
    return load_with(m, arg, pgd_registry_load_dir);
}

/* has_codec(oid) -> bool: whether a codec is registered for a type OID. */
static PyObject *
has_codec(PyObject *m, PyObject *arg)
{
    (void)m;
    unsigned long oid = PyLong_AsUnsignedLong(arg);
    if (oid == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(pgd_registry_find(psqlpy_registry, (uint32_t)oid, NULL, NULL) != NULL);
}

/* _set_connection_class(cls): connection() hands out instances of cls, a
 * subclass of Connection defined by the Python package. */
static PyObject *
set_connection_class(PyObject *m, PyObject *cls)
{
    module_state *st = PyModule_GetState(m);
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, st->ConnectionType)) {
        PyErr_SetString(PyExc_TypeError, "expected a subclass of Connection");
        return NULL;
    }
    Py_XSETREF(st->connection_class, Py_NewRef(cls));
    Py_RETURN_NONE;
}

static PyMethodDef psqlpy_methods[] = {
    {"_set_connection_class", set_connection_class, METH_O, NULL},
    {"load_codec_plugin", load_codec_plugin, METH_O,
     "load_codec_plugin($module, path, /)\n--\n\nLoad a codec plugin (a shared object) "
     "into the process. Its codecs serve statements prepared afterwards."},
    {"_load_codec_dir", load_codec_dir, METH_O, NULL},
    {"_register_codec", (PyCFunction)(void (*)(void))psqlpy_register_codec, METH_FASTCALL,
     NULL},
    {"has_codec", has_codec, METH_O,
     "has_codec($module, oid, /)\n--\n\nWhether a codec is registered for the type OID."},
    {NULL, NULL, 0, NULL},
};

/* One interpreter only: the codec registry, the plugins and the codecs
 * registered from Python are process-wide. */
static PyModuleDef_Slot psqlpy_slots[] = {
    {Py_mod_exec, psqlpy_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef psqlpy_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "psqlpy._psqlpy",
    .m_doc = "C core of psqlpy.",
    .m_size = sizeof(module_state),
    .m_methods = psqlpy_methods,
    .m_slots = psqlpy_slots,
    .m_traverse = psqlpy_traverse,
    .m_clear = psqlpy_clear,
    .m_free = psqlpy_free,
};

PyMODINIT_FUNC
PyInit__psqlpy(void)
{
    return PyModuleDef_Init(&psqlpy_module);
}
