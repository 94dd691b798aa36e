"""Slab nesting: which piece copy goes where on which slab.

- `stock`: what is nested on what (parts, slabs in stock, the area bound);
- `bins`: open slabs as free-rectangle bins, the fit and split rules, guillotine and MaxRects packers;
- `passes`: one packing pass (an order, a rule, a way of choosing the bin);
- `search`: constructive passes, then a seeded local search, within a work cap and a time limit;
- `outline`: bottom-left fill of the true outlines on a grid, for shaped pieces on waterjet and CNC;
- `layout`: the result in slab coordinates, with remnants, and `nest()`.
"""

from engine.nest.bins import Fit, Rule, Split, guillotine_ok
from engine.nest.layout import MAX_REMNANTS, REMNANT_MIN_MM, nest
from engine.nest.passes import Choice
from engine.nest.stock import NestError, Part, StockSlab, lower_bound, part_area

__all__ = ["MAX_REMNANTS", "REMNANT_MIN_MM", "Choice", "Fit", "NestError", "Part", "Rule", "Split", "StockSlab",
           "guillotine_ok", "lower_bound", "nest", "part_area"]
