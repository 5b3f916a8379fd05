"""Fixtures for the webex tests."""
