"""Slab nesting benchmark: the engine's nest() against rectpack and bounds on the 2D bin-packing CLASS instances."""
