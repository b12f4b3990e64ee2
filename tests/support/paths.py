"""Where the repository and the shared reference data are, independent of the caller."""

from __future__ import annotations

from pathlib import Path

# tests/support/paths.py -> the repository root.
REPO = Path(__file__).resolve().parents[2]
# ../shared beside the repository: the seeds and the ACI-Bench evaluation data.
ACI_BENCH = REPO.parent / "shared" / "eval" / "aci-bench"
