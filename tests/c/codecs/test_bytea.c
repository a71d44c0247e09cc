/* bytea: raw bytes (byteasend); text in hex and escape formats (byteaout). */
#include "harness.h"

int main(void)
{
    th_init();

    DEC(BYTEA, "", "b''");
    DEC(BYTEA, "00ff5c27", "b'\\x00\\xff\\x5c\\x27'");
    DECT(BYTEA, "\\x", "b''");
    DECT(BYTEA, "\\x00ff5C27", "b'\\x00\\xff\\x5c\\x27'");
    DECT(BYTEA, "abc", "b'\\x61\\x62\\x63'");
    DECT(BYTEA, "\\000\\377\\\\'", "b'\\x00\\xff\\x5c\\x27'");
    DECT(BYTEA, "", "b''");
    ENC(BYTEA, V_BYTES("\x00\xff"), "00ff");
    ENC(BYTEA, V_BYTES(""), "");
    RT(BYTEA, "000102fffe");
    RT(BYTEA, "");

    ENC_ERR(BYTEA, V_STR("abc"), "cannot encode a str value as bytea");
    DECT_ERR(BYTEA, "\\x0", "odd number");
    DECT_ERR(BYTEA, "\\x0g", "invalid bytea hex digit");
    DECT_ERR(BYTEA, "\\", "invalid bytea escape");
    DECT_ERR(BYTEA, "\\12", "invalid bytea escape");
    DECT_ERR(BYTEA, "\\400", "invalid bytea escape");
    DECT_ERR(BYTEA, "a\\q", "invalid bytea escape");
    return th_finish();
}
