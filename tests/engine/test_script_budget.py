"""The script budget (脚本运行预算) and the data rules around scripts: an endless loop, a deep
recursion or a huge allocation in a BPMN script ends in an incident instead of hanging the
worker; deploy refuses obvious endless loops and DOCTYPEs; task data a script leaves that is
not JSON is an incident, not a broken case.

No timing assertions: the budget is 0.3 s here and the tests only check that the step ended.
"""
from __future__ import annotations

import sqlite3
import sys
from datetime import datetime

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import select, text

from app.engine import repository, runtime, scripting, services
from app.engine.case import load_case
from app.engine.errors import (ModelInvalid, ScriptLimitExceeded, ScriptTimeExceeded,
                               ScriptTooDeep, ScriptValueTooLarge, TaskDataNotJson)
from app.engine.models import HumanTask, Incident, ProcessInstance
from app.engine.scripting import (DATE_HELPERS, ENV_SECONDS, SandboxedEnvironment,
                                  ScriptLimits, current_limits, endless_loops)
from app.engine.serialization import check_json, dump_state
from app.engine.validation import validate_bpmn

from tests.engine.conftest import ADMIN, CLERK, MANAGER, MONDAY, DomainRecord
from tests.engine.test_repository import HEAD

BUDGET = "0.3"


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    monkeypatch.setenv(ENV_SECONDS, BUDGET)


def model(script: str, process_id: str = "engine_test_budget") -> str:
    """start -> script task "compute" -> user task "after" (clerks) -> end."""
    return HEAD + f"""  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="clerks">
      <bpmn:flowNodeRef>after</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
    <bpmn:scriptTask id="compute" name="计算 Compute">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script><![CDATA[{script}]]></bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="after"/>
    <bpmn:userTask id="after" name="After">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="engine_test_approve"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


# Not an "obvious" endless loop (deploy lets it through): the time budget stops it.
ENDLESS = "x = x + 1\nn = 0\nwhile n >= 0:\n    n += 1"


def start(db, script, data=None, business_key="B1"):
    """Deploy ``script`` in a model and start a case; returns (case, its incident or None)."""
    with db.session() as s:
        repository.deploy_string(s, "budget.bpmn", model(script), ADMIN)
        inst = runtime.start_instance(s, "engine_test_budget", data or {}, business_key, CLERK,
                                      now=MONDAY)
        incident = s.scalars(select(Incident).where(Incident.instance_id == inst.id)).first()
        s.expunge_all()
    return inst, incident


def error_task_data(db, instance_id) -> dict:
    """The data of the failed script task, as the case row stores it."""
    with db.session() as s:
        instance = s.get(ProcessInstance, instance_id)
        case = load_case(s, instance, CLERK, MONDAY)
        [task] = [t for t in case.workflow.get_tasks() if t.task_spec.name == "compute"]
        assert runtime.instance_data(s, instance_id) == task.data  # what the case shows
        return dict(task.data)


# -- an endless loop -------------------------------------------------------------------------------

def test_endless_loop_ends_in_an_incident_and_the_case_is_as_before(db):
    inst, incident = start(db, ENDLESS, {"x": 1})
    assert inst.status == "error"
    assert incident is not None and incident.state == "open" and incident.task_name == "compute"
    assert "脚本运行超过时间预算（0.3 秒），已中止" in incident.message_zh
    assert "计算 Compute" in incident.message_zh and "（第 3 行）" in incident.message_zh
    assert "The script exceeded its time budget (0.3 s) and was stopped (line 3)" \
        in incident.message_en
    # The script's half-done assignments never reached task data; no task opened after it.
    assert error_task_data(db, inst.id) == {"x": 1}
    with db.session() as s:
        assert s.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)).all() == []
        # A retry runs it again: the same incident, one more attempt, still as before.
        runtime.retry_incident(s, incident.id, MANAGER, now=MONDAY)
        again = s.get(Incident, incident.id)
        assert again.state == "open" and again.attempts == 2
    assert error_task_data(db, inst.id) == {"x": 1}


def test_the_database_is_free_right_after(db, tmp_path):
    """The step committed and let go of SQLite's write lock: another connection that will not
    wait a single moment can write, and another step runs."""
    _, incident = start(db, ENDLESS, {"x": 1})
    assert incident is not None
    raw = sqlite3.connect(tmp_path / "engine.db", timeout=0, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO engine_test_record (label) VALUES ('after the loop')")
        raw.execute("COMMIT")
    finally:
        raw.close()
    with db.session() as s:
        assert s.scalars(select(DomainRecord.label)).all() == ["after the loop"]
        other = runtime.start_instance(s, "engine_test_review", {}, "B2", CLERK, now=MONDAY)
        assert other.status == "running"


@pytest.mark.postgres
def test_endless_loop_on_postgres(pg_db):
    inst, incident = start(pg_db, ENDLESS, {"x": 1})
    assert inst.status == "error" and incident is not None
    assert "time budget (0.3 s)" in incident.message_en
    assert error_task_data(pg_db, inst.id) == {"x": 1}
    # Nobody holds the case row: another session locks it without waiting.
    with pg_db.session() as s:
        s.execute(text("SET LOCAL lock_timeout = '100ms'"))
        row = s.execute(select(ProcessInstance.id).where(ProcessInstance.id == inst.id)
                        .with_for_update(nowait=True)).scalar_one()
        assert row == inst.id
        s.rollback()


TIMER_LOOP = HEAD + """  <bpmn:process id="engine_test_timer_loop" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait" name="Wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT" + str(len(
          [i for i in range(10**6) for j in range(10**6)])) + "H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_timer_expression_over_budget_rolls_the_step_back(db):
    """A timer expression is no task that can stop in an incident: the step is refused with
    the bilingual message and nothing of it is stored."""
    with db.session() as s:
        repository.deploy_string(s, "timer_loop.bpmn", TIMER_LOOP, ADMIN)
        with pytest.raises(ScriptTimeExceeded) as err:
            runtime.start_instance(s, "engine_test_timer_loop", {}, "T1", CLERK, now=MONDAY)
        assert err.value.kind == "invalid" and "0.3 秒" in err.value.message_zh
        assert s.scalars(select(ProcessInstance)).all() == []


