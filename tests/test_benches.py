"""The in-process benchmark runs and prints its figures (the others start their own stack and are
run by hand; see bench/README.md)."""

from __future__ import annotations

import pytest


def test_the_selective_disclosure_bench_measures_both_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.selective_disclosure import main

    main(["--n", "5"])
    printed = capsys.readouterr().out
    assert "ratio SD-JWT/JWS" in printed and "ratio presented/plain" in printed
    assert printed.rstrip().endswith(": 0")  # no signer call while presenting
