"""The real Python worker reads the app as the local host does.

`azure-functions-runtime` (PyPI) is the worker's own indexing code: `loader.index_function_app`
imports `function_app.py` and finds its FunctionApp, `functions.Registry.add_indexed_function`
checks every function's bindings, parameters and return as the worker does before the host may
run it (a binding the real host would refuse fails here first). What it cannot check: the host's
own extension loading (which binding extensions the host has), and route conflicts, which the
host resolves. Every function's name, trigger, route, methods and auth level must be what the
local host's route table serves.
"""

from __future__ import annotations

import sys

# Installed by `make setup` (requirements-worker.txt); a missing one fails, never skips.
from azure_functions_runtime import functions, loader
from azure_functions_runtime.bindings import meta

from local.host.functions_index import enum_text, registered_functions, trigger_of
from tests.doubles import worker_protos
from tests.support.documents import REPO


def _shape(function: object) -> tuple[str, str, str | None, tuple[str, ...], str | None]:
    bindings = list(function.get_bindings())  # type: ignore[attr-defined]
    trigger = next(binding for binding in bindings if binding.type.endswith("Trigger"))
    http = trigger_of(function, "httpTrigger")
    methods = tuple(sorted(enum_text(m) for m in (http.methods or ()))) if http else ()
    auth = enum_text(http.auth_level) if http else None
    return (function.get_function_name(), trigger.type, getattr(http, "route", None), methods, auth)  # type: ignore[attr-defined]


def test_the_worker_indexes_every_function_as_the_local_host_serves_it(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    sys.modules.pop("function_app", None)
    indexed = loader.index_function_app(str(REPO / "function_app.py"))
    meta.load_binding_registry()  # what the worker does when it starts
    registry = functions.Registry()
    for function in indexed:
        info = registry.add_indexed_function(function=function, protos=worker_protos)
        assert info.name == function.get_function_name()
    # The local host, over an app of its own (a FunctionApp registers its functions once).
    sys.modules.pop("function_app", None)
    import function_app
    from local.host.routing import LocalFunctionsHost

    ours = sorted(_shape(function) for function in registered_functions(function_app.app))
    assert sorted(_shape(function) for function in indexed) == ours
    assert len(ours) >= 30 and len({name for name, *_ in ours}) == len(ours)
    table = {
        (route.name, route.template, tuple(sorted(route.methods)), route.anonymous)
        for route in LocalFunctionsHost(function_app.app).routes
    }
    served = {
        (name, route, methods, (auth or "").lower() == "anonymous")
        for name, trigger, route, methods, auth in ours
        if trigger == "httpTrigger"
    }
    assert table == served
