"""Deploy-time validation of BPMN models (部署校验).

A model is refused before any case can run on it when: the XML is malformed; it breaks the
BPMN/SpiffWorkflow schema; SpiffWorkflow cannot build it; a condition, script, timer or
service parameter expression does not compile in the sandbox; a user task has no lane, no
form key or a form key with no form; a lane has no name (group); a service task names an
operation nobody registered; a platform property (``dueWorkingDays``, ``notSameAs``...) is
malformed; a script has an obvious endless loop (``while True:`` with no ``break``/``return``);
the file has a DOCTYPE (entity declarations: refused before parsing, so no entity is ever
expanded). Every problem carries the file, the line and the element id.

Warnings (``ParsedFile.warnings``, logged; the model is deployed): a process, lane, user or
manual task without an English name (``name.en``), a named deadline without
``deadline.NAME.title.en``.
"""
from __future__ import annotations

import codecs
import copy
import logging
import re
import threading
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask as ManualTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask as SpiffServiceTask

from app.engine import ports
from app.engine import properties as props
from app.engine.lengths import BadLength, Length
from app.engine import services
from app.engine.errors import Problem
from app.engine.scripting import compile_check, endless_loops

log = logging.getLogger(__name__)

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}

_SCHEMA_LOCK = threading.Lock()  # the shared validator keeps its error log on itself

# (xpath, mode, what) of every piece of Python the engine will run
_EXPRESSIONS = (
    (".//bpmn:sequenceFlow/bpmn:conditionExpression", "eval", "条件表达式 / condition"),
    (".//bpmn:scriptTask/bpmn:script", "exec", "脚本 / script"),
    (".//spiffworkflow:preScript", "exec", "前置脚本 / pre-script"),
    (".//spiffworkflow:postScript", "exec", "后置脚本 / post-script"),
    (".//bpmn:timerEventDefinition/bpmn:timeDate", "eval", "定时器表达式 / timer expression"),
    (".//bpmn:timerEventDefinition/bpmn:timeDuration", "eval",
     "定时器表达式 / timer expression"),
    (".//bpmn:timerEventDefinition/bpmn:timeCycle", "eval", "定时器表达式 / timer expression"),
    (".//spiffworkflow:messagePayload", "eval", "消息内容表达式 / message payload"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "eval", "条件事件 / condition"),
)


@dataclass(frozen=True)
class ExternalCall:
    """A call activity whose called process is in another file (调用其他文件的子流程)."""
    caller: str          # process id of the calling process
    called: str          # process id called
    version: int | None  # pinned version (``calledVersion``), else the latest at case start
    element_id: str
    line: int | None


@dataclass
class ParsedFile:
    """A BPMN file that passed validation: its parser and its executable process ids."""

    file_name: str
    parser: SpiffBpmnParser
    process_ids: list[str]
    problems: list[Problem] = field(default_factory=list)
    external_calls: list[ExternalCall] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # deployable, but e.g. no English name


def own_subprocess_specs(parser: SpiffBpmnParser, process_id: str) -> tuple[dict, set[str]]:
    """(specs of the sub-processes defined in this file, ids of processes called in others)."""
    found = parser.get_subprocess_specs(process_id, require_call_activity_specs=False)
    own = {k: v for k, v in found.items() if v is not None}
    return own, {k for k, v in found.items() if v is None}


def external_calls(parser: SpiffBpmnParser, process_id: str, lines: dict) -> list[ExternalCall]:
    own, missing = own_subprocess_specs(parser, process_id)
    calls = []
    for spec in [parser.get_spec(process_id), *own.values()]:
        for ts in spec.task_specs.values():
            if isinstance(ts, SubWorkflowTaskMixin) and ts.spec in missing:
                pinned = props.properties(ts).get(props.CALLED_VERSION)
                version = int(pinned) if pinned and str(pinned).strip().isdigit() else None
                calls.append(ExternalCall(process_id, ts.spec, version, ts.bpmn_id,
                                          lines.get(ts.bpmn_id)))
    return calls


def _to_bytes(xml: str | bytes) -> bytes:
    return xml.encode("utf-8") if isinstance(xml, str) else xml


