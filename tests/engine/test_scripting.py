"""The BPMN script sandbox: SpiffWorkflow semantics kept, known escapes refused."""
import builtins
import logging
from datetime import datetime

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.engine.scripting import (DATE_HELPERS, SandboxedEnvironment, SandboxedScriptEngine,
                                  ScriptCompileError, compile_check)
from app.engine.functions import make_working_days
from app.common.clock import CHINA_TZ
from app.sla import WorkingDayCalendar, YearOverrides

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs" targetNamespace="http://example.org/sscard">
  <bpmn:process id="review" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
    <bpmn:scriptTask id="compute" name="Compute total">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script><![CDATA[
total = sum(item['price'] * item['qty'] for item in items)
summary = {'count': len(items)}
summary['total'] = total
tags = sorted(set(t for item in items for t in item.get('tags', [])))
first, *rest = [item['name'] for item in items]
n = 0
for i, item in enumerate(items):
    n += i
def double(x):
    return x * 2
doubled = double(total)
print('computed', total)
]]></bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f_small">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_big</bpmn:outgoing><bpmn:outgoing>f_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_big" sourceRef="gw" targetRef="approve">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">total &gt;= 100 and 'vip' in tags</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="gw" targetRef="reject"/>
    <bpmn:scriptTask id="approve"><bpmn:incoming>f_big</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>decision = 'approve'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="reject"><bpmn:incoming>f_small</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>decision = 'reject'</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end1"/>
    <bpmn:sequenceFlow id="f4" sourceRef="reject" targetRef="end2"/>
    <bpmn:endEvent id="end1"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmn:process id="wait" isExecutable="true">
    <bpmn:startEvent id="w_start"><bpmn:outgoing>w1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="w1" sourceRef="w_start" targetRef="deadline"/>
    <bpmn:intermediateCatchEvent id="deadline" name="Deadline">
      <bpmn:incoming>w1</bpmn:incoming><bpmn:outgoing>w2</bpmn:outgoing>
      <bpmn:timerEventDefinition>
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days(days)</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="w2" sourceRef="deadline" targetRef="w_end"/>
    <bpmn:endEvent id="w_end"><bpmn:incoming>w2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
  <bpmn:process id="evil" isExecutable="true">
    <bpmn:startEvent id="e_start"><bpmn:outgoing>e1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="e1" sourceRef="e_start" targetRef="e_script"/>
    <bpmn:scriptTask id="e_script"><bpmn:incoming>e1</bpmn:incoming><bpmn:outgoing>e2</bpmn:outgoing>
      <bpmn:script>ok = 1
open(marker, 'w').write('pwned')</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="e2" sourceRef="e_script" targetRef="e_end"/>
    <bpmn:endEvent id="e_end"><bpmn:incoming>e2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def parser():
    p = SpiffBpmnParser()
    p.add_bpmn_str(BPMN.encode())
    return p


def run(parser, process_id, data, engine=None):
    wf = BpmnWorkflow(parser.get_spec(process_id), script_engine=engine or SandboxedScriptEngine())
    [start] = wf.get_tasks(state=TaskState.READY)
    start.data.update(data)
    wf.do_engine_steps()
    return wf


ITEMS = [{"name": "card", "price": 60, "qty": 2, "tags": ["vip", "new"]},
         {"name": "sleeve", "price": 5, "qty": 1}]


def test_script_task_and_gateway(parser, caplog):
    with caplog.at_level(logging.INFO, logger="app.engine.scripting"):
        wf = run(parser, "review", {"items": ITEMS})
    assert wf.is_completed()
    data = wf.last_task.data
    assert data["total"] == 125 and data["summary"] == {"count": 2, "total": 125}
    assert data["tags"] == ["new", "vip"] and data["decision"] == "approve"
    assert data["first"] == "card" and data["rest"] == ["sleeve"] and data["n"] == 1
    assert data["doubled"] == 250
    assert "double" not in data and not any(k.startswith("_") for k in data)
    assert "computed 125" in caplog.text  # print() goes to the log
    # Task data stays serializable (nothing the sandbox added is left behind).
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    assert serializer.deserialize_json(serializer.serialize_json(wf)).is_completed()


