"""The fine-tuning sweep, independent of any model: a validated search space (:mod:`.space`), study storage
(:mod:`.storage`), workers that together finish exactly N trials of one study (:mod:`.workers`) and rerun a dead
worker's trial (:mod:`.lease`), the transformers callback that reports to the trial (:mod:`.callback`, the only
module that imports transformers), and the results (:mod:`.results`)."""
