"""A bounded soak of the local host, then the same with the stores stopped and started again.

    python -m bench.load [--seconds 60 --clients 32 --passports 10000] [--phases soak,faults]

Starts its own stack (Azurite + Cosmos-compatible server on free ports) and the local host as
`make run` serves it (`python -m local.host`, its own process, with timers and blob triggers),
loads the passports through the core, then runs each phase for --seconds:
  - `clients` threads, each on one keep-alive connection with a --timeout on every request:
    68% ReadDPPById and 20% ReadDPPByProductId over all passports, 10% merge patches of a hot set
    (--hot passports, so concurrent writers meet) as their operator, 2% artifact uploads;
  - bulk imports (JSON Lines, --import-rows each) one after another for the whole phase;
  - a readiness poller (GET /api/health every 0.5 s).
In `faults`, the Cosmos server is frozen (SIGSTOP of its process group: connections stay open and
nothing answers, the harder case for timeouts; it keeps its data in memory only, so it cannot be
killed) for --outage seconds at a fifth of the phase, and Azurite is stopped (SIGTERM) and
started again on its ports and data at a half; the host is never restarted.

Each patch writes `nameplate.LoadMarks.<phase>-c<client>` = a number unique to its client. At the
end every patched passport is read with its whole history: a lost update is an acknowledged (2xx)
value missing from the history, a client's value going backwards from one version to the next, or
a head older than that client's last acknowledged value. Prints throughput, p50/p99 per operation
(outside the outages too), outcomes by status and Result code, and the goals. Figures, not a test;
tests/storage/test_outages.py asserts the fault goals at small scale.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from bench.common import REPO, create_passports, percentile, stack_environment

if TYPE_CHECKING:
    from local.stack import Stack
    from shared.composition import Root

LOAD_OPERATOR, LOAD_PREFIX = "did:example:load", "https://id.example.org/load/"
# Operation mix: the cumulative shares of a draw in [0, 1).
MIX = (("read", 0.68), ("readByProduct", 0.88), ("patch", 0.98), ("artifact", 1.0))
READS = ("read", "readByProduct")
HEALTH_EVERY = 0.5


def mark(phase: str, client: int) -> str:
    return f"{phase}-c{client:03d}"


def passport(run: str, kind: str, index: int) -> dict[str, Any]:
    return {
        "digitalProductPassportId": f"urn:load:{run}:{kind}/{index}",
        "uniqueProductIdentifier": f"{LOAD_PREFIX}{run}/{kind}/{index}",
        "granularity": "Item",
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "economicOperatorId": LOAD_OPERATOR,
        "contentSpecificationIds": ["https://spec.example.org/Nameplate/1"],
        "nameplate": {
            "ManufacturerName": "Load Co",
            "ProductName": [{"value": f"Product {index}", "language": "en"}],
            "SerialNumber": f"SN-{index:08d}",
        },
    }


# -- one HTTP exchange, classified -------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    op: str
    start: float
    end: float
    outcome: str  # "200", "503 StoreUnavailable", "timeout", "connection error: ..."
    ok: bool
    # A 5xx other than a 503 Result object with Retry-After, or the host dropping the connection.
    bad: bool


def classify(status: int, headers: http.client.HTTPMessage, body: bytes) -> tuple[str, bool]:
    if status < 400:
        return str(status), False
    code = None
    with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
        code = json.loads(body)["messages"][0]["code"]
    outcome = f"{status} {code}" if code else f"{status} (not a Result)"
    retryable = status == 503 and code is not None and headers.get("Retry-After") is not None
    return outcome, status >= 500 and not retryable


class Connection:
    """One keep-alive connection with a timeout on every request; reopened after a failure."""

    def __init__(self, base: str, timeout: float):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname or "127.0.0.1", parts.port or 80, timeout
        self.connection: http.client.HTTPConnection | None = None

    def send(
        self,
        op: str,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Sample, bytes, http.client.HTTPMessage | None]:
        start = time.monotonic()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=headers or {})
            response = self.connection.getresponse()
            data = response.read()
        except TimeoutError:
            self.close()
            return Sample(op, start, time.monotonic(), "timeout", False, True), b"", None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            outcome = f"connection error: {type(exc).__name__}"
            return Sample(op, start, time.monotonic(), outcome, False, True), b"", None
        outcome, bad = classify(response.status, response.msg, data)
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return Sample(op, start, time.monotonic(), outcome, response.status < 400, bad), data, response.msg

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# -- the workload ------------------------------------------------------------------------------------


@dataclass
class Workload:
    """What the clients do: read any loaded passport, patch the hot ones as their operator."""

    base: str  # the host, without /api
    token: str
    passports: list[tuple[str, str]]  # (dppId, productId)
    hot: list[str]
    timeout: float = 10.0
    # Names the patches' members: each phase writes its own, so one phase's values are not read
    # as another's.
    phase: str = "soak"
    mix: tuple[tuple[str, float], ...] = MIX


@dataclass
class Write:
    client: int
    seq: int
    sample: Sample

    @property
    def acknowledged(self) -> bool:
        return self.sample.ok

    @property
    def ambiguous(self) -> bool:
        # No answer, or a 5xx: the write may still land (a frozen server runs it once thawed).
        return not self.sample.ok and self.sample.outcome[:1] != "4"


@dataclass
class Fault:
    name: str
    at: float  # seconds into the phase
    seconds: float
    down: Callable[[], None]
    up: Callable[[], None]
    window: tuple[float, float] | None = None  # monotonic: from down to back up


@dataclass
class Run:
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    writes: dict[str, list[Write]] = field(default_factory=lambda: defaultdict(list))
    health: list[tuple[float, int]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0


def _client(workload: Workload, run: Run, number: int, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    connection = Connection(workload.base, workload.timeout)
    auth = {"Authorization": f"Bearer {workload.token}"}
    seq = 0
    while not stop.is_set():
        draw = rng.random()
        op = next(name for name, upto in workload.mix if draw < upto)
        if op == "read":
            dpp_id = rng.choice(workload.passports)[0]
            sample, _, _ = connection.send(op, "GET", f"/api/v1/dpps/{quote(dpp_id, safe='')}")
        elif op == "readByProduct":
            product_id = rng.choice(workload.passports)[1]
            sample, _, _ = connection.send(op, "GET", f"/api/v1/dppsByProductId/{quote(product_id, safe='')}")
        elif op == "patch":
            dpp_id, seq = rng.choice(workload.hot), seq + 1
            body = json.dumps({"nameplate": {"LoadMarks": {mark(workload.phase, number): seq}}}).encode()
            headers = {**auth, "Content-Type": "application/merge-patch+json"}
            sample, _, _ = connection.send(
                op, "PATCH", f"/api/v1/dpps/{quote(dpp_id, safe='')}", body, headers
            )
            run.writes[dpp_id].append(Write(number, seq, sample))
        else:
            dpp_id = rng.choice(workload.passports)[0]
            body = json.dumps({"client": number, "n": rng.random()}).encode()
            headers = {**auth, "Content-Type": "application/json"}
            path = f"/api/v1/dpps/{quote(dpp_id, safe='')}/artifacts/composition"
            sample, _, _ = connection.send(op, "PUT", path, body, headers)
        run.samples.append(sample)
    connection.close()


def _health(workload: Workload, run: Run, stop: threading.Event) -> None:
    connection = Connection(workload.base, workload.timeout)
    while not stop.wait(HEALTH_EVERY):
        sample, _, _ = connection.send("health", "GET", "/api/health")
        run.health.append((sample.end, int(sample.outcome.split()[0]) if sample.outcome[0].isdigit() else 0))
    connection.close()


def _upload(url: str, data: bytes, headers: dict[str, str], timeout: float) -> str:
    """PUT the file to its SAS link (Azurite, not the service): "201", or why not."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request("PUT", f"{parts.path}?{parts.query}", body=data, headers=headers)
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except (OSError, http.client.HTTPException) as exc:
        return f"failed: {type(exc).__name__}"
    finally:
        connection.close()


