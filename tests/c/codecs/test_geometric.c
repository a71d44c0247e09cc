/*
 * The geometric family: point, line, lseg, box, path, polygon, circle and
 * their arrays.  Rows are a PostgreSQL 15 server's *_send bytes and *_out
 * text for the same literal.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum {
    POINT = 600, LSEG = 601, PATH = 602, BOX = 603, POLYGON = 604, LINE = 628, CIRCLE = 718,
    POINT_ARR = 1017, LSEG_ARR = 1018, PATH_ARR = 1019, BOX_ARR = 1020, POLYGON_ARR = 1027,
    LINE_ARR = 629, CIRCLE_ARR = 719
};

#define ET "psqlpy.extra_types:"
#define P(x, y) ET "Point(" x ", " y ")"

/* Binary and text decode of the server's bytes and text for one literal
 * give `repr`; re-encoding the decoded value gives the same bytes. */
#define ROW(oid, hex, text, repr) (DEC(oid, hex, repr), DECT(oid, text, repr), RT(oid, hex))

static void test_rows(void)
{
    ROW(POINT, "3ff8000000000000 c000000000000000", "(1.5,-2)", P("1.5", "-2"));
    ROW(POINT, "7ff8000000000000 7ff0000000000000", "(NaN,Infinity)", P("nan", "inf"));
    ROW(POINT, "fff0000000000000 8000000000000000", "(-Infinity,-0)", P("-inf", "-0"));
    ROW(POINT, "01a56e1fc2f8f359 7fefffffffffffff", "(1e-300,1.7976931348623157e+308)",
        P("1e-300", "1.7976931348623157e+308"));
    ROW(LINE, "3ff0000000000000 4000000000000000 4008000000000000", "{1,2,3}",
        ET "Line(1, 2, 3)");
    ROW(LINE, "0000000000000000 bff0000000000000 3fe0000000000000", "{0,-1,0.5}",
        ET "Line(0, -1, 0.5)");
    ROW(LSEG, "3ff0000000000000 4000000000000000 4008000000000000 4010000000000000",
        "[(1,2),(3,4)]", ET "LineSegment(" P("1", "2") ", " P("3", "4") ")");
    ROW(BOX, "4008000000000000 4010000000000000 3ff0000000000000 4000000000000000",
        "(3,4),(1,2)", ET "Box(" P("3", "4") ", " P("1", "2") ")");
    ROW(BOX, "bff0000000000000 bff0000000000000 bff0000000000000 bff0000000000000",
        "(-1,-1),(-1,-1)", ET "Box(" P("-1", "-1") ", " P("-1", "-1") ")");
    ROW(PATH,
        "00 00000003 0000000000000000 0000000000000000 3ff0000000000000 3ff0000000000000"
        " 4000000000000000 0000000000000000", "[(0,0),(1,1),(2,0)]",
        ET "Path((" P("0", "0") ", " P("1", "1") ", " P("2", "0") "), False)");
    ROW(PATH, "01 00000002 0000000000000000 0000000000000000 3ff0000000000000 3ff0000000000000",
        "((0,0),(1,1))", ET "Path((" P("0", "0") ", " P("1", "1") "), True)");
    ROW(PATH, "01 00000001 4014000000000000 4018000000000000", "((5,6))",
        ET "Path((" P("5", "6") ",), True)");
    ROW(POLYGON,
        "00000004 0000000000000000 0000000000000000 0000000000000000 3ff0000000000000"
        " 3ff0000000000000 3ff0000000000000 3ff0000000000000 0000000000000000",
        "((0,0),(0,1),(1,1),(1,0))",
        ET "Polygon((" P("0", "0") ", " P("0", "1") ", " P("1", "1") ", " P("1", "0") "))");
    ROW(POLYGON, "00000001 4000000000000000 4008000000000000", "((2,3))",
        ET "Polygon((" P("2", "3") ",))");
    ROW(CIRCLE, "3ff0000000000000 4000000000000000 4008000000000000", "<(1,2),3>",
        ET "Circle(" P("1", "2") ", 3)");
    ROW(CIRCLE, "0000000000000000 0000000000000000 0000000000000000", "<(0,0),0>",
        ET "Circle(" P("0", "0") ", 0)");
    ROW(CIRCLE, "3ff0000000000000 3ff0000000000000 7ff8000000000000", "<(1,1),NaN>",
        ET "Circle(" P("1", "1") ", nan)");
    /* arrays: a tuple (named or not) is one element */
    ROW(POINT_ARR,
        "00000001 00000001 00000258 00000003 00000001 00000010 3ff0000000000000"
        " 4000000000000000 ffffffff 00000010 7ff8000000000000 8000000000000000",
        "{\"(1,2)\",NULL,\"(NaN,-0)\"}", "[" P("1", "2") ", None, " P("nan", "-0") "]");
    ROW(POINT_ARR, "00000000 00000000 00000258", "{}", "[]");
    ROW(BOX_ARR,
        "00000001 00000001 0000025b 00000003 00000001 00000020 3ff0000000000000"
        " 3ff0000000000000 0000000000000000 0000000000000000 00000020 4008000000000000"
        " 4008000000000000 4000000000000000 4000000000000000 ffffffff",
        "{(1,1),(0,0);(3,3),(2,2);NULL}",
        "[" ET "Box(" P("1", "1") ", " P("0", "0") "), " ET "Box(" P("3", "3") ", " P("2", "2")
        "), None]");
    ROW(LINE_ARR,
        "00000001 00000000 00000274 00000001 00000001 00000018 3ff0000000000000"
        " bff0000000000000 0000000000000000", "{\"{1,-1,0}\"}", "[" ET "Line(1, -1, 0)]");
    ROW(POLYGON_ARR,
        "00000001 00000001 0000025c 00000002 00000001 00000034 00000003 0000000000000000"
        " 0000000000000000 3ff0000000000000 0000000000000000 0000000000000000"
        " 3ff0000000000000 ffffffff", "{\"((0,0),(1,0),(0,1))\",NULL}",
        "[" ET "Polygon((" P("0", "0") ", " P("1", "0") ", " P("0", "1") ")), None]");
    ROW(PATH_ARR,
        "00000001 00000000 0000025a 00000001 00000001 00000025 00 00000002 0000000000000000"
        " 0000000000000000 3ff0000000000000 3ff0000000000000", "{\"[(0,0),(1,1)]\"}",
        "[" ET "Path((" P("0", "0") ", " P("1", "1") "), False)]");
    ROW(CIRCLE_ARR,
        "00000001 00000000 000002ce 00000001 00000001 00000018 0000000000000000"
        " 0000000000000000 3ff0000000000000", "{\"<(0,0),1>\"}",
        "[" ET "Circle(" P("0", "0") ", 1)]");
    ROW(LSEG_ARR,
        "00000001 00000000 00000259 00000001 00000001 00000020 0000000000000000"
        " 0000000000000000 3ff0000000000000 3ff0000000000000", "{\"[(0,0),(1,1)]\"}",
        "[" ET "LineSegment(" P("0", "0") ", " P("1", "1") ")]");
}