def _xml_parser() -> etree.XMLParser:
    # Uploaded by analysts: no entities, no DTD, no network (a DOCTYPE is refused before).
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           load_dtd=False, dtd_validation=False)


# Before the root element only the XML declaration, comments, processing instructions and a
# DOCTYPE may come: look there for the DOCTYPE.
_PROLOG_DOCTYPE = re.compile(r"\A\ufeff?(?:\s+|<\?.*?\?>|<!--.*?-->)*<!DOCTYPE", re.S)
_DOCTYPE_MESSAGE = ("文件含有 DOCTYPE（实体声明），出于安全原因不予接受，请删除 DOCTYPE 并直接写出文字 / "
                    "the file has a DOCTYPE (entity declarations), which is refused for "
                    "security reasons: remove the DOCTYPE and write the text out")


def _xml_text(xml: str | bytes) -> str:
    """The document as text, enough to find a DOCTYPE (UTF-16/32 by their byte order mark,
    else read as UTF-8; an undecodable byte is replaced)."""
    if isinstance(xml, str):
        return xml
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if xml.startswith(bom):
            return xml.decode(encoding, errors="replace")
    return xml.decode("utf-8", errors="replace")


def _doctype_problem(xml: str | bytes, file_name: str) -> Problem | None:
    """A DOCTYPE refused before any XML parser sees it (no entity expansion, "billion laughs")."""
    found = _PROLOG_DOCTYPE.search(_xml_text(xml))
    if found is None:
        return None
    line = found.string.count("\n", 0, found.end()) + 1
    return Problem(_DOCTYPE_MESSAGE, file_name, line)


def _owner_id(element) -> str | None:
    while element is not None:
        if element.get("id"):
            return element.get("id")
        element = element.getparent()
    return None


def _check_expressions(doc, file_name: str) -> list[Problem]:
    problems = []
    for xpath, mode, what in _EXPRESSIONS:
        for element in doc.xpath(xpath, namespaces=NS):
            source = element.text or ""
            if not source.strip():
                continue
            found = _compile_problem(source, mode, what, element, file_name)
            if not found and mode == "exec":
                found = _endless_loop_problems(source, what, element, file_name)
            problems += found
    for param in doc.xpath(".//spiffworkflow:serviceTaskOperator//spiffworkflow:parameter",
                           namespaces=NS):
        if param.get("value"):
            problems += _compile_problem(param.get("value"), "eval",
                                         f"服务参数 / service parameter '{param.get('id')}'",
                                         param, file_name)
    return problems


def _compile_problem(source, mode, what, element, file_name) -> list[Problem]:
    error = compile_check(source, mode)
    if error is None:
        return []
    # The text starts on the element's line, so its line N is N - 1 lines further down.
    line = element.sourceline + max(error.lineno or 1, 1) - 1 if element.sourceline else None
    return [Problem(f"{what}：{error}", file_name, line, _owner_id(element))]


def _endless_loop_problems(source, what, element, file_name) -> list[Problem]:
    """``while True:`` with no ``break``/``return``: it would run until the script's time
    budget stops it, on every case. Refused with its line."""
    problems = []
    for lineno in endless_loops(source):
        line = element.sourceline + lineno - 1 if element.sourceline else None
        problems.append(Problem(
            f"{what}：第 {lineno} 行的 while 循环条件恒为真，循环体中没有 break 或 return，会无限运行 / "
            f"line {lineno}: this while loop's condition is always true and its body has no "
            f"break or return, so it never ends", file_name, line, _owner_id(element)))
    return problems


def _check_lanes(doc, file_name: str) -> list[Problem]:
    return [Problem("泳道没有名称（岗位/用户组） / lane has no name (group)", file_name,
                    lane.sourceline, lane.get("id"))
            for lane in doc.xpath(".//bpmn:lane", namespaces=NS)
            if not (lane.get("name") or "").strip()]


