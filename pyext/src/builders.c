/*
 * builders.c - the pgd_host table whose builders make Python objects.
 *
 * Codecs decode wire bytes and call these to make the values; `h` is a
 * pyhost_ctx.  A builder that fails leaves a Python exception set and
 * returns NULL; a codec that fails calls error(), which records a message
 * that psqlpy_get_cell() turns into ResultError.
 *
 * Values Python cannot hold: date/timestamp 'infinity' and '-infinity'
 * become date.max/min and datetime.max/min (timezone-aware in UTC for
 * timestamptz); dates outside years 1..9999 raise ResultError.  An
 * interval without months is a timedelta; one with months, which timedelta
 * cannot hold exactly, or with more days than timedelta holds, is a
 * psqlpy.extra_types.Interval.
 *
 * make_call("module:attr.path", args) imports the module, follows the
 * attributes and calls the result; the lookup is cached by the name's
 * address (the ABI asks for names with static storage).
 */
#include "pyext.h"

#include <stdarg.h>

#include "pydatetime.h"

static int
h_error(void *h, const char *fmt, ...)
{
    pyhost_ctx *cx = h;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->err, sizeof cx->err, fmt, ap);
    va_end(ap);
    return -1;
}

static const pgd_codec *
h_find(void *h, uint32_t oid)
{
    (void)h;
    return pgd_registry_find(psqlpy_registry, oid, NULL, NULL);
}

static pgd_obj *
h_null(void *h)
{
    (void)h;
    return (pgd_obj *)Py_NewRef(Py_None);
}

#define OBJ(x) ((pgd_obj *)(x))

static pgd_obj *
h_bool(void *h, int v)
{
    (void)h;
    return OBJ(PyBool_FromLong(v));
}

static pgd_obj *
h_int(void *h, int64_t v)
{
    (void)h;
    return OBJ(PyLong_FromLongLong(v));
}

static pgd_obj *
h_float(void *h, double v)
{
    (void)h;
    return OBJ(PyFloat_FromDouble(v));
}

static pgd_obj *
h_str(void *h, const char *p, size_t n)
{
    (void)h;
    return OBJ(PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, NULL));
}

static pgd_obj *
h_bytes(void *h, const char *p, size_t n)
{
    (void)h;
    return OBJ(PyBytes_FromStringAndSize(p, (Py_ssize_t)n));
}

static pgd_obj *
h_decimal(void *h, const char *p, size_t n)
{
    pyhost_ctx *cx = h;
    PyObject *s = PyUnicode_DecodeASCII(p, (Py_ssize_t)n, NULL);
    if (s == NULL)
        return NULL;
    PyObject *d = PyObject_CallOneArg(cx->st->Decimal, s);
    Py_DECREF(s);
    return OBJ(d);
}

/* uuid.UUID without running UUID.__init__: object.__new__ plus the two
 * slots, which is what UUID.__init__ ends up setting. */
static pgd_obj *
h_uuid(void *h, const uint8_t b[16])
{
    module_state *st = ((pyhost_ctx *)h)->st;
    PyObject *i = psqlpy_long_from_be128(b);
    if (i == NULL)
        return NULL;
    PyObject *u = PyObject_CallOneArg(st->object_new, st->UUID);
    if (u == NULL || PyObject_GenericSetAttr(u, st->s_int, i) < 0 ||
        PyObject_GenericSetAttr(u, st->s_is_safe, st->SafeUUID_unknown) < 0) {
        Py_XDECREF(u);
        Py_DECREF(i);
        return NULL;
    }
    Py_DECREF(i);
    return OBJ(u);
}

static pgd_obj *
h_json(void *h, const char *p, size_t n)
{
    pyhost_ctx *cx = h;
    PyObject *s = PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, NULL);
    if (s == NULL)
        return NULL;
    PyObject *v = PyObject_CallOneArg(cx->st->json_loads, s);
    Py_DECREF(s);
    return OBJ(v);
}