@pytest.mark.parametrize("script", [
    # the stop is a BaseException inside the sandbox, re-raised by every later check
    "try:\n    while True:\n        x = 1\nexcept Exception:\n    pass\ndone = 1",
    "try:\n    while True:\n        x = 1\nexcept:\n    pass\nwhile True:\n    x = 2",
    "try:\n    while True:\n        x = 1\nfinally:\n    while True:\n        x = 2",
    "try:\n    try:\n        while True:\n            x = 1\n    except BaseException:\n"
    "        pass\nexcept Exception:\n    while True:\n        x = 2",
    "x = [i for i in range(10**6) for j in range(10**6)]",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nx = fib(60)",
    "x = sorted(range(10**6), key=lambda i: [j for j in range(10**6)])",
])
def test_a_script_cannot_swallow_its_stop(script):
    data = {"k": 1}
    with pytest.raises(ScriptTimeExceeded) as err:
        SandboxedEnvironment(limits=ScriptLimits(seconds=0.3)).execute(script, data)
    assert err.value.line is not None
    assert data == {"k": 1}


def test_conditions_and_expressions_have_the_budget_too():
    env = SandboxedEnvironment()  # limits from the environment variable: 0.3 s
    with pytest.raises(ScriptTimeExceeded):
        env.evaluate("any(i < 0 for i in range(10**6) for j in range(10**6))", {})
    with pytest.raises(ScriptValueTooLarge):
        env.evaluate("len('x' * 10**10) > 0", {})
    assert env.evaluate("sum(range(10)) == 45 and f'{total:>6}' == '   125'", {"total": 125})


def test_the_budget_leaves_a_tracer_alone():
    """No sys.settrace: a coverage tool's or debugger's tracer stays as it is."""
    calls = []

    def tracer(frame, event, arg):
        calls.append(event)
        return None

    before = sys.gettrace()
    sys.settrace(tracer)
    try:
        with pytest.raises(ScriptTimeExceeded):
            SandboxedEnvironment(limits=ScriptLimits(seconds=0.3)).execute(
                "while 1 > 0:\n    x = 1", {})
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(before)


def test_limits_come_from_the_environment(monkeypatch):
    assert current_limits().seconds == 0.3
    monkeypatch.setenv(ENV_SECONDS, "2")
    monkeypatch.setenv(scripting.ENV_MEMORY_MB, "0")
    monkeypatch.setenv(scripting.ENV_MAX_ITEMS, "5000")
    assert current_limits() == ScriptLimits(seconds=2.0, memory_mb=0, max_items=5000)
    monkeypatch.setenv(ENV_SECONDS, "soon")  # refused: the default
    assert current_limits().seconds == ScriptLimits().seconds
    monkeypatch.delenv(ENV_SECONDS)
    monkeypatch.delenv(scripting.ENV_MEMORY_MB)
    monkeypatch.delenv(scripting.ENV_MAX_ITEMS)
    assert current_limits() == ScriptLimits() and ScriptLimits().seconds == 1.0


