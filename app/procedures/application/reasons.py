"""Why an application ended without a card 终止原因 — codes the diagrams pass to
``application.finish`` and the bilingual texts stored on the application; and what a failed
check tells the clerk (what to ask, whether another check can pass, what to say)."""
from __future__ import annotations

from dataclasses import dataclass

from app.common.i18n import T

REASONS: dict[str, tuple[str, str]] = {
    "police_unsolvable": ("公安户籍比对不一致，当场无法解决，终止制卡",
                          "The police check failed and could not be solved on the spot"),
    "refused_stop_old_card": ("申请人在本省已持有社保卡，且不同意停用原卡",
                              "The applicant holds a card in the province and does not agree to stop it"),
    "no_consent_old_card": ("申请人在本省已持有社保卡，申领表未勾选同意停用原卡",
                            "The applicant holds a card in the province and did not consent on the form to stop it"),
    "card_being_made": ("申请人已有一张正在制作中的社保卡，不能重复申领",
                        "A card for the applicant is already being made; no second application"),
    "write_abandoned": ("制卡失败，经办人放弃制卡", "Card production failed and was given up"),
    "no_blank_card": ("制卡窗口无可用半成品卡，终止制卡", "The window has no blank cards left"),
    "case_cancelled": ("办件已撤销", "The case was cancelled"),
}


def reason_texts(code: str, detail: str | None = None) -> tuple[str, str]:
    """(zh, en) for ``code``; a clerk's free-text ``detail`` is appended to both."""
    zh, en = REASONS.get(code, (code, code))
    if detail:
        zh, en = f"{zh}：{detail}", f"{en}: {detail}"
    return zh, en


# -- what a failed check tells the clerk (核查不通过时的处理提示) -----------------------------------
# The task page shows these at the top of the task the failed check leads to (the correction
# task, the blank card taken again, the old card's stop); the check's own result stays in the
# task data (``police``: codes, the fields that differ, whether another check can pass).

@dataclass(frozen=True)
class CheckAdvice:
    ask: T                # what to ask the applicant / what to do now
    retry: bool           # can a correction on the spot make the next check pass?
    say: T | None = None  # when it cannot: the sentence the clerk reads to the applicant


