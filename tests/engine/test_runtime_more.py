"""More runtime paths: a start form, a script failure, an error caught around a subprocess,
message payload without a variable."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.engine import repository, runtime
from app.engine.errors import FormInvalid, ProcessNotFound
from app.engine.models import Incident
from app.engine.services import ServiceError

from tests.engine.conftest import ADMIN, CLERK, MANAGER, MONDAY
from tests.engine.test_repository import HEAD

START_FORM = HEAD + """  <bpmn:process id="engine_test_start_form" isExecutable="true">
    <bpmn:startEvent id="start">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="engine_test_enter"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
    <bpmn:scriptTask id="compute" name="Compute">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>ratio = 100 / len(missing)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

SUBPROCESS = HEAD + """  <bpmn:error id="err_any" name="Any"/>
  <bpmn:process id="engine_test_subprocess" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="clerks"><bpmn:flowNodeRef>handle</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="checks"/>
    <bpmn:subProcess id="checks" name="Checks">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:startEvent id="s_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="s_verify"/>
      <bpmn:serviceTask id="s_verify" name="Verify">
        <bpmn:extensionElements>
          <spiffworkflow:serviceTaskOperator id="engine_test.verify" resultVariable="verified">
            <spiffworkflow:parameters>
              <spiffworkflow:parameter id="name" type="str" value="'x'"/>
              <spiffworkflow:parameter id="ssn" type="str" value="'y'"/>
            </spiffworkflow:parameters>
          </spiffworkflow:serviceTaskOperator>
        </bpmn:extensionElements>
        <bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing>
      </bpmn:serviceTask>
      <bpmn:sequenceFlow id="s2" sourceRef="s_verify" targetRef="s_end"/>
      <bpmn:endEvent id="s_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="checks_failed" attachedToRef="checks">
      <bpmn:outgoing>f_err</bpmn:outgoing>
      <bpmn:errorEventDefinition id="checks_failed_def"/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_err" sourceRef="checks_failed" targetRef="handle"/>
    <bpmn:userTask id="handle" name="Handle failed checks">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="engine_test_approve"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_err</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="handle" targetRef="end_err"/>
    <bpmn:endEvent id="end_err"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="checks" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_start_form_validates_start_data_and_script_failure_is_an_incident(db):
    with db.session() as s:
        repository.deploy_string(s, "start_form.bpmn", START_FORM, ADMIN)
        with pytest.raises(FormInvalid) as err:
            runtime.start_instance(s, "engine_test_start_form", {"name": "x"}, None, CLERK)
        assert list(err.value.errors) == ["ssn"]
        inst = runtime.start_instance(s, "engine_test_start_form",
                                      {"name": " 林堃 ", "ssn": "1", "junk": 1}, None, CLERK,
                                      now=MONDAY)
        assert inst.status == "error"
        [incident] = s.scalars(select(Incident)).all()
        assert incident.task_name == "compute" and incident.operation is None
        assert "missing" in incident.message_en and "Compute" in incident.message_zh
        # Fix the data cannot be done from outside; cancelling resolves the incident.
        runtime.cancel_instance(s, inst.id, MANAGER)
        s.refresh(incident)
        assert incident.state == "resolved"


def test_error_caught_by_a_boundary_event_around_a_subprocess(db, behaviour):
    behaviour.verify_error = ServiceError("whatever", "核查失败", "Check failed")
    with db.session() as s:
        repository.deploy_string(s, "subprocess.bpmn", SUBPROCESS, ADMIN)
        inst = runtime.start_instance(s, "engine_test_subprocess", {}, None, CLERK, now=MONDAY)
        assert inst.status == "running"
        handle = db.task(s, inst.id, "handle")
        data = runtime.task_data(s, handle.id)
        assert data["error_code"] == "whatever" and data["error_message"] == "核查失败"
        assert s.scalars(select(Incident)).all() == []
        done = runtime.complete_task(s, handle.id, {"decision": "reject"}, CLERK, now=MONDAY)
        assert done.status == "completed"


def test_step_commits_the_callers_pending_rows_or_drops_them(db):
    from tests.engine.conftest import DomainRecord
    with db.session() as s:
        s.add(DomainRecord(label="application SQ-9"))
        s.flush()
        runtime.start_instance(s, "engine_test_wait", {"days": 1}, "SQ-9", CLERK, now=MONDAY)
        s.add(DomainRecord(label="doomed"))
        with pytest.raises(ProcessNotFound):
            runtime.start_instance(s, "no_such_process", {}, None, CLERK)
    with db.session() as s:
        assert s.scalars(select(DomainRecord.label)).all() == ["application SQ-9"]
