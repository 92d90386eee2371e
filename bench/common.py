"""What the benchmark scripts share: a throwaway local stack with the app configured, and figures."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

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


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
