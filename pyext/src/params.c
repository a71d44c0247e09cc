/*
 * params.c - Python parameters -> type-neutral pgd_values.
 *
 * The driver encodes each value with the codec of the type the server
 * inferred for its placeholder (or the type an extra type pins), so this
 * step only says what the value is.  A call captures its parameters when
 * it is made: lists are copied into tuples, and every object whose buffer
 * a value borrows (strings, bytes, the tuples) stays referenced in `keep`
 * until the query is done, whatever the caller does to its containers.
 *
 *   None -> NULL                 bool -> BOOL
 *   int -> INT (DECIMAL text beyond int64)
 *   float -> FLOAT               str -> STR
 *   bytes/bytearray/memoryview -> BYTES
 *   decimal.Decimal -> DECIMAL   uuid.UUID -> UUID
 *   datetime -> DATETIME, date -> DATE, time -> TIME, timedelta -> INTERVAL
 *     (date.max/min and datetime.max/min travel as 'infinity'/'-infinity')
 *   dict -> MAP (keys and values converted like parameters: a JSON object
 *     for json/jsonb, pairs for hstore)
 *   list -> LIST (arrays; JSON arrays when the placeholder is json/jsonb)
 *   tuple -> TUPLE (like a list for arrays and JSON; the coordinates of a
 *     point, the bounds of a range, ... for types that take tuples)
 *   ipaddress addresses, interfaces and networks -> STR (their text)
 *   Interval -> INTERVAL with its months
 *   enum.Enum members -> their value, converted as above (IntEnum and
 *     StrEnum members are ints and strs already)
 *   anything else -> OBJECT (borrowed: the captured tuple keeps it alive),
 *     for codecs registered from Python (pycodecs.c)
 *   other extra types (Float32, Inet, Array, ...: a class attribute
 *     __pg_type_oid__) -> their inner value, pinned to that type; tuple
 *     subclasses with __pg_type_oid__ (Point, Box, ...) are pinned too
 *   CustomType (an extra type whose class has a true __pg_raw__) -> RAW:
 *     its bytes go as the binary value of the parameter's type, as they are
 *   SmallInt/Integer/BigInt -> INT pinned to int2/int4/int8
 *   PyUUID -> UUID pinned to uuid    PyJSON -> JSON pinned to jsonb (the
 *   server casts jsonb to json on assignment and with ::json)
 */
#include "pyext.h"

#include "pydatetime.h"

#define MAX_LIST_DEPTH 64

#define OID_INT2 21
#define OID_INT4 23
#define OID_INT8 20
#define OID_UUID 2950
#define OID_JSONB 3802

/* Keep `o` alive for the query; steals o.  -1 on failure. */
static int
keep_obj(PyObject *keep, PyObject *o)
{
    if (o == NULL)
        return -1;
    int rc = PyList_Append(keep, o);
    Py_DECREF(o);
    return rc;
}

static int
set_text(pgd_value *v, uint32_t kind, PyObject *s)
{
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(s, &n);
    if (p == NULL)
        return -1;
    v->kind = kind;
    v->u.s.p = p;
    v->u.s.n = (size_t)n;
    return 0;
}

/* str(obj) kept alive, as `kind` text. */
static int
set_str_of(pgd_value *v, uint32_t kind, PyObject *obj, PyObject *keep)
{
    PyObject *s = PyObject_Str(obj);
    if (s == NULL || set_text(v, kind, s) < 0) {
        Py_XDECREF(s);
        return -1;
    }
    return keep_obj(keep, s);
}

static int
set_json(module_state *st, pgd_value *v, PyObject *obj, PyObject *keep)
{
    PyObject *s = PyObject_CallOneArg(st->json_dumps, obj);
    if (s == NULL) {
        PyObject *t, *val, *tb;
        PyErr_Fetch(&t, &val, &tb);
        PyErr_NormalizeException(&t, &val, &tb);
        PyErr_Format(st->ParameterError, "value is not JSON serialisable: %S", val);
        Py_XDECREF(t);
        Py_XDECREF(val);
        Py_XDECREF(tb);
        return -1;
    }
    if (set_text(v, PGD_V_JSON, s) < 0) {
        Py_DECREF(s);
        return -1;
    }
    return keep_obj(keep, s);
}

