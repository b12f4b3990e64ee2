"""Evidence: every statement of a note traced to the transcript (see verify.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from delphos.evidence.models import Evidence
from delphos.evidence.runner import EvidenceRunner
from delphos.evidence.verify import TooManyStatements, verify, warm_up

__all__ = ["Evidence", "EvidenceRunner", "check_evidence", "verify", "warm_up"]

log = logging.getLogger("delphos.evidence")


async def check_evidence(
    runner: EvidenceRunner, accumulated_text: str, note: Mapping[str, str]
) -> Evidence | None:
    """The `evidence` object of a note, computed off the event loop (CPU-bound: up to
    100,000 characters; see runner.py). A bug here must not cost the clinician the
    note: None then, as for a note of more statements than the runner checks."""
    try:
        evidence = await runner.verify(accumulated_text, note)
    except TooManyStatements as exc:
        log.warning(
            "evidence not checked: the note has %d statements, more than %d", exc.count, exc.limit
        )
        return None
    except Exception as exc:
        # The type only: the exception's text could quote the note.
        log.error("evidence check failed: %s", type(exc).__name__)
        return None
    return evidence
