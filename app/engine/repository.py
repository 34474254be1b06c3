"""Model repository (流程模型库): deploy BPMN files as versioned models; parse each version once.

Deploying a file validates it (:mod:`app.engine.validation`) and stores one ``ProcessModel``
row per executable process in it. A process gets a new version only when the file's content
changed; new cases start on the latest version, running cases keep theirs.

A model's file must be self-contained: call activities are resolved within the same file.

These functions deploy directly (the start command, the CLI, tests). A person uploading a new
version of a deployed process goes through :mod:`app.engine.review` (four eyes).
"""
from __future__ import annotations

import codecs
import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent as StartEventMixin

from app.engine import audit, clock
from app.engine import properties as props
from app.engine.errors import ModelInvalid, Problem, ProcessNotFound
from app.engine.models import ProcessModel
from app.engine.services import Actor
from app.engine.validation import (ExternalCall, ParsedFile, own_subprocess_specs, parse_bpmn,
                                   process_properties)


@dataclass(frozen=True)
class LoadedModel:
    """A deployed model version, parsed: what the runtime needs to run its cases."""

    model_id: int
    key: str
    version: int
    sha256: str
    spec: object  # BpmnProcessSpec
    subprocess_specs: dict
    process_properties: dict[str, str] = field(default_factory=dict)
    start_properties: dict[str, str] = field(default_factory=dict)
    external_calls: tuple[ExternalCall, ...] = ()  # call activities into other files

    def case_property(self, name: str) -> str | None:
        """A case-level property: the start event's wins over the process's."""
        return self.start_properties.get(name) or self.process_properties.get(name)

    @property
    def deadlines(self) -> dict[str, tuple[str, str]]:
        """{name: (length, title)} of the process's named deadlines (办件时限)."""
        return props.declared_deadlines({**self.process_properties, **self.start_properties})

    @cached_property
    def deadline_roles(self) -> dict[str, frozenset[str]]:
        """The deadline names the model's elements list under ``deadlineStarts``,
        ``deadlineMet`` and ``pausesDeadline`` (parsed once per model version)."""
        elements = [ts for spec in (self.spec, *self.subprocess_specs.values())
                    for ts in spec.task_specs.values()]
        return {prop: frozenset(n for ts in elements for n in props.deadline_names(ts, prop))
                for prop in (props.DEADLINE_STARTS, props.DEADLINE_MET, props.PAUSES_DEADLINE)}

    @property
    def start_lanes(self) -> set[str]:
        """Lanes of the start event(s): who may open a case of this procedure."""
        return {ts.lane for ts in self.spec.task_specs.values()
                if isinstance(ts, StartEventMixin) and ts.lane}

    @property
    def lanes(self) -> set[str]:
        """Every lane of the model, its own sub-processes' included (groups working on it)."""
        specs = [self.spec, *self.subprocess_specs.values()]
        return {ts.lane for spec in specs for ts in spec.task_specs.values()
                if getattr(ts, "lane", None)}

    @property
    def summary_fields(self) -> list[str]:
        return props.split_list(self.case_property(props.SUMMARY_FIELDS))

    @property
    def start_form_key(self) -> str | None:
        return self.start_properties.get(props.FORM_KEY) or None


def _loaded(model: ProcessModel, parsed: ParsedFile) -> LoadedModel:
    key = model.key
    parser = parsed.parser
    spec = parser.get_spec(key)
    start_props: dict[str, str] = {}
    for ts in spec.task_specs.values():
        if isinstance(ts, StartEventMixin) and props.properties(ts):
            start_props = dict(props.properties(ts))
            break
    own, _external = own_subprocess_specs(parser, key)
    calls = tuple(c for c in parsed.external_calls if c.caller == key)
    return LoadedModel(model.id, key, model.version, model.sha256, spec, own,
                       process_properties(parser, key), start_props, calls)


class SpecCache:
    """Process-wide cache of parsed model versions, keyed by (model id, key, sha256).

    Model rows never change, so an entry never goes stale; the content hash in the key keeps
    two databases used by one process (tests, tools) from mixing their models up.
    """

    def __init__(self):
        self._models: dict[tuple, LoadedModel] = {}
        self._lock = threading.Lock()
        self.parses = 0  # how many times a model was parsed (tests, metrics)

    @staticmethod
    def _key(model: ProcessModel) -> tuple:
        return model.id, model.key, model.sha256

    def get(self, model: ProcessModel) -> LoadedModel:
        found = self._models.get(self._key(model))
        if found is not None:
            return found
        with self._lock:
            found = self._models.get(self._key(model))
            if found is None:
                parsed = parse_bpmn(model.bpmn_xml, model.file_name)
                if parsed.problems:  # e.g. a form or operation unregistered since deploy
                    raise ModelInvalid(parsed.problems)
                found = self.put(model, parsed)
                self.parses += 1
        return found

    def put(self, model: ProcessModel, parsed: ParsedFile) -> LoadedModel:
        return self._models.setdefault(self._key(model), _loaded(model, parsed))

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


