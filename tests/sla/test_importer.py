"""Calendar overrides from a file fix a year the official package does not cover."""
import json
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.database import Base
from app.sla.calendar import CalendarYearMissing, WorkingDayCalendar, package_years
from app.sla.importer import CalendarFileError, import_overrides
from app.sla.overrides import DbOverrides

import app.sla.models  # noqa: F401


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[t] for t in
                                             ("calendar_day", "calendar_year", "calendar_change")])
    with Session(engine) as s:
        yield s


def test_import_makes_a_missing_year_usable(session, tmp_path):
    year = package_years().stop  # first year chinesecalendar does not know
    cal = WorkingDayCalendar(DbOverrides(session))
    with pytest.raises(CalendarYearMissing):
        cal.is_working_day(date(year, 3, 2))
    path = tmp_path / "cal.json"
    jan1 = date(year, 1, 1)
    path.write_text(json.dumps({str(year): {"complete": True, "days": {jan1.isoformat(): False},
                                            "notes": {jan1.isoformat(): "元旦"}}}), encoding="utf-8")
    assert import_overrides(session, path) == 1
    assert cal.is_working_day(jan1) is False
    monday = next(date(year, 3, d) for d in range(1, 8) if date(year, 3, d).weekday() == 0)
    assert cal.is_working_day(monday) is True


@pytest.mark.parametrize("content", ['[1, 2]', '{"abc": {}}', '{"2030": {"days": {"2031-01-01": false}}}',
                                     '{"2030": {"days": {"2030-01-01": "no"}}}', 'not json'])
def test_bad_files_are_refused_clearly(session, tmp_path, content):
    path = tmp_path / "cal.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarFileError) as e:
        import_overrides(session, path)
    assert "(" in str(e.value)  # Chinese with English
