"""The deterministic synthetic landing generator (DESIGN §4b): activity statistics that look
real and never pass for real, and at region/national scale a project census and follow-up
criteria, for the embedded demo and the benchmarks."""

from pipelines.synth.landing import GenerationSummary, generate_activity, generate_landing
from pipelines.synth.scales import SCALES

__all__ = ["SCALES", "GenerationSummary", "generate_activity", "generate_landing"]