def _imports(workload: Workload, run: Run, stop: threading.Event, rows: int, tag: str) -> None:
    """Imports one after another until the phase ends; the last one is followed to its end."""
    connection = Connection(workload.base, workload.timeout)
    auth = {"Authorization": f"Bearer {workload.token}"}
    number = 0
    while not stop.is_set():
        number += 1
        kind = f"import-{tag}-{number}"
        lines = [json.dumps(passport(tag, kind, index)) for index in range(rows)]
        data = ("\n".join(lines) + "\n").encode()
        record: dict[str, Any] = {"rows": rows, "state": "not granted"}
        run.imports.append(record)
        body = json.dumps({"fileName": f"{kind}.jsonl"}).encode()
        headers = {**auth, "Content-Type": "application/json"}
        sample, raw, _ = connection.send("importGrant", "POST", "/api/v1/imports", body, headers)
        run.samples.append(sample)
        if not sample.ok:
            stop.wait(1)
            continue
        grant = json.loads(raw)
        started = time.monotonic()
        record.update(state="uploading", upload=_upload(grant["uploadUrl"], data, grant["uploadHeaders"], 10))
        if record["upload"] != "201":
            stop.wait(1)
            continue
        status_path = urlsplit(grant["statusUrl"]).path
        # Followed past the phase's end (bounded), so its outcome is known.
        deadline = time.monotonic() + run.seconds + 120
        while time.monotonic() < deadline:
            time.sleep(0.5)
            sample, raw, _ = connection.send("importStatus", "GET", status_path, headers=auth)
            run.samples.append(sample)
            if sample.ok:
                status = json.loads(raw)
                counts = ("state", "created", "updated", "unchanged", "failed")
                record.update({key: status.get(key) for key in counts})
                if status["state"] in ("done", "failed"):
                    record["seconds"] = round(time.monotonic() - started, 1)
                    break
    connection.close()