static int
check_year(pyhost_ctx *cx, const pgd_dt *v)
{
    if (v->year < 1 || v->year > 9999) {
        h_error(cx, "year %d is outside the range Python's datetime supports (1..9999)",
                (int)v->year);
        return -1;
    }
    return 0;
}

static pgd_obj *
h_date(void *h, const pgd_dt *v)
{
    pyhost_ctx *cx = h;
    if (v->infinity)
        return OBJ(Py_NewRef(v->infinity > 0 ? cx->st->date_max : cx->st->date_min));
    if (check_year(cx, v) < 0)
        return NULL;
    return OBJ(PyDate_FromDate(v->year, v->month, v->day));
}

static PyObject *
tz_for(pyhost_ctx *cx, const pgd_dt *v)
{
    if (!v->has_tz)
        return Py_NewRef(Py_None);
    if (v->utc_offset == 0)
        return Py_NewRef(cx->st->utc);
    PyObject *delta = PyDelta_FromDSU(0, v->utc_offset, 0);
    if (delta == NULL)
        return NULL;
    PyObject *tz = PyTimeZone_FromOffset(delta);
    Py_DECREF(delta);
    return tz;
}

static pgd_obj *
h_time(void *h, const pgd_dt *v)
{
    pyhost_ctx *cx = h;
    PyObject *tz = tz_for(cx, v);
    if (tz == NULL)
        return NULL;
    int hour = v->hour, minute = v->minute, second = v->second, usec = v->usec;
    if (hour == 24) { /* '24:00:00' is a valid PostgreSQL time */
        h_error(cx, "time 24:00:00 cannot be represented by datetime.time");
        Py_DECREF(tz);
        return NULL;
    }
    PyObject *t = PyDateTimeAPI->Time_FromTime(hour, minute, second, usec, tz,
                                               PyDateTimeAPI->TimeType);
    Py_DECREF(tz);
    return OBJ(t);
}

static pgd_obj *
h_datetime(void *h, const pgd_dt *v)
{
    pyhost_ctx *cx = h;
    module_state *st = cx->st;
    if (v->infinity) {
        PyObject *o = v->has_tz ? (v->infinity > 0 ? st->datetime_max_utc : st->datetime_min_utc)
                                : (v->infinity > 0 ? st->datetime_max : st->datetime_min);
        return OBJ(Py_NewRef(o));
    }
    if (check_year(cx, v) < 0)
        return NULL;
    PyObject *tz = tz_for(cx, v);
    if (tz == NULL)
        return NULL;
    PyObject *d = PyDateTimeAPI->DateTime_FromDateAndTime(
        v->year, v->month, v->day, v->hour, v->minute, v->second, v->usec, tz,
        PyDateTimeAPI->DateTimeType);
    Py_DECREF(tz);
    return OBJ(d);
}

static pgd_obj *
h_interval(void *h, int32_t months, int32_t days, int64_t usec)
{
    int64_t d = days;
    int64_t secs = usec / 1000000, us = usec % 1000000;
    d += secs / 86400;
    secs %= 86400;
    if (months != 0 || d > 999999999 || d < -999999999) {
        /* months, or more days than timedelta holds: the exact Interval */
        module_state *st = ((pyhost_ctx *)h)->st;
        return OBJ(PyObject_CallFunction(st->Interval, "iiL", (int)months, (int)days,
                                         (long long)usec));
    }
    return OBJ(PyDelta_FromDSU((int)d, (int)secs, (int)us));
}

static pgd_obj *
h_list(void *h, size_t n)
{
    (void)h;
    return OBJ(PyList_New((Py_ssize_t)n));
}

static int
h_list_set(void *h, pgd_obj *list, size_t i, pgd_obj *item)
{
    (void)h;
    PyObject *l = (PyObject *)list;
    if (!PyList_Check(l) || i >= (size_t)PyList_GET_SIZE(l)) {
        Py_XDECREF((PyObject *)item);
        return h_error(h, "list index %zu out of range", i);
    }
    PyObject *old = PyList_GET_ITEM(l, i);
    PyList_SET_ITEM(l, i, (PyObject *)item);
    Py_XDECREF(old);
    return 0;
}

