"""Property-based fuzzing of the task forms 表单模糊测试: every registered form, fed dicts of its
own field names mapped to arbitrary values (text with control characters, lone surrogates and
very long strings, ints and huge ints, floats incl. NaN and infinity, None, booleans, lists,
nested dicts, bytes-like strings, uploads under any field, dates as text in many spellings,
photos that are almost JPEGs, as bytes, base64 or data URLs) plus keys it does not know. ``validate_data`` must answer, never raise: cleaned data (JSON,
as the engine keeps it) or per-field messages. Then the same kind of data posted through the
real task page (multipart, with uploads under any field name) must get 200/302/4xx, never a
500.

Bounded and deterministic: ``MAX_EXAMPLES`` per form, Hypothesis derandomized, no example
database.
"""
from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
import wtforms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.auth.service import actor_of
from app.cases.cancel import cancel_case
from app.engine.models import HumanTask, ProcessInstance
from app.wiring import configure_engine
from forms.base import validate_data
from forms.i18n import set_locale
from forms.registry import all_form_keys, get_form
from tests.api import PHOTO, application_json, application_post, complete, db, open_task, start, user
from tests.api import app  # noqa: F401 - the platform app for the ``web`` fixture

configure_engine()  # every family's forms registered

MAX_EXAMPLES = 50  # per form
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # the same examples on every run: CI is deterministic
    database=None,  # no .hypothesis directory, nothing carried over between runs
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# -- values ---------------------------------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # everything, also control chars and lone surrogates
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn"]), max_size=20),
    st.text(st.sampled_from("0123456789Xx-·林堃 ./年月日"), max_size=25),  # plausible bits
    st.builds(lambda c, n: c * n, st.characters(codec="utf-8"), st.integers(200, 100_000)),  # very long
)
INTS = st.one_of(st.integers(), st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
                 st.builds(lambda e, sign: sign * 10**e, st.integers(19, 4000), st.sampled_from((1, -1))))
# ints beyond 4,300 digits are left out: Python refuses to print them (int_max_str_digits) and
# no request can carry one (json.loads refuses them too: the body is "not JSON", a 400)
FLOATS = st.floats()  # NaN and infinity too (Python's JSON parser reads them)
DATE_TEXT = st.one_of(
    st.dates().map(str),
    st.dates().map(lambda d: d.strftime("%Y%m%d")),
    st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.dates().map(lambda d: f"{d.year}/{d.month}/{d.day}"),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=8)))).map(datetime.isoformat),
    st.sampled_from(["2015-02-30", "0000-00-00", "9999-12-31", "10000-01-01", "2015-13-01",
                     "２０１５-０８-０６", "٢٠١٥-٠٨-٠٦", "2015年13月45日", "today", "-1-01-01"]),
)
BYTES = st.binary(max_size=300)
BYTES_TEXT = st.one_of(BYTES.map(lambda b: b.decode("latin-1")), BYTES.map(repr))  # bytes-like strings


def _corrupt(data: bytes, at: int, value: int) -> bytes:
    at %= len(data)
    return data[:at] + bytes([value]) + data[at + 1:]


PHOTO_BYTES = st.one_of(
    st.just(PHOTO),
    st.integers(0, len(PHOTO)).map(lambda n: PHOTO[:n]),  # truncated
    st.builds(_corrupt, st.just(PHOTO), st.integers(0, 10_000), st.integers(0, 255)),
    st.binary(max_size=64).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
    st.binary(max_size=64).map(lambda b: b"\xff\xd8\xff" + b),
)
PHOTO_TEXT = st.one_of(
    PHOTO_BYTES.map(lambda b: base64.b64encode(b).decode()),
    PHOTO_BYTES.map(lambda b: "data:image/jpeg;base64," + base64.b64encode(b).decode()),
    PHOTO_BYTES.map(lambda b: "data:;base64," + base64.urlsafe_b64encode(b).decode().rstrip("=")),
    st.text(ANY_CHAR, max_size=30).map(lambda t: "data:image/png;base64," + t),
)
UPLOADS = st.builds(lambda data, name, mime: FileStorage(io.BytesIO(data), filename=name, content_type=mime),
                    st.one_of(BYTES, PHOTO_BYTES), st.text(ANY_CHAR, min_size=1, max_size=12),
                    st.sampled_from(["image/jpeg", "image/png", "text/plain", "", "application/x-evil"]))

# uploads under any field name (a multipart post may carry one for any name); raw bytes only
# for the photo (the web and the API never give bytes for another field)
SCALARS = st.one_of(TEXT, INTS, FLOATS, st.none(), st.booleans(), DATE_TEXT, BYTES_TEXT, UPLOADS)
ANY = st.one_of(SCALARS, st.lists(SCALARS, max_size=4), st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(ANY_CHAR, max_size=8), inner, max_size=4)),
    max_leaves=8))
