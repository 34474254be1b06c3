"""Card profile encoders: every field round-trips, every malformed value is refused clearly."""
import datetime as dt

import pytest

from hardware import apdu, errors, profile
from hardware.profile import BY_KEY, decode_value, encode_value

F = BY_KEY

ROUND_TRIPS = [
    ("card_identifier", bytes.fromhex("350581D156000005" + "FFEEDDCCBBAA9988"),
     bytes.fromhex("350581D156000005FFEEDDCCBBAA9988")),
    ("card_type", "3", b"3"),
    ("spec_version", "3.00", b"3.00"),
    ("init_org", "350581000001", bytes.fromhex("350581000001FFFFFFFFFFFF")),
    ("init_org", "1" * 24, bytes.fromhex("11" * 12)),  # maximum length: no padding
    ("issue_date", "20261120", bytes.fromhex("20261120")),
    ("expiry_date", "20361120", bytes.fromhex("20361120")),
    ("card_number", "B7K334774", b"B7K334774"),
    ("ssn", "11010519491231002X", b"11010519491231002X"),
    ("name", "林堃", "林堃".encode("gbk") + b"\x00" * 26),
    ("sex", "2", b"2"),
    ("ethnicity", "01", b"\x01"),
    ("ethnicity", "5", b"\x5F"),  # one digit: padded with an F nibble
    ("birthplace", "350581", bytes.fromhex("350581")),
    ("birth_date", "19491231", bytes.fromhex("19491231")),
]


@pytest.mark.parametrize("key,value,raw", ROUND_TRIPS)
def test_every_field_round_trips(key, value, raw):
    f = F[key]
    encoded = encode_value(f, value)
    assert encoded == raw
    assert len(encoded) == f.length
    assert decode_value(f, encoded) == value


def test_every_profile_field_has_a_round_trip_case():
    assert {k for k, _, _ in ROUND_TRIPS} == set(F)


@pytest.mark.parametrize("name", ["堃", "喆", "龑", "犇淼", "买买提·艾力", "欧阳娜娜", "A-Li 王"])
def test_names_with_rare_characters_round_trip(name):
    raw = encode_value(F["name"], name)
    assert decode_value(F["name"], raw) == name


def test_name_of_maximum_length_fits_and_one_more_does_not():
    longest = "龘" * 15  # 15 GBK characters = 30 bytes
    assert decode_value(F["name"], encode_value(F["name"], longest)) == longest
    with pytest.raises(errors.ProfileError) as e:
        encode_value(F["name"], longest + "龘")
    assert "最长 30 字节" in str(e.value) and "at most 30 bytes" in str(e.value)


def test_name_not_encodable_in_gbk_names_the_character():
    with pytest.raises(errors.ProfileError) as e:
        encode_value(F["name"], "王𠮷")
    assert "𠮷" in e.value.zh and "GBK" in e.value.en
    assert set(e.value.errors) == {"name"}


@pytest.mark.parametrize("key,value,fragment", [
    ("issue_date", "20260230", "不是有效日期"),
    ("birth_date", "1990-13-01", "不是有效日期"),
    ("expiry_date", "2036112", "不是有效日期"),
    ("birth_date", "abc", "不是有效日期"),
    ("init_org", "1" * 25, "最多 24 位数字"),
    ("init_org", "35058A", "只能包含数字"),
    ("ethnicity", "123", "最多 2 位数字"),
    ("birthplace", "3505811", "最多 6 位数字"),
    ("card_number", "B7K334775", "校验位错误"),
    ("card_number", "B7K33477", "校验位错误"),
    ("ssn", "350581199003071232", "无效"),
    ("ssn", "35058119900307123", "无效"),
    ("sex", "M", "应为 1（男）"),
    ("spec_version", "4.00", "应为 1.00/2.00/3.00"),
    ("card_type", "卡", "只能包含字母"),
    ("card_type", "33", "最长 1 字节"),
    ("name", "   ", "不能为空"),
    ("name", 12, "应为文本"),
    ("card_identifier", "00" * 15, "应为 16 字节"),
    ("card_identifier", "350581" + "A000000333" + "0102030405060708", "D156000005"),
    ("card_identifier", "zz", "十六进制"),
])
def test_malformed_values_are_refused_with_a_clear_message(key, value, fragment):
    with pytest.raises(errors.ProfileError) as e:
        encode_value(F[key], value)
    assert fragment in e.value.zh
    assert e.value.en  # English available
    assert list(e.value.errors) == [key]


