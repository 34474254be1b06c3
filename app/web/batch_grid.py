"""The persons grid 人员名单 of an employer application and the employer's summary form 申领汇总表
(routes on :data:`app.web.batch.bp`).

The grid pages an employer's persons 50 at a time in roster order (the index on
``(employer_id, seq)``; one query per page, its total by a window count). Two modes, each a
form of the page's rows: 录入 (centre clerks: ``confirmation.record_returns``) and 复核
(reviewers: ``entry.review``). Only the rows the clerk changed are sent, so that saving a page
does not send accepted forms back to review; one refused row and nothing is saved.
"""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.common.errors import BilingualError
from app.common.i18n import T
from app.common.ids import parse_id
from app.extensions import db_session
from app.permissions import groups
from app.procedures.batch import city as city_config
from app.procedures.batch import confirmation, entry, reconcile
from app.procedures.batch.models import Person
from app.procedures.batch.states import Eligibility, Entry
from app.web import t
from app.web.batch import BATCH_GROUPS, PAGE, audit, bp, employer_or_404, lang, message, page_arg

ENTRY_ORDER = tuple(Entry)  # the filter's query value is the state's 1-based position
RETURNED = (Entry.ENTERED, Entry.ACCEPTED, Entry.SENT_BACK)
FIELDS = ("mobile", "landline", "address", "postcode", "dept1", "dept2")
FIELD_MAX = {"mobile": 20, "landline": 30, "address": 120, "postcode": 10, "dept1": 120, "dept2": 120}
DECISIONS = {"accept": entry.ACCEPT, "sendback": entry.SEND_BACK}
MAX_ROWS = 200  # rows of one posted page
DECLARED_BLANK_ROWS = 3
DECLARED_MAX_ROWS = 300
MAX_COUNT = 1_000_000


def entry_state(value) -> Entry | None:
    n = parse_id(value)
    return ENTRY_ORDER[n - 1] if n and n <= len(ENTRY_ORDER) else None


def entry_index(state) -> int:
    return ENTRY_ORDER.index(state) + 1 if state in ENTRY_ORDER else 0


def grid_page(session, employer_id: int, page: int, state: Entry | None) -> tuple[list[Person], int]:
    """One page of the employer's persons in roster order (those not on the card list
    last) and how many there are: one query."""
    q = select(Person, func.count().over()).where(Person.employer_id == employer_id)
    if state is not None:
        q = q.where(Person.eligibility == Eligibility.ELIGIBLE, Person.entry == state)
    rows = session.execute(q.order_by(Person.seq.asc().nulls_last(), Person.id)
                           .limit(PAGE).offset((page - 1) * PAGE)).all()
    return [p for p, _ in rows], (rows[0][1] if rows else 0)


def mode_of(requested) -> str:
    if requested == "entry" and current_user.in_group("centre_clerk", "administrator"):
        return "entry"
    if requested == "review" and current_user.in_group("reviewer", "administrator"):
        return "review"
    return "view"


def current_row(p: Person) -> dict:
    """What the entry form shows for a person (the mobile is not shown: blank keeps it)."""
    returned = "1" if p.entry in RETURNED else "0" if p.entry == Entry.NOT_RETURNED else ""
    return {"returned": returned, "banks": [p.bank] if p.bank else [], "mobile": "",
            "landline": p.landline or "", "address": p.address or "", "postcode": p.postcode or "",
            "dept1": p.dept1 or "", "dept2": p.dept2 or ""}


def posted_row(pid: int) -> dict:
    f = request.form
    returned = f.get(f"returned-{pid}", "")
    return {"returned": returned if returned in ("1", "0") else "",
            "banks": [b.strip() for b in f.getlist(f"bank-{pid}")[:10] if b.strip()],
            **{k: (f.get(f"{k}-{pid}") or "").strip()[:FIELD_MAX[k]] for k in FIELDS}}


def changed(p: Person, row: dict) -> bool:
    now = current_row(p)
    if row["returned"] != now["returned"]:
        return True
    if row["returned"] == "0":
        return False
    others = any(row[k] != now[k] for k in FIELDS if k != "mobile")
    return others or row["banks"] != now["banks"] or bool(row["mobile"] and row["mobile"] != (p.mobile or ""))


def render_grid(employer, batch, mode: str, page: int, state, values=None, row_errors=None,
                problems=None, status: int = 200):
    session = db_session()
    persons, total = grid_page(session, employer.id, page, state)
    if not persons and page > 1:
        total = session.scalar(select(func.count()).select_from(Person).where(Person.employer_id == employer.id))
    city = city_config.current(session)
    return render_template(
        "batch/persons.html", employer=employer, batch=batch, persons=persons, total=total,
        page=page, pages=PAGE, mode=mode, state=state, state_index=entry_index(state),
        entry_order=ENTRY_ORDER, city=city, values=values or {}, row_errors=row_errors or {},
        problems=problems or [], current_row=current_row, eligible=Eligibility.ELIGIBLE,
        entered=Entry.ENTERED,
        may_enter=current_user.in_group("centre_clerk", "administrator"),
        may_review=current_user.in_group("reviewer", "administrator")), status


