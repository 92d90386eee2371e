"""Memory flat in the file size: an XLSX's shared strings are read as a stream onto disk, their
limit applied while reading, and an import's report and failed rows are written in parts.
(bench/import_memory.py measures the whole import's peak RSS at 10,000 and 100,000 rows.)"""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import pytest

from shared.onboarding import file_formats, imports
from shared.onboarding.file_formats import ImportFileError, count_records, read_records
from tests.support.documents import make_passport
from tests.support.workbooks import write_workbook

STRINGS_PART = "xl/sharedStrings.xml"


def workbook(rows: int, *, declare: bool = True) -> bytes:
    """A workbook (with a shared strings table, as Excel writes one) whose every row holds two
    texts of its own, as product data does."""
    out = io.BytesIO()
    lines = ((f"sku-{i:07d}", f"Shirt {i} in organic cotton, long sleeves") for i in range(rows))
    write_workbook(out, [("sku", "name"), *lines], declare=declare)
    return out.getvalue()


def with_broken_tail(data: bytes) -> bytes:
    """The workbook with its shared strings table breaking off after its last text."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == STRINGS_PART:
                content = content.replace(b"</sst>", b"<si><t>")
            copy.writestr(entry, content)
    return out.getvalue()


def test_shared_strings_past_the_limit_are_refused_while_the_table_is_read(monkeypatch) -> None:
    monkeypatch.setattr(file_formats, "MAX_SHARED_STRINGS", 100)
    # 200 texts, then a table that breaks off: a reader that reads the whole table first meets
    # the break; one that counts as it reads stops at text 101 and never gets there.
    broken_tail = with_broken_tail(workbook(100, declare=False))

    with pytest.raises(ImportFileError, match="more than 100 distinct texts"):
        count_records(io.BytesIO(broken_tail), "xlsx")


def test_shared_strings_within_the_limit_read_as_before(monkeypatch) -> None:
    monkeypatch.setattr(file_formats, "MAX_SHARED_STRINGS", 202)  # 2 per row and the header's
    data = workbook(100, declare=False)

    read = list(read_records(io.BytesIO(data), "xlsx"))

    assert len(read) == 100
    assert read[0].values == {"sku": "sku-0000000", "name": "Shirt 0 in organic cotton, long sleeves"}
    assert read[-1].number == 101 and read[-1].values["sku"] == "sku-0000099"


def peak_while_reading(data: bytes) -> int:
    tracemalloc.start()
    try:
        for _ in read_records(io.BytesIO(data), "xlsx"):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_workbook_holds_no_more_for_ten_times_the_rows() -> None:
    small, large = workbook(2_000), workbook(20_000)
    peak_while_reading(small)  # modules and caches loaded before measuring

    small_peak, large_peak = peak_while_reading(small), peak_while_reading(large)

    # A table held in memory is ~100 bytes per text: 3.6 MB more for the larger workbook (the
    # code before measured +5.7 MB). Read from disk it grows by 0.5-1.2 MB (measured here and on
    # CI, interpreter state dependent): at most half the table's cost.
    assert large_peak < small_peak + 1_800_000, (small_peak, large_peak)


# -- the report ------------------------------------------------------------------------------------


def test_a_report_larger_than_a_block_is_written_in_blocks_in_row_order(
    root, api, http, auth, new_import, monkeypatch
) -> None:
    monkeypatch.setattr(imports, "REPORT_BLOCK_BYTES", 512, raising=False)
    monkeypatch.setattr(imports, "BATCH_ROWS", 7)  # failures in several parts
    items = [make_passport(granularity="Item" if i % 5 == 0 else f"Unit{i}") for i in range(40)]
    grant = new_import("many-failures.jsonl")
    data = "".join(json.dumps(item) + "\n" for item in items).encode()
    assert http.put(grant["uploadUrl"], data=data, headers=grant["uploadHeaders"]).status_code == 201

    assert root.imports.run(f"{grant['importId']}/{grant['fileName']}") == "done"

    container = root.blobs.container(imports.REPORTS_CONTAINER)
    name = f"{grant['importId']}/{grant['fileName']}"
    report_blob = container.get_blob_client(f"{name}.json")
    report = json.loads(report_blob.download_blob().readall())
    assert (report["total"], report["created"], report["failed"]) == (40, 8, 32)
    assert [f["row"] for f in report["failures"]] == [i + 1 for i in range(40) if i % 5]
    assert all("granularity" in f["reason"] for f in report["failures"])
    committed, _ = report_blob.get_block_list("committed")
    assert len(committed) > 1
    failed = container.download_blob(f"{name}.failed.jsonl").readall().decode().splitlines()
    assert [json.loads(line)["granularity"] for line in failed] == [f"Unit{i}" for i in range(40) if i % 5]


@pytest.mark.parametrize("argv", [["--formats", "xml"], ["--rows", "0,10"], ["--rows", ""]])
def test_the_memory_bench_refuses_bad_arguments_before_starting_anything(argv, capsys, monkeypatch) -> None:
    import bench.import_memory

    def no_stack() -> None:
        raise AssertionError("a stack was started")

    monkeypatch.setattr(bench.import_memory, "stack_environment", no_stack)
    with pytest.raises(SystemExit) as exit_info:
        bench.import_memory.main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
