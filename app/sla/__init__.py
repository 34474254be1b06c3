"""SLA: working-day calendar (工作日历), deadlines and the manager's view. No Flask here."""
from app.sla.calendar import CalendarYearMissing, WorkingDayCalendar, YearOverrides, deadline_datetime, package_years, to_local_date
from app.sla.overrides import DbOverrides, InMemoryOverrides

__all__ = ["CalendarYearMissing", "WorkingDayCalendar", "YearOverrides",
           "deadline_datetime", "package_years", "to_local_date",
           "DbOverrides", "InMemoryOverrides"]
