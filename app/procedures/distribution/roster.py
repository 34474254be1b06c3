"""The signed distribution roster back 发放花名册交回 (seed 000 §3(二)1, §3(三)).

"用人单位在给本单位职工发放社会保障卡时，要求由本人亲自签字领取 ... 将签字的《发放花名册》加盖单位公章
后，返回给医保中心": the clerk records each line of the signed, stamped roster: signed by the
holder (the card is with its holder), not handed out with the reason written on the roster
(moved away, retired elsewhere, died, ...), or data wrong; both kinds stay with the employer
until it returns them (退卡回收). The scan of the roster is archived on the pickup.

Plain functions on a SQLAlchemy session: they flush, the caller commits.
"""
from __future__ import annotations

import os
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cards.models import Card
from app.common.clock import utcnow
from app.common.errors import BilingualError
from app.common.ids import parse_id
from app.common.masking import mask_card_number
from app.database import update_rows
from app.procedures.batch.models import Person
from app.procedures.batch.voucher import clean_text
from app.procedures.distribution import custody
from app.procedures.distribution.models import CardCustody, EmployerPickup, PickupCard
from app.procedures.distribution.pickup import PickupError, get_pickup
from app.procedures.distribution.states import (
    CUSTODY_LABELS,
    NOT_HANDED_OUT,
    OUTCOME_LABELS,
    PICKUP_LABELS,
    RETURN_LABELS,
    Custody,
    Outcome,
    PickupStatus,
    ReturnReason,
)

MAX_SCAN = 20 * 1024 * 1024   # 20 MB
MAX_NOTE = 200
MAX_SHOWN = 10
#: the kinds of scan accepted, by their first bytes
SCAN_KINDS = ((b"%PDF-", "pdf"), (b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))
#: the roster can be recorded while the employer distributes, and corrected after it came back
RECORDING = (PickupStatus.HANDED_OVER, PickupStatus.ROSTER_BACK)


class RosterInvalid(BilingualError):
    """Lines of the roster that cannot be recorded; ``problems`` lists every one (zh, en) so
    that the clerk corrects them all at once. Nothing was recorded."""

    kind = "invalid"
    code = "roster_invalid"

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        shown = problems[:MAX_SHOWN]
        more_zh = f"（共 {len(problems)} 处）" if len(problems) > MAX_SHOWN else ""
        more_en = f" ({len(problems)} in all)" if len(problems) > MAX_SHOWN else ""
        super().__init__("发放花名册未能登记，请更正：" + "；".join(zh for zh, _ in shown) + more_zh,
                         "The roster was not recorded; please correct: "
                         + "; ".join(en for _, en in shown) + more_en)


class ScanRefused(BilingualError):
    kind = "invalid"
    code = "scan_refused"


class OutstandingCard(NamedTuple):
    """A card of the pickup still with the employer (to be handed out or returned)."""

    card_id: int
    card_number: str
    person_id: int
    seq: int
    name: str
    outcome: str | None       # None: its line was not recorded yet
    reason: str | None


def scan_kind(scan: bytes) -> str:
    """"pdf" / "jpg" / "png" by the file's first bytes; ``ScanRefused`` otherwise or when it
    is empty or larger than 20 MB."""
    if not scan:
        raise ScanRefused("上传的花名册扫描件是空文件", "The uploaded roster scan is empty",
                          code="scan_empty")
    if len(scan) > MAX_SCAN:
        raise ScanRefused(f"花名册扫描件不能超过20MB（当前 {len(scan) / 1048576:.1f}MB），请降低分辨率后重新扫描",
                          f"The roster scan may be at most 20 MB (this one is "
                          f"{len(scan) / 1048576:.1f} MB); scan it again at a lower resolution",
                          code="scan_too_large")
    for magic, kind in SCAN_KINDS:
        if bytes(scan[:len(magic)]) == magic:
            return kind
    raise ScanRefused("花名册扫描件应为PDF、JPEG或PNG文件", "The roster scan must be a PDF, JPEG or PNG file",
                      code="scan_kind")


def _scan_name(name: str | None, kind: str, pickup: EmployerPickup) -> str:
    base = clean_text(os.path.basename(str(name or "").replace("\\", "/")))
    if not base:
        return f"{pickup.number}-发放花名册.{kind}"
    if len(base) > 200:
        stem, ext = os.path.splitext(base)
        base = stem[:200 - len(ext)] + ext if len(ext) < 20 else base[:200]
    return base


def _card_label(number: str, name: str) -> tuple[str, str]:
    shown = mask_card_number(number)
    return f"{name}（卡号 {shown}）", f"{name} (card {shown})"