static int
set_int(module_state *st, pgd_value *v, PyObject *obj, PyObject *keep)
{
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (x == -1 && PyErr_Occurred())
        return -1;
    if (overflow) {
        /* beyond int64: numeric can take it, integer codecs refuse it */
        PyObject *s = PyNumber_ToBase(obj, 10);
        if (s == NULL || set_text(v, PGD_V_DECIMAL, s) < 0) {
            Py_XDECREF(s);
            return -1;
        }
        return keep_obj(keep, s);
    }
    (void)st;
    v->kind = PGD_V_INT;
    v->u.i = x;
    return 0;
}

static int
set_uuid_bytes(module_state *st, pgd_value *v, PyObject *u)
{
    PyObject *i = PyObject_GetAttr(u, st->s_int);
    if (i == NULL)
        return -1;
    int rc = psqlpy_long_as_be128(i, v->u.uuid);
    Py_DECREF(i);
    if (rc < 0)
        return -1;
    v->kind = PGD_V_UUID;
    return 0;
}

static int
set_pyuuid(module_state *st, pgd_value *v, PyObject *inner)
{
    if (PyObject_IsInstance(inner, st->UUID) == 1)
        return set_uuid_bytes(st, v, inner);
    if (!PyUnicode_Check(inner)) {
        PyErr_Format(st->UUIDError, "PyUUID needs a str or uuid.UUID, got %s",
                     Py_TYPE(inner)->tp_name);
        return -1;
    }
    PyObject *u = PyObject_CallOneArg(st->UUID, inner);
    if (u == NULL) {
        PyErr_Clear();
        PyErr_Format(st->UUIDError, "%R is not a valid UUID", inner);
        return -1;
    }
    int rc = set_uuid_bytes(st, v, u);
    Py_DECREF(u);
    return rc;
}

/* Offset east of UTC in seconds of an aware value; 0 with has_tz=0 for
 * naive ones.  -1 on error. */
static int
tz_offset(module_state *st, PyObject *obj, PyObject *tzinfo, pgd_dt *dt)
{
    dt->has_tz = 0;
    dt->utc_offset = 0;
    if (tzinfo == Py_None)
        return 0;
    PyObject *off = PyObject_CallMethodNoArgs(obj, st->s_utcoffset);
    if (off == NULL)
        return -1;
    if (off != Py_None) {
        dt->has_tz = 1;
        dt->utc_offset = PyDateTime_DELTA_GET_DAYS(off) * 86400 +
                         PyDateTime_DELTA_GET_SECONDS(off);
    }
    Py_DECREF(off);
    return 0;
}

static int convert_one(module_state *st, PyObject *obj, pgd_value *v,
                       PyObject *keep, int depth);

/* obj.__pg_type_oid__ as the value's pin: 1 when set, 0 when obj has no
 * such attribute, -1 on error. */
