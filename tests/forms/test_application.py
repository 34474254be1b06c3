"""ApplicationForm 福建省社会保障卡申领表: whole-form validation, via validate_data (JSON) and
via multidict formdata (HTML post), in Chinese and English."""

import base64
import hashlib
import io
import json
from datetime import date, timedelta

import pytest
from PIL import Image
from werkzeug.datastructures import CombinedMultiDict, FileStorage, MultiDict

import forms
from forms import registry, set_locale, validate_data
from forms.application import ApplicationForm
from forms.base import TaskForm
from forms.validators import today

TODAY = today()  # China time, as the forms use
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(region="350581", birth="19900501", seq="123"):
    """A citizen ID number with a correct GB 11643 check character (seq odd = male)."""
    if isinstance(birth, date):
        birth = birth.strftime("%Y%m%d")
    body = f"{region}{birth}{seq}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]


def flip_check(number):
    """The same number with a wrong check character."""
    return number[:17] + ("1" if number[17] != "1" else "2")


def years_ago(years, on=TODAY):
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def jpeg(size=(295, 413)):
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 220, 255)).save(buf, "JPEG")
    return buf.getvalue()


PHOTO = jpeg()
PHOTO_URL = "data:image/jpeg;base64," + base64.b64encode(PHOTO).decode()


def valid_data(**changes):
    """A complete, valid application as the JSON API would send it."""
    data = {
        "application_date": TODAY.isoformat(),
        "name": "张三",
        "sex": "1",
        "ethnicity": "01",
        "photo": PHOTO_URL,
        "birth_date": "1990-05-01",
        "occupation": "职员",
        "landline": "0595-88888888",
        "mobile": "13800138000",
        "id_type": "resident_id",
        "id_valid_from": "2015-08-06",
        "id_valid_to": "2035-08-06",
        "id_long_term": False,
        "id_number": make_id("350581", "19900501"),
        "country": "中国",
        "household_address": "福建省石狮市湖滨街道",
        "residence_address": "福建省石狮市宝盖镇",
        "residence_postcode": "362700",
        "employer": "石狮市某某服装有限公司",
        "medical_insurance_type": "urban_employee",
        "insurance_agency": "石狮市医疗保险管理中心",
        "first_card": "yes",
        "signed": True,
        "remarks": "",
    }
    data.update(changes)
    return data


def minor_data(birth, **changes):
    return valid_data(birth_date=birth.isoformat(), id_number=make_id("350581", birth),
                      id_valid_from=None, id_valid_to=None, employer="", **changes)


GUARDIAN = {"guardian_name": "张大山", "guardian_id_type": "resident_id",
            "guardian_id_number": make_id("350500", "19800101", "011")}


def errors_in(lang, data):
    with set_locale(lang):
        return validate_data(ApplicationForm, data)[1]


# ---------------------------------------------------------------- valid forms, API

def test_full_valid_form():
    form, errors = validate_data(ApplicationForm, valid_data())
    assert errors == {}
    cleaned = form.cleaned()
    json.dumps(cleaned)  # JSON-serialisable
    assert cleaned["application_date"] == TODAY.isoformat()
    assert cleaned["birth_date"] == "1990-05-01"
    assert cleaned["id_number"] == make_id("350581", "19900501")
    assert cleaned["first_card"] == "yes" and cleaned["signed"] is True
    assert cleaned["remarks"] is None and cleaned["guardian_name"] is None
    assert cleaned["photo"] == {"size": len(PHOTO), "format": "JPEG", "width": 295,
                                "height": 413, "sha256": hashlib.sha256(PHOTO).hexdigest(),
                                "data": base64.b64encode(PHOTO).decode("ascii")}
    assert form.photo_bytes() == PHOTO
    assert set(cleaned) == {name for name in form._fields}


