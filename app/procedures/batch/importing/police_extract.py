"""Loading a household-register extract 公安户籍数据 into the embedded police register
(``police_register_person``), upserted by ID number: columns
``身份证号,姓名,性别,民族,出生日期,户籍地址,户籍区划,二代身份证`` (民族: 汉族 or its GB 3304 code;
二代身份证: 是/否). A real connection is queried instead; the embedded one needs its data."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from app.adapters.police import PoliceRegisterPerson
from app.common.masking import mask_id
from app.database import insert_for
from app.engine import jobs
from app.engine.jobs import JobContext
from app.procedures.batch.importing.reader import ImportFileError, _csv_rows, valid_citizen_id
from forms.choices import ETHNICITIES

COLUMNS = ("身份证号", "姓名", "性别", "民族", "出生日期", "户籍地址", "户籍区划", "二代身份证")
CHUNK = 5000
_ETHNIC_CODES = {str(label.zh): code for code, label in ETHNICITIES}
_CODES = {code for code, _ in ETHNICITIES}


@dataclass
class ExtractResult:
    rows: int = 0
    loaded: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _parse(row: dict[str, str]) -> dict:
    number = row["身份证号"].upper()
    if not valid_citizen_id(number):
        raise ValueError(f"身份证号 {mask_id(number)} 无效")
    name = re.sub(r"\s+", "", row["姓名"])
    if not name:
        raise ValueError("缺少姓名")
    sex = {"男": "1", "女": "2", "1": "1", "2": "2"}.get(row["性别"])
    if sex is None:
        raise ValueError(f"性别“{row['性别']}”无法识别")
    ethnic = row["民族"]
    ethnic = ethnic if ethnic in _CODES else _ETHNIC_CODES.get(ethnic, _ETHNIC_CODES.get(ethnic + "族"))
    if ethnic is None:
        raise ValueError(f"民族“{row['民族']}”无法识别")
    try:
        born = date.fromisoformat(row["出生日期"])
    except ValueError:
        raise ValueError(f"出生日期“{row['出生日期']}”不是 YYYY-MM-DD 格式") from None
    region = row["户籍区划"]
    if not re.fullmatch(r"\d{6}", region):
        raise ValueError(f"户籍区划“{region}”应为 6 位数字")
    second = {"是": True, "否": False}.get(row["二代身份证"])
    if second is None:
        raise ValueError(f"二代身份证“{row['二代身份证']}”应为“是”或“否”")
    return {"id_number": number, "name": name[:30], "sex": sex, "ethnicity": ethnic,
            "birth_date": born, "household_address": row["户籍地址"][:100] or None,
            "household_region": region, "has_second_gen_id": second}


def load_extract(session_factory, content: bytes, progress=None) -> ExtractResult:
    """Upsert the extract, chunk by chunk (each chunk commits: a large extract never holds the
    database for long); bad rows are reported with their line and skipped. ``progress(rows)``
    is told after each chunk."""
    result, chunk = ExtractResult(), []
    it = _csv_rows(content)
    header = next(it, None)
    names = [h.strip().lstrip("\ufeff") for h in (header or [])]
    missing = [c for c in COLUMNS if c not in names]
    if not names or missing:
        raise ImportFileError(f"表头缺少列：{'、'.join(missing or COLUMNS)}。应为：{','.join(COLUMNS)}",
                              f"The header lacks columns; expected: {','.join(COLUMNS)}")
    idx = {c: names.index(c) for c in COLUMNS}
    for line, cells in enumerate(it, start=2):
        if not any(c.strip() for c in cells):
            continue
        result.rows += 1
        row = {c: (cells[i].strip() if i < len(cells) else "") for c, i in idx.items()}
        try:
            chunk.append(_parse(row))
        except ValueError as e:
            result.rejected.append((line, str(e)))
        if len(chunk) >= CHUNK:
            result.loaded += _upsert(session_factory, chunk)
            chunk = []
            if progress is not None:
                progress(result.rows)
    result.loaded += _upsert(session_factory, chunk)
    return result


def _upsert(session_factory, rows: list[dict]) -> int:
    if not rows:
        return 0
    rows = list({r["id_number"]: r for r in rows}.values())  # the last line of a number wins
    with session_factory() as s, s.begin():
        stmt = insert_for(s, PoliceRegisterPerson)
        stmt = stmt.on_conflict_do_update(index_elements=["id_number"], set_={
            c: getattr(stmt.excluded, c) for c in rows[0] if c != "id_number"})
        s.execute(stmt, rows)
    return len(rows)


@jobs.handler("batch.police_import")
def police_import_job(ctx: JobContext) -> dict:
    """The extract uploaded on the register page, as a job (upserts: a rerun is harmless)."""
    from app.procedures.batch.models import BatchUpload
    with ctx.session_factory() as s:
        content = s.get(BatchUpload, int(ctx.params["upload_id"])).content
    total = max(content.count(b"\n") - 1, 1)
    result = load_extract(ctx.session_factory, content,
                          progress=lambda rows: ctx.progress(rows, total, "police_import"))
    return {"rows": result.rows, "loaded": result.loaded, "rejected": len(result.rejected),
            "problems": [[line, reason] for line, reason in result.rejected[:200]]}
