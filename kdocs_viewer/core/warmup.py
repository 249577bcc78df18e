"""Import, off the GUI thread and after the first paint, what the first Load, sign-in and save will need.

None of it is needed to paint the window, and all of it together costs a few tenths of a second (httpx and
keyring are most of it). Started once the window is up, the modules are in place by the time someone
clicks; whoever needs one first simply imports it, and Python's import locks make the two meet. Only
Qt-free modules are imported here: a module with Qt classes is never imported off the GUI thread (the
caller does that on its own thread, when ``then`` tells it the modules below it are in).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable

from kdocs_viewer.core.redact import redact

__all__ = ["FIRST_LOAD_MODULES", "WARM_UP_MODULES", "warm_up"]

log = logging.getLogger(__name__)

# What a Load needs first (the network stack): imported before ``then`` is called.
FIRST_LOAD_MODULES = ("kdocs_viewer.core.api", "kdocs_viewer.core.session")
# The rest: the keyring (the token's lookup), pic lists, saving (pathvalidate).
LATER_MODULES = ("kdocs_viewer.core.secrets", "kdocs_viewer.core.piclist", "kdocs_viewer.core.saving")
WARM_UP_MODULES = (*FIRST_LOAD_MODULES, "kdocs_viewer.core.tls", *LATER_MODULES)


def _import(names: tuple[str, ...]) -> bool:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the code that needs it will import it again and report
            log.warning("warm-up: could not import %s: %s", name, redact(str(exc)))
            return False
    return True


def _warm_up(then: Callable[[], object] | None) -> None:
    if not _import(FIRST_LOAD_MODULES):
        return
    if then is not None:
        then()
    from kdocs_viewer.core import tls

    tls.shared_ssl_context()  # the CA bundle: ~60 ms with the GIL held, better paid here than by a click
    _import(LATER_MODULES)


def warm_up(then: Callable[[], object] | None = None) -> threading.Thread:
    """Start the warm-up on a short-lived daemon thread and return it.

    ``then`` is called on that thread as soon as FIRST_LOAD_MODULES are imported (not at all if one fails):
    the moment to have the GUI thread import what it needs on top of them. Then the shared TLS context is
    built and LATER_MODULES are imported.
    """
    thread = threading.Thread(target=_warm_up, args=(then,), name="kdocs-warm-up", daemon=True)
    thread.start()
    return thread
