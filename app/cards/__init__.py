"""The shared kernel 社保卡业务: persons' applications, cards, blank-card stock, card jobs,
card numbers, the one-person-one-card rule, the SMS outbox. The families' service operations
live with them (``app.procedures.<family>.operations``).

Importing this package defines the tables (on ``app.database.Base``).
"""
from app.cards import models  # noqa: F401  (tables)
from app.adapters import police as _police  # noqa: F401  (table police_register_person)