def test_ordinary_scripts_are_untouched():
    data = {"items": [{"price": 60, "qty": 2}, {"price": 5, "qty": 1}], "name": "林堃"}
    SandboxedEnvironment().execute(
        "total = sum(i['price'] * i['qty'] for i in items)\n"
        "label = f'{name}：{total:>5}' + '!' * 3\n"
        "padded = str(total).zfill(8)\n"
        "big = 2 ** 62 + (1 << 10) - 10 ** 3\n"
        "csv = ','.join(str(i['qty']) for i in items)\n"
        "pct = '%d%%' % 50\n"
        "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n"
        "f20 = fact(20)\n"
        "while True:\n    if total > 0:\n        break\n"
        "squares = [n * n for n in range(1000)]\n", data)
    assert data["total"] == 125 and data["label"] == "林堃：  125!!!"
    assert data["padded"] == "00000125" and data["csv"] == "2,1" and data["pct"] == "50%"
    assert data["big"] == 2 ** 62 + 24 and data["f20"] == 2432902008176640000
    assert data["squares"][-1] == 998001


# -- deep recursion ------------------------------------------------------------------------------

def test_deep_recursion_ends_in_an_incident(db):
    inst, incident = start(db, "x = 2\ndef down(n):\n    return down(n + 1)\ny = down(0)",
                           {"x": 1})
    assert inst.status == "error"
    assert "递归过深" in incident.message_zh and "runaway recursion" in incident.message_en
    assert error_task_data(db, inst.id) == {"x": 1}


@pytest.mark.parametrize("script", ["f = lambda n: f(n + 1)\nf(0)",
                                    "def a(n):\n    return b(n)\ndef b(n):\n    return a(n)\na(0)"])
def test_recursion_without_def_or_through_two_functions(script):
    with pytest.raises(ScriptTooDeep):
        SandboxedEnvironment().execute(script, {})


# -- huge allocations, refused before allocating ---------------------------------------------------

HUGE = [
    "x = 'a' * 10**10",
    "x = [0] * 10**9",
    "x = 2 ** 10**8",
    "x = 10**10**8",
    "x = pow(2, 10**8)",
    "x = 1 << 10**9",
    "x = 'a'.ljust(10**10)",
    "x = str.center('a', 10**10)",
    "x = ('a' * 10**6).replace('a', 'bb')",
    "x = ''.join(['a' * 10**6] * 10)",
    "l = []\nfor i in range(2000):\n    l.append('a' * 1000)\nx = str(l)",
    "l = []\nfor i in range(2000):\n    l.append('a' * 1000)\nx = f'{l}'",
    "l = []\nfor i in range(2000):\n    l.append('a' * 1000)\nprint(l)",
    "x = f'{1:>10000000000}'",
    "x = '%10000000000d' % 1",
    "x = '%*d' % (10**10, 1)",
    "x = (1).to_bytes(10**10, 'big')",
    "x = sum(range(10**12))",
    "x = sum([[0] * 1000] * 1000, [0])",
    "x = [[0] * 10**6] * 10**6",  # small in memory, 10**12 items to sort or compare
    "x = list(zip(*[range(10**6)] * 10**6))",
    "x = 'a'\nwhile True:\n    x = x + x",
    "x = [0]\nwhile True:\n    x *= 2",
]


@pytest.mark.parametrize("script", HUGE)
def test_huge_allocations_are_refused(script):
    data = {"k": 1}
    with pytest.raises(ScriptValueTooLarge) as err:
        SandboxedEnvironment().execute(script, data)
    assert "过大" in err.value.message_zh and "too large" in err.value.message_en
    assert data == {"k": 1}


def test_a_huge_allocation_in_a_case_is_an_incident(db):
    inst, incident = start(db, "x = 2\ny = [0] * 10**9", {"x": 1})
    assert inst.status == "error"
    assert "脚本要生成的文本或列表过大" in incident.message_zh
    assert "about 1,000,000,000 characters or items, limit 1,000,000" in incident.message_en
    assert error_task_data(db, inst.id) == {"x": 1}


def test_2_to_the_10_to_the_8_in_a_case_is_an_incident(db):
    inst, incident = start(db, "y = 2 ** 10**8")
    assert inst.status == "error" and "整数过大" in incident.message_zh
    assert "too large integer" in incident.message_en


# -- endless loops refused when deploying ----------------------------------------------------------

@pytest.mark.parametrize("script, line", [("while True: pass", 1),
                                          ("x = 1\nwhile 1:\n    x += 1", 2),
                                          ("def f():\n    while not False:\n        pass\nf()", 2)])
