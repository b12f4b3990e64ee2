"""Imported by the evidence processes' fork server before it forks (runner.py): the
checker and its drug dictionary, loaded once for every process forked after."""

from __future__ import annotations

from delphos.evidence.verify import warm_up

warm_up()
