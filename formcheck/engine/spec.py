"""The exercise spec schema (pydantic) and the spec file loader, with error messages written for a therapist.

The catalog (built-ins, the clinic's folder, the database) is :mod:`formcheck.engine.catalog`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from formcheck.engine.geometry import is_point_name

CATALOG_DIR = Path(__file__).resolve().parents[1] / "exercises"

Position = Literal["standing", "supine", "side-lying", "seated", "prone", "quadruped", "kneeling"]
View = Literal["side", "front", "any"]


class SpecError(ValueError):
    """An exercise spec is missing or invalid; the message says which file and what to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalSpec(_Strict):
    """One measured quantity. Exactly one of ``angle`` (3 points, degrees at the middle one), ``incline``
    (2 points, angle of the segment from straight up, degrees), ``height`` (2 points: how far the second
    is above the first, torso lengths) or ``distance`` (2 points, torso lengths)."""

    angle: tuple[str, str, str] | None = None
    incline: tuple[str, str] | None = None
    height: tuple[str, str] | None = None
    distance: tuple[str, str] | None = None
    # image: pixel geometry (exact for a movement in the image plane); world: MediaPipe's 3-D world landmarks
    # (survive any camera angle, noisier); auto: image while the camera sees the body from the spec's own view,
    # world in the other views the spec supports (camera.views), where the image foreshortens the movement
    space: Literal["image", "world", "auto"] = "image"
    side: Literal["left", "right"] | None = None  # fixed side, overriding the exercise's
    doc: str = ""

    @model_validator(mode="after")
    def _one_measure(self) -> SignalSpec:
        given = [k for k in ("angle", "incline", "height", "distance") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a signal needs exactly one of angle, incline, height, distance")
        for name in getattr(self, given[0]):
            if not is_point_name(name):
                raise ValueError(f"unknown body point {name!r} (e.g. knee, other_knee, left_wrist, mid_hip, nose)")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("angle", "incline", "height", "distance") if getattr(self, k) is not None)

    @property
    def points(self) -> tuple[str, ...]:
        return getattr(self, self.kind)


TEMPO_QUICK = 2.0  # a repetition may be this many times quicker than the quickest comfortable tempo
TEMPO_SLOW = 3.0  # ... and this many times slower than the slowest one


class Calibration(_Strict):
    """Personal calibration of a repetition: the person's own rest and end positions, learned from their first
    movements, within the spec's bounds. ``target`` is the shallowest end position that may count for a person
    whose movements consistently stay short of the spec's target (a small but correct cat-cow, a shallow lunge);
    ``rest`` the furthest-in starting position for one who never gets quite back to the spec's rest."""

    target: float | None = None
    rest: float | None = None
    reps: int = Field(2, ge=1)  # movements that teach the personal range before a shallow one counts
    doc: str = ""


