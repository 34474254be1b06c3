"""The lifecycle family on the case page and the task pages: whose card, its state in words,
the loss report or the move, and the last refusal or write failure (the reason)."""
from __future__ import annotations

from app.cards.models import Card
from app.engine.runtime import instance_data
from app.procedures.lifecycle.cards import status_words
from app.procedures.lifecycle.models import LossReport, RegionMove
from app.procedures.lifecycle.moves import region_name
from app.procedures.lifecycle.states import LOSS_LABELS, MOVE_LABELS


def lifecycle_panel(session, instance) -> dict | None:
    data = instance_data(session, instance.id)
    loss = session.get(LossReport, int(data["loss_id"])) if data.get("loss_id") else None
    move = session.get(RegionMove, int(data["move_id"])) if data.get("move_id") else None
    row = loss or move
    if row is None:
        return None
    card = session.get(Card, row.card_id)
    refused = data.get("error_message") if data.get("error_code") else None
    return {
        "card": card, "card_status": status_words(card.status), "loss": loss,
        "loss_state": LOSS_LABELS.get(loss.state) if loss else None, "move": move,
        "move_state": MOVE_LABELS.get(move.state) if move else None,
        "from_region": region_name(session, move.from_region) if move else None,
        "to_region": region_name(session, move.to_region) if move else None,
        "refused": (refused, data.get("error_message_en")) if refused else None,
    }
