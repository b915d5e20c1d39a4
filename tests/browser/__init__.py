"""Tests in a real headless Chromium: the pages as an admin uses them."""