def test_dates_accept_date_objects_and_dashes():
    assert encode_value(F["issue_date"], dt.date(2024, 2, 29)) == bytes.fromhex("20240229")
    assert encode_value(F["issue_date"], "2024-02-29") == bytes.fromhex("20240229")
    with pytest.raises(errors.ProfileError):
        encode_value(F["issue_date"], "2023-02-29")


def test_card_number_check_character_matches_published_samples():
    for sample in ("X00000019", "B7K334774", "188347080", "B6C989166"):
        assert profile.card_number_check_char(sample[:8]) == sample[8]
        assert profile.is_valid_card_number(sample)
    assert not profile.is_valid_card_number("X00000018")
    assert not profile.is_valid_card_number("X0000001")


def test_check_characters_x_and_zero_are_produced():
    bodies = {profile.card_number_check_char(f"{n:08d}") for n in range(200)}
    assert {"X", "0"} <= bodies


def test_new_card_numbers_are_valid_and_random():
    numbers = {profile.new_card_number() for _ in range(200)}
    assert len(numbers) == 200
    assert all(profile.is_valid_card_number(n) for n in numbers)


def test_card_identifier_layout():
    cid = profile.make_card_identifier("350581", bytes(range(8)))
    assert cid.hex().upper() == "350581D156000005" + "0001020304050607"
    assert profile.card_identifier_region(cid) == "350581"
    assert profile.make_card_identifier("350581") != profile.make_card_identifier("350581")
    with pytest.raises(errors.ProfileError):
        profile.make_card_identifier("35058")
    with pytest.raises(errors.ProfileError):
        profile.make_card_identifier("350581", b"\x00" * 7)


def test_encode_card_reports_every_problem_at_once(card_data):
    bad = dict(card_data, name="", sex="X", card_number="123")
    del bad["birthplace"]
    with pytest.raises(errors.ProfileError) as e:
        profile.encode_card(bad)
    assert set(e.value.errors) == {"name", "sex", "card_number", "birthplace"}


def test_encode_card_checks_consistency(card_data):
    with pytest.raises(errors.ProfileError) as e:
        profile.encode_card(dict(card_data, birth_date="1990-03-08"))
    assert "出生日期" in e.value.zh
    with pytest.raises(errors.ProfileError) as e:
        profile.encode_card(dict(card_data, expiry_date="2020-01-01"))
    assert set(e.value.errors) == {"expiry_date"}


def test_encode_card_gives_records_per_file(card_data):
    encoded = profile.encode_card(card_data)
    assert [f.tag for f, _ in encoded[profile.EF05]] == [1, 2, 3, 4, 5, 6, 7]
    assert [f.tag for f, _ in encoded[profile.EF06]] == [8, 9, 10, 11, 12, 13]
    for records in encoded.values():
        for f, rec in records:
            assert rec[0] == f.tag and rec[1] == f.length and len(rec) == f.length + 2


def test_parse_tlv_refuses_damaged_records():
    with pytest.raises(errors.ProfileError):
        profile.parse_tlv(profile.EF05, b"\x7F\x01\x00")  # unknown tag
    with pytest.raises(errors.ProfileError):
        profile.parse_tlv(profile.EF05, b"\x02\x02\x33")  # length byte lies
    with pytest.raises(errors.ProfileError):
        profile.parse_tlv(profile.EF06, b"\x0D\x04\x19\x9A\x03\x07")  # not BCD
    f, value = profile.parse_tlv(profile.EF06, b"\x0A\x01\x32")
    assert (f.key, value) == ("sex", "2")