#define TUP(...)                                                                         \
    VAL(PGD_V_TUPLE, .u.list = {(const pgd_value[]){__VA_ARGS__},                        \
                                sizeof((const pgd_value[]){__VA_ARGS__}) / sizeof(pgd_value)})
#define NUL VAL(PGD_V_NULL)
#define PT(x, y) TUP(*V_INT(x), *V_INT(y))

static void test_encode(void)
{
    /* points from ints, floats, decimals, as a tuple or a list */
    ENC(POINT, TUP(*V_FLOAT(1.5), *V_INT(-2)), "3ff8000000000000 c000000000000000");
    ENC(POINT, LIST(*V_DEC("1.5"), *V_DEC("-2E+0")), "3ff8000000000000 c000000000000000");
    ENC(POINT, TUP(*V_DEC("NaN"), *V_DEC("-Infinity")), "7ff8000000000000 fff0000000000000");
    ENC(POINT, TUP(*V_FLOAT(INFINITY), *V_FLOAT(-0.0)), "7ff0000000000000 8000000000000000");
    ENC(POINT, TUP(*V_DEC("100000000000000000000"), *V_DEC("1E-300")),
        "4415af1d78b58c40 01a56e1fc2f8f359");
    ENC(LINE, TUP(*V_INT(1), *V_INT(2), *V_INT(3)),
        "3ff0000000000000 4000000000000000 4008000000000000");
    /* only A and B both (nearly) zero is refused; NaN is not zero */
    ENC(LINE, TUP(*V_FLOAT(1.1e-6), *V_INT(0), *V_INT(1)),
        "3eb27476ca61b882 0000000000000000 3ff0000000000000");
    ENC(LINE, TUP(*V_FLOAT(NAN), *V_INT(0), *V_INT(0)),
        "7ff8000000000000 0000000000000000 0000000000000000");
    ENC(LSEG, TUP(*PT(1, 2), *LIST(*V_INT(3), *V_INT(4))),
        "3ff0000000000000 4000000000000000 4008000000000000 4010000000000000");
    /* the box goes as given: the server puts the upper right first */
    ENC(BOX, TUP(*PT(1, 2), *PT(3, 4)),
        "3ff0000000000000 4000000000000000 4008000000000000 4010000000000000");
    ENC(CIRCLE, TUP(*PT(1, 2), *V_FLOAT(-0.0)),
        "3ff0000000000000 4000000000000000 8000000000000000");
    ENC(CIRCLE, TUP(*PT(1, 2), *V_FLOAT(NAN)),
        "3ff0000000000000 4000000000000000 7ff8000000000000");

    /* path: Path(points, closed), or a plain sequence (closed) */
    ENC(PATH, TUP(*TUP(*PT(0, 0), *PT(1, 1)), *V_BOOL(0)),
        "00 00000002 0000000000000000 0000000000000000 3ff0000000000000 3ff0000000000000");
    ENC(PATH, TUP(*LIST(*PT(0, 0), *PT(1, 1)), *V_BOOL(1)),
        "01 00000002 0000000000000000 0000000000000000 3ff0000000000000 3ff0000000000000");
    ENC(PATH, LIST(*PT(0, 0), *PT(1, 1)),
        "01 00000002 0000000000000000 0000000000000000 3ff0000000000000 3ff0000000000000");
    ENC(PATH, TUP(*PT(5, 6)), "01 00000001 4014000000000000 4018000000000000");
    ENC(PATH, TUP(*TUP(*PT(5, 6)), *V_BOOL(0)), "00 00000001 4014000000000000 4018000000000000");
    /* two points, the second not a bool: a plain sequence */
    ENC(PATH, TUP(*PT(5, 6), *PT(7, 8)),
        "01 00000002 4014000000000000 4018000000000000 401c000000000000 4020000000000000");

    /* polygon: Polygon(points), or a plain sequence; one point either way */
    ENC(POLYGON, TUP(*TUP(*PT(0, 0), *PT(1, 0), *PT(0, 1))),
        "00000003 0000000000000000 0000000000000000 3ff0000000000000 0000000000000000"
        " 0000000000000000 3ff0000000000000");
    ENC(POLYGON, LIST(*PT(0, 0), *PT(1, 0), *PT(0, 1)),
        "00000003 0000000000000000 0000000000000000 3ff0000000000000 0000000000000000"
        " 0000000000000000 3ff0000000000000");
    ENC(POLYGON, TUP(*TUP(*PT(2, 3))), "00000001 4000000000000000 4008000000000000");
    ENC(POLYGON, LIST(*PT(2, 3)), "00000001 4000000000000000 4008000000000000");
    ENC(POLYGON, TUP(*LIST(*PT(2, 3))), "00000001 4000000000000000 4008000000000000");

    /* arrays: tuples are elements, lists dimensions */
    ENC(POINT_ARR, LIST(*PT(1, 2), *NUL),
        "00000001 00000001 00000258 00000002 00000001 00000010 3ff0000000000000"
        " 4000000000000000 ffffffff");
    ENC(POINT_ARR, LIST(*LIST(*PT(1, 2)), *LIST(*PT(3, 4))),
        "00000002 00000000 00000258 00000002 00000001 00000001 00000001"
        " 00000010 3ff0000000000000 4000000000000000 00000010 4008000000000000"
        " 4010000000000000");
    ENC(POLYGON_ARR, LIST(*TUP(*TUP(*PT(2, 3)))),
        "00000001 00000000 0000025c 00000001 00000001 00000014 00000001"
        " 4000000000000000 4008000000000000");
}

