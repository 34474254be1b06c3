"""processes/shared/applicant_checks.bpmn: the checks both procedures call (archive, old card,
police, correction). Each procedure's paths through it are walked in its own test module; here:
both bind the same deployed sub-process, and its tasks reach the caller's clerks."""
import pytest

from app.engine import repository

LANES = {"instant_issuance": "window_clerk", "outlet_application": "outlet_clerk"}


@pytest.mark.parametrize("process", sorted(LANES))
def test_both_procedures_call_the_one_shared_checks_process(case, process):
    c = case(process)
    c.accept("zhang_wei")  # the register says 张玮: the correction task of the shared checks
    assert c.open_tasks() == ["correct_data"]
    assert c.task("correct_data").group == LANES[process]
    shared = repository.latest_model(c.s, "applicant_checks")
    assert c.instance.call_bindings == {"applicant_checks": shared.id}
    assert shared.file_name == "shared/applicant_checks.bpmn"
    assert c.data()["police"]["match"] is False