def test_validate_data_converts_json_types():
    seq = next(f"{n:03d}" for n in range(1, 1000, 2) if make_id(seq=f"{n:03d}").endswith("X"))
    number = make_id(seq=seq)
    data = valid_data(
        application_date=TODAY,           # date object
        ethnicity=1,                      # number -> "01"
        mobile=8613800138000,             # number with country code
        landline="(0595) 8888 8888 转 12",
        id_number=number.lower(),         # lower-case x
        id_valid_to=None, id_long_term=True,
        name="阿依古丽•买买提", ethnicity_extra=["ignored"],
        first_card=False,                 # boolean for 否
        old_card_city=350500, old_card_number="b7k334774", consent_stop_old_card="true",
        photo=base64.b64encode(PHOTO).decode(),  # plain base64
    )
    form, errors = validate_data(ApplicationForm, data)
    assert errors == {}
    cleaned = form.cleaned()
    assert cleaned["ethnicity"] == "01"
    assert cleaned["mobile"] == "13800138000"
    assert cleaned["landline"] == "0595-88888888-12"
    assert cleaned["id_number"] == number and number.endswith("X")
    assert cleaned["id_long_term"] is True and cleaned["id_valid_to"] is None
    assert cleaned["name"] == "阿依古丽·买买提"
    assert cleaned["first_card"] == "no"
    assert (cleaned["old_card_city"], cleaned["old_card_number"],
            cleaned["consent_stop_old_card"]) == ("350500", "B7K334774", True)


def test_first_card_clears_existing_card_fields():
    form, errors = validate_data(ApplicationForm, valid_data(
        first_card="yes", old_card_number="B7K334774", consent_stop_old_card=True))
    assert errors == {}
    assert form.cleaned()["old_card_number"] is None


def test_html_post_with_file_upload():
    """The web layer passes request.form + request.files (CombinedMultiDict)."""
    text = {k: ("y" if v is True else v) for k, v in valid_data().items()
            if k != "photo" and v not in (None, False)}
    files = MultiDict({"photo": FileStorage(io.BytesIO(PHOTO), filename="zhao.jpg",
                                            content_type="image/jpeg")})
    form = ApplicationForm(formdata=CombinedMultiDict([MultiDict(text), files]))
    assert form.validate(), form.errors
    assert form.photo_bytes() == PHOTO


def test_cleaned_needs_successful_validate():
    form = ApplicationForm(formdata=MultiDict(valid_data(name="")))
    with pytest.raises(RuntimeError):
        form.cleaned()
    assert not form.validate()
    with pytest.raises(RuntimeError):
        form.cleaned()


def test_registry_and_metadata():
    assert forms.get_form("application.apply") is ApplicationForm
    assert "application.apply" in forms.all_form_keys() and forms.has_form("application.apply")
    # the key of the first deployed versions still finds it (cases running on them keep working)
    assert forms.get_form("application") is ApplicationForm and forms.has_form("application")
    assert "application" not in forms.all_form_keys()
    with pytest.raises(forms.UnknownFormKey):
        forms.get_form("no-such-form")
    assert str(ApplicationForm.title) == "福建省社会保障卡申领表"
    with set_locale("en"):
        assert str(ApplicationForm.title) == "Fujian social security card application form"

    class Other(TaskForm):
        form_key = "application"

    with pytest.raises(ValueError):
        registry.register(Other)
    with pytest.raises(ValueError):
        registry.register(type("NoKey", (TaskForm,), {}))
    assert forms.get_form("application") is ApplicationForm


def test_labels_and_choices_follow_locale():
    form = ApplicationForm()
    assert str(form.id_number.label.text) == "证件号码"
    assert "男" in form.sex() and "汉族" in form.ethnicity()
    assert form.country.data == "中国" and form.id_type.data == "resident_id"
    with set_locale("en"):
        assert "Ethnicity" in form.ethnicity.label()
        assert "Male" in form.sex() and "Han" in form.ethnicity()
        assert "Please choose" in form.ethnicity()


def test_all_56_ethnicities_plus_97_98():
    codes = [c.value for c in ApplicationForm().ethnicity.iter_choices()][1:]
    assert codes == [f"{n:02d}" for n in range(1, 57)] + ["97", "98"]


# ---------------------------------------------------------------- required fields, built-ins

