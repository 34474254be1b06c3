"""The shared kernel 社保卡业务: service points (offices), cards, blank-card stock, card jobs,
card numbers, the one-person-one-card rule. The families' rows and service operations live with
them (``app.procedures.<family>``).
"""
