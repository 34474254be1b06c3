"""Rules of forms.validators / forms.photo / forms.i18n, each message in Chinese and English."""

import base64
import io
import os
from datetime import date, timedelta

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from wtforms.validators import ValidationError

from forms.i18n import T, get_locale, set_locale, to_text
from hardware.profile import card_number_check_char
from forms.application.rules import (age_on, guardian_errors, id_validity_errors,
                                     needs_guardian, old_card_errors)
from forms.photo import MAX_PHOTO_BYTES, check_photo, load_photo
from forms.validators import (check_card_number, check_citizen_id, check_landline, check_mobile,
                              check_name, check_other_id, check_postcode, id_birth_date, id_sex,
                              region_name, today)

TODAY = today()  # China time, as the forms use
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(region="350581", birth="19900501", seq="123"):
    """A citizen ID number with a correct GB 11643 check character."""
    if isinstance(birth, date):
        birth = birth.strftime("%Y%m%d")
    body = f"{region}{birth}{seq}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]


def image_bytes(size=(295, 413), fmt="JPEG", noise=False):
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 220, 255))
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def error_of(check, *args, **kwargs):
    """The (Chinese, English) message of the ValidationError raised by ``check``."""
    with pytest.raises(ValidationError) as info:
        check(*args, **kwargs)
    message = info.value.args[0]
    assert isinstance(message, T)
    zh = str(message)
    with set_locale("en"):
        en = str(message)
    return zh, en


def both(message):
    return message.text("zh"), message.text("en")


# ---------------------------------------------------------------- i18n

def test_t_follows_locale_and_context_manager_restores():
    label = T("姓名", "Name")
    assert str(label) == "姓名" and get_locale() == "zh"
    with set_locale("en-US") as lang:
        assert lang == "en" and str(label) == "Name"
        with set_locale("zh_CN"):
            assert str(label) == "姓名"
        assert f"{label}" == "Name"
    assert str(label) == "姓名"


def test_t_format_is_lazy_and_nests():
    message = T("请填写{what}", "Please fill in {what}").format(what=T("姓名", "the name"))
    assert str(message) == "请填写姓名"
    with set_locale("en"):
        assert str(message) == "Please fill in the name"
    assert str(T("最多%(max)d字", "at most %(max)d") % {"max": 3}) == "最多3字"
    assert "姓名" in message and message == "请填写姓名"
    assert T("<b>", "<b>").__html__() == "&lt;b&gt;"


def test_to_text_and_bad_locale():
    errors = {"name": [T("错", "wrong")], None: [T("表", "form")]}
    with set_locale("en"):
        assert to_text(errors) == {"name": ["wrong"], "": ["form"]}
    with pytest.raises(ValueError):
        set_locale("fr")


# ---------------------------------------------------------------- citizen ID

def test_make_id_agrees_with_stdnum():
    from stdnum.cn import ric
    assert ric.is_valid(make_id("350581", "19900501"))
    assert ric.is_valid(make_id("350500", "19851231", "002"))


@pytest.mark.parametrize("region", ["350581", "350500", "350582"])
def test_valid_citizen_ids(region):
    number = make_id(region, "19900501")
    assert check_citizen_id(number) == number


def test_citizen_id_normalises_lower_x_and_blanks():
    seq = next(f"{n:03d}" for n in range(1000) if make_id(seq=f"{n:03d}").endswith("X"))
    number = make_id(seq=seq)
    assert check_citizen_id(" " + number.lower()[:6] + " " + number.lower()[6:]) == number
    fullwidth = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    assert check_citizen_id(fullwidth) == number


def test_region_code_valid_in_any_period():
    # 石狮市 350581 exists since 1989; people born earlier still hold such numbers
    assert check_citizen_id(make_id("350581", "19700101"))
    assert "石狮市" in region_name("350581")
    assert region_name("359999") is None


def test_citizen_id_wrong_length():
    zh, en = error_of(check_citizen_id, make_id()[:17])
    assert "18位" in zh and "17位" in zh
    assert "18 characters" in en and "has 17" in en


def test_citizen_id_bad_characters():
    zh, en = error_of(check_citizen_id, make_id()[:16] + "AB")
    assert "前17位应为数字" in zh
    assert "17 digits" in en


