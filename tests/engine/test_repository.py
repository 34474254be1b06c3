"""Model repository: versions, the spec cache, and every deploy-time refusal with its file and
line."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.engine import repository, runtime
from app.engine.errors import ModelInvalid
from app.engine.models import AuditEvent, ProcessModel
from app.engine.repository import spec_cache
from app.engine.validation import validate_bpmn

from tests.engine.conftest import ADMIN, BPMN_DIR, CLERK, MONDAY

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://example.org/sscard/test">
"""


def user_task(task_id, form="engine_test_approve", extra_props="", name="Task"):
    return f"""    <bpmn:userTask id="{task_id}" name="{name}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="{form}"/>{extra_props}
      </spiffworkflow:properties></bpmn:extensionElements>
"""


def process(middle: str, lane_name="clerks", lane_refs=("t1",), pid="engine_test_small",
            executable="true") -> str:
    """start -> <middle: elements between f1 (incoming) and f2 (outgoing)> -> end."""
    refs = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in lane_refs)
    lane_attr = f' name="{lane_name}"' if lane_name is not None else ""
    return HEAD + f"""  <bpmn:process id="{pid}" isExecutable="{executable}">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1"{lane_attr}>{refs}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t1"/>
{middle}
    <bpmn:sequenceFlow id="f2" sourceRef="t1" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def simple_user_task(**kwargs):
    return user_task("t1", **kwargs) + """      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>"""


GOOD = process(simple_user_task())


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def only_problem(xml: str, name="small.bpmn"):
    problems = validate_bpmn(xml, name)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == name
    return problem


# -- versions and cache ----------------------------------------------------------------------------

def test_deploy_directory_versions(db):
    with db.session() as s:
        models = s.scalars(select(ProcessModel).order_by(ProcessModel.key)).all()
        assert [(m.key, m.version, m.file_name) for m in models] == [
            ("engine_test_failing", 1, "failing.bpmn"), ("engine_test_review", 1, "review.bpmn"),
            ("engine_test_wait", 1, "wait.bpmn")]
        assert models[1].name == "Review test" and models[1].deployed_by == "admin"
        assert len(models[1].sha256) == 64
        # Same content again: no new version, the same rows come back.
        again = repository.deploy_directory(s, BPMN_DIR, ADMIN)
        assert sorted((m.key, m.version) for m in again) == sorted(
            (m.key, m.version) for m in models)
        assert s.scalar(select(func.count()).select_from(ProcessModel)) == 3
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "deploy")) == 3


def test_changed_file_gives_new_version_and_running_cases_keep_theirs(db):
    with db.session() as s:
        old_case = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W1", CLERK,
                                          now=MONDAY)
        xml = (BPMN_DIR / "wait.bpmn").read_text()
        changed = xml.replace("waited_until = today()", "waited_until = today()\nversion = 2")
        [v2] = repository.deploy_string(s, "wait.bpmn", changed, ADMIN)
        assert (v2.key, v2.version) == ("engine_test_wait", 2)
        assert repository.latest_model(s, "engine_test_wait").id == v2.id
        new_case = runtime.start_instance(s, "engine_test_wait", {"days": 1}, "W2", CLERK,
                                          now=MONDAY)
        assert new_case.model_id == v2.id and old_case.model_id != v2.id
        later = MONDAY.replace(day=5)
        assert runtime.fire_due_timers(db.Session, later) == 2
        s.rollback()  # end this session's read snapshot: the timers fired in other sessions
        assert "version" not in runtime.instance_data(s, old_case.id)
        assert runtime.instance_data(s, new_case.id)["version"] == 2
        assert [m.version for m in repository.list_models(s, "engine_test_wait")] == [1, 2]


def test_spec_cache_parses_once_per_version(db):
    with db.session() as s:
        model = repository.latest_model(s, "engine_test_review")
        spec_cache.clear()
        before = spec_cache.parses
        first = repository.load(s, model.id)
        second = repository.load(s, model.id)
        assert first is second and spec_cache.parses == before + 1
        assert first.deadlines == {"statutory": ("15 working_days", "法定办结时限")} and first.summary_fields == ["name", "decision"]
        runtime.start_instance(s, "engine_test_review", {}, "C1", CLERK, now=MONDAY)
        assert spec_cache.parses == before + 1


def test_refused_model_is_not_stored(db):
    bad = process(simple_user_task(form="no_such_form"))
    with db.session() as s:
        with pytest.raises(ModelInvalid) as err:
            repository.deploy_string(s, "bad.bpmn", bad, ADMIN)
        assert err.value.kind == "invalid"
        [problem] = err.value.problems
        assert problem.file == "bad.bpmn" and problem.element_id == "t1"
        assert "no_such_form" in str(err.value)
        assert repository.latest_model(s, "engine_test_small") is None


def test_deploy_directory_is_all_or_nothing(db, tmp_path):
    (tmp_path / "good.bpmn").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.bpmn").write_text(GOOD.replace("engine_test_small", "other")
                                               .replace("engine_test_approve", "missing"))
    with db.session() as s:
        with pytest.raises(ModelInvalid) as err:
            repository.deploy_directory(s, tmp_path, ADMIN)
        assert [p.file for p in err.value.problems] == [str(Path("sub") / "bad.bpmn")]
        assert repository.latest_model(s, "engine_test_small") is None
        (tmp_path / "sub" / "bad.bpmn").unlink()
        [model] = repository.deploy_directory(s, tmp_path, ADMIN)
        assert (model.key, model.version) == ("engine_test_small", 1)


def test_deploy_file(db, tmp_path):
    path = tmp_path / "small.bpmn"
    path.write_text(GOOD)
    with db.session() as s:
        [model] = repository.deploy_file(s, path, ADMIN)
        assert model.file_name == "small.bpmn" and model.bpmn_xml == GOOD


# -- validation: each refusal with file and line -----------------------------------------------------

def test_good_model_passes():
    assert validate_bpmn(GOOD, "small.bpmn") == []
    for path in BPMN_DIR.glob("*.bpmn"):
        assert validate_bpmn(path.read_text(), path.name) == [], path


def test_xml_syntax_error():
    xml = GOOD.replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end"')
    problem = only_problem(xml)
    assert "XML" in problem.message and problem.line == line_of(xml, 'id="end"')


def test_schema_error():
    xml = GOOD.replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" color="red">')
    problem = only_problem(xml)
    assert "schema" in problem.message and "color" in problem.message
    assert problem.line == line_of(xml, 'color="red"')


def test_gateway_condition_syntax():
    middle = """    <bpmn:exclusiveGateway id="t1" default="f2">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>fx</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="fx" sourceRef="t1" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision ==</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
    xml = process(middle, lane_refs=()).replace(
        "<bpmn:incoming>f2</bpmn:incoming>",
        "<bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>fx</bpmn:incoming>")
    problem = only_problem(xml)
    assert problem.element_id == "fx" and "condition" in problem.message
    assert problem.line == line_of(xml, "decision ==")


