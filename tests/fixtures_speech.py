"""Fixtures for the speech tests."""
