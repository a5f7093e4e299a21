"""The exercise engine: catalog specs run by one analyzer (repetitions, holds, form rules, scores)."""

from __future__ import annotations

from formcheck.engine.analyzer import ExerciseAnalyzer
from formcheck.engine.base import Analyzer, PoseOnlyAnalyzer
from formcheck.engine.catalog import Catalog, current_catalog, list_exercises, load_spec, use_catalog
from formcheck.engine.periodic import PeriodicAnalyzer
from formcheck.engine.recognition import AutoAnalyzer
from formcheck.engine.spec import ExerciseSpec, SpecError, load_spec_file

__all__ = ["Analyzer", "AutoAnalyzer", "Catalog", "ExerciseAnalyzer", "ExerciseSpec", "PeriodicAnalyzer",
           "PoseOnlyAnalyzer", "SpecError", "create_analyzer", "current_catalog", "list_exercises", "load_spec",
           "load_spec_file", "use_catalog"]


def create_analyzer(exercise_id: str, *, candidates: list[str] | None = None) -> Analyzer:
    """The analyzer for a catalog id, a spec file path, ``"none"`` (poses only), ``"periodic"`` (any repeated
    movement) or ``"auto"`` (recognised from the motion, among ``candidates`` or the whole catalog).

    Unknown ids raise ``KeyError`` listing the catalog; invalid spec files raise ``SpecError`` (a ``ValueError``)."""
    if exercise_id == "none":
        return PoseOnlyAnalyzer("none")
    if exercise_id == "periodic":
        return PeriodicAnalyzer()
    if exercise_id == "auto":
        return AutoAnalyzer(exercises=candidates)
    return ExerciseAnalyzer(load_spec(exercise_id))
