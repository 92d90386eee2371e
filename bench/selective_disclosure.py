"""Cost of SD-JWT issuance on write and of presentations on read, each against its baseline.

    python -m bench.selective_disclosure --n 2000

In-process, no store: the figures are the CPU cost these steps add to a request (the store's
round trips are measured by bench.read_latency and bench.signing_cost). Over one passport shaped
like the reference sample plus restricted sections (five sections, an own policy with an element
rule, two artifact references), interleaving the two sides of each pair sample by sample:

- issuing: the SD-JWT of a version (salts, disclosures, digests, one ES256 signature with the
  local key) against the detached JWS over the JCS document it replaced (one ES256 signature);
- presenting: what a read does now for a recycler (decide the withheld disclosures, prune the
  document, JCS + SHA-256 of what is shown, join the presentation) against what it did before
  (filter the document by the policy, nothing else);
- and the signer calls made by N presented reads (must be 0).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import percentile

SECTIONS = {
    "nameplate": {"ManufacturerName": "ACME", "Materials": [{"name": "Cotton", "share": 0.95}]},
    "composition": {"fibres": "cotton", "supplierContract": "C-1", "recycledShare": 0.3},
    "supplychain": {"tier1": {"name": "Spinner", "country": "PT"}, "tier2": {"name": "Gin"}},
    "repair": {"manual": "https://example.org/manual.pdf", "spareParts": ["zip", "button"]},
    "manufacture": {"line": "Z9", "date": "2026-01-01"},
}
OWN_POLICY = {"elements": {"$.composition.supplierContract": ["authority"]}}


def _record(number: int) -> dict[str, Any]:
    document = {
        "digitalProductPassportId": f"urn:bench:dpp:{number}",
        "uniqueProductIdentifier": f"urn:bench:product:{number}",
        "granularity": "Item",
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "lastUpdate": "2026-12-01T00:00:00.000Z",
        "economicOperatorId": "did:example:bench",
        "contentSpecificationIds": ["https://spec.example.org/Nameplate/1"],
        **SECTIONS,
    }
    reference = {
        "uri": "/artifacts/x",
        "hash": "sha256-" + "A" * 43,
        "mediaType": "application/pdf",
        "size": 1,
    }
    return {
        "dppId": document["digitalProductPassportId"],
        "productId": document["uniqueProductIdentifier"],
        "version": 1,
        "ts": "2026-12-01T00:00:00.000Z",
        "operation": "create",
        "writer": "bench",
        "deleted": False,
        "document": document,
        "lifecycle": {"versionLabel": "v1", "status": "Valid", "validFrom": "2026-12-01T00:00:00.000Z"},
        "labels": [{"label": "v1", "version": 1, "publishedAt": "2026-12-01T00:00:00.000Z"}],
        "artifacts": {"repair": reference, "composition": reference},
        "accessPolicy": OWN_POLICY,
        "contentHash": None,
        "previousDigest": None,
    }


def _pair(n: int, first: Callable[[int], object], second: Callable[[int], object]) -> tuple[list[float], ...]:
    times: tuple[list[float], list[float]] = ([], [])
    for index in range(n):
        for side, run in enumerate((first, second)):
            started = time.perf_counter()
            run(index)
            times[side].append((time.perf_counter() - started) * 1_000_000)
    return times


def _line(name: str, values: list[float]) -> str:
    return f"  {name:<34}: p50 {percentile(values, 0.5):8.1f} us   mean {statistics.mean(values):8.1f} us"


def _report(
    n: int, issuing: tuple[list[float], ...], reading: tuple[list[float], ...], size: int, calls: int
) -> None:
    jws_times, sd_times = issuing
    plain_times, presented_times = reading
    print(f"{n} samples per side, interleaved, local ES256 key, one passport of {len(SECTIONS)} sections")
    print("Issuing a version (write path)")
    print(_line("detached JWS over JCS (before)", jws_times))
    print(_line("SD-JWT with disclosures (now)", sd_times))
    print(f"  ratio SD-JWT/JWS: p50 {percentile(sd_times, 0.5) / percentile(jws_times, 0.5):.2f}x")
    print("Presenting a version to a recycler (read path)")
    print(_line("policy filter only (before)", plain_times))
    print(_line("withheld + prune + hash + present", presented_times))
    ratio = percentile(presented_times, 0.5) / percentile(plain_times, 0.5)
    print(f"  ratio presented/plain: p50 {ratio:.2f}x")
    print(f"  presentation size: {size} characters; signer calls during {2 * n + 100} reads: {calls}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="samples per side")
    args = parser.parse_args(argv)

    from shared.access.authentication import Principal
    from shared.access.authorization import AccessControl
    from shared.access.policy import Viewer, deployment_policy, disclose
    from shared.integrity.did import service_did
    from shared.integrity.keyring import KeyRing
    from shared.integrity.sealer import Sealer
    from shared.integrity.signatures import Seal, sign_document
    from shared.integrity.signers import LocalSigner, ensure_local_key
    from shared.passports.issuance import Issuance

    with tempfile.TemporaryDirectory() as tmp:
        signer = LocalSigner(ensure_local_key(Path(tmp) / "signing-key.pem"))
        signed: list[bytes] = []
        sign = signer.sign

        def counted(data: bytes) -> tuple[str, bytes]:
            signed.append(data)
            return sign(data)

        signer.sign = counted  # type: ignore[method-assign]
        kid = signer.public_jwk()["kid"]
        access = AccessControl(deployment_policy(None))
        issuance = Issuance(
            Sealer(KeyRing(signer)), access, service_did("https://dpp.example.com"), "https://dpp.example.com"
        )
        record = _record(1)

        def legacy(index: int) -> object:
            legacy_document = {**record["document"], "dppLifecycle": record["lifecycle"]}
            seal = Seal(record["dppId"], index + 1, "create", None)
            return sign_document(legacy_document, seal, kid, lambda data: sign(data)[1])

        def sd_jwt(index: int) -> object:
            # The SD-JWT alone: a version's core token (a second, small JWS) is kept while its
            # claims hold, and signed only when they change (bench.signing_cost writes both).
            return issuance.issue({**record, "version": index + 1})

        _pair(50, legacy, sd_jwt)  # warm-up
        issuing = _pair(args.n, legacy, sd_jwt)

        item = issuance.sealed(record)
        recycler = Principal("bench-reader", frozenset({"recycler"}), None)
        viewer = Viewer(frozenset({"recycler"}), False)
        calls_before = len(signed)

        def before(_: int) -> object:
            return disclose(item["document"], viewer, access.policy, OWN_POLICY).document

        def now(_: int) -> dict[str, Any]:
            shown = access.shown(recycler, item)
            return {**shown.document, "contentHash": shown.content_hash, "signature": shown.presentation()}

        _pair(50, before, now)  # warm-up
        reading = _pair(args.n, before, now)
        _report(args.n, issuing, reading, len(now(0)["signature"]), len(signed) - calls_before)


if __name__ == "__main__":
    main()