@bp.get("/batches/employers/<int:employer_id>/persons")
@groups(*BATCH_GROUPS)
def persons(employer_id):
    employer, batch = employer_or_404(employer_id)
    return render_grid(employer, batch, mode_of(request.args.get("mode")), page_arg(),
                       entry_state(request.args.get("entry")))


def _page_persons(employer_id: int) -> tuple[list[int], dict[int, Person]]:
    """The posted page's person ids (in page order) and their rows of this employer."""
    ids = list(dict.fromkeys(i for i in (parse_id(v) for v in request.form.getlist("person")[:MAX_ROWS]) if i))
    found = db_session().scalars(select(Person).where(Person.id.in_(ids), Person.employer_id == employer_id)) \
        if ids else []
    return ids, {p.id: p for p in found}


def _back(employer_id: int, mode: str, page: int, state) -> str:
    return url_for("batch.persons", employer_id=employer_id, mode=mode, page=page,
                   entry=entry_index(state) or None)


_ROW_PREFIX = re.compile(r"^(?:第 (\d+) 行 ?|Row (\d+) ?)")


@bp.post("/batches/employers/<int:employer_id>/persons/entry")
@groups("centre_clerk")
def save_entries(employer_id):
    """录入: the page's changed rows, all or nothing."""
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    page, state = page_arg(), entry_state(request.form.get("entry"))
    back = _back(employer.id, "entry", page, state)
    ids, persons = _page_persons(employer.id)
    values, rows, sent = {}, [], []
    for pid in ids:
        p = persons.get(pid)
        if p is None or p.eligibility != Eligibility.ELIGIBLE or p.frozen:
            continue
        row = posted_row(pid)
        values[pid] = row
        if not changed(p, row):
            continue
        sent.append(pid)
        rows.append({"person_id": pid, "returned": {"1": True, "0": False}.get(row["returned"]),
                     "bank": row["banks"], "mobile": row["mobile"] or p.mobile or "",
                     **{k: row[k] for k in FIELDS if k != "mobile"}})
    if not rows:
        flash(t("本页没有需要保存的更改。", "Nothing was changed on this page."))
        return redirect(back)
    try:
        count = confirmation.record_returns(session, employer.id, rows, current_user.username)
    except confirmation.ConfirmationInvalid as e:
        session.rollback()
        row_errors: dict[int, list[str]] = {}
        problems = []
        for zh, en in e.problems:
            m = _ROW_PREFIX.match(zh)
            text = _ROW_PREFIX.sub("", en if lang() == "en" else zh)
            problems.append(text)
            n = int(m.group(1)) if m else 0
            if 1 <= n <= len(sent):
                row_errors.setdefault(sent[n - 1], []).append(text)
        return render_grid(employer, batch, "entry", page, state, values, row_errors, problems, 200)
    except BilingualError as e:  # DataFrozen, AlreadySubmitted ...
        session.rollback()
        flash(message(e))
        return redirect(back)
    audit(session, "entry", batch=batch.id, employer=employer.id, persons=count)
    session.commit()
    flash(t(f"已保存 {count} 份确认表登记，待另一名工作人员复核。",
            f"{count} form(s) recorded; another clerk reviews them."))
    return redirect(back)


@bp.post("/batches/employers/<int:employer_id>/persons/review")
@groups("reviewer")
def save_review(employer_id):
    """复核: accept or send back (with a note) the page's entered forms."""
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    page, state = page_arg(), entry_state(request.form.get("entry"))
    back = _back(employer.id, "review", page, state)
    ids, persons = _page_persons(employer.id)
    decisions, values = {}, {}
    for pid in ids:
        choice = request.form.get(f"decision-{pid}", "")
        note = " ".join((request.form.get(f"note-{pid}") or "").split())[:entry.MAX_NOTE + 10]
        values[pid] = {"decision": choice, "note": note}
        if choice in DECISIONS and pid in persons:
            decisions[pid] = (DECISIONS[choice], note or None)
    if not decisions:
        flash(t("请至少对一份确认表选择“通过”或“退回”。", "Choose accept or send back for at least one form."))
        return redirect(back)
    try:
        counts = entry.review(session, employer.id, decisions, current_user.username)
    except (entry.ReviewInvalid, entry.FourEyes) as e:
        session.rollback()
        problems = [(en if lang() == "en" else zh) for zh, en in e.problems] \
            if isinstance(e, entry.ReviewInvalid) else [message(e)]
        return render_grid(employer, batch, "review", page, state, values, {}, problems, 200)
    except BilingualError as e:
        session.rollback()
        flash(message(e))
        return redirect(back)
    audit(session, "review", batch=batch.id, employer=employer.id, **counts)
    session.commit()
    flash(t(f"复核完成：通过 {counts['accepted']} 份，退回 {counts['sent_back']} 份。",
            f"Review recorded: {counts['accepted']} accepted, {counts['sent_back']} sent back."))
    return redirect(back)


