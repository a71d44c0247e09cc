/* uuid: 16 bytes (uuid_send), 8-4-4-4-12 text (uuid_out). */
#include "harness.h"

int main(void)
{
    th_init();

    DEC(UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a11", "UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')");
    DEC(UUID, "00000000000000000000000000000000", "UUID('00000000-0000-0000-0000-000000000000')");
    DECT(UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')");
    ENC(UUID, VAL(PGD_V_UUID, .u.uuid = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb,
                                         0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}),
        "a0eebc999c0b4ef8bb6d6bb9bd380a11");
    ENC(UUID, V_STR("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), "a0eebc999c0b4ef8bb6d6bb9bd380a11");
    ENC(UUID, V_STR("a0eebc999c0b4ef8bb6d6bb9bd380a11"), "a0eebc999c0b4ef8bb6d6bb9bd380a11");
    ENC(UUID, V_STR("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"), "a0eebc999c0b4ef8bb6d6bb9bd380a11");
    RT(UUID, "ffffffffffffffffffffffffffffffff");

    ENC_ERR(UUID, V_STR("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"), "invalid uuid text");
    ENC_ERR(UUID, V_STR("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g"), "invalid uuid text");
    ENC_ERR(UUID, V_STR("a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11"), "invalid uuid text");
    ENC_ERR(UUID, V_BYTES("0123456789abcdef"), "cannot encode a bytes value as uuid");
    DEC_ERR(UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a", "15 bytes, expected 16");
    DEC_ERR(UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a1100", "17 bytes, expected 16");
    DECT_ERR(UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a11", "invalid uuid text");
    DECT_ERR(UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ", "invalid uuid text");
    return th_finish();
}
