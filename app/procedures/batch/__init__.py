"""Batch family 批量制卡: employer batch issuance from the contribution data of a whole city
(seed 001 §1-§5, seed 000 §1 and §4.4). A batch 制卡批次 is a case; each employer application
单位申领 in it is a case; the persons are rows (``models.Person``) worked in grids, and long work
(import, checks, production files) runs as background jobs (``app.engine.jobs``)."""
from app.procedures import Family


def _panel(session, instance):
    from app.procedures.batch.panel import batch_panel
    return batch_panel(session, instance)


def _demo(session):
    from app.procedures.batch.demo import seed
    return seed(session)


FAMILY = Family(
    name="batch", title_zh="批量制卡", title_en="Batch issuance",
    bpmn_dir="processes/batch",
    modules=("app.procedures.batch.models", "app.procedures.batch.importing.job",
             "app.procedures.batch.operations", "app.procedures.batch.cases",
             "app.procedures.batch.documents.job",
             "app.procedures.batch.importing.police_extract", "forms.batch"),
    case_panel=("panels/batch.html", _panel),
    task_header=("panels/batch.html", _panel),
    demo_seed=_demo,
    processes=("card_batch", "employer_application"),
)
