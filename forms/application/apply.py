"""福建省社会保障卡申领表 — the Fujian social security card application form (Shishi 2015,
annex 1), used by the bank-window (立等可取) and outlet (代办网点) application procedures.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Iterable

from wtforms.validators import Length, Optional

from forms.base import TaskForm
from forms.choices import (ETHNICITIES, FUJIAN_CITIES, ID_TYPES, MEDICAL_INSURANCE_TYPES, NO,
                           RESIDENT_ID, SEXES)
from forms.fields import (PLEASE_CHOOSE, CheckboxField, DateField, FieldGroup, FieldGroups,
                          FileField, GroupedFields, RadioField, SelectField, StringField,
                          TextAreaField, YesNoField, make_choices)
from forms.i18n import T
from forms.registry import register
from forms.application.rules import (EXCHANGE, FIRST, PURPOSES, REPLACING, guardian_errors,
                                     id_validity_errors, needs_guardian, old_card_errors,
                                     replacement_errors)
from forms.photo import PHOTO_HINT, Photo
from forms.validators import (NotAfterToday, Required, Rule, check_card_number, check_id_number,
                              check_landline, check_mobile, check_name, check_postcode,
                              id_birth_date, id_sex, today)

MSG_BIRTH_MISMATCH = T("出生日期与公民身份号码中的出生日期（{date}）不一致",
                       "The date of birth differs from the one in the citizen ID number ({date})")
MSG_BIRTH_AFTER_APPLICATION = T("出生日期不能晚于申领日期",
                                "The date of birth cannot be after the application date")
MSG_SEX_MISMATCH = T("性别与公民身份号码不一致（第17位奇数为男、偶数为女）",
                     "The sex differs from the citizen ID number (17th digit odd: male, "
                     "even: female)")
MSG_HOUSEHOLD_REQUIRED = T("持居民身份证申领的，请填写户口所在地地址",
                           "Please fill in the household registration address of the resident "
                           "ID card holder")
MSG_SIGNED = T("请确认申请人已在纸质申领表上签字",
               "Please confirm that the applicant has signed the paper form")


def _code2(value: Any) -> str:
    """Ethnicity codes are two digits; an API may send 1 for "01"."""
    text = "" if value is None else str(value).strip()
    return text.zfill(2) if text.isdigit() and len(text) == 1 else text


@register
class ApplicationForm(GroupedFields, TaskForm):
    """申领表: every field of the paper form; codes for choices (see ``forms.choices``). The
    page draws the fields in this order, the groups of ``field_groups`` together: the ID's
    validity with “长期”, the guardian, the existing card with the consent to stop it (shown
    and checked only when this is not the first card), the old card handed in (换卡 only).

    申领类型 ``purpose``: a first card (the default), a replacement 补卡 or an exchange 换卡 of
    the person's card of this province, given by its number (first card = 否); whether that
    card qualifies (the applicant's own, formally lost / live) is checked against the archive
    when the application is recorded (``application.record``)."""

    form_key = "application.apply"
    legacy_keys = ("application",)
    title = T("福建省社会保障卡申领表", "Fujian social security card application form")
    field_groups = FieldGroups((
        FieldGroup("id_validity", T("证件有效期", "Validity of the ID document"),
                   ("id_valid_from", "id_valid_to", "id_long_term")),
        FieldGroup("guardian", T("监护人信息（申请人未满16周岁时填写）",
                                 "Guardian (only for an applicant under 16)"),
                   ("guardian_name", "guardian_id_type", "guardian_id_number")),
        FieldGroup("old_card", T("已持社保卡信息（非首次申领时填写）",
                                 "Existing card (only when this is not the first card)"),
                   ("old_card_city", "old_card_number", "consent_stop_old_card"),
                   show_when=("first_card", NO)),
        FieldGroup("exchange", T("换卡：收回原卡（申领类型为换卡时填写）",
                                 "Exchange: the old card taken back (only for an exchange)"),
                   ("old_card_handed_in",), show_when=("purpose", EXCHANGE)),
    ))

    application_date = DateField(T("申领日期", "Application date"),
                                 [Required(), NotAfterToday()], default=today)
    # 申领类型: a first card, or a new card for the person's lost (补卡) or damaged (换卡) one
    purpose = RadioField(T("申领类型", "Type of application"), [Required(choose=True)],
                         choices=make_choices(PURPOSES), default=FIRST,
                         description=T("补卡：原卡已正式挂失；换卡：原卡损坏，当场交回。补卡、换卡收取工本费",
                                       "Replacement: the old card was formally reported lost; "
                                       "exchange: the old card is damaged and handed in. Both "
                                       "pay the card fee"))
    name = StringField(T("姓名", "Name"), [Required(), Rule(check_name)],
                       description=T("最多15个汉字；少数民族姓名用间隔号“·”",
                                     "At most 15 Chinese characters; use “·” between parts of "
                                     "minority names"))
    sex = RadioField(T("性别", "Sex"), [Required(choose=True)],
                     choices=make_choices(SEXES), default="")
    ethnicity = SelectField(T("民族", "Ethnicity"), [Required(choose=True)],
                            choices=make_choices(ETHNICITIES, PLEASE_CHOOSE), coerce=_code2,
                            default="")
    photo = FileField(T("照片", "Photo"), [Photo()], description=PHOTO_HINT)
    birth_date = DateField(T("出生日期", "Date of birth"), [Required(), NotAfterToday()])
    occupation = StringField(T("职业（工种）", "Occupation (trade)"), [Optional(), Length(max=50)])
    landline = StringField(T("固定电话", "Landline"), [Optional(), Rule(check_landline)])
    mobile = StringField(T("手机号码", "Mobile phone"), [Required(), Rule(check_mobile)])

    id_type = SelectField(T("有效身份证件类型", "ID document type"), [Required(choose=True)],
                          choices=make_choices(ID_TYPES, PLEASE_CHOOSE), default=RESIDENT_ID)
    id_number = StringField(T("证件号码", "ID document number"), [Required()])
    # 证件有效期: from, to, and “长期” right after “to” (one group on the page)
    id_valid_from = DateField(T("证件有效期（起）", "ID valid from"), [Optional()])
    id_valid_to = DateField(T("证件有效期（止）", "ID valid to"), [Optional()])
    id_long_term = CheckboxField(T("长期", "Long-term"))
    country = StringField(T("国家/地区", "Country/region"), [Required(), Length(max=30)],
                          default="中国")
    household_address = StringField(T("户口所在地地址", "Household registration address"),
                                    [Optional(), Length(max=100)])
    residence_address = StringField(T("常住地地址", "Residential address"),
                                    [Required(), Length(max=100)])
    residence_postcode = StringField(T("常住地邮政编码", "Residential post code"),
                                     [Optional(), Rule(check_postcode)])
    employer = StringField(T("工作单位", "Employer"), [Optional(), Length(max=100)])

    medical_insurance_type = RadioField(
        T("参加医疗保险或新农合的类型", "Medical insurance or rural cooperative scheme"),
        [Required(choose=True)], choices=make_choices(MEDICAL_INSURANCE_TYPES), default="")
    insurance_agency = StringField(
        T("所参加医疗保险或新农合的经办机构", "Agency of that insurance or scheme"),
        [Optional(), Length(max=100)])

    # 16周岁以下的申请人: required then (checked in cross_validate)
    guardian_name = StringField(T("监护人姓名", "Guardian's name"), [Optional(), Rule(check_name)])
    guardian_id_type = SelectField(T("监护人证件类型", "Guardian's ID document type"), [Optional()],
                                   choices=make_choices(ID_TYPES, PLEASE_CHOOSE), default="")
    guardian_id_number = StringField(T("监护人证件号码", "Guardian's ID document number"),
                                     [Optional()])

    # 在福建省是否首次申领社保卡; if not: city, card number and consent to stop that card
    first_card = YesNoField(T("在福建省是否首次申领社保卡", "First social security card in Fujian?"),
                            [Required(choose=True)])
    old_card_city = SelectField(T("已持卡所在市", "City that issued the existing card"),
                                [Optional()], choices=make_choices(FUJIAN_CITIES, PLEASE_CHOOSE),
                                default="")
    old_card_number = StringField(T("已持卡卡号", "Existing card number"),
                                  [Optional(), Rule(check_card_number)],
                                  description=T("9位，印在卡面上", "9 characters, printed on the card"))
    consent_stop_old_card = CheckboxField(T("本人同意停用该社保卡",
                                            "I agree to stop the existing card"))
    # 换卡: the damaged card is taken back at the counter (it is stopped and blocked on its chip)
    old_card_handed_in = CheckboxField(T("申请人已交回原卡", "The applicant handed in the old card"))

    signed = CheckboxField(T("申请人已签字", "The applicant has signed"),
                           [Required(message=MSG_SIGNED)])
    remarks = TextAreaField(T("备注", "Remarks"), [Optional(), Length(max=200)])

    # -- rules depending on another field

    def validate_id_number(self, field) -> None:
        field.data = check_id_number(field.data, self.id_type.data)

    def validate_guardian_id_number(self, field) -> None:
        field.data = check_id_number(field.data, self.guardian_id_type.data)

    def cross_validate(self) -> Iterable[tuple[str, T]]:
        on = self.application_date.data if self.field_ok("application_date") else today()
        resident = self.id_type.data == RESIDENT_ID
        id_number = self.id_number.data if self.field_ok("id_number") else None
        id_birth = id_birth_date(id_number) if resident and id_number else None
        birth = self.birth_date.data if self.field_ok("birth_date") else None

        if birth and id_birth and birth != id_birth:
            yield "birth_date", MSG_BIRTH_MISMATCH.format(date=id_birth.isoformat())
        elif birth and birth > on:
            yield "birth_date", MSG_BIRTH_AFTER_APPLICATION
        if resident and id_number and self.field_ok("sex") and id_sex(id_number) != self.sex.data:
            yield "sex", MSG_SEX_MISMATCH
        if resident and not self.household_address.errors and not self.household_address.data:
            yield "household_address", MSG_HOUSEHOLD_REQUIRED

        birth = id_birth or birth
        minor = birth is not None and needs_guardian(birth, on)
        if not (self.id_valid_from.errors or self.id_valid_to.errors):
            # children may apply with the household register 户口簿, which has no validity
            yield from id_validity_errors(self.id_valid_from.data, self.id_valid_to.data,
                                          self.id_long_term.data, on, required=not minor)
        if minor:
            yield from self._fresh(guardian_errors(
                self.guardian_name.data, self.guardian_id_type.data,
                self.guardian_id_number.data, id_number))
        if self.purpose.data in REPLACING:  # the old card is this province's: its own rules
            yield from self._fresh(replacement_errors(
                self.purpose.data, self.first_card.data, self.old_card_number.data,
                self.old_card_handed_in.data))
        else:
            yield from self._fresh(old_card_errors(
                self.first_card.data, self.old_card_city.data, self.old_card_number.data,
                self.consent_stop_old_card.data))

    def _fresh(self, errors: list[tuple[str, T]]) -> list[tuple[str, T]]:
        """Skip cross-field errors for fields that already failed their own checks."""
        return [(name, message) for name, message in errors if not self[name].errors]

    # -- results

    def photo_bytes(self) -> bytes | None:
        """The checked photo (JPEG/PNG bytes) after a successful ``validate()``."""
        return getattr(self.photo, "photo_bytes", None)

    def cleaned(self) -> dict[str, Any]:
        """Normalised values; the photo becomes its size, format, sha256 and base64 ``data``
        (``application.record`` moves the bytes into the application row); existing-card
        fields are cleared for a first card; an exchange consents to stopping the old card (it
        is handed in), a replacement's card is lost already (nothing to consent to)."""
        data = super().cleaned()
        if data["first_card"] != NO:
            data.update(old_card_city=None, old_card_number=None, consent_stop_old_card=False)
        if data["purpose"] in REPLACING:
            data["consent_stop_old_card"] = data["purpose"] == EXCHANGE
        photo, info = self.photo_bytes(), self.photo.photo_info
        data["photo"] = {"size": info.size, "format": info.format, "width": info.width,
                         "height": info.height, "sha256": hashlib.sha256(photo).hexdigest(),
                         "data": base64.b64encode(photo).decode("ascii")}
        return data
