"""The calendar's own procedure (录入年度法定节假日安排): from 60 days before a year nobody
entered, managers get a task to enter it (``processes/shared/calendar_year_entry.bpmn``)."""
from app.procedures import Family

FAMILY = Family(
    name="calendar", title_zh="工作日历", title_en="Calendar",
    bpmn_dir="processes/shared",
    modules=("app.sla.operations", "forms.calendar"),
    processes=("calendar_year_entry",),
)
