"""Form of the calendar task (``processes/calendar_year_entry.bpmn``).

    calendar_year_entry   管理人员：录入 XXXX 年法定节假日安排（粘贴国务院办公厅通知）
"""
from __future__ import annotations

from wtforms.validators import Length

from forms.base import TaskForm
from forms.fields import TextAreaField
from forms.i18n import T
from forms.registry import register
from forms.validators import Required


@register
class CalendarYearEntryForm(TaskForm):
    """The manager pastes the State Council's notice; the platform reads and enters it (the
    calendar page offers the same with a month-grid preview)."""

    form_key = "calendar.year_entry"
    legacy_keys = ("calendar_year_entry",)
    title = T("录入年度法定节假日安排", "Enter the year's official holidays")

    notice_text = TextAreaField(
        T("国务院办公厅节假日安排通知全文", "Text of the State Council holiday notice"),
        [Required(), Length(max=20000)],
        description=T("粘贴“国务院办公厅关于XXXX年部分节假日安排的通知”全文；也可在“工作日历”页预览后录入",
                      "Paste the notice as published; the Calendar page also previews it"))