static void test_encode_errors(void)
{
    ENC_ERR(POINT, V_INT(1), "cannot encode a int value as point: expected Point(x, y)");
    ENC_ERR(POINT, V_STR("(1,2)"), "cannot encode a str value as point");
    ENC_ERR(POINT, TUP(*V_INT(1)), "cannot encode a tuple value as point");
    ENC_ERR(POINT, TUP(*V_INT(1), *V_INT(2), *V_INT(3)), "expected Point(x, y) or (x, y)");
    ENC_ERR(POINT, TUP(*V_INT(1), *V_STR("2")), "point: a number must be an int, float or "
                                                "Decimal, not str");
    ENC_ERR(POINT, TUP(*V_INT(1), *NUL), "not NULL");
    ENC_ERR(POINT, TUP(*V_INT(1), *V_BOOL(1)), "not bool");
    ENC_ERR(POINT, TUP(*V_DEC("1E+400"), *V_INT(0)), "is out of range for float8");
    ENC_ERR(POINT, TUP(*V_DEC("1E-400"), *V_INT(0)), "is out of range for float8");
    ENC_ERR(POINT, TUP(*V_DEC("sNaN"), *V_INT(0)), "is not a number");
    ENC_ERR(LINE, TUP(*V_INT(0), *V_INT(0), *V_INT(1)), "A and B cannot both be zero");
    ENC_ERR(LINE, TUP(*V_FLOAT(1e-6), *V_FLOAT(-1e-7), *V_INT(1)), "A and B cannot both");
    ENC_ERR(LINE, TUP(*V_INT(1), *V_INT(2)), "expected Line(a, b, c)");
    ENC_ERR(LSEG, TUP(*PT(1, 2), *V_INT(3)), "lseg: a point is a sequence (x, y), not a int");
    ENC_ERR(LSEG, TUP(*V_INT(1), *V_INT(2), *V_INT(3), *V_INT(4)), "expected LineSegment");
    ENC_ERR(BOX, TUP(*PT(1, 2), *TUP(*V_INT(3))), "not one of 1 items");
    ENC_ERR(CIRCLE, TUP(*PT(1, 2), *V_FLOAT(-1)), "negative radius");
    ENC_ERR(CIRCLE, TUP(*V_INT(1), *V_INT(2), *V_INT(3)), "expected Circle(center, radius)");
    ENC_ERR(PATH, EMPTY_LIST, "invalid path: no points");
    ENC_ERR(PATH, TUP(*EMPTY_LIST, *V_BOOL(1)), "invalid path: no points");
    ENC_ERR(PATH, PT(1, 2), "expected Path(points, closed) or a sequence of points");
    ENC_ERR(PATH, TUP(*PT(1, 2), *V_BOOL(1)), "expected Path(points, closed)");
    ENC_ERR(PATH, V_STR("[(1,2)]"), "cannot encode this str value as path");
    ENC_ERR(PATH, TUP(*TUP(*PT(1, 2), *V_INT(3)), *V_BOOL(0)), "path: a point is a sequence");
    ENC_ERR(POLYGON, EMPTY_LIST, "invalid polygon: no points");
    ENC_ERR(POLYGON, TUP(*EMPTY_LIST), "invalid polygon: no points");
    ENC_ERR(POLYGON, PT(1, 2), "expected Polygon(points) or a sequence of points");
    ENC_ERR(POLYGON, TUP(*TUP(*TUP(*V_INT(1), *V_INT(2), *V_INT(3)))), "not one of 3 items");
    ENC_ERR(POLYGON, V_FLOAT(1), "cannot encode this float value as polygon");
    /* in an array a list is a dimension: a list of numbers is no point */
    ENC_ERR(POINT_ARR, LIST(*LIST(*V_INT(1), *V_INT(2))), "cannot encode a int value as point");
    ENC_ERR(POLYGON_ARR, LIST(*LIST(*PT(0, 0), *PT(1, 1))),
            "expected Polygon(points) or a sequence of points");
}