static pgd_obj *
h_tuple(void *h, size_t n)
{
    (void)h;
    return OBJ(PyTuple_New((Py_ssize_t)n));
}

static int
h_tuple_set(void *h, pgd_obj *tuple, size_t i, pgd_obj *item)
{
    PyObject *t = (PyObject *)tuple;
    /* only a tuple of make_tuple's, still private to the codec */
    if (!PyTuple_CheckExact(t) || Py_REFCNT(t) != 1 || i >= (size_t)PyTuple_GET_SIZE(t)) {
        Py_XDECREF((PyObject *)item);
        return h_error(h, "tuple_set: index %zu out of range or not a new tuple", i);
    }
    PyObject *old = PyTuple_GET_ITEM(t, i);
    PyTuple_SET_ITEM(t, i, (PyObject *)item);
    Py_XDECREF(old);
    return 0;
}

/* The object named "module:attr.path", new reference, or NULL. */
static PyObject *
resolve_callable(const char *name)
{
    const char *colon = strchr(name, ':');
    if (colon == NULL || colon == name || colon[1] == '\0') {
        PyErr_Format(PyExc_ValueError, "make_call: \"%s\" is not module:attribute", name);
        return NULL;
    }
    PyObject *mod_name = PyUnicode_FromStringAndSize(name, colon - name);
    PyObject *obj = mod_name ? PyImport_Import(mod_name) : NULL;
    Py_XDECREF(mod_name);
    for (const char *p = colon + 1; obj != NULL && *p;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        PyObject *attr = PyUnicode_FromStringAndSize(p, (Py_ssize_t)n);
        Py_SETREF(obj, attr ? PyObject_GetAttr(obj, attr) : NULL);
        Py_XDECREF(attr);
        p += n + (dot != NULL);
    }
    return obj;
}

static pgd_obj *
h_call(void *h, const char *callable, pgd_obj *args)
{
    module_state *st = ((pyhost_ctx *)h)->st;
    PyObject *a = (PyObject *)args, *res = NULL;
    if (a == NULL || !PyTuple_CheckExact(a)) {
        Py_XDECREF(a);
        h_error(h, "make_call needs a tuple of arguments");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(a); i++)
        if (PyTuple_GET_ITEM(a, i) == NULL) {
            Py_DECREF(a);
            h_error(h, "make_call: argument %zd was never set", i);
            return NULL;
        }
    PyObject *key = PyLong_FromVoidPtr((void *)callable);
    PyObject *fn = key ? PyDict_GetItemWithError(st->callables, key) : NULL; /* borrowed */
    if (fn != NULL) {
        Py_INCREF(fn);
    } else if (!PyErr_Occurred() && (fn = resolve_callable(callable)) != NULL &&
               PyDict_SetItem(st->callables, key, fn) < 0) {
        Py_CLEAR(fn);
    }
    Py_XDECREF(key);
    if (fn != NULL) {
        res = PyObject_Call(fn, a, NULL);
        Py_DECREF(fn);
    }
    Py_DECREF(a);
    return OBJ(res);
}

static void
h_release(void *h, pgd_obj *o)
{
    (void)h;
    Py_XDECREF((PyObject *)o);
}

/* The builders every table shares; each adds make_decimal, make_str,
 * make_uuid, make_call. */
#define HOST_COMMON \
    .size = sizeof(pgd_host), \
    .abi_minor = PGD_CODEC_ABI_MINOR, \
    .error = h_error, \
    .find = h_find, \
    .make_null = h_null, \
    .make_bool = h_bool, \
    .make_int = h_int, \
    .make_float = h_float, \
    .make_bytes = h_bytes, \
    .make_json = h_json, \
    .make_date = h_date, \
    .make_time = h_time, \
    .make_datetime = h_datetime, \
    .make_interval = h_interval, \
    .make_list = h_list, \
    .list_set = h_list_set, \
    .release = h_release, \
    .make_tuple = h_tuple, \
    .tuple_set = h_tuple_set,

