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


@pytest.mark.parametrize(
    "argv",
    [["--phases", "soak,chaos"], ["--phases", ","], ["--hot", "20", "--passports", "10"], ["--clients", "0"]],
)
def test_the_load_bench_refuses_bad_arguments_before_starting_anything(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.load

    def no_stack() -> None:
        raise AssertionError("a stack was started")

    monkeypatch.setattr(bench.load, "stack_environment", no_stack)
    with pytest.raises(SystemExit) as exit_info:
        bench.load.main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--rows", "0"], ["--memory-rows", "10000,x"], ["--memory-rows", "0"]])
def test_the_import_throughput_bench_refuses_bad_arguments_before_starting_anything(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.import_throughput

    def no_stack() -> None:
        raise AssertionError("a stack was started")

    monkeypatch.setattr(bench.import_throughput, "app_stack", no_stack)
    with pytest.raises(SystemExit) as exit_info:
        bench.import_throughput.main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