def test_obvious_endless_loop_refused_at_deploy(db, script, line):
    xml = model(script, "engine_test_endless")
    with db.session() as s:
        with pytest.raises(ModelInvalid) as err:
            repository.deploy_string(s, "endless.bpmn", xml, ADMIN)
        assert repository.latest_model(s, "engine_test_endless") is None
    [problem] = err.value.problems
    assert problem.file == "endless.bpmn" and problem.element_id == "compute"
    script_line = next(n for n, text in enumerate(xml.splitlines(), 1)
                       if text.startswith("      <bpmn:script><![CDATA["))
    assert problem.line == script_line + line - 1
    assert f"第 {line} 行的 while 循环条件恒为真" in problem.message
    assert f"line {line}: this while loop's condition is always true" in problem.message


@pytest.mark.parametrize("script", [
    "while True:\n    if x:\n        break",
    "def f():\n    while True:\n        return 1\ny = f()",
    "while True:\n    raise ValueError('stop')",
    "while x:\n    x = False",
])
def test_loops_that_can_end_deploy(db, script):
    assert endless_loops(script) == []
    with db.session() as s:
        repository.deploy_string(s, "ends.bpmn", model(script, "engine_test_ends"), ADMIN)


def test_a_break_of_an_inner_loop_does_not_count():
    assert endless_loops("while True:\n    for i in range(3):\n        break") == [1]
    assert endless_loops("while True:\n    def g():\n        return 1") == [1]
    assert endless_loops("while True:\n    for i in range(3):\n        pass\n    else:\n"
                         "        break") == []


# -- task data that is not JSON --------------------------------------------------------------------

@pytest.mark.parametrize("script, zh, en", [
    ("x = 2\nv = {1, 2}", "是集合（set）", "is a set"),
    ("x = 2\nv = 'ab'.encode()", "是字节串（bytes）", "is bytes"),
    ("x = 2\nv = 10 ** 4999", "超出 ±2^63 范围的整数", "integer beyond ±2^63"),
    ("x = 2\nv = {'n': [2 ** 63]}", "超出 ±2^63 范围的整数", "integer beyond ±2^63"),
    ("x = 2\nv = [float('inf')]", "不是有限数", "not a finite number"),
    ("x = 2\nv = []\nv.append(v)", "循环结构", "circular"),
])
def test_task_data_that_is_not_json_is_an_incident(db, script, zh, en):
    inst, incident = start(db, script, {"x": 1})
    assert inst.status == "error"
    assert "任务数据“v" in incident.message_zh and zh in incident.message_zh
    assert "Task data 'v" in incident.message_en and en in incident.message_en
    assert error_task_data(db, inst.id) == {"x": 1}  # nothing of the script was kept
    with db.session() as s:  # the case loads and can be cancelled
        assert runtime.cancel_instance(s, inst.id, MANAGER).status == "cancelled"


def test_a_date_object_is_refused_with_a_hint():
    data = {"x": 1}
    with pytest.raises(TaskDataNotJson, match=r"v\['when'\].*ISO date text"):
        SandboxedEnvironment(DATE_HELPERS).execute("x = 2\nv = {'when': date(2025, 3, 3)}", data)
    assert data == {"x": 1}


def test_json_data_goes_through(db):
    inst, incident = start(db, "v = {'n': 2 ** 63 - 1, 'm': -2 ** 63, 'l': [1.5, None, True],"
                               " 't': (1, 2)}", {"x": 1})
    assert incident is None and inst.status == "running"
    with db.session() as s:
        assert runtime.instance_data(s, inst.id)["v"] == {"n": 2 ** 63 - 1, "m": -2 ** 63,
                                                          "l": [1.5, None, True], "t": [1, 2]}


