"""Card lifecycle family 卡片生命周期: what happens to a card once it is in the holder's hands —
the central activation of a round's cards (medical-insurance function on, the old medical card
stopped, the balance moved; seed 000 §4.2–4.3), PIN change at the self-service terminal and
PIN reset at the counter, the bank's debit function, loss reports by phone and in person and
their lifting (§4.5), and moving between the city's regions with the same card (seed 001 §1.5).

Replacement and exchange (补卡/换卡, seed 002 §1) are applications: the application family's
window and outlet procedures make the new card (application purpose 补卡/换卡, fee receipt); a
formal loss here opens the way to them.
"""
from app.procedures import Family


def _panel(session, instance):
    from app.procedures.lifecycle.panel import lifecycle_panel
    return lifecycle_panel(session, instance)


def _demo(session):
    from app.procedures.lifecycle.demo import seed
    return seed(session)


FAMILY = Family(
    name="lifecycle", title_zh="卡片生命周期", title_en="Card lifecycle",
    bpmn_dir="processes/lifecycle",
    modules=("app.procedures.lifecycle.models", "app.procedures.lifecycle.operations",
             "app.procedures.lifecycle.activation", "app.procedures.lifecycle.pin",
             "app.procedures.lifecycle.replacement",
             "forms.lifecycle"),
    case_panel=("panels/lifecycle.html", _panel),
    task_header=("panels/lifecycle.html", _panel),
    demo_seed=_demo,
    processes=("loss_report", "region_move"),
)
