"""The green pipeline with joules per step.

    python examples/green_pipeline.py [breast_cancer|digits|synthetic]

load → clean (impute, clip outliers) → normalise → reduce (PCA) → train (logistic regression by
mini-batch gradient descent) → evaluate → hyper-parameter search, every step inside an energy
monitor. Without an energy meter the joules column says "no meter" and shares are of time.
The same run from the shell: `lepton pipeline --data breast_cancer --plot steps.png`.
"""

import sys

from rich.console import Console

from lepton import pipeline
from lepton.pipeline import report

data = sys.argv[1] if len(sys.argv) > 1 else "breast_cancer"
result = pipeline.run(
    data,
    rows=50_000 if data == "synthetic" else None,
    cols=32 if data == "synthetic" else None,
    selection="accuracy_per_joule",  # falls back to accuracy per second without a meter
    min_accuracy=0.9,
)

console = Console()
console.print(report.steps_table(result))
console.print(report.metrics_table(result))
console.print(report.search_table(result))
try:
    print("chart:", report.plot_steps(result, "pipeline_steps.png"))
except ImportError as exc:
    print(exc)