class RepSpec(_Strict):
    """A repetition: ``signal`` leaves its ``rest`` value, passes ``target`` and comes back past ``rest``."""

    signal: str
    rest: float
    target: float
    hysteresis: float = Field(4.0, ge=0)
    min_range: float | None = Field(None, ge=0)  # default: 70% of |rest - target|
    # a repetition lasts tempo_s[0] / 2 .. 3 * tempo_s[1] unless given: twice as quick as the quickest
    # comfortable tempo still counts, and so does a slow one; the limits scale with the exercise's tempo
    min_duration_s: float = Field(None, ge=0)
    max_duration_s: float = Field(None, gt=0)
    tempo_s: tuple[float, float] = (1.0, 6.0)  # comfortable duration of one repetition (score, duration limits)
    hold_s: float = Field(0.0, ge=0)  # hold at the target position (e.g. 3 s at the top of a leg raise)
    hold_band: float | None = Field(None, ge=0)  # within this of the rep's extreme counts as holding
    keep_position: bool = True  # leaving the starting position (lying / upright) abandons the repetition
    calibrate: Calibration | None = None  # learn the person's own range within these bounds
    doc: str = ""

    @model_validator(mode="before")
    @classmethod
    def _duration_limits(cls, data):
        if isinstance(data, dict):
            lo, hi = data.get("tempo_s") or (1.0, 6.0)
            data = {**data}
            if data.get("min_duration_s") is None:
                data["min_duration_s"] = round(float(lo) / TEMPO_QUICK, 3)
            if data.get("max_duration_s") is None:
                data["max_duration_s"] = round(float(hi) * TEMPO_SLOW, 3)
        return data

    @model_validator(mode="after")
    def _distinct(self) -> RepSpec:
        if abs(self.rest - self.target) <= 2 * self.hysteresis:
            raise ValueError("rest and target must differ by more than twice the hysteresis")
        if self.tempo_s[0] > self.tempo_s[1]:
            raise ValueError(f"tempo_s must be [shortest, longest], got {list(self.tempo_s)}")
        if self.min_duration_s > self.max_duration_s:
            raise ValueError(f"min_duration_s ({self.min_duration_s:g}) is more than "
                             f"max_duration_s ({self.max_duration_s:g})")
        cal = self.calibrate
        if cal is not None:
            sign = 1.0 if self.rising else -1.0
            rest = self.rest if cal.rest is None else cal.rest
            target = self.target if cal.target is None else cal.target
            if cal.target is not None and not (sign * self.rest < sign * cal.target <= sign * self.target):
                raise ValueError(f"calibrate.target ({cal.target:g}) must lie between rest ({self.rest:g}) and "
                                 f"target ({self.target:g}): it is the shallowest end position that may count")
            if cal.rest is not None and not (sign * self.rest <= sign * cal.rest < sign * target):
                raise ValueError(f"calibrate.rest ({cal.rest:g}) must lie between rest ({self.rest:g}) and the "
                                 f"target: it is the furthest-in starting position")
            if abs(rest - target) <= self.hysteresis:
                raise ValueError("calibrate.rest and calibrate.target must differ by more than the hysteresis")
        return self

    @property
    def rising(self) -> bool:
        return self.target > self.rest


def _check_order(lo: float | None, hi: float | None, what: str) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"{what} has min {lo:g} above max {hi:g}: no value can be in that range "
                         "(swap them, or keep only one bound)")


class Condition(_Strict):
    """A signal within [min, max] (either bound may be left out)."""

    signal: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Condition:
        if self.min is None and self.max is None:
            raise ValueError(f"condition on {self.signal!r} needs min or max")
        _check_order(self.min, self.max, f"condition on {self.signal!r}")
        return self


class HoldSpec(_Strict):
    """A hold: every condition true. Breaks shorter than ``dropout_s`` (tracking or form) do not end it."""

    conditions: list[Condition] = Field(min_length=1)
    dropout_s: float = Field(1.0, ge=0)
    # the person stays in view but the hold cannot be measured (a close-up, a limb out of frame): the hold
    # carries on for up to this long when it is seen held again after it
    occluded_s: float = Field(6.0, ge=0)
    min_hold_s: float = Field(1.5, ge=0)
    doc: str = ""


class RuleSpec(_Strict):
    """A form rule: ``keep`` the signal in [min, max] (fault after ``min_duration_s`` outside), or ``reach`` it at
    least once per repetition / hold (fault when the best value stays short)."""

    id: str
    message: str
    severity: Literal["info", "warning", "error"] = "warning"
    signal: str
    min: float | None = None
    max: float | None = None
    check: Literal["keep", "reach"] = "keep"
    when: Literal["always", "moving", "target", "hold"] = "moving"
    during: list[Condition] = []  # checked only on frames where these hold too
    view: View = "any"  # checked only when the camera sees the body from this view (e.g. a sagging back: side)
    min_duration_s: float = Field(0.3, ge=0)
    # how far past min / max the signal must be to count as a fault (the signal's unit): for a signal whose
    # tracking is noisier than its bound is strict, so a value at the threshold's edge does not warn
    margin: float = Field(0.0, ge=0)
    doc: str = ""

    @model_validator(mode="after")
    def _bounded(self) -> RuleSpec:
        if self.min is None and self.max is None:
            raise ValueError(f"rule {self.id!r} needs min or max")
        _check_order(self.min, self.max, f"rule {self.id!r}")
        return self