def test_citizen_id_bad_check_digit():
    number = make_id()
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    zh, en = error_of(check_citizen_id, wrong)
    assert "校验位" in zh
    assert "check character" in en


def test_citizen_id_bad_birth_date():
    zh, en = error_of(check_citizen_id, make_id(birth="19900230"))
    assert "出生日期" in zh and "不是有效日期" in zh
    assert "not a valid date" in en


def test_citizen_id_future_birth_date():
    future = TODAY + timedelta(days=400)
    zh, en = error_of(check_citizen_id, make_id(birth=future))
    assert future.isoformat() in zh and "晚于今天" in zh
    assert "in the future" in en
    # the reference day can be given explicitly
    assert check_citizen_id(make_id(birth=future), on=future)


@pytest.mark.parametrize("region", ["999999", "359999"])
def test_citizen_id_unknown_region(region):
    zh, en = error_of(check_citizen_id, make_id(region))
    assert region in zh and "地区代码" in zh
    assert "region code" in en and region in en


def test_id_helpers():
    assert id_birth_date(make_id(birth="20080229")) == date(2008, 2, 29)
    assert id_sex(make_id(seq="123")) == "1"
    assert id_sex(make_id(seq="124")) == "2"


def test_other_id_documents():
    assert check_other_id(" e 1234 5678 ") == "E12345678"
    assert check_other_id("H12345678(01)") == "H1234567801"
    zh, en = error_of(check_other_id, "护照12")
    assert "5-20位字母或数字" in zh and "5-20 letters or digits" in en


# ---------------------------------------------------------------- card number

@pytest.mark.parametrize("number", ["X00000019", "B7K334774", "188347080", "B6C989166"])
def test_card_number_samples(number):
    assert check_card_number(number) == number
    assert card_number_check_char(number[:8]) == number[8]


def test_card_number_normalised():
    assert check_card_number(" b7k 334774") == "B7K334774"


def test_card_number_check_10_and_11():
    bodies = [f"{n:08d}" for n in range(2000)]
    assert any(card_number_check_char(b) == "X" for b in bodies)
    assert any(card_number_check_char(b) == "0" for b in bodies)


def test_card_number_wrong_check_char():
    zh, en = error_of(check_card_number, "B7K334775")
    assert "卡号校验位" in zh and "check character" in en


@pytest.mark.parametrize("number", ["B7K33477", "B7K3347740", "B7K33477*"])
def test_card_number_wrong_format(number):
    zh, en = error_of(check_card_number, number)
    assert "9位" in zh and "9 digits or capital letters" in en


# ---------------------------------------------------------------- phones, post code

@pytest.mark.parametrize("raw", ["13800138000", "+86 138 0013 8000", "86-138-0013-8000",
                                 "008613800138000", "１３８００１３８０００"])
def test_mobile_normalised(raw):
    assert check_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "+1 13800138000",
                                 "0595-88888888"])
def test_mobile_rejected(raw):
    zh, en = error_of(check_mobile, raw)
    assert "11位" in zh and "11 digits" in en


@pytest.mark.parametrize("raw, expected", [
    ("0595-88888888", "0595-88888888"),
    ("(0595)88888888", "0595-88888888"),
    ("0595 8888 8888", "0595-88888888"),
    ("059588888888", "0595-88888888"),
    ("0595-8888888", "0595-8888888"),
    ("010-66666666", "010-66666666"),
    ("021 6666 6666", "021-66666666"),
    ("0595-88888888-123", "0595-88888888-123"),
    ("0595-88888888转123", "0595-88888888-123"),
    ("0595-88888888 ext. 45", "0595-88888888-45"),
])
def test_landline_normalised(raw, expected):
    assert check_landline(raw) == expected


@pytest.mark.parametrize("raw", ["88888888", "0595-1888888", "13800138000", "0595-888",
                                 "0595-88888888-1234567"])
def test_landline_rejected(raw):
    zh, en = error_of(check_landline, raw)
    assert "区号" in zh and "area code" in en


def test_postcode():
    assert check_postcode(" 362 700 ") == "362700"
    for bad in ("36270", "3627001", "36270A"):
        zh, en = error_of(check_postcode, bad)
        assert "6位数字" in zh and "6 digits" in en