POLICE_ADVICE: dict[str, CheckAdvice] = {
    "name_differs": CheckAdvice(
        T("请申请人出示居民身份证原件，逐字核对姓名（同音字、形近字、生僻字）；以证件为准填写“核实后的姓名”，提交后重新比对。",
          "Ask for the original resident ID card and compare the name character by character "
          "(homophones, look-alike and rare characters); enter the name as on the card under "
          "“Checked name” and submit to check again."), True),
    "sex_differs": CheckAdvice(
        T("请申请人出示居民身份证原件核对性别：申领表填错的，按证件更正后重新比对；证件与公安户籍登记本身不一致的，当场无法解决，请申请人到户籍所在地派出所更正。",
          "Check the sex on the original resident ID card: if the form is wrong, correct it and "
          "check again; if the card itself differs from the register, it cannot be solved on the "
          "spot: the applicant has it corrected at the police station of the household."), True),
    "birth_date_differs": CheckAdvice(
        T("请申请人出示居民身份证原件核对出生日期：申领表填错的，按证件更正后重新比对；证件与公安户籍登记本身不一致的，当场无法解决，请申请人到户籍所在地派出所更正。",
          "Check the date of birth on the original resident ID card: if the form is wrong, correct "
          "it and check again; if the card itself differs from the register, it cannot be solved "
          "on the spot: the applicant has it corrected at the police station of the household."),
        True),
    "unknown_person": CheckAdvice(
        T("请申请人出示居民身份证原件，逐位核对公民身份号码。本任务不能更正证件号码，再次比对也查不到：号码录错的，终止本次申领后按正确号码重新受理；号码无误的，请申请人到户籍所在地派出所核实。",
          "Compare the citizen ID number digit by digit with the original ID card. This task "
          "cannot correct the ID number, so checking again cannot find it: if the number was "
          "mistyped, end this application and accept a new one with the right number; otherwise "
          "the applicant has it checked at the police station of the household."), False,
        T("公安户籍库中查不到您的身份证号码，今天无法为您办理社保卡。请您到户籍所在地派出所核实户籍登记后，再来申领。",
          "The police household register has no record of your ID number, so we cannot make "
          "your card today. Please have your registration checked at the police station where "
          "your household is registered, then apply again.")),
    "not_local_household": CheckAdvice(
        T("申请人户籍不在本地，本地公安户籍库无法比对，更正任何信息后再次比对也不会通过。请向申请人说明原因，终止本次申领。",
          "The applicant's household is not registered here: the local register cannot confirm "
          "the data, and no correction makes another check pass. Tell the applicant why and end "
          "this application."), False,
        T("您的户籍不在本地，我们无法通过本地公安户籍库核对您的身份信息，今天不能为您办理社保卡。请您携带居民身份证和户口簿，到户籍所在地的社保卡服务网点申领。",
          "Your household is not registered here, so we cannot check your details against the "
          "local police register and cannot make your card today. Please take your resident ID "
          "card and household register booklet to a social security card service point where "
          "your household is registered.")),
    "no_second_gen_id": CheckAdvice(
        T("申请人未办理第二代居民身份证，无法比对，再次比对也不会通过。请向申请人说明原因，终止本次申领。",
          "The applicant has no second-generation resident ID card: the check cannot pass, now or "
          "on another try. Tell the applicant why and end this application."), False,
        T("您还没有办理第二代居民身份证，今天无法为您办理社保卡。请先到户籍所在地派出所办理第二代居民身份证，再来申领。",
          "You do not have a second-generation resident ID card yet, so we cannot make your card "
          "today. Please get one at the police station where your household is registered, then "
          "apply again.")),
    "not_resident_id": CheckAdvice(
        T("所持证件不是居民身份证，无法与公安户籍联网比对，再次比对也不会通过。请向申请人说明原因，终止本次申领。",
          "The document is not a resident ID card: the police register cannot be checked online, "
          "now or on another try. Tell the applicant why and end this application."), False,
        T("您所持的证件无法与公安户籍联网核对，今天无法在本窗口为您办理社保卡。请持居民身份证办理，或到社保卡服务中心咨询。",
          "Your document cannot be checked online against the police register, so this window "
          "cannot make your card today. Please apply with a resident ID card, or ask at the "
          "social security card centre.")),
}
_UNKNOWN_POLICE_CODE = CheckAdvice(
    T("请与申请人当场核实比对不一致的信息；能更正的更正后重新比对，不能的终止本次申领。",
      "Check the differing data with the applicant: correct it and check again, or end the "
      "application if it cannot be solved on the spot."), True)

# the police reasons that name one field of the form, and the fields' labels
POLICE_FIELDS = {"name_differs": "name", "sex_differs": "sex", "birth_date_differs": "birth_date"}
FIELD_LABELS = {"name": T("姓名", "Name"), "sex": T("性别", "Sex"),
                "birth_date": T("出生日期", "Date of birth")}
SEX_LABELS = {"1": T("男", "Male"), "2": T("女", "Female")}


def police_advice(code: str) -> CheckAdvice:
    return POLICE_ADVICE.get(code, _UNKNOWN_POLICE_CODE)


def police_may_pass_again(codes) -> bool:
    """Can correcting name, sex or date of birth on the spot make the next check pass? Not when
    any reason lies outside them (not a local household, not in the register ...)."""
    return all(police_advice(code).retry for code in codes)


# the blank card the clerk named could not be taken (stock.reserve_blank_card's codes)
STOCK_ADVICE: dict[str, T] = {
    "blank_card_unknown": T("请核对输入的银行卡号是否与卡片上的一致；或留空，由系统分配本窗口下一张可用的半成品卡。",
                            "Check the bank card number against the card; or leave it empty to "
                            "use the window's next available blank card."),
    "wrong_window": T("该半成品卡属于其他窗口的库存：请换一张本窗口的半成品卡，或留空由系统分配。",
                      "This blank card is another window's stock: take one of this window's, or "
                      "leave the number empty."),
    "blank_card_not_available": T("该半成品卡已被预留、使用或报废：请换一张，或留空由系统分配。",
                                  "This blank card is reserved, used or spoiled: take another, "
                                  "or leave the number empty."),
    "no_blank_card": T("本窗口半成品卡已用完：请先补充库存，再提交。",
                       "The window has no blank cards left: restock, then submit again."),
}
_UNKNOWN_STOCK_CODE = T("请核对后重新提交。", "Check and submit again.")


def stock_advice(code: str | None) -> T:
    return STOCK_ADVICE.get(code or "", _UNKNOWN_STOCK_CODE)
