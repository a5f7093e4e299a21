"""The CSV export reads well in a spreadsheet: short numbers, formulas neutralised."""

import csv
import io

from server.services.reports import to_csv


def test_numbers_are_rounded_and_formulas_quoted():
    rep = {"index": 1, "start_s": 8.141466666666666, "end_s": 11.277933333333333, "score": 100.0,
           "range_of_motion": 114.9143718860056, "faults": []}
    warning = {"t_s": 9.5, "rule": "knees_in", "severity": "warning", "message": "=HYPERLINK(\"x\")"}
    text = to_csv({"id": 7, "reps": [rep], "holds": [], "warnings": [warning], "pain": []})
    rows = {row["type"]: row for row in csv.DictReader(io.StringIO(text))}
    rep_row = rows["rep"]
    assert rep_row["start_s"] == "8.141" and rep_row["range_of_motion"] == "114.914" and rep_row["score"] == "100.0"
    assert rows["warning"]["message"].startswith("'=")
