"""Application family 申领: instant issuance at a bank window (立等可取) and the outlet
application (代办网点申领, 15 working days), seed 002. Both call the shared checks
(``processes/shared/applicant_checks.bpmn``). Both also make the new card of a replacement 补卡
(formally lost card) or an exchange 换卡 (damaged card handed in), with the card fee 工本费 and
its receipt: ``replacement.py`` (rules, ``start_replacement``), ``fees.py``."""
from app.procedures import Family


def _panel(session, instance):
    from app.procedures.application.panel import application_panel
    return application_panel(session, instance)


def _header(session, instance):
    from app.procedures.application.panel import application_header
    return application_header(session, instance)


def _cancel(session, instance_id, actor, reason):
    from app.procedures.application.operations.cancel import cancel_for_instance
    return cancel_for_instance(session, instance_id, actor, reason)


def _search(session, text):
    from app.procedures.application.search import search
    return search(session, text)


def _outcome(session, instance_ids):
    from app.procedures.application.search import outcomes
    return outcomes(session, instance_ids)


def _subject(session, instance_ids):
    from app.procedures.application.search import subjects
    return subjects(session, instance_ids)


def _demo(session):
    from app.procedures.application.demo import seed_demo_cases
    return seed_demo_cases(session)


FAMILY = Family(
    name="application", title_zh="申领", title_en="Application",
    bpmn_dir="processes/application",
    modules=("app.procedures.application.models", "app.procedures.application.operations",
             "forms.application",
             "app.procedures.application.drafts"),  # the round withdrawing unsubmitted drafts
    on_cancel=_cancel,
    search=_search, outcome=_outcome, subject=_subject,
    case_panel=("panels/application.html", _panel),
    task_header=("panels/application_header.html", _header),
    demo_seed=_demo,
    processes=("instant_issuance", "outlet_application"),
)
