"""Calendar overrides from a file 工作日历导入 (``SSCARD_CALENDAR_OVERRIDES`` or the CLI).

Format (JSON), one entry per year; ``complete`` confirms the whole year was entered::

    {"2027": {"complete": true,
              "days": {"2027-01-01": false, "2027-02-06": true},
              "notes": {"2027-02-06": "春节调休上班"}}}

``false`` = day off (holiday), ``true`` = working day (make-up day). Re-importing is harmless.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from .entry import record_change
from .overrides import DbOverrides


class CalendarFileError(ValueError):
    pass


def import_overrides(session, path: str | Path, entered_by: str = "import") -> int:
    """Write the file's days and years into the calendar tables (no commit). Returns days set."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise CalendarFileError(f"工作日历文件无法读取：{e} (calendar file unreadable)") from e
    if not isinstance(data, dict):
        raise CalendarFileError("工作日历文件应为按年份组织的对象 (calendar file must map years to entries)")
    store, count, changed = DbOverrides(session), 0, []
    for year_text, entry in data.items():
        try:
            year = int(year_text)
            days = {date.fromisoformat(k): v for k, v in (entry.get("days") or {}).items()}
        except (ValueError, AttributeError, TypeError) as e:
            raise CalendarFileError(f"{year_text}：年份或日期格式错误 (bad year or date): {e}") from e
        for day, working in days.items():
            if day.year != year or not isinstance(working, bool):
                raise CalendarFileError(f"{day}：不属于 {year} 年或取值不是 true/false (wrong year or value)")
            store.set_day(day, working, (entry.get("notes") or {}).get(day.isoformat()))
            count += 1
            changed.append(day)
        if entry.get("complete"):
            store.mark_year(year, entered_by, complete=True)
            changed += [date(year, 1, 1), date(year, 12, 31)]
    if changed:  # the recomputation job moves what these days affect
        record_change(session, min(changed), max(changed), "工作日历文件导入", entered_by)
    return count