def _check_specs(parser: SpiffBpmnParser, process_ids, lines, file_name) -> list[Problem]:
    problems: list[Problem] = []
    specs = {}
    shared = set()
    for pid in process_ids:
        specs[pid] = parser.get_spec(pid)
        if _process_caller_lane(parser, pid):
            shared.add(pid)
        own, _external = own_subprocess_specs(parser, pid)
        for key, sub in own.items():
            specs[key] = sub
            if pid in shared:
                shared.add(key)

    def problem(msg, task_spec):
        bpmn_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
        problems.append(Problem(msg, file_name, lines.get(bpmn_id), bpmn_id))

    for spec in specs.values():
        if spec is None:
            continue
        user_tasks = {ts.bpmn_id for ts in spec.task_specs.values()
                      if isinstance(ts, (UserTaskMixin, ManualTaskMixin))}
        for ts in spec.task_specs.values():
            p = props.properties(ts)
            for name in props.INT_PROPERTIES:
                if name in p and not str(p[name]).strip().isdigit():
                    problem(f"属性 {name} 必须是非负整数 / property {name} must be a whole "
                            f"number >= 0 (got {p[name]!r})", ts)
            if isinstance(ts, (UserTaskMixin, ManualTaskMixin)):
                if not ts.lane and spec.name not in shared:
                    problem("人工任务不在任何泳道（岗位）中 / user task is in no lane (group)", ts)
                key = props.form_key(ts)
                if key is None and isinstance(ts, UserTaskMixin):
                    problem(f"用户任务缺少表单（属性 {props.FORM_KEY}） / user task has no form "
                            f"key (property {props.FORM_KEY})", ts)
                elif key is not None and not ports.forms().has_form(key):
                    problem(f"表单“{key}”不存在 / no form registered under key '{key}'", ts)
                for other in props.not_same_as(ts):
                    if other not in user_tasks:
                        problem(f"四眼原则引用的任务“{other}”不存在 / {props.NOT_SAME_AS} names "
                                f"unknown user task '{other}'", ts)
            if isinstance(ts, SpiffServiceTask) and ts.operation_name not in services.registry:
                problem(f"服务操作“{ts.operation_name}”未注册 / service operation "
                        f"'{ts.operation_name}' is not registered", ts)
    for pid in process_ids:
        node = parser.get_process_parser(pid).node
        declared = props.declared_deadlines(process_properties(parser, pid))
        for name, (length, _title) in declared.items():
            try:
                Length.parse(length)
            except BadLength as e:
                problems.append(Problem(f"时限 {name}：{e}", file_name, node.sourceline, pid))
        names = set(declared)
        tree = [parser.get_spec(pid), *own_subprocess_specs(parser, pid)[0].values()]
        for ts in (ts for spec in tree if spec is not None for ts in spec.task_specs.values()):
            for prop in (props.DEADLINE_STARTS, props.DEADLINE_MET, props.PAUSES_DEADLINE):
                for name in props.deadline_names(ts, prop):
                    if name != "*" and name not in names:
                        problem(f"属性 {prop} 引用的时限“{name}”未在流程上声明（deadline.{name}） / "
                                f"{prop} names undeclared deadline '{name}'", ts)
        value = process_properties(parser, pid).get(props.DEADLINE_WORKING_DAYS)
        if value is not None and not str(value).strip().isdigit():
            problems.append(Problem(
                f"属性 {props.DEADLINE_WORKING_DAYS} 必须是非负整数 / property "
                f"{props.DEADLINE_WORKING_DAYS} must be a whole number >= 0 (got {value!r})",
                file_name, node.sourceline, pid))
    return problems


def _process_caller_lane(parser: SpiffBpmnParser, process_id: str) -> bool:
    value = process_properties(parser, process_id).get(props.CALLER_LANE, "")
    return str(value).strip().lower() == "true"


def process_properties(parser: SpiffBpmnParser, process_id: str) -> dict[str, str]:
    """``spiffworkflow:properties`` of a ``bpmn:process`` element."""
    node = parser.get_process_parser(process_id).node
    return SpiffTaskParser._parse_extensions(node).get("properties") or {}


