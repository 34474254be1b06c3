"""Tests of the card lifecycle family (app.procedures.lifecycle)."""