def _faults(run: Run, stop: threading.Event) -> None:
    for fault in sorted(run.faults, key=lambda f: f.at):
        if stop.wait(max(0.0, run.started + fault.at - time.monotonic())):
            return
        down = time.monotonic()
        fault.down()
        stop.wait(max(0.0, down + fault.seconds - time.monotonic()))
        fault.up()
        fault.window = (down, time.monotonic())


def soak(
    workload: Workload,
    *,
    seconds: float,
    clients: int,
    faults: list[Fault] | None = None,
    import_rows: int = 0,
    tag: str = "soak",
    seed: int = 0,
) -> Run:
    """Run the clients (and imports, faults, the readiness poller) for `seconds`; returns every
    sample. Faults are all brought back up before this returns."""
    run = Run(seconds, faults=list(faults or []))
    stop = threading.Event()
    threads = [
        threading.Thread(target=_client, args=(workload, run, n, stop, seed * 1000 + n), daemon=True)
        for n in range(clients)
    ]
    threads.append(threading.Thread(target=_health, args=(workload, run, stop), daemon=True))
    importer = None
    if import_rows:
        importer = threading.Thread(
            target=_imports, args=(workload, run, stop, import_rows, tag), daemon=True
        )
    faulter = threading.Thread(target=_faults, args=(run, stop), daemon=True)
    run.started = time.monotonic()
    for thread in [*threads, faulter, *([importer] if importer else [])]:
        thread.start()
    time.sleep(seconds)
    stop.set()
    faulter.join()
    for thread in threads:
        thread.join(workload.timeout + 5)
    if importer is not None:
        importer.join(seconds + 150)
    return run


# -- lost updates -------------------------------------------------------------------------------------


