"""Counting the calls made to the store (shared.storage.cosmos.Store), by method and container:
the tests that bound what a write or a graph walk costs, and bench/import_throughput.py."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

WRITES = ("create", "replace", "upsert", "delete", "remove", "batch")
READS = ("read", "query_partition", "query_page", "query_background", "iterate_background")


class StoreCalls:
    """Wraps `store`'s methods through `patch` (monkeypatch.setattr, or setattr with `restore`
    after) and counts each call as one request by (method, container), and the items it writes
    (a batch writes each of its operations'). With `thread`, only calls from that thread count:
    the local host's change-feed poller shares the store."""

    def __init__(
        self,
        store: Any,
        patch: Callable[[Any, str, Any], None] = setattr,
        *,
        thread: int | None = None,
        names: Iterable[str] = (*WRITES, *READS),
    ):
        self.requests: Counter[tuple[str, str]] = Counter()
        self.items: Counter[tuple[str, str]] = Counter()
        self._store, self._names = store, tuple(names)
        lock = threading.Lock()
        for name in self._names:
            original = getattr(store, name)

            def counted(
                container: str, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any
            ) -> Any:
                if thread is None or threading.get_ident() == thread:
                    written = len(args[1]) if _name == "batch" else 1
                    with lock:
                        self.requests[(_name, container)] += 1
                        self.items[(_name, container)] += written if _name in WRITES else 1
                return _original(container, *args, **kwargs)

            patch(store, name, counted)

    def restore(self) -> None:
        """Take the wrappers off (for a `patch` that does not undo itself)."""
        for name in self._names:
            delattr(self._store, name)

    @property
    def calls(self) -> dict[str, int]:
        """Requests by method, every container together (methods never called are absent)."""
        by_name: Counter[str] = Counter()
        for (name, _), count in self.requests.items():
            by_name[name] += count
        return dict(by_name)

    def count(self, names: tuple[str, ...]) -> int:
        return sum(self.calls.get(name, 0) for name in names)

    @property
    def items_written(self) -> int:
        return sum(count for (name, _), count in self.items.items() if name in WRITES)

    def per_container(
        self, names: tuple[str, ...], containers: tuple[str, ...], *, items: bool = True
    ) -> int:
        """Items (or, with `items=False`, requests) of `names` on `containers`."""
        counts = self.items if items else self.requests
        return sum(n for (name, container), n in counts.items() if name in names and container in containers)
