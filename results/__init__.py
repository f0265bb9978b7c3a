"""Results: the engine's raw output joined to rule METADATA, waivers applied, verdicts per rule."""
