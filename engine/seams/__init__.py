"""Seams placed by the rules (`options.auto_seams`): a piece no slab can hold becomes parts joined by butt seams.

- `plan`: where a seam may go on a piece (clear of cutouts, appliance zones, inside corners, curves and joins),
  and the plans with the fewest seams;
- `split`: a piece cut across at given x, each part in its own frame, and the job with its parts and joins;
- `place`: the CAD stage's step: plan, nest the candidates for the fewest slabs, split, describe each seam.
"""

from engine.seams.place import Placed, apply_seams, place_seams
from engine.seams.plan import Blocked, PiecePlans, Plan, SeamError, plan_piece
from engine.seams.split import split_job, split_piece

__all__ = ["Blocked", "PiecePlans", "Placed", "Plan", "SeamError", "apply_seams", "place_seams", "plan_piece",
           "split_job", "split_piece"]
