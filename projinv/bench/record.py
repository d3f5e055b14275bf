"""What one pass measured, stage by stage, saved after every stage so a crash keeps the rest."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


class BenchError(Exception):
    """A stage did not do what it should: its number would be meaningless, so the run stops."""


@dataclass
class StageRecord:
    rows: int = 0  # rows per run (the same every run)
    app: list[float] = field(default_factory=list)  # seconds per run, the real services
    floor: list[float] = field(default_factory=list)  # seconds per run, plain SQL on twin tables
    naive_sample_rows: int = 0
    naive_sample_s: float | None = None
    extra: dict = field(default_factory=dict)  # stage-specific figures (per proposal, hops, pages)


@dataclass
class Recorder:
    label: str  # "full" or "tenth"
    scale: float
    path: Path | None = None
    stages: dict[str, StageRecord] = field(default_factory=dict)
    volumes: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    setup_s: dict[str, float] = field(default_factory=dict)  # unmeasured preparation, for the budget
    memory_kib: dict[str, int] = field(default_factory=dict)  # peaks of processes this pass started

    def stage(self, name: str) -> StageRecord:
        return self.stages.setdefault(name, StageRecord())

    def add_setup(self, what: str, seconds: float) -> None:
        self.setup_s[what] = self.setup_s.get(what, 0.0) + seconds

    def as_dict(self) -> dict:
        return {"label": self.label, "scale": self.scale, "volumes": self.volumes, "notes": self.notes,
                "setup_s": self.setup_s, "memory_kib": self.memory_kib,
                "stages": {name: asdict(record) for name, record in self.stages.items()}}

    def save(self) -> None:
        if self.path:
            self.path.write_text(json.dumps(self.as_dict(), indent=1))
