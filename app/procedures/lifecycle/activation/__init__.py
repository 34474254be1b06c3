"""统一启用 — the central activation of an issuance round's cards (seed 000 §4.2.2, §4.3):

    "社会保障卡在发放期间处于锁定状态，不可以使用。…待社会保障卡发卡结束后，统一启用，具体时间详见…
    公告，同时原医疗保险卡作废。" — "社会保障卡启用后，原医保个人账户资金自动转入社会保障卡" —
    "暂时没有领到社会保障卡的参保人员，仍可继续使用原医疗保险卡。"

A manager starts the round of a closed batch (:func:`~.rounds.start_round`, with the date of the
announcement 启用公告); the durable job ``lifecycle.activate_round`` (:func:`activate_round`)
then switches on, chunk by chunk, every card of the batch that has left the centre (custody
with the employer, with its holder, or issued a second time) and is still locked: the
medical-insurance system stops the old medical card and moves the personal account's balance
to the card (``app.adapters.medical_insurance``), the card becomes 正常 (ACTIVE), and each card
gets its ``CardActivation`` row (the card is the key: exactly once) and its history line
(``CardEvent`` activated, the cents moved). Cards not picked up yet stay locked; the scheduler's
round (:func:`late_round`) switches each on once it is picked up (``CardActivation.late``).

Why CLOSED only, not DELIVERED: the seed activates "待社会保障卡发卡结束后" — after the issuance
is over — and a batch is closed (``batch.close``) only once every employer application was
finished and told to collect its cards; a delivered batch is still being handed out, and
activating it would leave most of its cards locked and the announcement premature.

Set-based, resumable: each chunk is a few statements (the cards locked ``FOR UPDATE`` on
PostgreSQL, the write lock taken at once on SQLite) that commit together with the job's
checkpoint; a job resumed after kill -9 goes on from its checkpoint, and the filters (card still
NOT_ACTIVATED, no ``CardActivation`` row) make a repeated chunk a no-op: no card is skipped, none
activated twice. The medical-insurance call is idempotent too (a repeated switch moves nothing).

Late activations watch the custody events (``card_custody_event``, by id): each done round keeps
``late_mark``, the last event it has looked at. When nothing happened, the round costs one
query (rounds whose mark is below the newest event id, an index lookup). The mark only passes
events older than :data:`LATE_LAG`, so an event committed late by a slow transaction (ids are
handed out at insert, not at commit, on PostgreSQL) is still seen. A card that becomes
activatable without moving (a temporary loss reported before the round, lifted after it: 解挂
gives back 未启用) is switched on by :func:`activate_if_due`, which the lifting step calls.

The round's ``activated`` and ``waiting`` are the figures at the end of its job (the list page
shows them); :func:`figures` gives them as they are now (the round's page, the announcement).

Modules: ``errors`` (the refusals), ``cards`` (which cards, one chunk switched on), ``rounds``
(starting and retrying), ``job`` (the job), ``late`` (cards picked up afterwards),
``announcement`` (figures and the printable announcement).
"""
from app.procedures.lifecycle.activation.announcement import Figures, announcement_html, figures
from app.procedures.lifecycle.activation.cards import (CHUNK, LATE_LAG, LEFT, WAITING, remaining,
                                                       waiting_now)
from app.procedures.lifecycle.activation.errors import (ActivationError, AlreadyActivated,
                                                        BadAnnouncementDate, BatchNotClosed,
                                                        RoundNotFound)
from app.procedures.lifecycle.activation.job import activate_round
from app.procedures.lifecycle.activation.late import activate_if_due, late_round
from app.procedures.lifecycle.activation.rounds import (ACTIVATABLE, JOB_KIND, check_announcement,
                                                        job_of, may_retry, retry_round, round_of,
                                                        start_round, subject)

__all__ = ["ACTIVATABLE", "CHUNK", "JOB_KIND", "LATE_LAG", "LEFT", "WAITING", "ActivationError",
           "AlreadyActivated", "BadAnnouncementDate", "BatchNotClosed", "Figures", "RoundNotFound",
           "activate_if_due", "activate_round", "announcement_html", "check_announcement", "figures", "job_of",
           "late_round", "may_retry", "remaining", "retry_round", "round_of", "start_round",
           "subject", "waiting_now"]