spec_cache = SpecCache()


def sha256(xml: str | bytes) -> str:
    return hashlib.sha256(xml.encode("utf-8") if isinstance(xml, str) else xml).hexdigest()


def latest_model(session: Session, key: str) -> ProcessModel | None:
    """The version new cases of ``key`` start on."""
    return session.scalars(select(ProcessModel).where(ProcessModel.key == key)
                           .order_by(ProcessModel.version.desc()).limit(1)).first()


def require_latest(session: Session, key: str) -> ProcessModel:
    model = latest_model(session, key)
    if model is None:
        raise ProcessNotFound(key)
    return model


def latest_models(session: Session) -> list[ProcessModel]:
    """The latest version of every deployed process, by key."""
    newest = (select(ProcessModel.key, func.max(ProcessModel.version).label("version"))
              .group_by(ProcessModel.key).subquery())
    return list(session.scalars(select(ProcessModel).join(
        newest, (ProcessModel.key == newest.c.key) & (ProcessModel.version == newest.c.version))
        .order_by(ProcessModel.key)))


def list_models(session: Session, key: str | None = None) -> list[ProcessModel]:
    query = select(ProcessModel).order_by(ProcessModel.key, ProcessModel.version)
    if key is not None:
        query = query.where(ProcessModel.key == key)
    return list(session.scalars(query))


def load(session: Session, model_id: int) -> LoadedModel:
    """The parsed model of a case (cached; at most one primary-key read of the small columns
    per session)."""
    # The cache key of each model id this session met (a session talks to one database).
    keys = session.info.setdefault("sscard_model_keys", {})
    key = keys.get(model_id)
    if key is not None:
        found = spec_cache._models.get(key)
        if found is not None:
            return found
    model = session.get(ProcessModel, model_id)
    if model is None:
        raise ProcessNotFound(str(model_id))
    keys[model_id] = SpecCache._key(model)
    return spec_cache.get(model)


# -- call activities across files (跨文件调用子流程) ---------------------------------------------
#
# Version binding: a case binds each process it calls (and those they call) when it starts: to
# the version pinned on the call activity (``calledVersion``), else to the latest deployed
# version at that moment. The binding is stored with the case (``call_bindings``), so a case
# keeps running on the versions it started with while new cases take newer ones.

def _called_model(session: Session, call: ExternalCall) -> ProcessModel:
    if call.version is None:
        found = latest_model(session, call.called)
    else:
        found = session.scalars(select(ProcessModel).where(
            ProcessModel.key == call.called, ProcessModel.version == call.version)).first()
    if found is None:
        raise ProcessNotFound(call.called if call.version is None
                              else f"{call.called} v{call.version}")
    return found


def bind_calls(session: Session, model: LoadedModel) -> dict[str, int]:
    """{called process id: model id} for every process the model calls, transitively."""
    bindings: dict[str, int] = {}
    pending = list(model.external_calls)
    while pending:
        call = pending.pop()
        if call.called in bindings:
            continue
        called = load(session, _called_model(session, call).id)
        bindings[call.called] = called.model_id
        pending += called.external_calls
    return bindings


def workflow_specs(session: Session, model: LoadedModel, bindings: dict | None) -> dict:
    """The sub-process specs a case of ``model`` runs with: its own file's, and those of the
    processes it called as bound at its start."""
    specs = dict(model.subprocess_specs)
    for key, model_id in (bindings or {}).items():
        called = load(session, int(model_id))
        specs[key] = called.spec
        for sub_key, sub in called.subprocess_specs.items():
            specs.setdefault(sub_key, sub)
    return specs


def _check_calls(session: Session, parsed: list[ParsedFile]) -> list[Problem]:
    """A call to a process neither deployed nor deployed together is refused (file, line)."""
    together = {pid for pf in parsed for pid in pf.process_ids}
    problems = []
    for pf in parsed:
        for call in pf.external_calls:
            if call.version is None and (call.called in together or latest_model(session, call.called)):
                continue
            if call.version is not None and session.scalar(select(ProcessModel.id).where(
                    ProcessModel.key == call.called, ProcessModel.version == call.version)):
                continue
            what = call.called if call.version is None else f"{call.called} 第 {call.version} 版"
            problems.append(Problem(
                f"调用活动引用的流程“{what}”未部署 / call activity '{call.element_id}' calls "
                f"'{call.called}'{'' if call.version is None else f' v{call.version}'}, which is "
                f"not deployed", pf.file_name, call.line, call.element_id))
    return problems


