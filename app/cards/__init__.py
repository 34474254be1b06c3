"""The card domain 社保卡业务: applications, cards, blank-card stock, card jobs, SMS outbox;
its rules and the service operations the card procedures' BPMN service tasks call.

Importing this package defines the tables (on ``app.db.Base``) and registers the operations on
``app.engine.services.registry``.
"""
from app.cards import models  # noqa: F401  (tables)
from app.adapters import police as _police  # noqa: F401  (table police_register_person)
from app.cards import operations  # noqa: F401  (registers the service operations)