# ---------------------------------------------------------------- name (GBK)

@pytest.mark.parametrize("name", ["王堃", "陈喆", "刘龑", "张三", "John Smith"])
def test_gbk_names_pass(name):
    assert check_name(name) == name


def test_minority_name_dots_normalised():
    assert check_name("阿依古丽•买买提") == "阿依古丽·买买提"
    assert check_name("阿依古丽 ・ 买买提") == "阿依古丽·买买提"
    assert check_name("阿依古丽．买买提") == "阿依古丽·买买提"
    assert check_name("阿依古丽.买买提") == "阿依古丽·买买提"
    assert check_name("Ｊ. Ｓｍｉｔｈ") == "J. Smith"


def test_non_gbk_character_named():
    zh, en = error_of(check_name, "吉\U00020bb7祥")
    assert "“\U00020bb7”" in zh and "U+20BB7" in zh and "GBK" in zh
    assert "“\U00020bb7”" in en and "U+20BB7" in en and "GBK" in en


def test_name_length_in_gbk_bytes():
    assert check_name("龑" * 15) == "龑" * 15  # 30 bytes
    zh, en = error_of(check_name, "龑" * 16)
    assert "32字节" in zh and "30" in zh
    assert "32 bytes" in en


def test_name_bad_characters_and_dots():
    zh, en = error_of(check_name, "张3")
    assert "“3”" in zh and "“3”" in en
    zh, en = error_of(check_name, "·买买提")
    assert "间隔号" in zh and "middle dot" in en


# ---------------------------------------------------------------- photo

def test_photo_right_size_jpeg_and_png():
    info = check_photo(image_bytes())
    assert (info.format, info.width, info.height) == ("JPEG", 295, 413)
    assert check_photo(image_bytes(fmt="PNG")).format == "PNG"


def test_photo_wrong_size():
    zh, en = error_of(check_photo, image_bytes((300, 400)))
    assert "宽295像素" in zh and "高413像素" in zh and "宽300、高400" in zh
    assert "295 pixels wide" in en and "413 pixels high" in en and "300 wide and 400 high" in en


def test_photo_landscape_refused():
    zh, _ = error_of(check_photo, image_bytes((413, 295)))
    assert "宽413、高295" in zh


def test_photo_text_file_renamed_jpg():
    upload = FileStorage(io.BytesIO(b"this is not a photo\n"), filename="photo.jpg",
                         content_type="image/jpeg")
    zh, en = error_of(check_photo, load_photo(upload))
    assert "不是有效的JPEG或PNG" in zh and "not a valid JPEG or PNG" in en


def test_photo_other_format_and_truncated():
    zh, en = error_of(check_photo, image_bytes(fmt="GIF"))
    assert "GIF" in zh and "GIF" in en
    zh, _ = error_of(check_photo, image_bytes(noise=True)[:5000])
    assert "JPEG或PNG" in zh


def test_photo_too_large():
    data = image_bytes(fmt="PNG", noise=True)
    assert len(data) > MAX_PHOTO_BYTES
    zh, en = error_of(check_photo, data)
    assert f"{MAX_PHOTO_BYTES // 1024} KB" in zh and f"at most {MAX_PHOTO_BYTES // 1024} KB" in en


def test_photo_missing():
    zh, en = error_of(check_photo, load_photo(FileStorage(io.BytesIO(b""), filename="")))
    assert "照片" in zh and "photo" in en


def test_load_photo_sources():
    data = image_bytes()
    encoded = base64.b64encode(data).decode()
    assert load_photo(data) == data
    assert load_photo(bytearray(data)) == data
    assert load_photo(encoded) == data
    assert load_photo("data:image/jpeg;base64," + encoded) == data
    assert load_photo(f"data:image/jpeg;base64,{encoded[:60]}\n{encoded[60:]}") == data
    upload = FileStorage(io.BytesIO(data), filename="a.jpg")
    assert load_photo(upload) == data
    assert load_photo(upload) == data  # stream rewound for whoever stores it
    assert load_photo(None) == b"" and load_photo("  ") == b""


