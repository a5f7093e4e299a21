"""The exercise engine: catalog specs run by one analyzer (repetitions, holds, form rules, scores)."""

from __future__ import annotations

from formcheck.engine.analyzer import ExerciseAnalyzer
from formcheck.engine.spec import ExerciseSpec, SpecError, list_exercises, load_spec, load_spec_file

__all__ = ["ExerciseAnalyzer", "ExerciseSpec", "SpecError", "create_analyzer", "list_exercises", "load_spec",
           "load_spec_file"]


def create_analyzer(exercise_id: str):
    """The analyzer for a catalog id, a spec file path, ``"none"`` (poses only) or ``"auto"`` (recognised).

    Unknown ids raise ``KeyError`` listing the catalog; invalid spec files raise ``SpecError`` (a ``ValueError``)."""
    if exercise_id == "none":
        from formcheck.engine.base import PoseOnlyAnalyzer

        return PoseOnlyAnalyzer("none")
    if exercise_id == "auto":
        try:
            from formcheck.engine.recognition import AutoAnalyzer
        except ImportError:  # recognition not available: report poses only
            from formcheck.engine.base import PoseOnlyAnalyzer

            return PoseOnlyAnalyzer("auto")
        return AutoAnalyzer()
    return ExerciseAnalyzer(load_spec(exercise_id))
