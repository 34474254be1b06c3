"""Demo data of the lifecycle family (seeded after the distribution demo)."""


def seed(session) -> dict:
    return {}

