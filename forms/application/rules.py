"""Cross-field rules of the application form 申领表跨字段规则: the applicant's age and guardian,
the validity of the ID document, an existing card in Fujian. Each returns a list of
``(field_name, message)`` pairs."""
from __future__ import annotations

from datetime import date

from forms.choices import NO
from forms.i18n import T

GUARDIAN_AGE = 16  # 16周岁以下的申请人 need a guardian

# ---------------------------------------------------------------- age, dates

def age_on(birth: date, on: date) -> int:
    """Age in whole years (周岁) on ``on``; the birthday itself counts as reached. Someone
    born on 29 February turns a year older on 1 March in common years."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def needs_guardian(birth: date, on: date) -> bool:
    """Applicants under 16 on the application date must name a guardian 监护人."""
    return age_on(birth, on) < GUARDIAN_AGE


# ---------------------------------------------------------------- cross-field rules

MSG_VALID_FROM_REQUIRED = T("请填写证件有效期的起始日期",
                            "Please fill in the date the ID document is valid from")
MSG_VALID_FROM_LATE = T("证件有效期起始日期{start}晚于申领日期{on}",
                        "The ID document is only valid from {start}, after the application "
                        "date {on}")
MSG_VALID_TO_REQUIRED = T("请填写证件有效期的截止日期，或勾选“长期”",
                          "Please fill in the date the ID document is valid to, or tick "
                          "“long-term”")
MSG_VALID_BOTH = T("已勾选“长期”，不应再填写截止日期",
                   "“Long-term” is ticked, so leave the end date empty")
MSG_VALID_ORDER = T("证件有效期截止日期须晚于起始日期",
                    "The end of the ID document's validity must be after its start")
MSG_EXPIRED = T("证件已过期（有效期至{end}），请持有效证件申领",
                "The ID document expired on {end}; a valid ID document is needed")


def id_validity_errors(start: date | None, end: date | None, long_term: bool, on: date,
                       required: bool = True) -> list[tuple[str, T]]:
    """证件有效期: start and (end or 长期); end after start; valid on the application date
    ``on`` (the end date itself still counts as valid). Keys: id_valid_from/id_valid_to."""
    errors: list[tuple[str, T]] = []
    if not (required or start or end or long_term):
        return errors  # e.g. a child applying with the household register 户口簿
    if start is None:
        errors.append(("id_valid_from", MSG_VALID_FROM_REQUIRED))
    elif start > on:
        errors.append(("id_valid_from", MSG_VALID_FROM_LATE.format(
            start=start.isoformat(), on=on.isoformat())))
    if long_term and end is not None:
        errors.append(("id_valid_to", MSG_VALID_BOTH))
    elif end is None and not long_term:
        errors.append(("id_valid_to", MSG_VALID_TO_REQUIRED))
    elif end is not None and start is not None and end <= start:
        errors.append(("id_valid_to", MSG_VALID_ORDER))
    elif end is not None and end < on:
        errors.append(("id_valid_to", MSG_EXPIRED.format(end=end.isoformat())))
    return errors


MSG_GUARDIAN_REQUIRED = T("申请人未满16周岁，须填写{what}",
                          "The applicant is under 16, so {what} is required")
GUARDIAN_WHAT = {
    "guardian_name": T("监护人姓名", "the guardian's name"),
    "guardian_id_type": T("监护人证件类型", "the guardian's ID document type"),
    "guardian_id_number": T("监护人证件号码", "the guardian's ID document number"),
}
MSG_GUARDIAN_IS_APPLICANT = T("监护人不能是申请人本人",
                              "The guardian cannot be the applicant")


def guardian_errors(name: str | None, id_type: str | None, id_number: str | None,
                    applicant_id_number: str | None) -> list[tuple[str, T]]:
    """For applicants under 16: 监护人姓名, 证件类型 and 证件号码 required; not the applicant."""
    errors = [
        (key, MSG_GUARDIAN_REQUIRED.format(what=what))
        for key, what, value in zip(GUARDIAN_WHAT, GUARDIAN_WHAT.values(),
                                    (name, id_type, id_number))
        if not value
    ]
    if id_number and applicant_id_number and id_number == applicant_id_number:
        errors.append(("guardian_id_number", MSG_GUARDIAN_IS_APPLICANT))
    return errors


MSG_OLD_CITY = T("已在福建省持有社保卡的，请选择持卡所在市",
                 "Already holds a card in Fujian: please choose the city that issued it")
MSG_OLD_NUMBER = T("已在福建省持有社保卡的，请填写原社保卡卡号",
                   "Already holds a card in Fujian: please enter the existing card's number")
MSG_OLD_CONSENT = T("在福建省已持卡的，须勾选“本人同意停用该社保卡”后才能申领新卡",
                    "The existing card must be stopped before a new one is made: the applicant "
                    "has to agree to stop it")


def old_card_errors(first_card: str | None, city: str | None, number: str | None,
                    consent: bool) -> list[tuple[str, T]]:
    """在福建省是否首次申领社保卡 = 否: city, existing card number and consent required."""
    if first_card != NO:
        return []
    checks = (("old_card_city", city, MSG_OLD_CITY),
              ("old_card_number", number, MSG_OLD_NUMBER),
              ("consent_stop_old_card", consent, MSG_OLD_CONSENT))
    return [(key, message) for key, value, message in checks if not value]


# ---------------------------------------------------------------- 申领类型: replacement, exchange

# codes of the application's purpose (app.procedures.application.states.Purpose)
FIRST, REPLACEMENT, EXCHANGE = "first", "replacement", "exchange"
PURPOSES = (
    (FIRST, T("首次申领", "First card")),
    (REPLACEMENT, T("补卡（原卡已正式挂失）", "Replacement (the old card was formally reported lost)")),
    (EXCHANGE, T("换卡（原卡损坏，交回原卡）", "Exchange (the old card is damaged and handed in)")),
)
REPLACING = (REPLACEMENT, EXCHANGE)

MSG_REPLACING_NOT_FIRST = T("补卡、换卡的申请人已持有社保卡：“在福建省是否首次申领社保卡”请选择“否”",
                            "A replacement or exchange is for someone who holds a card: answer "
                            "“No” to “First social security card in Fujian?”")
MSG_REPLACING_NUMBER = T("补卡、换卡须填写原社保卡卡号",
                         "A replacement or exchange needs the old card's number")
MSG_HANDED_IN = T("换卡须收回原卡：请收回申请人的原社保卡，并勾选“申请人已交回原卡”",
                  "An exchange takes the old card back: take the applicant's old card and tick "
                  "“The applicant handed in the old card”")


def replacement_errors(purpose: str | None, first_card: str | None, number: str | None,
                       handed_in: bool) -> list[tuple[str, T]]:
    """补卡/换卡: not a first card, the old card's number given; 换卡: the card handed in. (Whose
    card it is and its state are the archive's, checked when the application is recorded.)"""
    if purpose not in REPLACING:
        return []
    errors: list[tuple[str, T]] = []
    if first_card != NO:
        errors.append(("first_card", MSG_REPLACING_NOT_FIRST))
    elif not number:
        errors.append(("old_card_number", MSG_REPLACING_NUMBER))
    if purpose == EXCHANGE and not handed_in:
        errors.append(("old_card_handed_in", MSG_HANDED_IN))
    return errors