@dataclass
class Verdict:
    passports: int = 0
    acknowledged: int = 0
    ambiguous: int = 0
    ambiguous_landed: int = 0
    lost: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _get_json(connection: Connection, path: str, attempts: int = 5) -> Any:
    for _ in range(attempts):
        sample, raw, _ = connection.send("verify", "GET", path)
        if sample.ok:
            return json.loads(raw)
        # A store that timed out still works on the abandoned request: give it room.
        time.sleep(3)
    raise RuntimeError(f"GET {path}: {sample.outcome}")


def history_documents(connection: Connection, dpp_id: str) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = []
    path = f"/api/v1/dpps/{quote(dpp_id, safe='')}/history?include=documents&limit=20"
    while True:
        page = _get_json(connection, path)
        versions.extend(page["versions"])
        if "cursor" not in page:
            return versions
        cursor = quote(page["cursor"], safe="")
        path = f"/api/v1/dpps/{quote(dpp_id, safe='')}/history?include=documents&limit=20&cursor={cursor}"


def verify(workload: Workload, writes: dict[str, list[Write]]) -> Verdict:
    """Read every patched passport and its history; see the module docstring for what is lost."""
    verdict = Verdict()
    connection = Connection(workload.base, workload.timeout)
    for dpp_id, attempts in writes.items():
        verdict.passports += 1
        try:
            head = _get_json(connection, f"/api/v1/dpps/{quote(dpp_id, safe='')}")
            versions = history_documents(connection, dpp_id)
        except RuntimeError as exc:
            verdict.unreadable.append(str(exc))
            continue
        numbers = [version["version"] for version in versions]
        if numbers != list(range(1, len(numbers) + 1)):
            verdict.lost.append(f"{dpp_id}: history versions {numbers[:5]}... are not 1..{len(numbers)}")
        marks = [version["document"]["nameplate"].get("LoadMarks", {}) for version in versions]
        if versions and marks[-1] != head["nameplate"].get("LoadMarks", {}):
            verdict.lost.append(f"{dpp_id}: the head is not the last version of its history")
        by_client: dict[int, list[Write]] = defaultdict(list)
        for write in attempts:
            by_client[write.client].append(write)
        for client, own in by_client.items():
            key = mark(workload.phase, client)
            acked = {w.seq for w in own if w.acknowledged}
            ambiguous = {w.seq for w in own if w.ambiguous}
            verdict.acknowledged += len(acked)
            verdict.ambiguous += len(ambiguous)
            seen = [m[key] for m in marks if key in m]
            distinct = set(seen)
            verdict.ambiguous_landed += len(ambiguous & distinct)
            for seq in sorted(acked - distinct):
                verdict.lost.append(f"{dpp_id}: {key}={seq} was acknowledged but is in no version")
            if seen != sorted(seen):
                verdict.lost.append(f"{dpp_id}: {key} went backwards across versions: {seen}")
            final = head["nameplate"].get("LoadMarks", {}).get(key)
            if acked and (final is None or final < max(acked)):
                verdict.lost.append(f"{dpp_id}: {key} is {final}, acknowledged up to {max(acked)}")
            if distinct - acked - ambiguous:
                verdict.lost.append(f"{dpp_id}: {key} holds values refused with 4xx")
    connection.close()
    return verdict


# -- figures -------------------------------------------------------------------------------------------


def _overlaps(sample: Sample, windows: list[tuple[float, float]]) -> bool:
    return any(sample.start < up and sample.end > down for down, up in windows)


def _latency(samples: list[Sample]) -> str:
    if not samples:
        return "      -"
    ms = [(s.end - s.start) * 1000 for s in samples]
    return f"p50 {percentile(ms, 0.5):7.1f} ms  p99 {percentile(ms, 0.99):7.1f} ms"


@dataclass
class Report:
    lines: list[str]
    bad: int
    hung: int
    lost: int
    read_ratio: float | None
    recovered: bool