const pgd_host psqlpy_host = {
    HOST_COMMON
    .make_decimal = h_decimal,
    .make_str = h_str,
    .make_uuid = h_uuid,
    .make_call = h_call,
};

/*
 * The psqlpy 0.13 decoding profile (PSQLPY_PROFILE_013): what the
 * ConnectionPool side of the package hands out decodes a few types as
 * psqlpy 0.13 does.  It is the table above with some builders swapped:
 *
 *   uuid                str ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
 *   inet without mask   ipaddress.ip_address (IPv4Address/IPv6Address);
 *                       with a mask it stays ip_interface (0.13 dropped it)
 *   point               (x, y)              line     (a, b, c)
 *   lseg                [(x1, y1), (x2, y2)]
 *   box                 ((x1, y1), (x2, y2)) (upper right first)
 *   path                [(x, y), ...], open or closed (0.13 made both lists)
 *   circle              ((x, y), r)
 *   macaddr, macaddr8   upper-case str ("08:00:2B:01:02:03"), through a
 *                       third table whose make_str upper-cases ASCII, picked
 *                       for those columns (and their arrays) only
 *   money               int, in cents (12.34 -> 1234), through a fourth
 *                       table whose make_decimal turns the money codec's
 *                       "-123.45" into -12345, picked for money and money[]
 *
 * Everything else (cidr, polygon, ranges, ...) decodes as in the default
 * profile.  psqlpy_host_for() picks the table once per result column.
 */
#define OID_MACADDR 829
#define OID_MACADDR8 774
#define OID_MACADDR_ARRAY 1040
#define OID_MACADDR8_ARRAY 775
#define OID_MONEY 790
#define OID_MONEY_ARRAY 791

static pgd_obj *
h013_uuid(void *h, const uint8_t b[16])
{
    static const char hex[] = "0123456789abcdef";
    char s[36];
    size_t k = 0;
    (void)h;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s[k++] = '-';
        s[k++] = hex[b[i] >> 4];
        s[k++] = hex[b[i] & 15];
    }
    return OBJ(PyUnicode_FromStringAndSize(s, (Py_ssize_t)k));
}

static pgd_obj *
h013_call(void *h, const char *callable, pgd_obj *args)
{
    static const char pre[] = "psqlpy.extra_types:";
    PyObject *a = (PyObject *)args;
    if (a == NULL || !PyTuple_CheckExact(a))
        return h_call(h, callable, args);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(a); i++)
        if (PyTuple_GET_ITEM(a, i) == NULL)
            return h_call(h, callable, args); /* reports the unset argument */
    if (strncmp(callable, pre, sizeof pre - 1) == 0) {
        const char *name = callable + sizeof pre - 1;
        if (strcmp(name, "Point") == 0 || strcmp(name, "Line") == 0 ||
            strcmp(name, "Box") == 0 || strcmp(name, "Circle") == 0)
            return args; /* the plain tuple of the items */
        if (strcmp(name, "LineSegment") == 0) {
            PyObject *l = PySequence_List(a);
            Py_DECREF(a);
            return OBJ(l);
        }
        if (strcmp(name, "Path") == 0 && PyTuple_GET_SIZE(a) == 2) {
            PyObject *l = PySequence_List(PyTuple_GET_ITEM(a, 0));
            Py_DECREF(a);
            return OBJ(l);
        }
    } else if (strcmp(callable, "ipaddress:ip_interface") == 0 && PyTuple_GET_SIZE(a) == 1 &&
               PyUnicode_Check(PyTuple_GET_ITEM(a, 0)) &&
               PyUnicode_FindChar(PyTuple_GET_ITEM(a, 0), '/', 0,
                                  PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(a, 0)), 1) == -1) {
        return h_call(h, "ipaddress:ip_address", args);
    }
    return h_call(h, callable, args);
}

static pgd_obj *
h013_upper_str(void *h, const char *p, size_t n)
{
    PyObject *s = (PyObject *)h_str(h, p, n);
    if (s == NULL)
        return NULL;
    PyObject *u = PyObject_CallMethod(s, "upper", NULL);
    Py_DECREF(s);
    return OBJ(u);
}