def script_process(script: str, extension: str = "") -> str:
    middle = f"""    <bpmn:scriptTask id="t1" name="Compute">{extension}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>"""
    return process(middle, lane_refs=())


def test_script_syntax_with_line_inside_the_script():
    xml = script_process("a = 1\nb = (2\nc = 3")
    problem = only_problem(xml)
    assert problem.element_id == "t1" and "script" in problem.message
    assert problem.line in (line_of(xml, "b = (2"), line_of(xml, "c = 3"))


def test_script_refused_by_the_sandbox():
    xml = script_process("x = 1\nimport os")
    problem = only_problem(xml)
    assert "import" in problem.message and problem.line == line_of(xml, "import os")


def test_pre_and_post_scripts():
    ext = """<bpmn:extensionElements>
        <spiffworkflow:preScript>ok = 1</spiffworkflow:preScript>
        <spiffworkflow:postScript>y = ().__class__</spiffworkflow:postScript>
      </bpmn:extensionElements>"""
    xml = script_process("z = 1", ext)
    problem = only_problem(xml)
    assert "post-script" in problem.message and problem.line == line_of(xml, "postScript>y")


def test_timer_expression():
    middle = """    <bpmn:intermediateCatchEvent id="t1">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days(3</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>"""
    xml = process(middle, lane_refs=())
    problem = only_problem(xml)
    assert "timer" in problem.message and problem.line == line_of(xml, "working_days(3")


def test_unknown_form():
    xml = process(simple_user_task(form="no_such_form"))
    problem = only_problem(xml)
    assert "no_such_form" in problem.message and problem.element_id == "t1"
    assert problem.line == line_of(xml, '<bpmn:userTask id="t1"')


def test_user_task_without_form_key():
    middle = """    <bpmn:userTask id="t1" name="Task">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>"""
    xml = process(middle)
    problem = only_problem(xml)
    assert "formKey" in problem.message and problem.line == line_of(xml, 'userTask id="t1"')