def test_default_branch(parser):
    wf = run(parser, "review", {"items": ITEMS[1:]})
    assert wf.last_task.data["decision"] == "reject"


def _engine(now, calendar=None):
    fn = make_working_days(calendar or WorkingDayCalendar(), now=lambda: now)
    return SandboxedScriptEngine({"working_days": fn})


def test_timer_expression_calls_working_days(parser):
    # Mon 2024-09-30 + 1 working day = Tue 2024-10-08 (National Day holiday in between).
    wf = run(parser, "wait", {"days": 1}, _engine(datetime(2024, 9, 30, 10, tzinfo=CHINA_TZ)))
    timer = [t for t in wf.get_tasks() if t.task_spec.name == "deadline"][0]
    assert timer.internal_data["event_value"] == "2024-10-08T23:59:59+08:00"
    assert wf.is_completed()  # that moment has passed, so the timer fired


def test_timer_in_the_future_waits(parser):
    far = WorkingDayCalendar({2099: YearOverrides({}, complete=True)})
    wf = run(parser, "wait", {"days": 3}, _engine(datetime(2099, 1, 1, 9, tzinfo=CHINA_TZ), far))
    assert not wf.is_completed()
    [event] = wf.waiting_events()
    assert event.value == "2099-01-06T23:59:59+08:00"  # Thu 1 + Fri 2, Mon 5, Tue 6


def test_escape_in_a_script_task_fails_the_task(parser, tmp_path):
    marker = tmp_path / "marker"
    with pytest.raises(WorkflowTaskException) as err:
        run(parser, "evil", {"marker": str(marker)})
    assert err.value.line_number == 2 and "open" in str(err.value)
    assert not marker.exists()


# -- known escapes ----------------------------------------------------------------------------

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"
    "._module.__builtins__['__import__']('os').system('touch ' + marker)",
    "__import__('os').system('touch ' + marker)",
    "import os\nos.system('touch ' + marker)",
    "from os import system\nsystem('touch ' + marker)",
    "open(marker, 'w').write('x')",
    "getattr(x, '__class__')",
    "getattr(x, 'real')",
    "[].__class__",
    "(lambda: 0).__globals__",
    "working_days.__globals__",
    "len.__self__",
    "type(1)",
    "(x for x in []).gi_frame.f_globals",
    "'{0.__class__}'.format(1)",
    "'{0}'.format(1)",
    "str.format('{0.__class__}', 1)",
    "'{x.__class__}'.format_map({'x': 1})",
    "f'{x.__class__}'",
    "eval('1')",
    "exec('x=1')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "locals()",
    "vars()",
    "dir()",
    "__builtins__",
    "breakpoint()",
    "input()",
    "class A: pass",
    "raise SystemExit(1)",
    "working_days.x = 1",
    "try:\n    1 / 0\nexcept Exception as e:\n    f = e.__traceback__.tb_frame",
]
REFUSED = (ScriptCompileError, NameError, AttributeError, NotImplementedError, TypeError)


@pytest.fixture
def env():
    return SandboxedEnvironment({"working_days": lambda n, start=None: "2024-10-08"})


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_refused_in_scripts(env, source, tmp_path):
    marker = tmp_path / "marker"
    data = {"x": 1, "marker": str(marker)}
    with pytest.raises(REFUSED):
        env.execute(source, data)
    assert data == {"x": 1, "marker": str(marker)}  # nothing half-done left in task data
    assert not marker.exists()


@pytest.mark.parametrize("source", [s for s in ESCAPES if "\n" not in s and
                                    not s.startswith(("class ", "raise ", "working_days.x"))])
def test_escape_refused_in_expressions(env, source, tmp_path):
    marker = tmp_path / "marker"
    with pytest.raises(REFUSED):
        env.evaluate(source, {"x": 1, "marker": str(marker)})
    assert not marker.exists()


def test_task_data_cannot_bring_builtins_back(env):
    with pytest.raises(NameError):
        env.evaluate("open", {"__builtins__": builtins.__dict__})
    with pytest.raises(REFUSED):
        env.evaluate("_getattr_", {"_getattr_": getattr})


