"""The exercise catalog as the API sees it: only catalog ids are accepted (never paths)."""

from __future__ import annotations

from functools import lru_cache

from server.api.errors import Problem


@lru_cache(maxsize=1)
def exercise_ids() -> tuple[str, ...]:
    """Ids of the catalog's exercises (empty while the exercise engine is not installed)."""
    try:
        from formcheck.engine import list_exercises
    except ImportError:
        return ()
    return tuple(list_exercises())


def check_exercise(exercise: str) -> str:
    """``exercise`` when it is a catalog id, else a 422 problem that lists the catalog."""
    ids = exercise_ids()
    if exercise in ids:
        return exercise
    known = ", ".join(ids) or "(the exercise catalog is not installed)"
    raise Problem(422, f"Unknown exercise {exercise!r}. Choose one of: {known}.", "Unknown exercise")


def recognition_available() -> bool:
    """Whether ``auto`` (recognising the exercise from the motion) is installed."""
    try:
        from formcheck.engine.recognition import AutoAnalyzer  # noqa: F401
    except ImportError:
        return False
    return True


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


@lru_cache(maxsize=256)
def exercise_info(exercise: str) -> dict:
    """Name, kind, position, how-to and camera text and default targets of a catalog exercise."""
    info = {
        "id": exercise,
        "name": exercise.replace("_", " ").capitalize(),
        "level": "other",
        "kind": "reps",
        "position": "",
        "view": "",
        "instructions": [],
        "camera": "",
        "targets": {},
    }
    if exercise not in exercise_ids():
        return info
    from formcheck.engine import load_spec

    spec = load_spec(exercise)
    camera = getattr(spec, "camera", None)
    targets = getattr(spec, "targets", None)
    info.update(
        name=spec.name,
        level=getattr(spec, "level", "other"),
        kind=getattr(spec, "kind", "reps"),
        position=str(getattr(spec, "position", "")),
        view=str(getattr(camera, "view", "") or getattr(spec, "view", "")),
        instructions=list(getattr(spec, "instructions", []) or []),
        camera=_text(getattr(camera, "hint", camera) if camera is not None else ""),
        targets=targets.model_dump() if hasattr(targets, "model_dump") else dict(targets or {}),
    )
    return info
