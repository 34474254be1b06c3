"""Workflow state without its spec (流程状态序列化).

A case row stores only its task tree and data: the spec belongs to the model version and is
parsed once (:mod:`app.engine.repository`). On load the cached spec objects are handed to
SpiffWorkflow's converter as they are (its registry passes unknown objects through), which is
~5x faster than rebuilding them from a dict.
"""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

# Stateless once configured; we never use serialize_json(), whose encoder flag is shared.
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
_SPEC_KEYS = ("spec", "subprocess_specs")


def dump_state(workflow: BpmnWorkflow) -> str:
    """JSON of the workflow's tasks, data and subprocesses, without the spec."""
    dct = _SERIALIZER.to_dict(workflow)
    for key in _SPEC_KEYS:
        dct.pop(key, None)
    dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
    return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))


def load_state(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    """Rebuild a workflow from :func:`dump_state` output and its model's parsed specs."""
    dct = json.loads(state)
    _SERIALIZER.migrate(dct)  # pops the version key; upgrades older formats
    dct["spec"] = spec
    dct["subprocess_specs"] = dict(subprocess_specs)
    workflow = _SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine  # the engine is not serialized
    return workflow