def test_load_photo_bad_base64():
    zh, en = error_of(load_photo, "data:image/jpeg;base64,@@@not base64@@@")
    assert "Base64" in zh and "base64" in en


# ---------------------------------------------------------------- age, cross-field rules

def years_ago(years, on=TODAY):
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def test_age_on_birthdays():
    assert age_on(date(2010, 6, 15), date(2026, 6, 14)) == 15
    assert age_on(date(2010, 6, 15), date(2026, 6, 15)) == 16
    assert age_on(date(2008, 2, 29), date(2024, 2, 28)) == 15
    assert age_on(date(2008, 2, 29), date(2024, 2, 29)) == 16
    assert age_on(date(2007, 2, 28), date(2023, 2, 28)) == 16
    assert age_on(date(2008, 2, 29), date(2025, 2, 28)) == 16  # common year: 1 March counts
    assert age_on(date(2009, 2, 28), date(2025, 2, 28)) == 16


def test_needs_guardian():
    assert needs_guardian(years_ago(15), TODAY)
    assert needs_guardian(years_ago(16) + timedelta(days=1), TODAY)  # 16 tomorrow
    assert not needs_guardian(years_ago(16), TODAY)  # exactly 16 today


def test_id_validity_rules():
    on = date(2024, 5, 1)
    start = date(2015, 8, 6)
    assert id_validity_errors(start, date(2035, 8, 6), False, on) == []
    assert id_validity_errors(start, None, True, on) == []
    assert id_validity_errors(start, on, False, on) == []  # last valid day
    assert id_validity_errors(None, None, False, on, required=False) == []

    [(key, message)] = id_validity_errors(start, date(2024, 4, 30), False, on)
    assert key == "id_valid_to"
    zh, en = both(message)
    assert "已过期" in zh and "2024-04-30" in zh and "expired on 2024-04-30" in en

    [(key, message)] = id_validity_errors(start, date(2010, 1, 1), False, on)
    assert key == "id_valid_to" and "晚于起始日期" in both(message)[0]
    assert "after its start" in both(message)[1]

    [(key, message)] = id_validity_errors(start, date(2035, 8, 6), True, on)
    assert "长期" in both(message)[0] and "Long-term" in both(message)[1]

    [(key, message)] = id_validity_errors(start, None, False, on)
    assert "截止日期" in both(message)[0] and "long-term" in both(message)[1]

    [(key, message)] = id_validity_errors(date(2024, 5, 2), None, True, on)
    assert key == "id_valid_from" and "晚于申领日期" in both(message)[0]

    keys = [k for k, _ in id_validity_errors(None, None, False, on)]
    assert keys == ["id_valid_from", "id_valid_to"]


def test_guardian_rules():
    child = make_id(birth="20150101")
    parent = make_id(birth="19850101", seq="124")
    assert guardian_errors("王芳", "resident_id", parent, child) == []
    errors = guardian_errors("", "", None, child)
    assert [k for k, _ in errors] == ["guardian_name", "guardian_id_type", "guardian_id_number"]
    zh, en = both(errors[0][1])
    assert "未满16周岁" in zh and "监护人姓名" in zh
    assert "under 16" in en and "guardian's name" in en
    [(key, message)] = guardian_errors("王芳", "resident_id", child, child)
    assert key == "guardian_id_number"
    assert both(message) == ("监护人不能是申请人本人", "The guardian cannot be the applicant")


def test_old_card_rules():
    assert old_card_errors("yes", None, None, False) == []
    assert old_card_errors("no", "350500", "B7K334774", True) == []
    errors = old_card_errors("no", "", "", False)
    assert [k for k, _ in errors] == ["old_card_city", "old_card_number",
                                      "consent_stop_old_card"]
    zh, en = both(errors[2][1])
    assert "本人同意停用该社保卡" in zh and "agree to stop" in en


def test_rendering_a_pdf_does_not_loosen_the_photo_check():
    from app.documents.pdf import pdf
    assert pdf("<p>单据</p>").startswith(b"%PDF")  # WeasyPrint now imported in this process
    zh, _ = error_of(check_photo, image_bytes(noise=True)[:5000])
    assert "JPEG或PNG" in zh
