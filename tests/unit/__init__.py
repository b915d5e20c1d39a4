"""Tests of the pure parts (the file pipeline) and of the house rules, without the app."""