def test_a_service_result_that_is_not_json_is_an_incident(db):
    xml = HEAD + """  <bpmn:process id="engine_test_bigint" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:serviceTask id="call" name="Call">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="engine_test.bigint" resultVariable="answer">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="n" type="int" value="70"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
    services.registry.operation("engine_test.bigint")(lambda ctx, n: {"id": 2 ** n})
    try:
        with db.session() as s:
            repository.deploy_string(s, "bigint.bpmn", xml, ADMIN)
            inst = runtime.start_instance(s, "engine_test_bigint", {}, None, CLERK, now=MONDAY)
            [incident] = s.scalars(select(Incident)).all()
            assert inst.status == "error" and incident.operation == "engine_test.bigint"
            assert "Task data 'answer['id']' is an integer beyond ±2^63" in incident.message_en
    finally:
        services.registry.unregister("engine_test.bigint")


def test_a_state_that_is_not_json_is_refused_with_the_task_and_value():
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(model("y = 1").encode())
    wf = BpmnWorkflow(parser.get_spec("engine_test_budget"))
    task = wf.get_tasks()[0]
    dump_state(wf)
    task.data["when"] = datetime(2025, 3, 3)  # plain json.dumps: no datetime
    with pytest.raises(TaskDataNotJson, match="ISO"):
        dump_state(wf)
    task.data["when"] = "2025-03-03T00:00:00"
    task.data["tags"] = {"a"}
    with pytest.raises(TaskDataNotJson) as err:
        dump_state(wf)
    assert err.value.path == f"tags ({task.task_spec.name})"
    task.data["tags"] = ["a"]
    task.data["n"] = 10 ** 30
    with pytest.raises(TaskDataNotJson, match="beyond"):
        dump_state(wf)
    task.data["n"] = "1" * 30  # long digits as text are fine
    dump_state(wf)


def test_check_json_names_the_value():
    with pytest.raises(TaskDataNotJson) as err:
        check_json({"order": {"lines": [1, {"tags": {1}}]}})
    assert err.value.path == "order['lines'][1]['tags']"
    with pytest.raises(TaskDataNotJson, match="type"):
        check_json({"k": {(1, 2): "tuple key"}})
    with pytest.raises(TaskDataNotJson, match="too large"):
        check_json({"big": ["a" * 1000] * 1000}, max_size=100_000)
    check_json({"ok": {"a": [1, 2.5, None, True, "x"], "1": {}}})


# -- DOCTYPE and entities --------------------------------------------------------------------------

BODY = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="http://example.org/sscard/test">
  <bpmn:process id="engine_test_entity" isExecutable="true">
    <bpmn:documentation>&e;</bpmn:documentation>
    <bpmn:startEvent id="start"/>
  </bpmn:process>
</bpmn:definitions>
"""
LAUGHS = "".join(f'  <!ENTITY e{i} "{f"&e{i - 1};" * 10}">\n' for i in range(1, 10))
DOCTYPES = [
    '<?xml version="1.0"?>\n<!DOCTYPE x [\n  <!ENTITY e "expanded">\n]>\n' + BODY,
    '<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE x [\n  <!ENTITY e0 "lol">\n' + LAUGHS
    + '  <!ENTITY e "&e9;">\n]>\n' + BODY,
    '<!DOCTYPE x SYSTEM "file:///etc/passwd">\n' + BODY.replace("&e;", "x"),
]


@pytest.mark.parametrize("xml", DOCTYPES)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_doctype_is_refused_before_parsing(db, xml, encoding):
    if encoding != "utf-8":
        xml = xml.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    data = xml.encode(encoding)
    [problem] = validate_bpmn(data, "entity.bpmn")
    assert "DOCTYPE" in problem.message and "安全" in problem.message
    assert "refused for security reasons" in problem.message and problem.file == "entity.bpmn"
    if encoding != "utf-8":
        return  # (repository.deploy_string reads bytes as UTF-8)
    with db.session() as s:
        with pytest.raises(ModelInvalid) as err:
            repository.deploy_string(s, "entity.bpmn", data, ADMIN)
        assert err.value.kind == "invalid"
        assert repository.latest_model(s, "engine_test_entity") is None


def test_an_undeclared_entity_is_a_clear_syntax_error():
    [problem] = validate_bpmn(BODY, "entity.bpmn")
    assert "Entity 'e' not defined" in problem.message and problem.line == 4
    assert "custom entities are not supported" in problem.message


def test_escaped_characters_are_fine():
    xml = HEAD + """  <bpmn:process id="engine_test_amp" isExecutable="true">
    <bpmn:documentation>A &amp; B &lt;C&gt; &#20320;</bpmn:documentation>
    <bpmn:startEvent id="start"/>
  </bpmn:process>
</bpmn:definitions>
"""
    assert validate_bpmn(xml, "amp.bpmn") == []


def test_limit_errors_are_engine_errors_with_a_kind():
    for error in (ScriptTimeExceeded(1.0), ScriptTooDeep(100), ScriptValueTooLarge(10, 5)):
        assert isinstance(error, ScriptLimitExceeded) and error.kind == "invalid"
        assert error.message_zh and error.message_en
    assert ScriptTimeExceeded(1.0).message_zh == "脚本运行超过时间预算（1 秒），已中止"
    assert ScriptTimeExceeded(1.0).message_en == \
        "The script exceeded its time budget (1 s) and was stopped"
