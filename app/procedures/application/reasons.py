"""Why an application ended without a card 终止原因 — codes the diagrams pass to
``application.finish`` and the bilingual texts stored on the application."""
from __future__ import annotations

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
