"""Formula-looking cells in the failed-rows report are escaped, and read back exactly."""

from __future__ import annotations

import pytest

from shared.onboarding.spreadsheet_cells import escaped, unescaped

RUNNABLE = ['=HYPERLINK("http://evil.example","fix me")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx", "=1"]


@pytest.mark.parametrize("cell", RUNNABLE)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(cell):
    assert escaped(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell", ["-5", "+3.5", "-0,25", "1e3", "-1.5E-3", "plain", "", "'quoted", "''quoted", "a=b"]
)
def test_numbers_and_plain_text_stay_as_they_are(cell):
    assert escaped(cell) == cell


@pytest.mark.parametrize("cell", [*RUNNABLE, "-5", "plain", "'=x", "''=x", "'-5", "''", "'", "'abc"])
def test_the_round_trip_is_exact(cell):
    assert unescaped(escaped(cell)) == cell


def test_an_empty_cell_is_written_empty_and_other_values_as_their_text():
    assert escaped(None) == ""
    assert escaped(-5) == "-5" and escaped(3.5) == "3.5"
