"""The fitted abstention model: logistic weights over the composer's signals, and the threshold below which the
engine abstains. Fitted by `make calibrate` (evaluation/calibrate.py) into calibration.json beside this file."""

import json
from dataclasses import dataclass, field
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    """Logistic weights over the composer's signals and the confidence below which we abstain."""

    weights: dict[str, float]
    bias: float
    threshold: float
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["weights"], float(data["bias"]), float(data["threshold"]), data.get("details", {}))