# -- the employer's summary 申领汇总表 (as the agent hands it in) --------------------------------

def _declared_form(city, summary: dict, declared: dict) -> list[dict]:
    """Rows of the form: each department of the returned forms or of the stored summary,
    then empty rows to add."""
    depts = sorted({r["dept"] for r in summary["rows"]} | set(declared))
    rows = [{"dept": d, "counts": {b: str(declared.get(d, {}).get(b, "")) for b in city.banks}} for d in depts]
    rows += [{"dept": "", "counts": {b: "" for b in city.banks}} for _ in range(DECLARED_BLANK_ROWS)]
    return rows


def _count(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_COUNT else None


def _read_declared(city, problems: list) -> tuple[list[dict], dict, int | None, int | None]:
    """The posted form: its rows as typed, the clean summary, the two totals."""
    f = request.form
    no_dept = T(*reconcile.NO_DEPT)
    unknown = sorted({m.group(1) for key in f if (m := re.fullmatch(r"n-\d+-(.+)", key))} - set(city.banks))
    if unknown:
        problems.append(t(f"“{'、'.join(unknown)}”不是本市合作银行。", f"{', '.join(unknown)}: not a partner bank."))
    typed, clean = [], {}
    for i in range(min(parse_id(f.get("rows")) or 0, DECLARED_MAX_ROWS)):
        text = (f.get(f"dept-{i}") or "").strip()[:210]
        counts = {b: (f.get(f"n-{i}-{b}") or "").strip()[:12] for b in city.banks}
        typed.append({"dept": text, "counts": counts})
        dept, levels = reconcile.dept_key(text)
        name = dept or str(no_dept)
        cells = {}
        for bank, raw in counts.items():
            if not raw:
                continue
            n = _count(raw)
            if n is None:
                problems.append(t(f"{name} · {city.banks[bank]}：人数“{raw}”应为不小于 0 的整数。",
                                  f"{name} · {bank}: the count “{raw}” must be a whole number, 0 or more."))
            elif n:
                cells[bank] = n
        if not text and not any(counts.values()):
            continue
        if levels > reconcile.MAX_DEPT_LEVELS:
            problems.append(t(f"部门“{text}”超过两级（最多两级，如“一分厂 / 装配车间”）。",
                              f"Department “{text}” has more than two levels."))
        elif dept in clean:
            problems.append(t(f"部门“{name}”填写了两次。", f"Department “{name}” appears twice."))
        elif cells:
            clean[dept] = cells
        else:
            clean.setdefault(dept, {})
    totals = []
    for key, zh, en in (("received", "收到《确认表》共计", "Forms received"),
                        ("returned", "返回《确认表》共计", "Forms returned")):
        raw = (f.get(key) or "").strip()[:12]
        n = _count(raw)
        if n is None:
            problems.append(t(f"请填写“{zh}”份数（不小于 0 的整数）。", f"{en}: give a whole number, 0 or more."))
        totals.append(n)
    typed += [{"dept": "", "counts": {b: "" for b in city.banks}} for _ in range(DECLARED_BLANK_ROWS)]
    return typed, {d: c for d, c in clean.items() if c}, totals[0], totals[1]


@bp.route("/batches/employers/<int:employer_id>/declared", methods=["GET", "POST"])
@groups("centre_clerk")
def declared(employer_id):
    """申领汇总表: the agent's figures per department and bank, and the forms received and
    returned (the reconciliation runs when the clerk completes the task)."""
    session = db_session()
    employer, batch = employer_or_404(employer_id)
    city = city_config.current(session)
    summary = reconcile.summary(session, employer.id)
    problems: list[str] = []
    received, returned = employer.forms_received, employer.forms_returned
    rows = _declared_form(city, summary, employer.declared or {})
    if request.method == "POST":
        rows, clean, received_n, returned_n = _read_declared(city, problems)
        received, returned = request.form.get("received", ""), request.form.get("returned", "")
        if not problems:
            try:
                reconcile.ensure_open(employer)
            except BilingualError as e:
                problems.append(message(e))
        if not problems:
            employer.declared, employer.forms_received, employer.forms_returned = clean, received_n, returned_n
            audit(session, "declared", batch=batch.id, employer=employer.id, departments=len(clean),
                  persons=sum(sum(c.values()) for c in clean.values()),
                  forms_received=received_n, forms_returned=returned_n)
            session.commit()
            flash(t("申领汇总表已保存；完成“确认表回收”任务时将与登记的确认表核对。",
                    "The summary was saved; it is reconciled with the recorded forms when the task is completed."))
            return redirect(url_for("batch.employer", employer_id=employer.id))
        session.rollback()
    return render_template("batch/declared.html", employer=employer, batch=batch, city=city,
                           rows=rows, received="" if received is None else received,
                           returned="" if returned is None else returned, problems=problems,
                           summary=summary, no_dept=T(*reconcile.NO_DEPT))
