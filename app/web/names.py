"""Names pages show in their language (名称): procedures and named deadlines, from the BPMN
properties ``name.en`` and ``deadline.NAME.title.en`` (``app.engine.properties``). Task titles
are on their rows (``HumanTask.title_in``); step titles of a case: ``history.step_titles``.

Template helpers (``app.web``): ``procedure_name(x)`` with a ``ProcessModel``, a
``ProcessInstance`` or a process key; ``deadline_title(instance, deadline_view)``.
"""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from app.common.i18n import T, get_locale
from app.engine import properties as props
from app.engine.errors import ModelInvalid
from app.engine.models import ProcessInstance, ProcessModel


def _session():
    from app.extensions import db_session
    return db_session()


def _properties(session, model: ProcessModel) -> dict[str, str]:
    from app.engine.repository import load
    try:
        return load(session, model.id).process_properties
    except ModelInvalid:  # an old model that no longer parses: its Chinese names only
        return {}


def model_names(session, model: ProcessModel) -> T:
    """A model version's procedure name in both languages."""
    return T(*props.process_names(model.name, model.key, _properties(session, model)))


def _cache() -> dict:
    if not hasattr(g, "sscard_names"):
        g.sscard_names = {}
    return g.sscard_names


def procedure_names(what) -> T:
    """The procedure name of a model, a case or a process key (its latest version)."""
    session = _session()
    cache = _cache()
    if isinstance(what, ProcessInstance):
        model = what.model
        if model is None:
            return T(what.process_key)
    elif isinstance(what, ProcessModel):
        model = what
    else:
        key = str(what)
        if ("key", key) not in cache:
            model = session.scalars(select(ProcessModel).where(ProcessModel.key == key)
                                    .order_by(ProcessModel.version.desc()).limit(1)).first()
            cache[("key", key)] = model_names(session, model) if model is not None else T(key)
        return cache[("key", key)]
    if ("model", model.id) not in cache:
        cache[("model", model.id)] = model_names(session, model)
    return cache[("model", model.id)]


def procedure_name(what) -> str:
    """:func:`procedure_names` in the page's language."""
    return procedure_names(what).text(get_locale())


def deadline_title(instance: ProcessInstance, deadline) -> str:
    """A named deadline's title in the page's language (``deadline.NAME.title.en``), else the
    title stored with the case's deadline."""
    stored = deadline.title
    if get_locale() != "en" or instance is None or instance.model is None:
        return stored
    cache = _cache()
    key = ("deadlines", instance.model_id)
    if key not in cache:
        from app.engine.repository import load
        try:
            loaded = load(_session(), instance.model_id)
            cache[key] = props.deadline_titles({**loaded.process_properties,
                                                **loaded.start_properties})
        except ModelInvalid:
            cache[key] = {}
    return cache[key].get(deadline.name, (stored, stored))[1] or stored
