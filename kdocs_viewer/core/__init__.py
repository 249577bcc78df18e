"""The Qt-free core: models, API client, pic lists, expiry, saving, secrets, redaction.

Nothing under this package may import Qt; tests/core/test_no_qt.py enforces it.
"""
