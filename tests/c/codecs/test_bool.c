/* bool: one byte 0/1 (boolsend), text t/f (boolout). */
#include "harness.h"

int main(void)
{
    th_init();

    DEC(BOOL, "01", "True");
    DEC(BOOL, "00", "False");
    DECT(BOOL, "t", "True");
    DECT(BOOL, "f", "False");
    ENC(BOOL, V_BOOL(1), "01");
    ENC(BOOL, V_BOOL(0), "00");
    ENC(BOOL, V_BOOL(42), "01");
    RT(BOOL, "01");
    RT(BOOL, "00");

    ENC_ERR(BOOL, V_INT(1), "cannot encode a int value as bool");
    ENC_ERR(BOOL, V_STR("t"), "cannot encode a str value as bool");
    DEC_ERR(BOOL, "", "0 bytes, expected 1");
    DEC_ERR(BOOL, "0100", "2 bytes, expected 1");
    DEC_ERR(BOOL, "02", "invalid bool byte 0x02");
    DECT_ERR(BOOL, "true", "invalid bool text");
    DECT_ERR(BOOL, "", "invalid bool text");
    DECT_ERR(BOOL, "T", "invalid bool text");
    return th_finish();
}