def test_empty_form_messages_in_both_languages():
    zh = errors_in("zh", {})
    en = errors_in("en", {})
    assert zh["name"] == ["请填写“姓名”"] and en["name"] == ["Please fill in “Name”"]
    assert zh["sex"] == ["请选择“性别”"] and en["sex"] == ["Please choose “Sex”"]
    assert zh["photo"] == ["请提供申请人照片"]
    assert zh["signed"] == ["请确认申请人已在纸质申领表上签字"]
    assert en["signed"] == ["Please confirm that the applicant has signed the paper form"]
    for key in ("mobile", "id_number", "birth_date", "residence_address",
                "medical_insurance_type", "first_card"):
        assert key in zh and key in en
    for key in ("landline", "occupation", "employer", "remarks", "residence_postcode"):
        assert key not in zh  # optional
    assert "application_date" not in zh and "country" not in zh  # defaults


def test_wtforms_builtin_messages_translated():
    data = valid_data(ethnicity="99", remarks="备" * 201)
    zh = errors_in("zh", data)
    assert zh["ethnicity"] == ["不是有效的选择。"]
    assert zh["remarks"] == ["字段长度不能超过 200 个字符。"]
    en = errors_in("en", data)
    assert en["ethnicity"] == ["Not a valid choice."]
    assert en["remarks"] == ["Field cannot be longer than 200 characters."]


def test_bad_date_keeps_format_message():
    zh = errors_in("zh", valid_data(birth_date="1990-13-01"))
    assert zh["birth_date"] == ["请输入有效日期，格式为YYYY-MM-DD，例如2015-08-06"]
    en = errors_in("en", valid_data(birth_date="yesterday"))
    assert en["birth_date"] == ["Please enter a valid date as YYYY-MM-DD, e.g. 2015-08-06"]


@pytest.mark.parametrize("spelling", ["1990/5/1", "19900501", "1990年5月1日", "1990.05.01"])
def test_date_spellings(spelling):
    assert errors_in("zh", valid_data(birth_date=spelling)) == {}


# ---------------------------------------------------------------- ID number and birth date

def test_birth_date_must_match_id_number():
    data = valid_data(birth_date="1990-05-02")
    zh = errors_in("zh", data)
    assert zh == {"birth_date": ["出生日期与公民身份号码中的出生日期（1990-05-01）不一致"]}
    en = errors_in("en", data)
    assert en["birth_date"] == ["The date of birth differs from the one in the citizen ID "
                                "number (1990-05-01)"]


def test_sex_must_match_id_number():
    zh = errors_in("zh", valid_data(sex="2"))
    assert list(zh) == ["sex"] and "第17位" in zh["sex"][0]
    assert "17th digit" in errors_in("en", valid_data(sex="2"))["sex"][0]


def test_future_birth_date():
    future = TODAY + timedelta(days=30)
    data = valid_data(birth_date=future.isoformat(), id_number=make_id(birth=future))
    zh = errors_in("zh", data)
    assert zh["birth_date"] == ["“出生日期”不能晚于今天"]
    assert "晚于今天" in zh["id_number"][0]
    en = errors_in("en", data)
    assert en["birth_date"] == ["“Date of birth” cannot be later than today"]
    assert "in the future" in en["id_number"][0]


def test_application_date_in_future_and_before_birth():
    zh = errors_in("zh", valid_data(application_date=(TODAY + timedelta(days=1)).isoformat()))
    assert zh == {"application_date": ["“申领日期”不能晚于今天"]}
    zh = errors_in("zh", valid_data(application_date="1990-04-30", id_valid_from="1989-01-01",
                                    id_valid_to=None, id_long_term=True))
    assert zh["birth_date"] == ["出生日期不能晚于申领日期"]


@pytest.mark.parametrize("number, zh_part, en_part", [
    (make_id()[:17], "18位", "18 characters"),
    (flip_check(make_id()), "校验位", "check character"),
    (make_id(birth="19901301"), "不是有效日期", "not a valid date"),
    (make_id("999999"), "地区代码999999", "region code 999999"),
])
def test_id_number_errors(number, zh_part, en_part):
    zh = errors_in("zh", valid_data(id_number=number))
    en = errors_in("en", valid_data(id_number=number))
    assert zh_part in zh["id_number"][0] and en_part in en["id_number"][0]
    assert "birth_date" not in zh  # no follow-up error from an invalid number


def test_other_id_type_uses_generic_check():
    data = valid_data(id_type="passport", id_number="e12345678", household_address="",
                      country="新加坡", ethnicity="98", birth_date="1988-03-03",
                      id_valid_to="2030-01-01")
    form, errors = validate_data(ApplicationForm, data)
    assert errors == {}
    assert form.cleaned()["id_number"] == "E12345678"
    zh = errors_in("zh", dict(data, id_number="E-1"))
    assert zh["id_number"] == ["证件号码应为5-20位字母或数字"]


