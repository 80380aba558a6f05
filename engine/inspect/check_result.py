"""What the check of a user's Functions found, as frozen records: an :class:`OpResult` per op
(with a :class:`BatchRow` per batch size), the whole network's :class:`MlpResult`, both in a
:class:`FilesCheck`, and the :class:`RaceResult` of a race against the reference.

The check runs in a sandbox child, which has run someone else's code: it answers in JSON
(``to_dict``), never a pickle, and the parent rebuilds the records with ``from_dict``. A
missing or mistyped field there is a :class:`ValueError`, said as "the check sent back
something unreadable", never a half-read result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


def verdict_of(passed: bool | None, warnings) -> str:
    """FAIL: a wrong value or gradient at ordinary inputs. WARN: correct there, but numerically
    fragile at extreme inputs or in another convention (said why). PASS. "-" when not checked."""
    if passed is None:
        return "-"
    if not passed:
        return "FAIL"
    return "WARN" if warnings else "PASS"


def _number(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"not a number: {v!r}")
    return float(v)


def _numbers(d) -> dict[str, float]:
    if not isinstance(d, dict):
        raise ValueError(f"not a table of numbers: {d!r}")
    return {str(k): _number(v) for k, v in d.items()}


def _texts(v) -> tuple[str, ...]:
    if not isinstance(v, (list, tuple)) or not all(isinstance(t, str) for t in v):
        raise ValueError(f"not a list of texts: {v!r}")
    return tuple(v)


@dataclass(frozen=True)
class BatchRow:
    """One batch size's numbers: forward's relative error, each gradient's, or their error."""

    batch: int
    forward: float | None = None
    grads: dict[str, float] = field(default_factory=dict)
    error: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> BatchRow:
        return cls(int(d["batch"]), _number(d.get("forward")), _numbers(d.get("grads", {})), str(d.get("error", "")))


@dataclass(frozen=True)
class OpResult:
    """One op checked against the reference at each batch size."""

    name: str
    role: str
    style: str  # "torch" (an autograd.Function) or "numpy" (forward/backward methods)
    how: str  # how its role was found ("name", "given", …)
    file: str  # the file's name
    line: int | None
    passed: bool | None  # None: not checked (its role is "ignore")
    forward_error: float | None = None
    grad_errors: dict[str, float] = field(default_factory=dict)  # worst over the batch sizes
    diagnoses: tuple[str, ...] = ()  # why it FAILs, each said once
    warnings: tuple[str, ...] = ()  # why it WARNs
    convention: str | None = None  # the loss gradient's convention when not the one expected
    example: dict | None = None  # a worked example (batch of 2): see ``functions.worked_example``
    rows: tuple[BatchRow, ...] = ()

    @property
    def verdict(self) -> str:
        return verdict_of(self.passed, self.warnings)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict:
        return {**asdict(self), "verdict": self.verdict}

    @classmethod
    def from_dict(cls, d: dict) -> OpResult:
        passed = d.get("passed")
        if passed is not None and not isinstance(passed, bool):
            raise ValueError(f"passed: {passed!r}")
        line = d.get("line")
        return cls(
            name=str(d["name"]),
            role=str(d["role"]),
            style=str(d.get("style", "")),
            how=str(d.get("how") or ""),
            file=str(d.get("file", "")),
            line=None if line is None else int(line),
            passed=passed,
            forward_error=_number(d.get("forward_error")),
            grad_errors=_numbers(d.get("grad_errors", {})),
            diagnoses=_texts(d.get("diagnoses", ())),
            warnings=_texts(d.get("warnings", ())),
            convention=d.get("convention"),
            example=d.get("example") if isinstance(d.get("example"), dict) else None,
            rows=tuple(BatchRow.from_dict(r) for r in d.get("rows", ())),
        )


@dataclass(frozen=True)
class MlpResult:
    """An MLP built from their ops against finite differences of its own forward pass."""

    ran: bool
    passed: bool | None
    why: str = ""  # why it did not run, or why it failed
    errors: dict[str, float] = field(default_factory=dict)  # each parameter's relative error
    worst: float | None = None
    convention: str | None = None
    dtype: str = "float64"
    act: str = ""

    @property
    def verdict(self) -> str:
        return "-" if not self.ran else "PASS" if self.passed else "FAIL"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> MlpResult:
        return cls(
            ran=bool(d.get("ran")),
            passed=d.get("passed") if isinstance(d.get("passed"), bool) else None,
            why=str(d.get("why") or ""),
            errors=_numbers(d.get("errors", {})),
            worst=_number(d.get("worst")),
            convention=d.get("convention"),
            dtype=str(d.get("dtype") or "float64"),
            act=str(d.get("act") or ""),
        )


@dataclass(frozen=True)
class FilesCheck:
    """The check of a user's files: the ops found, each one's result, the whole MLP's."""

    ops: tuple[dict, ...]  # what was found (``userops.Found.to_dict``)
    results: tuple[OpResult, ...]
    mlp: MlpResult
    reduction: str = "mean"  # the loss gradient's expected convention
    activations: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        checked = [r for r in self.results if r.passed is not None]
        return bool(checked) and all(r.passed for r in checked) and self.mlp.passed is not False

    @property
    def warnings(self) -> int:
        return sum(len(r.warnings) for r in self.results)

    def result(self, name: str) -> OpResult:
        return next(r for r in self.results if r.name == name)

    def to_dict(self) -> dict:
        return {
            "ops": [dict(o) for o in self.ops],
            "results": [r.to_dict() for r in self.results],
            "mlp": self.mlp.to_dict(),
            "passed": self.passed,
            "warnings": self.warnings,
            "reduction": self.reduction,
            "activations": list(self.activations),
        }

    @classmethod
    def from_dict(cls, d: dict) -> FilesCheck:
        if not isinstance(d, dict):
            raise ValueError(f"not a check's result: {type(d).__name__}")
        return cls(
            ops=tuple(dict(o) for o in d.get("ops", ())),
            results=tuple(OpResult.from_dict(r) for r in d.get("results", ())),
            mlp=MlpResult.from_dict(d.get("mlp") or {}),
            reduction=str(d.get("reduction", "mean")),
            activations=_texts(d.get("activations", ())),
        )


@dataclass(frozen=True)
class RaceResult:
    """Their MLP and the reference trained side by side: each step's two losses and the first
    difference (``{"step", "parameter", "error", "loss_difference", "all", "stopped"?}``)."""

    reference: tuple[float, ...] = ()
    yours: tuple[float, ...] = ()
    first_difference: dict | None = None
    steps: int = 0
    tolerance: float = 0.0
    error: str = ""  # why it did not run

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RaceResult:
        if not isinstance(d, dict):
            raise ValueError(f"not a race's result: {type(d).__name__}")
        first = d.get("first_difference")
        return cls(
            reference=tuple(_number(v) for v in d.get("reference", ())),
            yours=tuple(_number(v) for v in d.get("yours", ())),
            first_difference=first if isinstance(first, dict) else None,
            steps=int(d.get("steps", 0)),
            tolerance=float(d.get("tolerance", 0.0)),
            error=str(d.get("error") or ""),
        )
