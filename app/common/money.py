"""Amounts of money 金额: stored as whole cents (分), shown in yuan (元)."""


def yuan(cents: int | None) -> str:
    """12345678 -> "123,456.78"; None counts as 0."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"
