"""What the benchmark scripts share: a throwaway local stack with the app configured, and figures."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.stack import Stack
    from shared.composition import Root

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


@contextmanager
def stack_environment() -> Iterator[tuple[Stack, Path]]:
    """Azurite and the Cosmos-compatible server on free ports and this process configured like
    `make run` for them; yields the stack and its directory (the dev token issuer is `issuer/`)."""
    from local.run import dev_environment
    from local.stack import start_stack

    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp))
        try:
            os.environ.update(dev_environment(stack.env(), Path(tmp) / "issuer"))
            yield stack, Path(tmp)
        finally:
            stack.stop()


@contextmanager
def app_stack() -> Iterator[Root]:
    """`stack_environment`, and the composition root of the app on it."""
    from functions import app_root
    from shared.platform.settings import load_settings

    with stack_environment():
        yield app_root(load_settings())


def create_passports(
    root: Root,
    operator_id: str,
    documents: Iterable[dict[str, Any]],
    *,
    prefixes: Iterable[str] = (),
    company_prefixes: Iterable[str] = (),
    workers: int = 8,
) -> None:
    """Give `operator_id` its namespaces and create `documents` as that operator through the core
    (the API's write path), `workers` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from local.run import assign_namespaces
    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR

    assign_namespaces(root, operator_id, list(prefixes), list(company_prefixes))
    owner = Principal("bench", frozenset({OPERATOR}), operator_id)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda document: root.service.create(document, owner), documents))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