def parse_bpmn(xml: str | bytes, file_name: str) -> ParsedFile:
    """Parse and validate one file; ``problems`` is empty when the model may be deployed."""
    empty = SpiffBpmnParser()
    doctype = _doctype_problem(xml, file_name)
    if doctype is not None:
        return ParsedFile(file_name, empty, [], [doctype])
    try:
        doc = etree.fromstring(_to_bytes(xml), parser=_xml_parser())
    except etree.XMLSyntaxError as err:
        hint = ("（不支持自定义实体：请直接写出文字，“&”写作 &amp;） / custom entities are not "
                "supported: write the text out, '&' as &amp;") if "Entity '" in err.msg else ""
        return ParsedFile(file_name, empty, [], [
            Problem(f"XML 语法错误 / XML syntax error: {err.msg}{hint}", file_name, err.lineno)])
    info = doc.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:  # one the prolog scan missed (encoding)
        return ParsedFile(file_name, empty, [], [Problem(_DOCTYPE_MESSAGE, file_name, 1)])

    checked = copy.deepcopy(doc)  # the validator rewrites some tags before checking
    VALIDATOR.preprocess(checked)
    with _SCHEMA_LOCK:
        schema_errors = [] if VALIDATOR.validator.validate(checked) else [
            Problem(f"不符合 BPMN 模式 / schema: {e.message}", file_name, e.line)
            for e in VALIDATOR.validator.error_log]
    if schema_errors:
        return ParsedFile(file_name, empty, [], schema_errors)

    lines = {el.get("id"): el.sourceline for el in doc.iter() if isinstance(el.tag, str)
             and el.get("id")}
    problems = _check_expressions(doc, file_name) + _check_lanes(doc, file_name)

    parser = SpiffBpmnParser()  # schema already checked above
    process_ids: list[str] = []
    try:
        parser.add_bpmn_xml(doc, filename=file_name)
        process_ids = parser.get_process_ids()
        if not process_ids:
            problems.append(Problem("文件中没有可执行流程（isExecutable=\"true\"） / no "
                                    "executable process in the file", file_name, doc.sourceline))
        problems += _check_specs(parser, process_ids, lines, file_name)
        calls = [c for pid in process_ids for c in external_calls(parser, pid, lines)]
    except ValidationException as err:
        line = err.line_number or lines.get(err.id) or None
        problems.append(Problem(f"流程无法解析 / cannot build the process: {err}", file_name,
                                int(line) if line else None, err.id or None))
    except Exception as err:  # the parser has other failure modes (KeyError, ...)
        problems.append(Problem(f"流程无法解析 / cannot build the process: "
                                f"{type(err).__name__}: {err}", file_name))
    else:
        warnings = english_name_warnings(doc, file_name)
        if warnings:
            log.warning("%s: %d element(s) without an English name (name.en)", file_name,
                        len(warnings))
        return ParsedFile(file_name, parser, process_ids, problems, calls, warnings)
    return ParsedFile(file_name, parser, process_ids, problems)


def _own_property(element, name: str) -> str | None:
    found = element.xpath("./bpmn:extensionElements/spiffworkflow:properties/"
                          "spiffworkflow:property[@name=$name]/@value", namespaces=NS, name=name)
    return found[0].strip() if found and found[0].strip() else None


def english_name_warnings(doc, file_name: str) -> list[Problem]:
    """Processes, lanes, user and manual tasks without ``name.en`` and named deadlines without
    ``deadline.NAME.title.en``: English pages would show their Chinese names. Not a reason to
    refuse the model (``ParsedFile.warnings``)."""
    found = []
    missing = ("缺少英文名称（属性 {prop}），英文界面将显示中文名称 / no English name (property "
               "{prop}): English pages show the Chinese name")
    elements = doc.xpath(".//bpmn:process | .//bpmn:lane | .//bpmn:userTask | .//bpmn:manualTask",
                         namespaces=NS)
    for element in elements:
        if _own_property(element, props.NAME_EN) is None:
            found.append(Problem(missing.format(prop=props.NAME_EN), file_name,
                                 element.sourceline, element.get("id")))
    for process in doc.xpath(".//bpmn:process", namespaces=NS):
        names = process.xpath("./bpmn:extensionElements/spiffworkflow:properties/"
                              "spiffworkflow:property/@name", namespaces=NS)
        for name in names:
            if props.is_deadline_length(name):
                prop = name + props.TITLE_SUFFIX + props.EN_SUFFIX
                if prop not in names:
                    found.append(Problem(missing.format(prop=prop), file_name,
                                         process.sourceline, process.get("id")))
    return found


def validate_bpmn(xml: str | bytes, file_name: str) -> list[Problem]:
    """Every reason to refuse this BPMN file (empty list: it may be deployed)."""
    return parse_bpmn(xml, file_name).problems
