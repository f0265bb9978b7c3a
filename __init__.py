"""amisec: policy-as-code for smart-grid Advanced Metering Infrastructure deployments."""

__version__ = "0.1.0"
