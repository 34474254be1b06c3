"""发放情况统计表 (seed 000 §3.2.3): the issuance statistics of a period (month, quarter, year) for
the whole platform, an office or one employer, worked out in SQL (a few GROUP BY statements
whatever the number of cards), and filed 归档 once a period is over: a filed table is never
computed again or changed.

Periods and scopes (their text is the key of a filed table)::

    parse_period("2026-11")  -> Period(date(2026, 11, 1), date(2026, 11, 30), "2026年11月", "November 2026")
    parse_period("2026-Q4")  -> the fourth quarter;  parse_period("2026") -> the year
    parse_scope("all" | "office:SS-CENTRE" | "employer:12")

Every date is China's date (Asia/Shanghai): a period runs from its first day 00:00 to its last
day 24:00 Beijing time, and "on time" compares the Beijing date of a moment with a due date.

The figures (:data:`FIGURES` gives their words):

* ``made`` — cards of batch persons (``batch_person.card_id``, or a card's custody row: an
  invalidated card replaced since) whose ``card.created_at`` falls in the period;
* ``delivered`` — cards accepted on delivery 到货验收 in the period: a custody event *to*
  ``accepted``, or, for cards whose custody began at the centre's store
  (``custody.ensure_custody`` writes one event ``accepted -> at_centre`` when the delivery is
  accepted), that event. A card counts once either way. ``batch_person.production`` has no
  time, so it cannot say *when*;
* ``picked_up`` — cards an employer's agent took (events to ``with_employer``: from the centre,
  and a returned card given to an employer again);
* ``handed_to_holders`` — events to ``with_holder`` (signed on the employer's roster, or
  collected at the centre's counter by the holder or a proxy);
* ``reissued`` — second issuance 二次发放: events to ``reissued`` (collected at the centre) and
  returned cards picked up by an employer again (``returned -> with_employer``; these count in
  ``picked_up`` as well);
* ``returned`` — ``{reason: n}`` of the events to ``returned`` (every reason listed, zeros
  included), and ``returned_total``;
* ``invalidated`` — events to ``invalidated``;
* ``outstanding`` — cards with an employer at the end of the period: each card's last custody
  event before the end is replayed. For the current period this is the cards' current place
  (every change writes an event), so one rule serves both;
* deadlines, counted in the period in which they fall **due** (a deadline due in a period that
  is over is met or missed for good, so a table filed after the period is final; in the current
  period a deadline not yet due and not yet kept is ``pending``):

  - ``distribution_*`` — 3 working days (Y §3.2.1): employer pickups handed over whose
    ``distribute_by`` falls in the period: met when the signed roster came back
    (``roster_back_at``) by that day; missed when it came back later or is still out after it;
  - ``return_*`` — 6 months (N §5.4): the cards of those pickups whose ``return_by`` falls in
    the period and that were not handed out by then: met when the employer returned the card
    (its first move away from the employer after the handover) by that day; missed when it was
    returned later, handed out after the 6 months, or is still with the employer after it.
    Cards handed to their holders within the 6 months are not counted;
  - ``correction_*`` — 1 week (Y §3.3.2): data corrections whose ``due_on`` falls in the period:
    met when ``corrected_at`` is on or before ``due_on``; missed when later or still not made
    after ``due_on`` (the ``overdue`` mark says the same).

Filing: :func:`file` stores a period that is over, once (the unique ``(period, scope)`` index);
:func:`file_month_end` is the scheduler's round (``ROUND_HOOKS``): the previous month for all
and for each office of a batch, and the quarter and the year when that month ends one.
"""
from app.procedures.distribution.statistics.figures import (DEADLINES, FIGURES, OUTCOMES, RETURN_REASONS,
                                                             compute, empty_figures)
from app.procedures.distribution.statistics.filing import (file, file_month_end, filed_or_live,
                                                            find_filed, month_end_periods,
                                                            offices_with_batches)
from app.procedures.distribution.statistics.periods import (ACTOR, ALL, Period, Scope, StatisticsError,
                                                             month_of, parse_period, parse_scope,
                                                             period_key)

__all__ = ["ACTOR", "ALL", "DEADLINES", "FIGURES", "OUTCOMES", "RETURN_REASONS", "Period", "Scope", "StatisticsError", "compute", "empty_figures",
           "file", "file_month_end", "filed_or_live", "find_filed", "month_end_periods", "month_of",
           "offices_with_batches", "parse_period", "parse_scope", "period_key"]
