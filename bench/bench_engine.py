"""Benchmark 流程引擎: cost of one engine step on SQLite (file) and PostgreSQL.

    .venv/bin/python bench/bench_engine.py [--n 200] [--pg URL] [--no-pg]

Each step is a full runtime call — one transaction: lock the case, load its state with the
cached spec, run the engine, sync human-task and timer rows, store the state, audit, commit:

* start     ``start_instance``: start event -> first user task (deadline computed);
* complete  ``complete_task`` of the first task: form validation, a service operation in a
            savepoint, on to the review task with a boundary timer;
* complete2 ``complete_task`` of the review: four-eyes check, gateway, on to a timer wait;
* fire      ``fire_due_timers``: one due timer per case, each in its own transaction.

PostgreSQL: ``--pg URL`` or ``$BENCH_DATABASE_URL``; else a fresh database on
postgres@127.0.0.1:5432 (dropped afterwards); skipped when none is reachable.
Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import closing
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

import forms.registry  # noqa: E402
from app.db import Base  # noqa: E402
from app.engine import repository, runtime, services  # noqa: E402
from app.engine.db import make_engine  # noqa: E402
from app.engine.models import HumanTask  # noqa: E402
from app.engine.services import Actor  # noqa: E402
from app.common.clock import CHINA_TZ
from app.sla import CHINA_TZ  # noqa: E402
from forms.base import TaskForm  # noqa: E402
from forms.fields import SelectField, StringField, make_choices  # noqa: E402
from forms.validators import Required  # noqa: E402

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="bench_defs" targetNamespace="http://example.org/sscard/bench">
  <bpmn:collaboration id="c"><bpmn:participant id="p" processRef="bench_case"/></bpmn:collaboration>
  <bpmn:process id="bench_case" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="deadlineWorkingDays" value="15"/>
      <spiffworkflow:property name="summaryFields" value="name"/>
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l1" name="clerks"><bpmn:flowNodeRef>enter</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="reviewers"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter"/>
    <bpmn:userTask id="enter" name="Enter">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="bench_enter"/>
        <spiffworkflow:property name="dueWorkingDays" value="2"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="check"/>
    <bpmn:serviceTask id="check" name="Check">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="bench.check" resultVariable="checked">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="name" type="str" value="name"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="review"/>
    <bpmn:userTask id="review" name="Review">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="bench_review"/>
        <spiffworkflow:property name="notSameAs" value="enter"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="review_late" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f_late</bpmn:outgoing>
      <bpmn:timerEventDefinition id="rl"><bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days(5)</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_late" sourceRef="review_late" targetRef="late_end"/>
    <bpmn:endEvent id="late_end"><bpmn:incoming>f_late</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f_no">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f_ok</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_ok" sourceRef="gw" targetRef="wait">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == 'approve'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end_no"/>
    <bpmn:intermediateCatchEvent id="wait" name="Cooling-off">
      <bpmn:incoming>f_ok</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:timerEventDefinition id="w"><bpmn:timeDate xsi:type="bpmn:tFormalExpression">working_days(1)</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f5" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


class BenchEnter(TaskForm):
    form_key = "bench_enter"
    name = StringField("Name", [Required()])
    ssn = StringField("SSN", [Required()])


class BenchReview(TaskForm):
    form_key = "bench_review"
    decision = SelectField("Decision", [Required(choose=True)],
                           choices=make_choices([("approve", "approve"), ("reject", "reject")],
                                                "-"), default="")


CLERK = Actor("clerk", 1, frozenset({"clerks"}))
REVIEWER = Actor("reviewer", 2, frozenset({"reviewers"}))
ADMIN = Actor("admin", 9)
START = datetime(2025, 3, 3, 10, tzinfo=CHINA_TZ)  # Monday; plain working weeks follow


def register() -> None:
    forms.registry.register(BenchEnter)
    forms.registry.register(BenchReview)
    if "bench.check" not in services.registry:
        services.registry.operation("bench.check")(lambda ctx, name: {"ok": True, "name": name})


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def report(label: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    median = statistics.median(times)
    print(f"  {label:<10} median {median:6.2f} ms   p95 {p95:6.2f} ms   "
          f"{1000 / statistics.mean(times):7.1f} steps/s")


def run(url: str, n: int) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    Session = sessionmaker(engine)
    with Session() as s:
        repository.deploy_string(s, "bench.bpmn", BPMN, ADMIN)
    # Warm up: parse, imports, connection pool.
    with Session() as s:
        runtime.start_instance(s, "bench_case", {}, "warm", CLERK, now=START)

    starts, completes, reviews, ids = [], [], [], []
    for i in range(n):
        with Session() as s:
            starts.append(timed(lambda: ids.append(runtime.start_instance(
                s, "bench_case", {}, f"B{i}", CLERK, now=START).id)))
    for instance_id in ids:
        with Session() as s:
            task_id = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.task_name == "enter"))
            completes.append(timed(lambda: runtime.complete_task(
                s, task_id, {"name": "林堃", "ssn": "350581199003071234"}, CLERK, now=START)))
    for instance_id in ids:
        with Session() as s:
            task_id = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.task_name == "review"))
            reviews.append(timed(lambda: runtime.complete_task(
                s, task_id, {"decision": "approve"}, REVIEWER, now=START)))
    t0 = time.perf_counter()
    fired = runtime.fire_due_timers(Session, START + timedelta(days=3), limit=n)
    fire_total = (time.perf_counter() - t0) * 1000
    assert fired == n, fired
    report("start", starts)
    report("complete", completes)
    report("complete2", reviews)
    print(f"  {'fire':<10} {fire_total / n:6.2f} ms per timer (batch of {n}, incl. the scan)   "
          f"{n * 1000 / fire_total:7.1f} timers/s")
    engine.dispose()


def fresh_pg(admin_url: str):
    import psycopg
    name = f"sscard_bench_{secrets.token_hex(4)}"
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with closing(psycopg.connect(dsn, autocommit=True, connect_timeout=3)) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with closing(psycopg.connect(dsn, autocommit=True)) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="cases per database")
    parser.add_argument("--pg", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    register()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"SQLite file database, {args.n} cases:")
        run(f"sqlite:///{tmp}/bench.db", args.n)
    if args.no_pg:
        return
    drop = None
    url = args.pg
    if url is None:
        try:
            url, drop = fresh_pg("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        except Exception as err:
            print(f"PostgreSQL skipped: {err}")
            return
    try:
        print(f"PostgreSQL ({url.rsplit('@', 1)[-1]}), {args.n} cases:")
        run(url, args.n)
    finally:
        if drop is not None:
            drop()


if __name__ == "__main__":
    main()
