"""Fixtures for the audio tests."""
