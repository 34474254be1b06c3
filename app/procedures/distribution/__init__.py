"""Distribution family 发放: delivered cards go out through employers (batch pickup with the
handover sheet, the 3-working-day distribution, the 6-month return) and the centre's counter
(the holder or a proxy), come back when they cannot be handed out, are issued a second time or,
with wrong data, corrected within a week and reported to the province; the issuance statistics
are filed each month (seed 000 §3, seed 001 §5)."""
from app.procedures import Family


def _panel(session, instance):
    from app.procedures.distribution.panel import distribution_panel
    return distribution_panel(session, instance)


def _demo(session):
    from app.procedures.distribution.demo import seed
    return seed(session)


FAMILY = Family(
    name="distribution", title_zh="发放", title_en="Distribution",
    bpmn_dir="processes/distribution",
    modules=("app.procedures.distribution.models", "app.procedures.distribution.operations",
             "app.procedures.distribution.cases", "app.procedures.distribution.statistics",
             "forms.distribution"),
    case_panel=("panels/distribution.html", _panel),
    task_header=("panels/distribution.html", _panel),
    demo_seed=_demo,
    processes=("employer_pickup", "holder_pickup", "data_correction"),
)