class Targets(_Strict):
    reps: int | None = Field(None, ge=1)
    sets: int = Field(1, ge=1)
    hold_s: float | None = Field(None, gt=0)
    rest_s: float = Field(30.0, ge=0)
    rate_per_min: float | None = Field(None, gt=0)


class Camera(_Strict):
    """Where the camera should be. ``view`` is the view the movement is measured best in (the image plane);
    ``views`` every view the exercise can be measured in (signals with ``space: auto`` switch to world
    landmarks outside ``view``). Outside ``views`` the person is asked to turn (``strict``: counting waits)."""

    view: View = "side"
    views: list[Literal["side", "front"]] | None = None  # default: [view] (both for view: any)
    strict: bool = False  # wrong view blocks counting (else: a calm hint)
    hint: str = ""

    @property
    def supported(self) -> tuple[str, ...]:
        if self.views:
            return tuple(self.views)
        return ("side", "front") if self.view == "any" else (self.view,)


class ExerciseSpec(_Strict):
    """One catalog exercise."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    level: Literal["initial", "intermediate", "advanced", "other"]
    position: Position
    camera: Camera
    instructions: list[str] = Field(min_length=1)
    kind: Literal["reps", "hold", "rate"]
    side: Literal["left", "right", "both", "alternating", "auto"] = "auto"
    signals: dict[str, SignalSpec] = Field(min_length=1)
    rep: RepSpec | None = None
    hold: HoldSpec | None = None
    rules: list[RuleSpec] = []
    targets: Targets
    doc: str = ""  # what counts as a repetition / hold

    @field_validator("instructions")
    @classmethod
    def _short(cls, v: list[str]) -> list[str]:
        if len(v) > 5:
            raise ValueError("keep instructions to at most 5 short lines")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ExerciseSpec:
        if self.kind in ("reps", "rate") and self.rep is None:
            raise ValueError(f"kind {self.kind!r} needs a 'rep' section")
        if self.kind == "hold" and self.hold is None:
            raise ValueError("kind 'hold' needs a 'hold' section")
        used = []
        if self.rep:
            used.append(("rep", self.rep.signal))
        if self.hold:
            used += [("hold condition", c.signal) for c in self.hold.conditions]
        used += [(f"rule {r.id!r}", r.signal) for r in self.rules]
        used += [(f"rule {r.id!r} (during)", c.signal) for r in self.rules for c in r.during]
        for where, name in used:
            if name not in self.signals:
                raise ValueError(f"{where} uses signal {name!r}, which is not defined in 'signals' "
                                 f"(defined: {', '.join(self.signals)})")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        return self

    @property
    def hold_target_s(self) -> float:
        if self.targets.hold_s:
            return self.targets.hold_s
        return self.rep.hold_s if self.rep else 0.0


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "string_pattern_mismatch" and where == "id":
            msg = "use only lower-case letters, digits and _ (e.g. my_knee_bend)"
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def parse_spec(data: object, origin: str = "spec") -> ExerciseSpec:
    """Validate a spec from already parsed YAML/TOML data."""
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: an exercise spec must be a mapping of fields (id, name, kind, ...)")
    try:
        return ExerciseSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"{origin} is not a valid exercise spec:\n{_format_errors(exc)}") from None


def load_spec_file(path: str | Path) -> ExerciseSpec:
    """Load and validate a spec file (``.yaml``, ``.yml`` or ``.toml``)."""
    path = Path(path)
    if path.is_dir():
        raise SpecError(f"{path} is a folder; give an exercise spec file (.yaml or .toml)")
    if not path.is_file():
        raise SpecError(f"exercise spec file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{path.name} is not a text file; an exercise spec is a .yaml or .toml text file") from None
    except OSError as exc:
        raise SpecError(f"cannot read the exercise spec file {path} ({exc.strerror or exc})") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise SpecError(f"{path.name} cannot be read as {path.suffix[1:].upper()}: {exc}") from None
    return parse_spec(data, path.name)
