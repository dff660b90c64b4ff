"""``linkwatch simulate``: a synthetic world (honest population + distillation campaigns) as an input bundle."""
from .config import SCALES, SimulationConfig, config_for
from .world import Summary, generate

__all__ = ["SCALES", "SimulationConfig", "Summary", "config_for", "generate"]
