"""The app's functions as the host indexes them: registered once, read for routes and triggers."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import azure.functions as func

log = logging.getLogger(__name__)


REPO = Path(__file__).resolve().parent.parent.parent
DEFAULT_ROUTE_PREFIX = "api"


def trigger_of(function: Any, binding_type: str) -> Any:
    """The function's binding of `binding_type` (`httpTrigger`, `timerTrigger`, ...), or None."""
    return next((b for b in function.get_bindings() if b.type == binding_type), None)


def enum_text(value: Any) -> str:
    return str(getattr(value, "value", value))


def call_function(function: Callable[..., Any], arg_name: str, value: Any) -> Any:
    """Call a user function with its trigger's argument as the worker does: awaited if async."""
    result = function(**{arg_name: value})
    return asyncio.run(result) if inspect.iscoroutine(result) else result


class TriggerFunction(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def other_bindings(self) -> tuple[str, ...]: ...


F = TypeVar("F", bound=TriggerFunction)
R = TypeVar("R")


def runnable(
    functions: Iterable[F], resolve: Callable[[F], R], passes: str, errors: dict[str, str]
) -> list[tuple[F, R]]:
    """The trigger functions the local host can run, each with what `resolve` made of its binding
    (its connection, container or path). One with further bindings (the host `passes` only its
    trigger's value), or whose binding does not resolve (`resolve` raises ValueError), is logged and
    listed in `errors`, as a function in error in Functions, and the others run."""
    found = []
    for function in functions:
        try:
            if function.other_bindings:
                raise ValueError(
                    f"its binding(s) {', '.join(function.other_bindings)} are not supported by "
                    f"the local host, which passes only {passes}"
                )
            found.append((function, resolve(function)))
        except ValueError as exc:
            errors[function.name] = str(exc)
            log.error("The '%s' function is in error: %s", function.name, exc)
    return found


def find_host_json(app: func.FunctionApp) -> Path | None:
    """The host.json next to a module holding `app` (`app.__module__` names the SDK's module).

    Modules that merely imported the app hold it too, so the first one with a host.json wins.
    """
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not any(value is app for value in list(vars(module).values())):
            continue
        host_json = Path(file).resolve().parent / "host.json"
        if host_json.exists():
            return host_json
    return None


def read_route_prefix(host_json: Path | None) -> str:
    """`extensions.http.routePrefix` of host.json; "api", Functions' default, without one."""
    if host_json is None:
        return DEFAULT_ROUTE_PREFIX
    settings = json.loads(host_json.read_text(encoding="utf-8"))
    prefix = settings.get("extensions", {}).get("http", {}).get("routePrefix", DEFAULT_ROUTE_PREFIX)
    return str(prefix).strip("/")


_REGISTERED: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()
_REGISTERED_LOCK = threading.Lock()


def registered_functions(app: func.FunctionApp) -> list[Any]:
    """`app.get_functions()`, called once per app and remembered: azure-functions 1.26 registers
    the names again on a second call and raises. Functions registered after the first call are
    not seen, as the real host indexes an app once at startup."""
    with _REGISTERED_LOCK:
        functions = _REGISTERED.get(app)
        if functions is None:
            functions = _REGISTERED[app] = list(app.get_functions())
        return functions


def load_app(spec: str) -> func.FunctionApp:
    """Import `module:attribute` (attribute defaults to `app`) with the repo root importable."""
    module_name, _, attribute = spec.partition(":")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return getattr(importlib.import_module(module_name), attribute or "app")