def test_unknown_service_operation():
    middle = """    <bpmn:serviceTask id="t1" name="Call">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="police.nobody" resultVariable="r">
          <spiffworkflow:parameters/>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>"""
    xml = process(middle, lane_refs=())
    problem = only_problem(xml)
    assert "police.nobody" in problem.message
    assert problem.line == line_of(xml, 'serviceTask id="t1"')


def test_service_parameter_expression():
    middle = """    <bpmn:serviceTask id="t1" name="Call">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="engine_test.write" resultVariable="r">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="label" type="str" value="name +"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>"""
    xml = process(middle, lane_refs=())
    problem = only_problem(xml)
    assert "label" in problem.message and problem.line == line_of(xml, 'value="name +"')


def test_user_task_in_no_lane():
    xml = process(simple_user_task(), lane_refs=())
    problem = only_problem(xml)
    assert "lane" in problem.message and problem.element_id == "t1"
    assert problem.line == line_of(xml, 'userTask id="t1"')


def test_lane_without_name():
    xml = process(simple_user_task(), lane_name=None)
    problems = validate_bpmn(xml, "small.bpmn")
    lane = [p for p in problems if p.element_id == "lane1"]
    assert lane and lane[0].line == line_of(xml, '<bpmn:lane id="lane1"')
    assert all(p.file == "small.bpmn" for p in problems)


def test_four_eyes_names_unknown_task():
    prop = '\n        <spiffworkflow:property name="notSameAs" value="ghost"/>'
    xml = process(simple_user_task(extra_props=prop))
    problem = only_problem(xml)
    assert "ghost" in problem.message and problem.element_id == "t1"


def test_bad_due_working_days():
    prop = '\n        <spiffworkflow:property name="dueWorkingDays" value="three"/>'
    xml = process(simple_user_task(extra_props=prop))
    problem = only_problem(xml)
    assert "dueWorkingDays" in problem.message and problem.line == line_of(xml, 'userTask id="t1"')


def test_no_executable_process():
    xml = process(simple_user_task(), executable="false")
    problem = only_problem(xml)
    assert "executable" in problem.message


def test_semantic_error_gets_a_line():
    # Pitfall: an extension element whose id equals a task's id hides the task.
    xml = process(simple_user_task()).replace(
        '<spiffworkflow:properties>', '<spiffworkflow:properties id="t1">', 1)
    problems = validate_bpmn(xml, "small.bpmn")
    assert problems and all(p.file == "small.bpmn" and p.line for p in problems), problems


def test_every_problem_is_reported_at_once():
    xml = process(simple_user_task(form="nope"), lane_name="").replace(
        "</bpmn:process>", """<bpmn:sequenceFlow id="fy" sourceRef="t1" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">a ==</bpmn:conditionExpression>
    </bpmn:sequenceFlow></bpmn:process>""")
    with pytest.raises(ModelInvalid) as err:
        from app.engine.validation import parse_bpmn
        problems = parse_bpmn(xml, "many.bpmn").problems
        raise ModelInvalid(problems)
    ids = {p.element_id for p in err.value.problems}
    assert {"t1", "lane1", "fy"} <= ids
    assert all(p.line for p in err.value.problems)
    assert "many.bpmn:" in str(err.value)


def test_latest_models(db):
    with db.session() as s:
        xml = (BPMN_DIR / "wait.bpmn").read_text().replace("today()", "today() ")
        repository.deploy_string(s, "wait.bpmn", xml, ADMIN)
        assert [(m.key, m.version) for m in runtime.latest_models(s)] == [
            ("engine_test_failing", 1), ("engine_test_review", 1), ("engine_test_wait", 2)]


def test_a_model_file_in_utf16_deploys_and_one_not_in_utf8_is_refused(db):
    """Uploads arrive as bytes: UTF-16 with its BOM (some Windows editors) deploys as UTF-8
    does; bytes that are not UTF-8 are a refused model with a message, not a server error."""
    text = (BPMN_DIR / "wait.bpmn").read_text(encoding="utf-8")
    with db.session() as s:
        utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
        [model] = repository.deploy_string(s, "wait16.bpmn", utf16, ADMIN)
        assert model.version == 1
        with pytest.raises(ModelInvalid) as refused:
            repository.deploy_string(s, "latin.bpmn", text.encode("utf-8") + "é".encode("latin-1"), ADMIN)
        assert "UTF-8" in refused.value.message_zh
