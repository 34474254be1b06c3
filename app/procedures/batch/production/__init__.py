"""Production and delivery 制卡与到货 (seed 001 §5.1: "由社保卡中心统一送制卡厂商制作社保卡，完成
社保卡到货验收后，通知用人单位领取").

1. ``send_to_manufacturer`` 送制卡厂商制作: the submitted persons of a batch go into one
   production file 制卡数据文件 (an order ``ZK<batch>-<n>``), sent through the manufacturer
   adapter (``app.adapters.manufacturer``).
2. ``receive_delivery`` 制卡结果回盘: the delivery file becomes the kernel's cards
   (``app.cards.models.Card``, in production until accepted); a card the manufacturer could not
   make, or whose number an existing card already has, goes back into a remake order 重制.
3. ``accept_delivery`` 到货验收: the clerk scans the employer's pile; missing and damaged cards
   are cancelled and remade, the others accepted (not yet activated).
4. ``notify_agents`` 通知用人单位领取: an SMS to each agent 经办人 of the employer's voucher.

Plain functions on a SQLAlchemy session, in the caller's transaction: they flush, never commit,
and an error leaves nothing changed once the caller rolls back. A batch is worked in set-based
SQL and chunks (100,000 persons are rows, never 100,000 ORM objects); an employer's acceptance
is small enough for lists. The statements bypass the ORM, so rows of the touched tables loaded
before are expired (``_expire``) and read again when used.
"""
from app.procedures.batch.production.acceptance import (
                                                         AcceptanceResult,
                                                         ForeignCards,
                                                         UnknownCard,
                                                         accept_delivery,
                                                         check_delivery,
                                                         normalise,
)
from app.procedures.batch.production.common import ProductionError, manufacturer_for
from app.procedures.batch.production.delivery import receive_delivery
from app.procedures.batch.production.notify import notification_text, notify_agents
from app.procedures.batch.production.order import send_to_manufacturer, to_order

__all__ = ["AcceptanceResult", "ForeignCards", "ProductionError", "UnknownCard", "accept_delivery",
           "check_delivery", "manufacturer_for", "normalise", "notification_text", "notify_agents",
           "receive_delivery", "send_to_manufacturer", "to_order"]
