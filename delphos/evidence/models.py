"""The evidence records. These pydantic models ARE the wire shape (CONTRACTS.md): the
`/v1/notes/verify` answer, the `evidence` key of the final `soap` event and the stored
version all serialise one `Evidence` with `model_dump()`; /openapi.json documents them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SectionName = Literal["subjective", "objective", "assessment", "plan"]
Support = Literal["supported", "partial", "unsupported"]
IssueKind = Literal["number", "dose", "drug", "laterality", "negation"]
ISSUE_KINDS: tuple[IssueKind, ...] = ("number", "dose", "drug", "laterality", "negation")


class Span(BaseModel):
    """A span of `accumulated_text`, in Unicode code points (Python str indices)."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Issue(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: IssueKind
    text: str = Field(description="The note's text at fault")
    message: str = Field(description="Human message; may quote the note and the transcript")


class Statement(BaseModel):
    section: SectionName
    start: int = Field(ge=0, description="Offset in the section's text, in code points")
    end: int = Field(ge=0, description="End offset (exclusive) in the section's text")
    text: str = Field(description="== section_text[start:end]")
    support: Support
    evidence: list[Span] = Field(description="Spans of accumulated_text that support it")
    issues: list[Issue]


class SupportCounts(BaseModel):
    supported: int = 0
    partial: int = 0
    unsupported: int = 0


class IssueCounts(BaseModel):
    number: int = 0
    dose: int = 0
    drug: int = 0
    laterality: int = 0
    negation: int = 0


class Summary(BaseModel):
    needs_review: bool = Field(description="Any statement unsupported or with an issue")
    statements: int
    support: SupportCounts
    issues: IssueCounts


class Evidence(BaseModel):
    """Every statement of a note traced to the transcript, and a summary."""

    statements: list[Statement]
    summary: Summary


def summarise(statements: list[Statement]) -> Evidence:
    support = SupportCounts()
    issues = IssueCounts()
    for st in statements:
        setattr(support, st.support, getattr(support, st.support) + 1)
        for issue in st.issues:
            setattr(issues, issue.kind, getattr(issues, issue.kind) + 1)
    needs_review = support.unsupported > 0 or any(st.issues for st in statements)
    return Evidence(
        statements=statements,
        summary=Summary(
            needs_review=needs_review,
            statements=len(statements),
            support=support,
            issues=issues,
        ),
    )