def _lines_of(session: Session, pickup_id: int) -> dict[int, tuple]:
    """card id -> (PickupCard row id, outcome, reason, custody state, card number, name)."""
    rows = session.execute(
        select(PickupCard.card_id, PickupCard.id, PickupCard.outcome, PickupCard.reason,
               CardCustody.state, Card.card_number, Person.name)
        .join(CardCustody, CardCustody.card_id == PickupCard.card_id)
        .join(Card, Card.id == PickupCard.card_id)
        .join(Person, Person.id == PickupCard.person_id)
        .where(PickupCard.pickup_id == pickup_id))
    return {r[0]: tuple(r[1:]) for r in rows}


def _check_line(i: int, line, known: dict[int, tuple], seen: set, problems: list):
    """One line as (card id, outcome, reason, note), or None after noting its problem."""
    where_zh, where_en = f"第 {i} 行", f"line {i}"
    if not isinstance(line, dict):
        problems.append((f"{where_zh}格式不对", f"{where_en} is not a roster line"))
        return None
    card_id = parse_id(line.get("card_id"))
    if card_id is None or card_id not in known:
        problems.append((f"{where_zh}：该卡不是本次领取交接单中的卡",
                         f"{where_en}: the card is not one of this pickup"))
        return None
    _, _, _, _, number, name = known[card_id]
    who_zh, who_en = _card_label(number, name)
    if card_id in seen:
        problems.append((f"{who_zh}登记了两次", f"{who_en} is recorded twice"))
        return None
    seen.add(card_id)
    try:
        outcome = Outcome(str(line.get("outcome") or "").strip())
    except ValueError:
        problems.append((f"{who_zh}：请选择“本人已签字领取”“未发出”或“信息错误”",
                         f"{who_en}: choose signed, not handed out or data wrong"))
        return None
    raw_reason = str(line.get("reason") or "").strip()
    reason = None
    if outcome == Outcome.NOT_HANDED_OUT:
        if not raw_reason:
            problems.append((f"{who_zh}：未发出的卡须注明原因（调离、异地退休、死亡、未领取或其他）",
                             (f"{who_en}: a card not handed out needs the reason (moved, retired "
                              "elsewhere, died, not collected or other)")))
            return None
        if raw_reason not in [r.value for r in NOT_HANDED_OUT]:
            problems.append((f"{who_zh}：未发出的原因应为调离、异地退休、死亡、未领取或其他",
                             (f"{who_en}: the reason is moved, retired elsewhere, died, not "
                              "collected or other")))
            return None
        reason = ReturnReason(raw_reason)
    elif outcome == Outcome.WRONG_DATA:
        reason = ReturnReason.WRONG_DATA
    note = clean_text(line.get("note")) or None
    if note and len(note) > MAX_NOTE:
        problems.append((f"{who_zh}：备注超过{MAX_NOTE}字", f"{who_en}: the note is longer than {MAX_NOTE}"))
        return None
    return card_id, outcome, reason, note