def report(run: Run, verdict: Verdict, timeout: float, name: str) -> Report:
    windows = [f.window for f in run.faults if f.window is not None]
    lines = [f"== {name}: {run.seconds:g} s"]
    requests = list(run.samples)
    lines.append(f"requests {len(requests)}, throughput {len(requests) / run.seconds:.0f}/s")
    for op in ("read", "readByProduct", "patch", "artifact", "importGrant", "importStatus"):
        own = [s for s in requests if s.op == op]
        if not own:
            continue
        ok = [s for s in own if s.ok]
        outside = [s for s in ok if not _overlaps(s, windows)]
        line = f"  {op:14} n {len(own):6}  ok {len(ok):6}  all ok: {_latency(ok)}"
        if windows:
            line += f" | outside outages: {_latency(outside)}"
        lines.append(line)
    outcomes = Counter(s.outcome for s in requests if not s.ok)
    lines.append(f"errors by outcome: {dict(outcomes.most_common()) or 'none'}")
    bad = [s for s in requests if s.bad and s.outcome != "timeout"]
    hung = [s for s in requests if s.outcome == "timeout" or s.end - s.start > timeout]
    for fault in run.faults:
        if fault.window is None:
            continue
        down, up = fault.window
        during = [s for s in requests if _overlaps(s, [fault.window])]
        after = [s.end - up for s in requests if s.op in READS and s.ok and s.start >= up]
        unready = [t for t, status in run.health if down <= t <= up + 10 and status != 200]
        readiness = f"unready in {len(unready)} polls" if unready else "stayed ready"
        back = f"first read ok {min(after):.2f} s after it was back" if after else "no read ok after it"
        lines.append(
            f"  {fault.name} down {down - run.started:.1f}-{up - run.started:.1f} s: "
            f"{len(during)} requests overlapped, {sum(not s.ok for s in during)} not ok; readiness "
            f"{readiness}; {back}"
        )
    ready_at_end = bool(run.health) and run.health[-1][1] == 200
    tail = [s for s in requests if s.start > run.started + run.seconds - 3]
    recovered = ready_at_end and bool(tail) and all(s.ok for s in tail if s.op in READS)
    for entry in run.imports:
        lines.append(f"  import: {entry}")
    reads_outside = [s for s in requests if s.op == "read" and s.ok and not _overlaps(s, windows)]
    ratio = None
    if reads_outside:
        ms = [(s.end - s.start) * 1000 for s in reads_outside]
        ratio = percentile(ms, 0.99) / percentile(ms, 0.5)
    lines.append(
        f"patches: {verdict.acknowledged} acknowledged, {verdict.ambiguous} unanswered or 5xx "
        f"({verdict.ambiguous_landed} of them landed), over {verdict.passports} passports; "
        f"lost updates: {len(verdict.lost)}"
    )
    lines.extend(f"  LOST {line}" for line in verdict.lost[:10])
    lines.extend(f"  UNREADABLE {line}" for line in verdict.unreadable[:10])
    lines.append(
        f"goals: 5xx other than 503 Result+Retry-After: {len(bad)}; requests past the {timeout:g} s "
        f"timeout: {len(hung)}; lost updates: {len(verdict.lost)}; recovered (ready, last 3 s of "
        f"reads ok): {recovered}; ReadDPPById p99/p50 outside outages: "
        f"{'-' if ratio is None else f'{ratio:.2f}x'} (goal <= 5x)"
    )
    lines.extend(f"  BAD {s.op} {s.outcome}" for s in bad[:10])
    return Report(lines, len(bad), len(hung), len(verdict.lost) + len(verdict.unreadable), ratio, recovered)


# -- the stack and the host -------------------------------------------------------------------------


def load(root: Root, run: str, count: int, workers: int = 8) -> list[tuple[str, str]]:
    documents = [passport(run, "dpp", index) for index in range(count)]
    create_passports(root, LOAD_OPERATOR, documents, prefixes=[LOAD_PREFIX], workers=workers)
    return [(d["digitalProductPassportId"], d["uniqueProductIdentifier"]) for d in documents]


