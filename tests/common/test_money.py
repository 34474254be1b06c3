"""One way of showing an amount: cents in, yuan out (the fee receipt, the activation figures,
the card history)."""
import pytest

from app.common.money import yuan


@pytest.mark.parametrize("cents, text", [
    (2000, "20.00"), (5, "0.05"), (0, "0.00"), (None, "0.00"),
    (12345678, "123,456.78"), (-1250, "-12.50"),
])
def test_yuan(cents, text):
    assert yuan(cents) == text