def test_household_address_required_for_resident_id():
    zh = errors_in("zh", valid_data(household_address=" "))
    assert zh == {"household_address": ["持居民身份证申领的，请填写户口所在地地址"]}


# ---------------------------------------------------------------- ID validity

def test_id_expired():
    expired = (TODAY - timedelta(days=1)).isoformat()
    data = valid_data(id_valid_from="2004-01-01", id_valid_to=expired)
    zh = errors_in("zh", data)
    assert list(zh) == ["id_valid_to"] and "证件已过期" in zh["id_valid_to"][0]
    assert "expired" in errors_in("en", data)["id_valid_to"][0]
    assert errors_in("zh", dict(data, id_valid_to=TODAY.isoformat())) == {}


def test_id_validity_order_and_long_term():
    zh = errors_in("zh", valid_data(id_valid_to="2015-08-06"))
    assert zh["id_valid_to"] == ["证件有效期截止日期须晚于起始日期"]
    zh = errors_in("zh", valid_data(id_long_term=True))
    assert zh["id_valid_to"] == ["已勾选“长期”，不应再填写截止日期"]
    zh = errors_in("zh", valid_data(id_valid_to=None))
    assert zh["id_valid_to"] == ["请填写证件有效期的截止日期，或勾选“长期”"]
    assert errors_in("zh", valid_data(id_valid_to="", id_long_term="on")) == {}


# ---------------------------------------------------------------- minors and guardians

def test_fifteen_year_old_needs_guardian():
    data = minor_data(years_ago(15))
    zh = errors_in("zh", data)
    assert set(zh) == {"guardian_name", "guardian_id_type", "guardian_id_number"}
    assert zh["guardian_name"] == ["申请人未满16周岁，须填写监护人姓名"]
    en = errors_in("en", data)
    assert en["guardian_id_number"] == ["The applicant is under 16, so the guardian's ID "
                                        "document number is required"]
    assert errors_in("zh", dict(data, **GUARDIAN)) == {}


def test_sixteen_tomorrow_still_needs_guardian():
    zh = errors_in("zh", minor_data(years_ago(16) + timedelta(days=1)))
    assert "guardian_name" in zh


def test_exactly_sixteen_today_needs_no_guardian():
    birth = years_ago(16)
    data = valid_data(birth_date=birth.isoformat(), id_number=make_id(birth=birth),
                      id_valid_from=TODAY.isoformat(), id_valid_to=years_ago(-10).isoformat())
    assert errors_in("zh", data) == {}


def test_adult_without_id_validity_is_refused_but_child_may_omit_it():
    zh = errors_in("zh", valid_data(id_valid_from=None, id_valid_to=None))
    assert set(zh) == {"id_valid_from", "id_valid_to"}
    assert errors_in("zh", dict(minor_data(years_ago(10)), **GUARDIAN)) == {}


def test_guardian_cannot_be_applicant():
    birth = years_ago(12)
    data = dict(minor_data(birth), **GUARDIAN)
    data["guardian_id_number"] = data["id_number"]
    assert errors_in("zh", data) == {"guardian_id_number": ["监护人不能是申请人本人"]}
    assert errors_in("en", data) == {"guardian_id_number": ["The guardian cannot be the applicant"]}


def test_guardian_id_checked_by_type():
    data = dict(minor_data(years_ago(8)), **GUARDIAN)
    zh = errors_in("zh", dict(data, guardian_id_number=flip_check(data["guardian_id_number"])))
    assert list(zh) == ["guardian_id_number"] and "校验位" in zh["guardian_id_number"][0]
    # a passport is not checked against GB 11643
    assert errors_in("zh", dict(data, guardian_id_type="passport",
                                guardian_id_number="E12345678")) == {}
    zh = errors_in("zh", dict(data, guardian_name="张\U00020bb7"))
    assert "\U00020bb7" in zh["guardian_name"][0]


# ---------------------------------------------------------------- existing card in Fujian

