"""What a refused step says to the clerk (办理失败提示)."""
from __future__ import annotations

from app.engine.errors import EngineError
from app.sla.calendar import CalendarYearMissing
from app.common.i18n import get_locale

# What a step (start, complete, claim, retry...) may raise for the clerk to read: the engine's
# errors, and a working-day calendar that lacks a year (the inbox's "at risk" filter).
STEP_ERRORS = (EngineError, CalendarYearMissing)


def error_texts(error: Exception) -> tuple[str | None, str | None]:
    """(zh, en) of an engine error or a missing calendar year."""
    if isinstance(error, CalendarYearMissing):
        return (f"{error.year} 年的法定节假日安排尚未录入，请管理员在“工作日历”中录入。",
                f"The official holiday schedule for {error.year} has not been entered yet; "
                f"an administrator must enter it under Calendar.")
    return getattr(error, "message_zh", None), getattr(error, "message_en", None)


def case_errors(error: Exception) -> str:
    """The clerk-readable message of an engine error in the current language."""
    zh, en = error_texts(error)
    if zh or en:
        return (en or zh) if get_locale() == "en" else (zh or en)
    return str(error)