/* money columns of the 0.13 profile: the money codec gives its value as
 * decimal text with exactly two fraction digits ("-123.45"); this makes the
 * int of cents.  Other text (none today) stays a Decimal. */
static pgd_obj *
h013_money_cents(void *h, const char *p, size_t n)
{
    char digits[32];
    size_t k = 0;
    if (n < 4 || n >= sizeof digits || p[n - 3] != '.')
        return h_decimal(h, p, n);
    for (size_t i = 0; i < n; i++)
        if (i != n - 3)
            digits[k++] = p[i];
    digits[k] = '\0';
    char *end = NULL;
    PyObject *v = PyLong_FromString(digits, &end, 10);
    if (v != NULL && *end != '\0') {
        Py_DECREF(v);
        return h_decimal(h, p, n);
    }
    return OBJ(v);
}

static const pgd_host psqlpy_host013 = {
    HOST_COMMON
    .make_decimal = h_decimal,
    .make_str = h_str,
    .make_uuid = h013_uuid,
    .make_call = h013_call,
};

/* macaddr and macaddr8 columns of the 0.13 profile: their codec makes the
 * server's lower-case text with make_str, which this table upper-cases. */
static const pgd_host psqlpy_host013_mac = {
    HOST_COMMON
    .make_decimal = h_decimal,
    .make_str = h013_upper_str,
    .make_uuid = h013_uuid,
    .make_call = h013_call,
};

static const pgd_host psqlpy_host013_money = {
    HOST_COMMON
    .make_decimal = h013_money_cents,
    .make_str = h_str,
    .make_uuid = h013_uuid,
    .make_call = h013_call,
};

const pgd_host *
psqlpy_host_for(int profile, uint32_t coltype)
{
    if (profile != PSQLPY_PROFILE_013)
        return &psqlpy_host;
    switch (coltype) {
    case OID_MACADDR:
    case OID_MACADDR8:
    case OID_MACADDR_ARRAY:
    case OID_MACADDR8_ARRAY:
        return &psqlpy_host013_mac;
    case OID_MONEY:
    case OID_MONEY_ARRAY:
        return &psqlpy_host013_money;
    default:
        return &psqlpy_host013;
    }
}

PyObject *
psqlpy_get_cell(module_state *st, const pgd_result *r, int row, int col)
{
    return psqlpy_get_cell_with(st, r, row, col, &psqlpy_host);
}

PyObject *
psqlpy_get_cell_with(module_state *st, const pgd_result *r, int row, int col,
                     const pgd_host *host)
{
    pyhost_ctx cx;
    cx.st = st;
    cx.err[0] = 0;
    PyObject *v = (PyObject *)pgd_result_get(r, row, col, host, &cx);
    if (v != NULL)
        return v;
    return psqlpy_cell_error(r, col, &cx);
}

PyObject *
psqlpy_cell_error(const pgd_result *r, int col, pyhost_ctx *cx)
{
    module_state *st = cx->st;
    const char *name = pgd_result_colname(r, col);
    if (PyErr_Occurred()) {
        PyObject *msg = NULL, *t, *cause, *tb;
        PyErr_Fetch(&t, &cause, &tb);
        PyErr_NormalizeException(&t, &cause, &tb);
        msg = PyUnicode_FromFormat("column \"%s\" (type oid %u): %S", name,
                                   pgd_result_coltype(r, col), cause);
        PyObject *exc = msg ? PyObject_CallOneArg(st->ResultError, msg) : NULL;
        Py_XDECREF(msg);
        Py_XDECREF(t);
        Py_XDECREF(tb);
        if (exc == NULL) {
            Py_XDECREF(cause);
            cx->err[0] = 0;
            return NULL;
        }
        PyException_SetCause(exc, cause); /* steals cause */
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    } else {
        PyErr_Format(st->ResultError, "column \"%s\" (type oid %u): %s", name,
                     pgd_result_coltype(r, col), cx->err[0] ? cx->err : "cannot decode value");
    }
    cx->err[0] = 0;
    return NULL;
}