UNKNOWN_KEYS = st.dictionaries(st.text(ANY_CHAR, max_size=20), ANY, max_size=3)


def _choice_values(field) -> list[str]:
    values = []
    for choice in getattr(field, "choices", None) or []:
        value = getattr(choice, "value", None)
        values.append(choice[0] if value is None and isinstance(choice, (tuple, list)) else value)
    return [str(v) for v in values]


def plausible(field) -> st.SearchStrategy:
    """Values near what the field takes (so later checks and cross-field rules run too)."""
    if isinstance(field, wtforms.FileField):
        return st.one_of(PHOTO_BYTES, PHOTO_TEXT, UPLOADS, BYTES)
    if isinstance(field, wtforms.BooleanField):
        return st.sampled_from(["y", "on", "true", "false", "0", "no", "是", "否", True, False, 1, 0])
    if isinstance(field, wtforms.DateField):
        return DATE_TEXT
    choices = _choice_values(field)
    if choices:
        return st.one_of(st.sampled_from(choices), st.sampled_from(choices).map(lambda c: f" {c.upper()} "))
    return st.one_of(TEXT, st.sampled_from(["林堃", "13805951234", "350581199003071312", "362700",
                                            "6217001234567890123", "B7K334774", "中国"]))


def form_data(key: str) -> st.SearchStrategy[dict]:
    """Dicts for the form ``key``: a valid application (for the application form) or nothing,
    some of its fields with arbitrary or plausible values, and unknown keys."""
    fields = get_form(key)()._fields
    base = [{}] + ([application_json("lin_kun")] if key == "application.apply" else [])
    return st.builds(
        lambda b, own, unknown: {**b, **unknown, **own},
        st.sampled_from(base),
        st.fixed_dictionaries({}, optional={name: st.one_of(ANY, plausible(field))
                                            for name, field in fields.items()}),
        UNKNOWN_KEYS)


# -- validate_data ----------------------------------------------------------------------------------

def test_every_form_answers_arbitrary_data_with_cleaned_data_or_field_errors():
    keys = all_form_keys()
    assert "application.apply" in keys and "calendar.year_entry" in keys  # the families are loaded
    examples, valid = {}, {}
    for key in keys:
        form_cls = get_form(key)
        examples[key] = valid[key] = 0

        @FUZZ_SETTINGS
        @given(data=form_data(key), locale=st.sampled_from(["zh", "en"]))
        def fuzz(data, locale):
            examples[key] += 1
            with set_locale(locale):
                form, errors = validate_data(form_cls, data)
                if errors:
                    assert isinstance(errors, dict)
                    assert all(isinstance(name, str) and messages and all(isinstance(m, str) for m in messages)
                               for name, messages in errors.items()), errors
                    json.dumps(errors)
                else:
                    valid[key] += 1
                    json.dumps(form.cleaned())  # what the engine keeps must stay JSON
        fuzz()

    total = sum(examples.values())
    print(f"fuzzed {total} form examples over {len(keys)} forms "
          f"({sum(valid.values())} valid): {examples}")
    assert all(n >= MAX_EXAMPLES // 2 for n in examples.values()), examples


# -- the task page ------------------------------------------------------------------------------

def _web_value(value):
    """A generated value as a browser could post it: text (UTF-8), files as uploads, lists as
    repeated fields."""
    if isinstance(value, FileStorage):
        value.stream.seek(0)
        return (io.BytesIO(value.stream.read()), value.filename or "upload.bin", value.content_type)
    if isinstance(value, (bytes, bytearray)):
        return (io.BytesIO(bytes(value)), "upload.bin", "application/octet-stream")
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _as_list(_web_value(item))]
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    if isinstance(value, bool):
        return "y" if value else ""
    if value is None:
        return ""
    return str(value).encode("utf-8", "replace").decode("utf-8")  # no lone surrogates on the wire


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _web_form(key: str) -> st.SearchStrategy[dict]:
    fields = get_form(key)()._fields
    base = [{}] + ([application_post("lin_kun")] if key == "application.apply" else [])

    def build(b, own, unknown, lock_version):
        data = {name: _web_value(v) for name, v in {**unknown, **own}.items() if name and name != "csrf_token"}
        b = {k: (io.BytesIO(v[0].getvalue()), *v[1:]) if isinstance(v, tuple) else v for k, v in b.items()}
        data = {**b, **data}
        if lock_version is not None:
            data["lock_version"] = lock_version
        return data
    # a file may come under any name (a crafted multipart post); a lock_version that is not the
    # case's sends the clerk back to the case before the form is read: mostly none
    return st.builds(build, st.sampled_from(base),
                     st.fixed_dictionaries({}, optional={name: st.one_of(ANY, plausible(field), UPLOADS)
                                                         for name, field in fields.items()}),
                     st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=12), ANY, max_size=2),
                     st.sampled_from([None, None, None, "", "x", "-1", "99999999999999999999"]))