_XML_ENCODING = re.compile(r"""(^<\?xml[^>]*?encoding=["'])[^"']*(["'])""")


def _as_text(xml: str | bytes) -> str:
    """The model file's text: UTF-8 (with or without BOM) or UTF-16 with its BOM; anything else
    is refused as a model that cannot be read (never a UnicodeDecodeError)."""
    if not isinstance(xml, (bytes, bytearray)):
        return xml
    data = bytes(xml)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # stored and parsed as text from here on: its declaration must no longer say UTF-16
        return _XML_ENCODING.sub(r"\1UTF-8\2", data.decode("utf-16"), count=1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ModelInvalid([Problem(f"文件不是 UTF-8 编码的文本，无法读取（第 {e.start + 1} 字节） / "
                                    "the file is not UTF-8 text and cannot be read")]) from None


def _store(session: Session, parsed: ParsedFile, xml: str, actor: Actor,
           new: list, detail: dict | None = None) -> list[ProcessModel]:
    digest = sha256(xml)
    models = []
    for key in parsed.process_ids:
        latest = latest_model(session, key)
        if latest is not None and latest.sha256 == digest:
            models.append(latest)  # unchanged: same version
            continue
        version = (session.scalar(select(func.max(ProcessModel.version))
                                  .where(ProcessModel.key == key)) or 0) + 1
        model = ProcessModel(key=key, version=version, sha256=digest, bpmn_xml=xml,
                             file_name=parsed.file_name, deployed_at=clock.now(),
                             deployed_by=actor.username,
                             name=parsed.parser.get_process_parser(key).node.get("name"))
        session.add(model)
        session.flush()
        new.append((model, parsed))
        audit.record(session, "deploy", actor, task_name=None, process_key=key,
                     version=version, file=parsed.file_name, sha256=digest, **(detail or {}))
        models.append(model)
    return models


def _validated(session: Session, files: list[tuple[str, str]]) -> list[tuple[ParsedFile, str]]:
    parsed = [(parse_bpmn(xml, name), xml) for name, xml in files]
    problems = [p for pf, _ in parsed for p in pf.problems]
    problems += _check_calls(session, [pf for pf, _ in parsed if not pf.problems])
    if problems:
        raise ModelInvalid(problems)
    return parsed


def _deploy(session: Session, files: list[tuple[str, str]], actor: Actor,
            commit: bool, parsed: list[tuple[ParsedFile, str]] | None = None,
            detail: dict | None = None) -> list[ProcessModel]:
    if parsed is None:
        parsed = _validated(session, files)
    for attempt in (1, 2):
        new: list = []
        try:
            models = [m for pf, xml in parsed for m in _store(session, pf, xml, actor, new, detail)]
            if not commit:
                session.flush()
                return models
            session.commit()
            for model, parsed_file in new:  # no second parse on the first start
                spec_cache.put(model, parsed_file)
            return models
        except IntegrityError:  # another process deployed the same key at the same moment
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def deploy_string(session: Session, name: str, xml: str | bytes, actor: Actor, *,
                  commit: bool = True) -> list[ProcessModel]:
    """Deploy one BPMN document named ``name``; returns one model per executable process
    (new versions, or the unchanged latest ones). Raises ``ModelInvalid``."""
    return _deploy(session, [(name, _as_text(xml))], actor, commit)


def validate_string(session: Session, name: str, xml: str | bytes) -> ParsedFile:
    """Validate one BPMN document exactly as deploying it would (its calls into other files
    included), without deploying it. Raises ``ModelInvalid`` (every problem, file and line)."""
    [(parsed, _xml)] = _validated(session, [(name, _as_text(xml))])
    return parsed


def deploy_parsed(session: Session, parsed: ParsedFile, xml: str | bytes, actor: Actor, *,
                  commit: bool = True, detail: dict | None = None) -> list[ProcessModel]:
    """Deploy a document :func:`validate_string` accepted in this transaction; ``detail`` goes
    into each "deploy" audit record (e.g. the reviewed draft's id)."""
    return _deploy(session, [], actor, commit, [(parsed, _as_text(xml))], detail)


def deploy_file(session: Session, path: str | Path, actor: Actor, *,
                commit: bool = True) -> list[ProcessModel]:
    path = Path(path)
    return _deploy(session, [(path.name, path.read_text(encoding="utf-8"))], actor, commit)


def deploy_directory(session: Session, path: str | Path, actor: Actor, *,
                     commit: bool = True) -> list[ProcessModel]:
    """Deploy every ``*.bpmn`` file under ``path`` (recursively), all or nothing: one refused
    file refuses the lot, with every problem of every file."""
    root = Path(path)
    files = [(str(p.relative_to(root)), p.read_text(encoding="utf-8"))
             for p in sorted(root.rglob("*.bpmn"))]
    return _deploy(session, files, actor, commit)