@pytest.mark.parametrize("source", [
    "().__class__.__base__.__subclasses__()", "__import__('os')", "import os",
    "from os import path",
    "[].__class__", "(lambda: 0).__globals__", "(x for x in []).gi_frame.f_globals",
    "f'{x.__class__}'", "__builtins__", "class A: pass"])
def test_deploy_time_refusals_are_found_before_running(source):
    assert isinstance(compile_check(source, "exec"), ScriptCompileError)


# -- task data semantics ----------------------------------------------------------------------

def test_assignment_and_item_writes_reach_task_data(env):
    data = {"a": 2, "order": {"lines": []}, "old": 1}
    env.execute("b = a * 3\norder['lines'].append(b)\norder['ok'] = True\ndel old\n"
                "d = {}\nd['k'] = [1]\nd['k'][0] = 5\ncount = 1\ncount += 2\n"
                "helper = lambda v: v\nwhen = working_days(1)", data)
    assert data == {"a": 2, "order": {"lines": [6], "ok": True}, "b": 6, "d": {"k": [5]},
                    "count": 3, "when": "2024-10-08"}


def test_expression_sees_task_data_and_external_context(env):
    assert env.evaluate("a + b", {"a": 1}, external_context={"b": 2}) == 3
    assert env.evaluate("x > 1", {"x": 2}) is True


def test_external_context_not_written_back(env):
    data = {"a": 1}
    env.execute("c = shared + a", data, external_context={"shared": 10})
    assert data == {"a": 1, "c": 11}


def test_failed_script_leaves_task_data_untouched(env):
    data = {"a": 1}
    with pytest.raises(ZeroDivisionError):
        env.execute("a = 5\nb = 1 / 0", data)
    assert data == {"a": 1}


def test_task_data_may_not_shadow_a_platform_function(env):
    with pytest.raises(ValueError, match="working_days"):
        env.execute("x = 1", {"working_days": 3})


def test_attribute_write_on_non_container_refused(env):
    with pytest.raises(TypeError):
        env.execute("s = 'abc'\ns.upper = 1", {})


def test_date_helpers_are_opt_in():
    env = SandboxedEnvironment(DATE_HELPERS)
    assert env.evaluate("(date(2025, 2, 14) - date(2025, 1, 20)).days", {}) == 25
    assert env.evaluate("(datetime(2025, 1, 1) + timedelta(days=1)).isoformat()", {}) \
        == "2025-01-02T00:00:00"
    with pytest.raises(REFUSED):
        env.evaluate("date.today.__self__", {})
    with pytest.raises(NameError):
        SandboxedEnvironment().evaluate("date(2025, 1, 1)", {})


# -- deploy-time checking ----------------------------------------------------------------------

def test_compile_check():
    assert compile_check("total >= 100", "eval") is None
    assert compile_check("x = 1\nfor i in range(3):\n    x += i", "exec") is None
    err = compile_check("x = 1\ny = _secret", "exec")
    assert isinstance(err, SyntaxError) and err.lineno == 2 and err.text == "y = _secret"
    assert str(err).startswith('line 2: "_secret" is an invalid variable name')
    err = compile_check("a = 1\nif a:\nb = 2", "exec")
    assert err.lineno == 3 and "IndentationError" in err.msg
    assert compile_check("x = 1", "eval") is not None  # a statement is no condition
    assert compile_check("import os", "exec").msg.startswith("import is not allowed")
    assert compile_check(None, "eval") is not None
    with pytest.raises(ValueError):
        compile_check("1", "single")


def test_engine_validate_and_subclassing():
    class ServiceEngine(SandboxedScriptEngine):
        def call_service(self, task, **kwargs):
            return "{}"

    engine = ServiceEngine({"working_days": lambda n: n})
    assert isinstance(engine.environment, SandboxedEnvironment)
    assert engine.environment.evaluate("working_days(3)", {}) == 3
    engine.validate("a == 1")
    with pytest.raises(SyntaxError):
        engine.validate("a.__class__")