def _open_apply_task(flask_app) -> int:
    return open_task(flask_app, start(flask_app, "instant_issuance", "window")).id


def _open_produce_card_task(flask_app) -> int:
    """An outlet case at card production (the window's task). A person may have one card in
    the making at a time: the case of a production the fuzzing completed is cancelled first."""
    with db(flask_app) as s:
        made = s.scalars(select(ProcessInstance.id).where(
            ProcessInstance.process_key == "outlet_application",
            ProcessInstance.status.not_in(["completed", "cancelled"]))).all()
        for instance_id in made:
            cancel_case(s, flask_app.extensions["sscard"].families, instance_id,
                        actor_of(user(s, "manager")), "fuzzing")
    case = start(flask_app, "outlet_application", "outlet")
    complete(flask_app, open_task(flask_app, case).id, application_json("chen_xiuying"), "outlet")
    return open_task(flask_app, case, "produce_card").id


@pytest.mark.parametrize("form_key, new_task", [("application.apply", _open_apply_task),
                                                ("application.produce_card", _open_produce_card_task)])
def test_posting_arbitrary_data_on_the_task_page_is_never_a_server_error(app, web, form_key, new_task):  # noqa: F811
    web.login("window")
    task_id = new_task(app)
    csrf = web.csrf(f"/tasks/{task_id}")
    assert csrf
    state = {"task": task_id, "posts": 0, "completed": 0}
    statuses: dict[int, int] = {}
    server_errors: list[str] = []

    @FUZZ_SETTINGS
    @given(data=_web_form(form_key))
    def fuzz(data):
        state["posts"] += 1
        path = f"/tasks/{state['task']}"
        try:
            r = web.client.post(path, data={**data, "csrf_token": csrf}, content_type="multipart/form-data")
        except Exception as e:  # noqa: BLE001 - TESTING: an exception out of a view is the 500
            server_errors.append(f"{type(e).__name__}: {e} for {sorted(data)}")
            return
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            server_errors.append(f"{r.status_code} for {sorted(data)}")
        with db(app) as s:
            if s.get(HumanTask, state["task"]).state != "open":  # completed: fuzz a fresh one
                state["completed"] += 1
                state["task"] = new_task(app)
    fuzz()

    print(f"{form_key}: posted {state['posts']} task pages, {state['completed']} completed, "
          f"statuses {dict(sorted(statuses.items()))}, {len(server_errors)} server errors")
    assert state["posts"] >= MAX_EXAMPLES // 2
    assert not server_errors, "\n".join(server_errors[:10])
    assert set(statuses) <= {200, 302, 400, 403, 404, 409, 413, 422}, statuses


# -- regressions: what the fuzzing found ----------------------------------------------------------

def _upload(data: bytes = b"hello", name: str = "a.txt") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="text/plain")


@pytest.mark.parametrize("field", ["remarks", "occupation", "country", "birth_date", "application_date"])
def test_an_upload_under_a_field_that_is_no_file_field_is_left_out(field):
    """Was a TypeError (``len()`` of an upload in the Length validator): an upload posted under
    a text or date field is left out, as if the field had not been posted."""
    form_cls, data = get_form("application.apply"), application_json("lin_kun")
    _form, errors = validate_data(form_cls, {**data, field: _upload()})
    _form, errors_without = validate_data(form_cls, {k: v for k, v in data.items() if k != field})
    assert errors == errors_without  # e.g. none for the remarks, "please fill in" for the birth date


def test_the_photo_upload_is_still_taken():
    form, errors = validate_data(get_form("application.apply"),
                                 {**application_json("lin_kun"), "photo": _upload(PHOTO, "photo.jpg")})
    assert errors == {} and form.photo_bytes() == PHOTO


def test_posting_a_file_under_a_text_or_date_field_of_the_task_page_is_no_500(app, web):  # noqa: F811
    """Was a 500 on the task page: the Length validator (remarks) and rendering the date field
    again (birth_date: WTForms joins its raw values as text)."""
    web.login("window")
    task_id = _open_apply_task(app)
    for field in ("remarks", "birth_date"):
        data = application_post("lin_kun", name="")  # an error: the form is shown again
        data[field] = (io.BytesIO(b"hello"), "a.txt", "text/plain")
        r = web.post(f"/tasks/{task_id}", data, page=f"/tasks/{task_id}", content_type="multipart/form-data")
        assert r.status_code == 200, (field, r.status_code)
        assert 'id="task-form"' in r.get_data(as_text=True)