@contextlib.contextmanager
def host_process(port: int, log_file: Path) -> Iterator[str]:
    """`python -m local.host` as `make run` starts it (timers, blob triggers), in its own process,
    with this process's environment; yields its base URL once /api/health answers 200."""
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.host", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        probe = Connection(base, 5)
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the host did not start; {log_file}:\n{log_file.read_text()[-2000:]}")
            sample, _, _ = probe.send("health", "GET", "/api/health")
            if sample.ok:
                break
            time.sleep(0.2)
        probe.close()
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def store_faults(stack: Stack, seconds: float, outage: float) -> list[Fault]:
    """The Cosmos server frozen at a fifth of the phase, Azurite stopped at a half (back once it
    answers again, which takes node a few seconds more)."""
    return [
        Fault(
            "cosmos (SIGSTOP)",
            seconds / 5,
            outage,
            lambda: stack.freeze("cosmos"),
            lambda: stack.thaw("cosmos"),
        ),
        Fault("azurite (stopped)", seconds / 2, outage, stack.stop_azurite, stack.start_azurite),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--passports", type=int, default=10000, help="passports loaded and read")
    parser.add_argument("--hot", type=int, default=100, help="passports the patches go to")
    parser.add_argument("--import-rows", type=int, default=2000, help="rows of each bulk import")
    parser.add_argument("--timeout", type=float, default=10, help="client timeout of every request")
    parser.add_argument("--outage", type=float, default=10, help="seconds each store is down")
    parser.add_argument("--phases", default="soak,faults", help="soak, faults, or both")
    parser.add_argument("--host-log", type=Path, help="where the host logs (default: a temporary file)")
    args = parser.parse_args(argv)
    phases = [phase.strip() for phase in args.phases.split(",") if phase.strip()]
    if not phases or set(phases) - {"soak", "faults"}:
        parser.error("--phases takes soak, faults or soak,faults")
    if args.hot > args.passports or min(args.clients, args.passports, args.hot) < 1 or args.seconds <= 0:
        parser.error("need seconds > 0, clients >= 1, 1 <= hot <= passports")

    from functions import app_root
    from local.stack import free_port
    from local.tokens import mint
    from shared.platform.settings import load_settings

    failed = False
    with stack_environment() as (stack, directory):
        port = free_port()
        os.environ["DPP_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        run_id = f"{random.randrange(16**8):08x}"
        started = time.monotonic()
        passports = load(app_root(load_settings()), run_id, args.passports)
        seconds = time.monotonic() - started
        print(f"loaded {args.passports} passports through the core in {seconds:.1f} s", flush=True)
        token = mint(directory / "issuer", roles=["operator"], operator=LOAD_OPERATOR, ttl_seconds=7200)
        with host_process(port, args.host_log or directory / "host.log") as base:
            hot = [dpp_id for dpp_id, _ in passports[: args.hot]]
            workload = Workload(base, token, passports, hot, args.timeout)
            print(
                f"{args.clients} clients, {args.timeout:g} s timeout, patches over {args.hot} passports, "
                f"imports of {args.import_rows} rows; cores: {os.cpu_count()}"
            )
            for number, phase in enumerate(phases):
                faults = store_faults(stack, args.seconds, args.outage) if phase == "faults" else []
                workload.phase = phase
                run = soak(
                    workload,
                    seconds=args.seconds,
                    clients=args.clients,
                    faults=faults,
                    import_rows=args.import_rows,
                    tag=f"{run_id}-{phase}",
                    seed=number,
                )
                verdict = verify(workload, run.writes)
                figures = report(run, verdict, args.timeout, phase)
                print("\n".join(figures.lines), flush=True)
                failed = failed or bool(figures.bad or figures.hung or figures.lost or not figures.recovered)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
