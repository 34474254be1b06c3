"""Service operations of the lifecycle procedures 生命周期服务操作 (``processes/lifecycle/``).

Each runs in the step's transaction; a refused rule becomes a ``ServiceError`` the diagram
catches to send the clerk back to the task with the reason on the page.
"""
from __future__ import annotations

from app.adapters import sms
from app.cards.models import Card
from app.common.errors import BilingualError
from app.engine.services import ServiceContext, ServiceError, registry
from app.procedures.lifecycle.models import LossReport, RegionMove


def _rule(call):
    """A domain rule's refusal as the ServiceError a diagram catches."""
    try:
        return call()
    except ServiceError:
        raise
    except BilingualError as e:
        raise ServiceError.of(e) from None


def _loss(ctx: ServiceContext, loss_id) -> LossReport:
    loss = ctx.session.get(LossReport, int(loss_id))
    if loss is None:
        raise ServiceError("not_found", f"挂失记录 {loss_id} 不存在", f"Loss report {loss_id} does not exist")
    return loss


def _move(ctx: ServiceContext, move_id) -> RegionMove:
    move = ctx.session.get(RegionMove, int(move_id))
    if move is None:
        raise ServiceError("not_found", f"迁移记录 {move_id} 不存在", f"Move {move_id} does not exist")
    return move


# -- loss 挂失 -----------------------------------------------------------------------------------

@registry.operation("lifecycle.confirm_loss", results=("decision",),
                    errors=("not_found", "not_holder", "card_not_in_use", "already_lost", "replaced",
                            "chip_blocked", "loss_closed", "replace_via", "replace_at"))
def confirm_loss(ctx: ServiceContext, loss_id: int, decision: str, shown_id_number: str,
                 replace_via: str | None = None, replace_at: str | None = None) -> dict:
    """确认临时挂失 (in person with the ID card): the formal report (opens the replacement) or the lift."""
    from app.procedures.lifecycle import loss as losses
    loss = _loss(ctx, loss_id)
    card = ctx.session.get(Card, loss.card_id)
    if decision == "lift":
        _rule(lambda: losses.lift(ctx.session, loss, ctx.actor, shown_id_number=shown_id_number))
        return {"decision": "lift"}
    _rule(lambda: losses.report_formal(ctx.session, card, ctx.actor, shown_id_number=shown_id_number,
                                       replace_via=replace_via, replace_at=replace_at, loss=loss))
    return {"decision": "formal"}


@registry.operation("lifecycle.remind_loss", results=("sent",), errors=("not_found",))
def remind_loss(ctx: ServiceContext, loss_id: int) -> dict:
    """临时挂失到期提醒: text the holder to come with the ID card (formal report or lift)."""
    from app.procedures.lifecycle import loss as losses
    loss = _loss(ctx, loss_id)
    gateway = sms(ctx.session)
    return {"sent": losses.remind(ctx.session, loss, ctx.actor, sms_send=gateway.send)}


# -- moving between regions 跨区域迁移 ------------------------------------------------------------

@registry.operation("lifecycle.submit_rewrite", results=("job_id",),
                    errors=("not_found", "move_closed"))
def submit_rewrite(ctx: ServiceContext, move_id: int) -> dict:
    """改写卡内参保地: queue the rewrite for the card station (after a failure: the same job again)."""
    from app.procedures.lifecycle import moves
    move = _move(ctx, move_id)
    move.instance_id = move.instance_id or ctx.instance_id
    job = _rule(lambda: moves.submit_rewrite(ctx.session, move, ctx.instance_id))
    return {"job_id": job.id}


@registry.operation("lifecycle.record_rewrite", results=("ok", "error_zh", "error_en"),
                    errors=("not_found",))
def record_rewrite(ctx: ServiceContext, move_id: int) -> dict:
    """登记写卡结果: recorded as moved (archive, history) only when the read-back shows the new region."""
    from app.procedures.lifecycle import moves
    move = _move(ctx, move_id)
    ok = moves.record_rewrite(ctx.session, move, ctx.actor)
    return {"ok": ok, "error_zh": move.error_zh, "error_en": move.error_en}


@registry.operation("lifecycle.abandon_move", results=("abandoned",), errors=("not_found",))
def abandon_move(ctx: ServiceContext, move_id: int, note: str | None = None) -> dict:
    """放弃迁移: the region on the chip and in the archive stays as it was."""
    from app.procedures.lifecycle import moves
    moves.abandon(ctx.session, _move(ctx, move_id), ctx.actor, note)
    return {"abandoned": True}