def record_roster(session: Session, pickup_id: int, lines: list[dict], actor_name: str, *,
                  scan: bytes | None = None, scan_name: str | None = None) -> dict:
    """登记交回的发放花名册: each line ``{"card_id", "outcome", "reason", "note"}``; signed ->
    the card is with its holder; not handed out (the reason required: ``states.NOT_HANDED_OUT``)
    and wrong data stay with the employer until returned. A line may be recorded again until
    its card moved on (the same line again is accepted and changes nothing). The scan (PDF,
    JPEG or PNG, at most 20 MB) is archived on the pickup. Once every line is recorded the
    roster is back. Every problem is listed in one ``RosterInvalid`` and nothing is recorded
    then. Returns the pickup's figures: {"signed", "not_handed_out", "wrong_data",
    "not_recorded", "outstanding", "changed", "complete"}."""
    pickup = get_pickup(session, pickup_id, lock=True)
    if pickup.status not in RECORDING:
        label = PICKUP_LABELS[PickupStatus(pickup.status)]
        raise PickupError(f"交接单 {pickup.number} 当前为“{label.zh}”，不能登记发放花名册"
                          + ("（卡片尚未交接给单位）" if pickup.status in (PickupStatus.AGENT_CHECKED,
                                                                         PickupStatus.COUNTED) else ""),
                          f"Pickup {pickup.number} is “{label.en}”: its roster cannot be recorded",
                          code="pickup_wrong_status")
    if not str(actor_name or "").strip():
        raise PickupError("缺少经办人", "Who records the roster is missing",
                          code="actor_missing", kind="invalid")
    lines = list(lines or [])
    if not lines and scan is None:
        raise RosterInvalid([("没有要登记的花名册内容", "Nothing to record")])
    kind = scan_kind(scan) if scan is not None else None

    known = _lines_of(session, pickup.id)
    problems: list[tuple[str, str]] = []
    seen: set[int] = set()
    checked = [c for i, line in enumerate(lines, 1)
               if (c := _check_line(i, line, known, seen, problems)) is not None]
    changes = []
    for card_id, outcome, reason, note in checked:
        row_id, was_outcome, was_reason, state, number, name = known[card_id]
        if state == Custody.WITH_EMPLOYER:
            changes.append((row_id, card_id, outcome, reason, note))
        elif was_outcome == outcome and (was_reason or None) == (reason.value if reason else None):
            continue  # the same line again: the card moved on as recorded
        else:
            who_zh, who_en = _card_label(number, name)
            label = CUSTODY_LABELS[Custody(state)]
            problems.append((f"{who_zh}当前为“{label.zh}”，花名册登记不能再更改",
                             f"{who_en} is “{label.en}”: its roster line cannot be changed any more"))
    if problems:
        raise RosterInvalid(problems)

    now = utcnow()
    signed = [card_id for _, card_id, outcome, _, _ in changes if outcome == Outcome.SIGNED]
    if signed:
        custody.move(session, signed, Custody.WITH_HOLDER, actor_name, pickup_id=pickup.id,
                     note=f"发放花名册本人签字领取，交接单 {pickup.number} / signed for on the roster "
                          f"of pickup {pickup.number}")
    update_rows(session, PickupCard.__table__, [
        {"id": row_id, "outcome": outcome.value, "reason": reason.value if reason else None,
         "note": note, "recorded_by": actor_name, "recorded_at": now}
        for row_id, _, outcome, reason, note in changes])
    custody._expire(session, PickupCard)
    if kind is not None:
        pickup.roster_scan = bytes(scan)
        pickup.roster_scan_name = _scan_name(scan_name, kind, pickup)
    session.flush()
    figures = _figures(session, pickup.id)
    if figures["complete"] and pickup.status == PickupStatus.HANDED_OVER:
        pickup.status, pickup.roster_back_at = PickupStatus.ROSTER_BACK, now
        session.flush()
    figures["changed"] = len(changes)
    return figures


def _figures(session: Session, pickup_id: int) -> dict:
    rows = session.execute(select(PickupCard.outcome, func.count()).where(PickupCard.pickup_id == pickup_id)
                           .group_by(PickupCard.outcome)).all()
    figures = {o.value: 0 for o in Outcome}
    figures["not_recorded"] = 0
    for outcome, n in rows:
        figures[outcome if outcome else "not_recorded"] = n
    figures["outstanding"] = session.scalar(
        select(func.count()).select_from(PickupCard)
        .join(CardCustody, CardCustody.card_id == PickupCard.card_id)
        .where(PickupCard.pickup_id == pickup_id, CardCustody.state == Custody.WITH_EMPLOYER))
    figures["complete"] = figures["not_recorded"] == 0 and sum(n for _, n in rows) > 0
    return figures


def figures(session: Session, pickup_id: int) -> dict:
    """The pickup's roster figures: per outcome, not recorded, still with the employer."""
    get_pickup(session, pickup_id)
    return _figures(session, pickup_id)


def outstanding(session: Session, pickup_id: int) -> list[OutstandingCard]:
    """The pickup's cards still with the employer (not handed out, data wrong, or their line
    not recorded yet), in roster order: what the employer must hand out or return within 6
    months (``EmployerPickup.return_by``)."""
    get_pickup(session, pickup_id)
    rows = session.execute(
        select(PickupCard.card_id, Card.card_number, PickupCard.person_id, PickupCard.seq,
               Person.name, PickupCard.outcome, PickupCard.reason)
        .join(CardCustody, CardCustody.card_id == PickupCard.card_id)
        .join(Card, Card.id == PickupCard.card_id)
        .join(Person, Person.id == PickupCard.person_id)
        .where(PickupCard.pickup_id == pickup_id, CardCustody.state == Custody.WITH_EMPLOYER)
        .order_by(PickupCard.seq, PickupCard.id))
    return [OutstandingCard(*r) for r in rows]


def reason_label(reason: str | None):
    """The clerk's words for a roster line's reason (None when there is none)."""
    return RETURN_LABELS[ReturnReason(reason)] if reason else None


def outcome_label(outcome: str | None):
    return OUTCOME_LABELS[Outcome(outcome)] if outcome else None


__all__ = ["OutstandingCard", "RosterInvalid", "ScanRefused", "figures", "outcome_label",
           "outstanding", "reason_label", "record_roster", "scan_kind"]