static void test_malformed(void)
{
    DEC_ERR(POINT, "", "invalid point field: 0 bytes, expected 16");
    DEC_ERR(POINT, "3ff8000000000000 c0000000000000", "15 bytes, expected 16");
    DEC_ERR(POINT, "3ff8000000000000 c000000000000000 00", "17 bytes, expected 16");
    DEC_ERR(LINE, "3ff0000000000000 4000000000000000", "invalid line field: 16 bytes");
    DEC_ERR(LSEG, "3ff0000000000000 4000000000000000 4008000000000000", "expected 32");
    DEC_ERR(BOX, "3ff0000000000000 4000000000000000 4008000000000000 4010000000000000 00",
            "invalid box field: 33 bytes");
    DEC_ERR(CIRCLE, "3ff0000000000000 4000000000000000", "invalid circle field: 16 bytes");
    /* path header and counts */
    DEC_ERR(PATH, "", "0 bytes, the header needs 5");
    DEC_ERR(PATH, "01 000000", "4 bytes, the header needs 5");
    DEC_ERR(PATH, "02 00000001 4014000000000000 4018000000000000", "closed flag 2");
    DEC_ERR(PATH, "01 00000000", "invalid path: 0 points");
    DEC_ERR(PATH, "01 ffffffff", "invalid path: -1 points");
    DEC_ERR(PATH, "01 80000000 4014000000000000 4018000000000000", "-2147483648 points");
    DEC_ERR(PATH, "01 00000002 4014000000000000 4018000000000000",
            "2 points need 32 bytes, 16 follow");
    DEC_ERR(PATH, "01 7fffffff 4014000000000000 4018000000000000",
            "2147483647 points need");
    DEC_ERR(PATH, "01 00000001 4014000000000000 40180000000000", "1 points need 16 bytes, 15");
    DEC_ERR(PATH, "01 00000001 4014000000000000 4018000000000000 00", "16 bytes, 17 follow");
    /* polygon */
    DEC_ERR(POLYGON, "000000", "3 bytes, the header needs 4");
    DEC_ERR(POLYGON, "00000000", "invalid polygon: 0 points");
    DEC_ERR(POLYGON, "fffffff0 4000000000000000 4008000000000000", "-16 points");
    DEC_ERR(POLYGON, "00000001", "1 points need 16 bytes, 0 follow");
    DEC_ERR(POLYGON, "10000000 4000000000000000 4008000000000000", "268435456 points need");
    DEC_ERR(POLYGON, "00000001 4000000000000000 4008000000000000 4008000000000000",
            "16 bytes, 24 follow");
    /* inside an array, a bad element fails the array */
    DEC_ERR(POINT_ARR,
            "00000001 00000000 00000258 00000001 00000001 00000008 3ff0000000000000",
            "invalid point field: 8 bytes");

    /* text */
    DECT_ERR(POINT, "", "invalid point text");
    DECT_ERR(POINT, "(1,2", "invalid point text");
    DECT_ERR(POINT, "(1,2) ", "invalid point text");
    DECT_ERR(POINT, "(1;2)", "invalid point text");
    DECT_ERR(POINT, "(inf,2)", "invalid point text");
    DECT_ERR(POINT, "(1,2,3)", "invalid point text");
    DECT_ERR(LINE, "{1,2}", "invalid line text");
    DECT_ERR(LSEG, "[(1,2),(3,4)", "invalid lseg text");
    DECT_ERR(BOX, "(1,2)", "invalid box text");
    DECT_ERR(CIRCLE, "<(1,2),3", "invalid circle text");
    DECT_ERR(PATH, "[]", "invalid path text");
    DECT_ERR(PATH, "[(1,2),(3,4))", "invalid path text");
    DECT_ERR(PATH, "((1,2)(3,4))", "invalid path text");
    DECT_ERR(PATH, "((1,2),(3,4)),", "invalid path text");
    DECT_ERR(POLYGON, "[(1,2)]", "invalid polygon text");
    DECT_ERR(POLYGON, "((1,2),)", "invalid polygon text");
    th_dect_err_n(__FILE__, __LINE__, POINT, "(1\0,2)", 6, "invalid point text");
}

int main(void)
{
    th_init();
    test_rows();
    test_encode();
    test_encode_errors();
    test_malformed();
    return th_finish();
}