def test_normalise_gives_values_as_read_back(card_data):
    n = profile.normalise(card_data)
    assert n["issue_date"] == "20261120" and n["birth_date"] == "19900307"
    assert n["card_identifier"] == card_data["card_identifier"].upper()


def test_mask_hides_the_middle_of_id_numbers():
    assert profile.mask("350581199003071231") == "350581********1231"
    assert profile.mask("123") == "***"


def test_ssse_name_is_the_documented_gb2312_bytes():
    assert profile.SSSE_DF_NAME.hex().upper() == "7378312E73682EC9E7BBE1B1A3D5CF"
    assert apdu.select_df_name(profile.SSSE_DF_NAME).hex().upper() == \
        "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"


@pytest.mark.parametrize("pin", ["12345", "1234567", "12a456", 123456])
def test_malformed_pins_are_refused_before_reaching_the_card(pin):
    with pytest.raises(errors.ProfileError):
        apdu.verify_pin(pin)


@pytest.mark.parametrize("sw,cls", [
    (0x6982, errors.SecurityStatusError), (0x6983, errors.PinBlockedError),
    (0x6A82, errors.FileNotFoundOnCardError), (0x6A83, errors.RecordNotFoundError),
    (0x6A88, errors.KeyNotFoundError), (0x6700, errors.WrongLengthError),
    (0x9303, errors.ApplicationBlockedError), (0x6D00, errors.UnsupportedCommandError),
    (0x63C1, errors.WrongPinError), (0x6F00, errors.CardStatusError),
])
def test_status_words_map_to_typed_errors(sw, cls):
    err = apdu.error_for(sw, "READ")
    assert type(err) is cls
    assert f"{sw:04X}" in err.zh and f"{sw:04X}" in err.en
    assert err.sw == sw


def test_wrong_pin_error_says_tries_left():
    err = apdu.error_for(0x63C2, "VERIFY")
    assert err.tries_left == 2 and "还可尝试 2 次" in err.zh and "2 tries left" in err.en


# --- EF0D 参保地信息 (rewrite_region) -------------------------------------------------------------

def test_insured_region_records_are_their_own_file_outside_the_card_data():
    assert profile.EF0D not in (profile.EF05, profile.EF06) and profile.SFI[profile.EF0D] == 13
    assert len(set(profile.SFI.values())) == len(profile.SFI)  # no short file id twice
    assert [(f.key, f.tag, f.length, f.fmt) for f in profile.fields_of(profile.EF0D)] == \
        [("insured_region", 0x2A, 3, "cn"), ("moved_on", 0x2B, 4, "cn")]
    assert not set(profile.REGION_BY_KEY) & set(profile.BY_KEY)  # an issue does not write them
    tags = [(f.ef, f.tag) for f in profile.FIELDS + profile.REGION_FIELDS]
    assert len(set(tags)) == len(tags)


@pytest.mark.parametrize("moved_on", ["2026-12-07", "20261207", dt.date(2026, 12, 7)])
def test_insured_region_round_trips(moved_on):
    records = profile.encode_region("330212", moved_on)
    assert [rec.hex().upper() for _, rec in records] == ["2A03330212", "2B0420261207"]
    assert [profile.parse_tlv(profile.EF0D, rec)[1] for _, rec in records] == ["330212", "20261207"]


@pytest.mark.parametrize("code,moved_on,bad", [
    ("33021", "2026-12-07", "insured_region"), ("3302120", "2026-12-07", "insured_region"),
    ("33021A", "2026-12-07", "insured_region"), ("", "2026-12-07", "insured_region"),
    ("330212", "2026-13-01", "moved_on"), ("330212", None, "moved_on"),
])
def test_malformed_insured_region_is_refused(code, moved_on, bad):
    with pytest.raises(errors.ProfileError) as e:
        profile.encode_region(code, moved_on)
    assert list(e.value.errors) == [bad]