static int
set_pin(module_state *st, pgd_value *v, PyObject *obj)
{
    PyObject *oid;
    if (PyObject_GetOptionalAttr(obj, st->s_pg_type_oid, &oid) <= 0)
        return oid == NULL && PyErr_Occurred() ? -1 : 0;
    unsigned long n = PyLong_Check(oid) ? PyLong_AsUnsignedLong(oid) : (unsigned long)-1;
    Py_DECREF(oid);
    if (n == 0 || n > UINT32_MAX) {
        PyErr_Clear();
        PyErr_Format(st->ParameterError, "%s.__pg_type_oid__ is not a type OID",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    v->pin_oid = (uint32_t)n;
    return 1;
}

/* An extra type wrapping a value: the value, pinned. */
static int
set_pinned(module_state *st, pgd_value *v, PyObject *obj, PyObject *keep, int depth)
{
    PyObject *inner = PyObject_GetAttr(obj, st->s_inner_value);
    if (inner == NULL)
        return -1;
    int rc = convert_one(st, inner, v, keep, depth);
    if (rc == 0 && keep_obj(keep, inner) < 0) /* the value may borrow from it */
        return -1;
    if (rc < 0) {
        Py_DECREF(inner);
        return -1;
    }
    if (v->kind == PGD_V_BYTES) {
        /* CustomType: bytes in the binary form of the parameter's type */
        PyObject *raw = PyObject_GetAttrString((PyObject *)Py_TYPE(obj), "__pg_raw__");
        if (raw == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                return -1;
            PyErr_Clear();
        } else {
            int yes = PyObject_IsTrue(raw);
            Py_DECREF(raw);
            if (yes < 0)
                return -1;
            if (yes)
                v->kind = PGD_V_RAW;
        }
    }
    return set_pin(st, v, obj) < 0 ? -1 : 0;
}

/* An enum.Enum member: its value, converted (kept alive by `keep`).
 * 1 when obj is one, 0 when it is not, -1 on error.  Only objects whose
 * class has a metaclass of its own can be members, so plain objects are
 * told apart without importing enum. */
static int
set_enum(module_state *st, pgd_value *v, PyObject *obj, PyObject *keep, int depth)
{
    if (Py_TYPE((PyObject *)Py_TYPE(obj)) == &PyType_Type)
        return 0;
    PyObject *mod = PyImport_ImportModule("enum");
    PyObject *enum_cls = mod ? PyObject_GetAttrString(mod, "Enum") : NULL;
    Py_XDECREF(mod);
    if (enum_cls == NULL)
        return -1;
    int is = PyObject_IsInstance(obj, enum_cls);
    Py_DECREF(enum_cls);
    if (is <= 0)
        return is;
    if (depth >= MAX_LIST_DEPTH) {
        PyErr_SetString(st->ParameterError, "enum values nest too deeply");
        return -1;
    }
    PyObject *value = PyObject_GetAttrString(obj, "value");
    if (value == NULL)
        return -1;
    int rc = convert_one(st, value, v, keep, depth + 1);
    if (keep_obj(keep, value) < 0) /* the converted value may borrow from it */
        return -1;
    return rc < 0 ? -1 : 1;
}

/* One int32 attribute of an Interval into *out; -1 on error. */
static int
interval_part(PyObject *obj, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    PyObject *x = PyObject_GetAttrString(obj, name);
    if (x == NULL)
        return -1;
    long long n = PyLong_Check(x) ? PyLong_AsLongLong(x) : -1;
    if (!PyLong_Check(x) || (n == -1 && PyErr_Occurred()) || n < lo || n > hi) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "Interval.%s must be an int in [%lld, %lld], got %R",
                     name, (long long)lo, (long long)hi, x);
        Py_DECREF(x);
        return -1;
    }
    Py_DECREF(x);
    *out = n;
    return 0;
}

static int
set_interval(pgd_value *v, PyObject *obj)
{
    int64_t months, days, usec;
    if (interval_part(obj, "months", INT32_MIN, INT32_MAX, &months) < 0 ||
        interval_part(obj, "days", INT32_MIN, INT32_MAX, &days) < 0 ||
        interval_part(obj, "microseconds", INT64_MIN, INT64_MAX, &usec) < 0)
        return -1;
    v->kind = PGD_V_INTERVAL;
    v->u.iv.months = (int32_t)months;
    v->u.iv.days = (int32_t)days;
    v->u.iv.usec = usec;
    return 0;
}

static void
free_block(PyObject *cap)
{
    PyMem_Free(PyCapsule_GetPointer(cap, NULL));
}

/* n zeroed values for a list's items in *items (NULL for none), freed with
 * the query through `keep`.  -1 on failure. */
