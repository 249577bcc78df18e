"""A scripted browser for the stand-in's consent page: for tests, and for a demo that signs in for real.

It does what a person's browser does with the authorization URL: loads the consent page, presses Allow or
Deny (or is redirected at once under ``auto_consent``), and follows the redirect to the app's callback —
over real HTTP, with no shortcut into the server's state.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

import httpx

__all__ = ["ConsentError", "consent", "visit"]

_INPUT_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class ConsentError(Exception):
    """The consent page did not lead to a redirect (a bad app, a bad callback, a server error)."""


def consent(authorization_url: str, *, allow: bool = True, timeout: float = 10.0) -> str:
    """The callback URL the stand-in redirects to after the user's decision (not followed)."""
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as browser:
        page = browser.get(authorization_url)
        if page.status_code in (301, 302, 303, 307):  # auto-consent
            return urljoin(authorization_url, page.headers["location"])
        if page.status_code != 200 or "<form" not in page.text:
            raise ConsentError(f"the consent page answered HTTP {page.status_code}")
        fields = {name: unescape(value) for name, value in _INPUT_RE.findall(page.text)}
        fields["decision"] = "allow" if allow else "deny"
        answer = browser.post(urljoin(authorization_url, "/h5/auth"), data=fields)
        if answer.status_code not in (301, 302, 303, 307):
            raise ConsentError(f"the consent decision answered HTTP {answer.status_code}")
        return urljoin(authorization_url, answer.headers["location"])


def visit(authorization_url: str, *, allow: bool = True, timeout: float = 10.0) -> httpx.Response:
    """Consent, then load the callback URL as the browser would (the app's listener answers it)."""
    target = consent(authorization_url, allow=allow, timeout=timeout)
    with httpx.Client(timeout=timeout, trust_env=False) as browser:
        return browser.get(target)