def test_not_first_card_needs_city_number_and_consent():
    data = valid_data(first_card="no")
    zh = errors_in("zh", data)
    assert zh == {
        "old_card_city": ["已在福建省持有社保卡的，请选择持卡所在市"],
        "old_card_number": ["已在福建省持有社保卡的，请填写原社保卡卡号"],
        "consent_stop_old_card": ["在福建省已持卡的，须勾选“本人同意停用该社保卡”后才能申领新卡"],
    }
    en = errors_in("en", data)
    assert "agree to stop" in en["consent_stop_old_card"][0]
    done = dict(data, old_card_city="350500", old_card_number="B6C989166",
                consent_stop_old_card=True)
    assert errors_in("zh", done) == {}
    assert errors_in("zh", dict(done, consent_stop_old_card="false")) == {
        "consent_stop_old_card": ["在福建省已持卡的，须勾选“本人同意停用该社保卡”后才能申领新卡"]}


def test_existing_card_number_check():
    data = valid_data(first_card="否", old_card_city="350100", old_card_number="B6C989167",
                      consent_stop_old_card="1")
    zh = errors_in("zh", data)
    assert list(zh) == ["old_card_number"] and "卡号校验位" in zh["old_card_number"][0]
    assert "check character" in errors_in("en", data)["old_card_number"][0]


def test_old_card_city_must_be_in_fujian():
    data = valid_data(first_card="no", old_card_city="440300", old_card_number="B6C989166",
                      consent_stop_old_card=True)
    assert errors_in("zh", data) == {"old_card_city": ["不是有效的选择。"]}


# ---------------------------------------------------------------- photo, name, phones

def test_photo_wrong_size_in_form():
    bad = base64.b64encode(jpeg((300, 400))).decode()
    zh = errors_in("zh", valid_data(photo=bad))
    assert list(zh) == ["photo"] and "宽300、高400" in zh["photo"][0]
    assert "300 wide and 400 high" in errors_in("en", valid_data(photo=bad))["photo"][0]


def test_text_file_renamed_jpg_in_form():
    upload = FileStorage(io.BytesIO("姓名：张三\n".encode()), filename="photo.jpg",
                         content_type="image/jpeg")
    form = ApplicationForm(formdata=MultiDict(dict(valid_data(), photo=upload)))
    assert not form.validate()
    assert [str(m) for m in form.errors["photo"]] == ["照片不是有效的JPEG或PNG图片文件"]
    assert form.photo_bytes() is None


def test_photo_raw_bytes_accepted():
    form, errors = validate_data(ApplicationForm, valid_data(photo=PHOTO))
    assert errors == {} and form.photo_bytes() == PHOTO


def test_rare_characters_in_name():
    for name in ("王堃", "陈喆", "刘龑"):
        assert errors_in("zh", valid_data(name=name)) == {}
    zh = errors_in("zh", valid_data(name="\U00020bb7大"))
    assert "“\U00020bb7”（U+20BB7）不在GBK字符集内" in zh["name"][0]
    en = errors_in("en", valid_data(name="\U00020bb7大"))
    assert "“\U00020bb7” (U+20BB7)" in en["name"][0] and "GBK" in en["name"][0]


def test_phone_and_postcode_errors():
    zh = errors_in("zh", valid_data(mobile="1380013800", landline="8888888",
                                    residence_postcode="36270"))
    assert set(zh) == {"mobile", "landline", "residence_postcode"}
    en = errors_in("en", valid_data(mobile="1380013800"))
    assert en["mobile"] == ["A mobile number has 11 digits starting with 13-19, e.g. 13800138000"]
    assert errors_in("zh", valid_data(landline="")) == {}


def test_builtin_messages_use_locale_at_construction():
    with set_locale("en"):
        form = ApplicationForm(formdata=MultiDict(valid_data(ethnicity="99")))
    form.validate()
    assert form.errors["ethnicity"] == ["Not a valid choice."]


def test_the_platforms_form_keys_are_namespaced_by_family():
    from app.procedures import FAMILIES
    families = {name.rsplit(".", 1)[1] for name in FAMILIES}
    platform_keys = [k for k in forms.all_form_keys() if forms.get_form(k).__module__.startswith("forms.")]
    assert platform_keys and all(k.split(".", 1)[0] in families for k in platform_keys), platform_keys