static int
new_items(size_t n, PyObject *keep, pgd_value **items)
{
    *items = NULL;
    if (n == 0)
        return 0;
    pgd_value *p = PyMem_Calloc(n, sizeof(pgd_value));
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *cap = PyCapsule_New(p, NULL, free_block);
    if (cap == NULL) {
        PyMem_Free(p);
        return -1;
    }
    if (keep_obj(keep, cap) < 0) /* steals cap; it frees p if dropped */
        return -1;
    *items = p;
    return 0;
}

/* A list or tuple (kind LIST or TUPLE) and everything in it. */
static int
set_list(module_state *st, pgd_value *v, PyObject *obj, PyObject *keep, int depth,
         uint32_t kind)
{
    if (depth >= MAX_LIST_DEPTH) {
        PyErr_Format(st->ParameterError, "lists nested deeper than %d levels",
                     MAX_LIST_DEPTH);
        return -1;
    }
    /* A tuple of the items as they are now, owned by the query: the caller
     * may change the list once the call returns (Bind is encoded later),
     * and Python code run while converting an item (a __str__, a
     * utcoffset(), ...) may change it under this loop. */
    PyObject *seq = PySequence_Tuple(obj);
    if (seq == NULL)
        return -1;
    if (keep_obj(keep, seq) < 0) /* keeps seq alive */
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    pgd_value *items;
    if (new_items((size_t)n, keep, &items) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (convert_one(st, PyTuple_GET_ITEM(seq, i), &items[i], keep, depth + 1) < 0)
            return -1;
    v->kind = kind;
    v->u.list.items = items;
    v->u.list.n = (size_t)n;
    return 0;
}

/* A dict: its keys and values, alternating. */
static int
set_map(module_state *st, pgd_value *v, PyObject *obj, PyObject *keep, int depth)
{
    if (depth >= MAX_LIST_DEPTH) {
        PyErr_Format(st->ParameterError, "dicts and lists nested deeper than %d levels",
                     MAX_LIST_DEPTH);
        return -1;
    }
    /* a snapshot: the dict may not change under borrowed pointers */
    PyObject *pairs = PyDict_Items(obj);
    if (pairs == NULL || keep_obj(keep, pairs) < 0) /* keeps pairs alive */
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(pairs);
    pgd_value *items;
    if (new_items((size_t)n * 2, keep, &items) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *kv = PyList_GET_ITEM(pairs, i);
        if (convert_one(st, PyTuple_GET_ITEM(kv, 0), &items[2 * i], keep, depth + 1) < 0 ||
            convert_one(st, PyTuple_GET_ITEM(kv, 1), &items[2 * i + 1], keep, depth + 1) < 0)
            return -1;
    }
    v->kind = PGD_V_MAP;
    v->u.list.items = items;
    v->u.list.n = (size_t)n * 2;
    return 0;
}

static int
convert_one(module_state *st, PyObject *obj, pgd_value *v, PyObject *keep, int depth)
{
    memset(v, 0, sizeof *v);
    PyTypeObject *tp = Py_TYPE(obj);

    if (obj == Py_None) {
        v->kind = PGD_V_NULL;
        return 0;
    }
    if (tp == &PyBool_Type) {
        v->kind = PGD_V_BOOL;
        v->u.b = obj == Py_True;
        return 0;
    }
    if (PyLong_Check(obj))
        return set_int(st, v, obj, keep);
    if (PyFloat_Check(obj)) {
        v->kind = PGD_V_FLOAT;
        v->u.f = PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    if (PyUnicode_Check(obj))
        return set_text(v, PGD_V_STR, obj);
    if (PyBytes_Check(obj)) {
        v->kind = PGD_V_BYTES;
        v->u.s.p = PyBytes_AS_STRING(obj);
        v->u.s.n = (size_t)PyBytes_GET_SIZE(obj);
        return 0;
    }
    if (PyByteArray_Check(obj) || PyMemoryView_Check(obj)) {
        PyObject *b = PyBytes_FromObject(obj);
        if (b == NULL)
            return -1;
        v->kind = PGD_V_BYTES;
        v->u.s.p = PyBytes_AS_STRING(b);
        v->u.s.n = (size_t)PyBytes_GET_SIZE(b);
        return keep_obj(keep, b);
    }
    if ((PyObject *)tp == st->SmallInt || (PyObject *)tp == st->Integer ||
        (PyObject *)tp == st->BigInt) {
        PyObject *inner = PyObject_GetAttr(obj, st->s_inner_value);
        if (inner == NULL)
            return -1;
        int rc;
        if (!PyLong_Check(inner) || PyBool_Check(inner)) {
            PyErr_Format(st->ParameterError, "%s needs an int, got %s", tp->tp_name,
                         Py_TYPE(inner)->tp_name);
            rc = -1;
        } else {
            rc = set_int(st, v, inner, keep);
        }
        Py_DECREF(inner);
        v->pin_oid = (PyObject *)tp == st->SmallInt  ? OID_INT2
                     : (PyObject *)tp == st->Integer ? OID_INT4
                                                     : OID_INT8;
        return rc;
    }
    if ((PyObject *)tp == st->PyUUID || (PyObject *)tp == st->PyJSON) {
        PyObject *inner = PyObject_GetAttr(obj, st->s_inner_value);
        if (inner == NULL)
            return -1;
        int rc;
        if ((PyObject *)tp == st->PyUUID) {
            rc = set_pyuuid(st, v, inner);
            v->pin_oid = OID_UUID;
        } else {
            rc = set_json(st, v, inner, keep);
            v->pin_oid = OID_JSONB;
        }
        Py_DECREF(inner);
        return rc;
    }
    if (PyObject_TypeCheck(obj, (PyTypeObject *)st->Pinned))
        return set_pinned(st, v, obj, keep, depth);
    if (PyDateTime_Check(obj)) {
        pgd_dt *dt = &v->u.dt;
        v->kind = PGD_V_DATETIME;
        if (tz_offset(st, obj, PyDateTime_DATE_GET_TZINFO(obj), dt) < 0)
            return -1;
        dt->year = PyDateTime_GET_YEAR(obj);
        dt->month = PyDateTime_GET_MONTH(obj);
        dt->day = PyDateTime_GET_DAY(obj);
        dt->hour = PyDateTime_DATE_GET_HOUR(obj);
        dt->minute = PyDateTime_DATE_GET_MINUTE(obj);
        dt->second = PyDateTime_DATE_GET_SECOND(obj);
        dt->usec = PyDateTime_DATE_GET_MICROSECOND(obj);
        if (dt->year == 9999 && dt->month == 12 && dt->day == 31 && dt->hour == 23 &&
            dt->minute == 59 && dt->second == 59 && dt->usec == 999999)
            dt->infinity = 1;
        else if (dt->year == 1 && dt->month == 1 && dt->day == 1 && dt->hour == 0 &&
                 dt->minute == 0 && dt->second == 0 && dt->usec == 0)
            dt->infinity = -1;
        return 0;
    }
    if (PyDate_Check(obj)) {
        pgd_dt *dt = &v->u.dt;
        v->kind = PGD_V_DATE;
        dt->year = PyDateTime_GET_YEAR(obj);
        dt->month = PyDateTime_GET_MONTH(obj);
        dt->day = PyDateTime_GET_DAY(obj);
        if (dt->year == 9999 && dt->month == 12 && dt->day == 31)
            dt->infinity = 1;
        else if (dt->year == 1 && dt->month == 1 && dt->day == 1)
            dt->infinity = -1;
        return 0;
    }
    if (PyTime_Check(obj)) {
        pgd_dt *dt = &v->u.dt;
        v->kind = PGD_V_TIME;
        if (tz_offset(st, obj, PyDateTime_TIME_GET_TZINFO(obj), dt) < 0)
            return -1;
        dt->hour = PyDateTime_TIME_GET_HOUR(obj);
        dt->minute = PyDateTime_TIME_GET_MINUTE(obj);
        dt->second = PyDateTime_TIME_GET_SECOND(obj);
        dt->usec = PyDateTime_TIME_GET_MICROSECOND(obj);
        return 0;
    }
    if (PyDelta_Check(obj)) {
        v->kind = PGD_V_INTERVAL;
        v->u.iv.months = 0;
        v->u.iv.days = PyDateTime_DELTA_GET_DAYS(obj);
        v->u.iv.usec = (int64_t)PyDateTime_DELTA_GET_SECONDS(obj) * 1000000 +
                       PyDateTime_DELTA_GET_MICROSECONDS(obj);
        return 0;
    }
    if (PyDict_Check(obj))
        return set_map(st, v, obj, keep, depth);
    if (PyList_Check(obj))
        return set_list(st, v, obj, keep, depth, PGD_V_LIST);
    if (PyTuple_Check(obj)) {
        if (set_list(st, v, obj, keep, depth, PGD_V_TUPLE) < 0)
            return -1;
        return PyTuple_CheckExact(obj) || set_pin(st, v, obj) >= 0 ? 0 : -1;
    }
    if ((PyObject *)tp == st->Interval)
        return set_interval(v, obj);

    int is = PyObject_IsInstance(obj, st->Decimal);
    if (is < 0)
        return -1;
    if (is)
        return set_str_of(v, PGD_V_DECIMAL, obj, keep);
    is = PyObject_IsInstance(obj, st->UUID);
    if (is < 0)
        return -1;
    if (is)
        return set_uuid_bytes(st, v, obj);
    is = PyObject_IsInstance(obj, st->ip_types);
    if (is < 0)
        return -1;
    if (is)
        return set_str_of(v, PGD_V_STR, obj, keep);

    if ((is = set_enum(st, v, obj, keep, depth)) != 0)
        return is < 0 ? -1 : 0;

    /* Something else: the codec of the parameter's type decides (a codec
     * registered from Python takes it; the built-in ones refuse it). */
    v->kind = PGD_V_OBJECT;
    v->u.obj.p = obj;
    v->u.obj.type_name = tp->tp_name;
    /* the name lives in the type, which a __class__ assignment could free */
    return keep_obj(keep, Py_NewRef((PyObject *)tp));
}

/* One value as parameter `pos` (1-based, for messages) into *out. */
static int
convert_param(module_state *st, PyObject *item, pgd_value *out, size_t pos, PyObject *keep)
{
    if (convert_one(st, item, out, keep, 0) == 0)
        return 0;
    /* name the parameter in the message */
    PyObject *t, *val, *tb;
    PyErr_Fetch(&t, &val, &tb);
    PyErr_NormalizeException(&t, &val, &tb);
    if (val != NULL && PyObject_IsInstance(val, st->ParameterError) == 1) {
        PyObject *msg = PyObject_Str(val);
        if (msg != NULL) {
            PyErr_Format(t, "parameter $%zu: %U", pos, msg);
            Py_DECREF(msg);
            Py_XDECREF(t);
            Py_XDECREF(val);
            Py_XDECREF(tb);
            return -1;
        }
        PyErr_Clear();
    }
    /* not KeyboardInterrupt, SystemExit, CancelledError: those pass */
    int foreign = val != NULL && t != NULL &&
                  PyObject_IsInstance(val, PyExc_Exception) == 1 &&
                  PyObject_IsInstance(val, st->BaseError) != 1;
    PyErr_Restore(t, val, tb);
    if (foreign) {
        /* a foreign error (TypeError, UnicodeEncodeError, ...) */
        char what[40];
        snprintf(what, sizeof what, "parameter $%zu", pos);
        return psqlpy_reraise_as(st->ParameterError, what);
    }
    return -1;
}

int
params_convert(module_state *st, PyObject *seq, pgd_value *out, size_t n, PyObject *keep)
{
    for (size_t i = 0; i < n; i++)
        if (convert_param(st, PyTuple_GET_ITEM(seq, (Py_ssize_t)i), &out[i], i + 1, keep) < 0)
            return -1;
    return 0;
}

int
params_convert_one(module_state *st, PyObject *obj, pgd_value *out, PyObject *keep)
{
    return convert_param(st, obj, out, 1, keep);
}
