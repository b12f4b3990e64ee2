"""Everything the application reads and writes, tenant-scoped.

A consultation is addressed by ``(tenant_id, external_id)``: another tenant's
consultation is simply not found. Functions take a ``Database`` and open their own
short transaction; none of them logs. One module per concern: tenants, note versions,
consultations (the history reads), and what a live session keeps.
"""

from delphos.db.repository._sql import check_external_id
from delphos.db.repository.consultations import (
    ConsultationInfo,
    ConsultationPage,
    get_consultation,
    list_consultations,
)
from delphos.db.repository.live import (
    AudioInfo,
    append_turn,
    list_audio,
    list_turns,
    save_audio,
)
from delphos.db.repository.notes import (
    find_source,
    list_notes,
    save_note,
    save_notes,
    store_evidence,
)
from delphos.db.repository.tenants import ensure_tenant, tenant_id_for

__all__ = [
    "AudioInfo",
    "ConsultationInfo",
    "ConsultationPage",
    "append_turn",
    "check_external_id",
    "ensure_tenant",
    "find_source",
    "get_consultation",
    "list_audio",
    "list_consultations",
    "list_notes",
    "list_turns",
    "save_audio",
    "save_note",
    "save_notes",
    "store_evidence",
    "tenant_id_for",
]
