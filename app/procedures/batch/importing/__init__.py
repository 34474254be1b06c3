"""Importing a batch: the contribution export, the checks, the rosters (background job)."""
