"""Call activities across files (跨文件调用子流程): a shared sub-process deployed on its own
file, bound per case when it starts (latest version, or the one pinned by ``calledVersion``),
its tasks in the caller's lane (``callerLane``); a call to a process nobody deployed is refused
at deploy with the file and line."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.engine import repository, runtime
from app.engine.errors import ModelInvalid
from app.engine.models import HumanTask, ProcessModel
from tests.engine.conftest import ADMIN, CLERK, MONDAY

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="{id}_defs" targetNamespace="http://example.org/sscard/test">
"""

# The shared sub-process: one user task with no lane of its own, and a script whose value
# tells the versions apart.
SHARED = HEAD.format(id="shared") + """
  <bpmn:process id="engine_test_shared" name="Shared checks" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="callerLane" value="true"/>
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:startEvent id="s_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="s_check"/>
    <bpmn:userTask id="s_check" name="Check with the applicant">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="engine_test_approve"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="s2" sourceRef="s_check" targetRef="s_mark"/>
    <bpmn:scriptTask id="s_mark" name="Mark"><bpmn:incoming>s2</bpmn:incoming><bpmn:outgoing>s3</bpmn:outgoing>
      <bpmn:script>checked_by = "VERSION"</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="s3" sourceRef="s_mark" targetRef="s_end"/>
    <bpmn:endEvent id="s_end"><bpmn:incoming>s3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def caller(pid: str, lane: str, pinned: int | None = None, called: str = "engine_test_shared") -> str:
    pin = ("" if pinned is None else
           f'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
           f'name="calledVersion" value="{pinned}"/></spiffworkflow:properties></bpmn:extensionElements>')
    return HEAD.format(id=pid) + f"""
  <bpmn:process id="{pid}" name="Caller {pid}" isExecutable="true">
    <bpmn:laneSet id="{pid}_lanes"><bpmn:lane id="{pid}_lane" name="{lane}">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>call</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>after</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:callActivity id="call" name="Shared checks" calledElement="{called}">{pin}
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
    <bpmn:userTask id="after" name="After the checks">
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


def shared(version: str) -> str:
    return SHARED.replace("VERSION", version)


def open_task(s, instance_id: int) -> HumanTask:
    return s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                             HumanTask.state == "open")).one()


def walk(s, instance_id: int, actor=CLERK) -> dict:
    """Complete the shared task and the caller's task; the case data at the end."""
    runtime.complete_task(s, open_task(s, instance_id).id, {"decision": "approve"}, actor, now=MONDAY)
    data = runtime.instance_data(s, instance_id)
    runtime.complete_task(s, open_task(s, instance_id).id, {"decision": "approve"}, actor, now=MONDAY)
    return data


def test_two_callers_share_one_sub_process_in_their_own_lanes(db):
    with db.session() as s:
        repository.deploy_string(s, "shared.bpmn", shared("v1"), ADMIN)
        repository.deploy_string(s, "a.bpmn", caller("engine_test_caller_a", "clerks"), ADMIN)
        repository.deploy_string(s, "b.bpmn", caller("engine_test_caller_b", "reviewers"), ADMIN)
        a = runtime.start_instance(s, "engine_test_caller_a", {}, None, CLERK, now=MONDAY)
        b = runtime.start_instance(s, "engine_test_caller_b", {}, None, CLERK, now=MONDAY)
        ta, tb = open_task(s, a.id), open_task(s, b.id)
        assert (ta.task_name, ta.group) == ("s_check", "clerks")     # the caller's lane
        assert (tb.task_name, tb.group) == ("s_check", "reviewers")
        assert walk(s, a.id)["checked_by"] == "v1"
        assert a.status == "completed"


def test_a_case_keeps_the_version_it_started_with_new_cases_take_the_latest(db):
    with db.session() as s:
        [v1] = repository.deploy_string(s, "shared.bpmn", shared("v1"), ADMIN)
        repository.deploy_string(s, "a.bpmn", caller("engine_test_caller_a", "clerks"), ADMIN)
        old = runtime.start_instance(s, "engine_test_caller_a", {}, None, CLERK, now=MONDAY)
        [v2] = repository.deploy_string(s, "shared.bpmn", shared("v2"), ADMIN)
        assert v2.version == 2
        new = runtime.start_instance(s, "engine_test_caller_a", {}, None, CLERK, now=MONDAY)
        assert old.call_bindings == {"engine_test_shared": v1.id}
        assert new.call_bindings == {"engine_test_shared": v2.id}
        assert walk(s, old.id)["checked_by"] == "v1"   # running cases finish on theirs
        assert walk(s, new.id)["checked_by"] == "v2"


def test_a_pinned_version_is_used_even_after_a_newer_one(db):
    with db.session() as s:
        [v1] = repository.deploy_string(s, "shared.bpmn", shared("v1"), ADMIN)
        repository.deploy_string(s, "shared.bpmn", shared("v2"), ADMIN)
        repository.deploy_string(s, "p.bpmn", caller("engine_test_caller_p", "clerks", pinned=1), ADMIN)
        case = runtime.start_instance(s, "engine_test_caller_p", {}, None, CLERK, now=MONDAY)
        assert case.call_bindings == {"engine_test_shared": v1.id}
        assert walk(s, case.id)["checked_by"] == "v1"


def test_deployed_together_in_one_directory(db, tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "checks.bpmn").write_text(shared("v1"), encoding="utf-8")
    (tmp_path / "a.bpmn").write_text(caller("engine_test_caller_a", "clerks"), encoding="utf-8")
    with db.session() as s:
        keys = {m.key for m in repository.deploy_directory(s, tmp_path, ADMIN)}
        assert keys == {"engine_test_shared", "engine_test_caller_a"}


@pytest.mark.parametrize("pinned, what", [(None, "engine_test_nowhere"), (7, "engine_test_shared 第 7 版")])
def test_a_call_to_a_process_not_deployed_is_refused_with_file_and_line(db, pinned, what):
    called = "engine_test_nowhere" if pinned is None else "engine_test_shared"
    xml = caller("engine_test_caller_x", "clerks", pinned=pinned, called=called)
    with db.session() as s:
        if pinned is not None:
            repository.deploy_string(s, "shared.bpmn", shared("v1"), ADMIN)
        with pytest.raises(ModelInvalid) as err:
            repository.deploy_string(s, "x.bpmn", xml, ADMIN)
        [problem] = err.value.problems
        assert problem.file == "x.bpmn" and problem.element_id == "call"
        assert problem.line == next(n for n, line in enumerate(xml.splitlines(), 1)
                                    if 'id="call"' in line)
        assert f"调用活动引用的流程“{what}”未部署" in problem.message
        assert s.scalar(select(ProcessModel.id).where(ProcessModel.key == "engine_test_caller_x")) is None


def test_a_user_task_without_a_lane_is_still_refused_outside_a_shared_sub_process(db):
    lane_less = shared("v1").replace('<spiffworkflow:property name="callerLane" value="true"/>', "")
    with db.session() as s, pytest.raises(ModelInvalid) as err:
        repository.deploy_string(s, "lane_less.bpmn", lane_less, ADMIN)
    assert any("不在任何泳道" in p.message for p in err.value.problems)
