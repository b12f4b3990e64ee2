"""The incremental SOAP parser, fed real reference notes cut at arbitrary points.

What a clinician would notice: the note on screen must grow only by appending (never show
text that later changes), a section marked done must already hold its final text, the final
note must equal what the model wrote, and bad output must fail cleanly without leaking it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delphos.records import SECTION_KEYS, SectionKey, SoapNote
from delphos.soap.parser import SoapOutputError, SoapStreamParser

ACI_BENCH = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci-bench"

Note = dict[SectionKey, str]

# Section headers of the ACI-bench reference notes, in the order a note uses them.
_OBJECTIVE_HEADER = re.compile(r"^(?:VITALS|PHYSICAL EXAM|EXAM|RESULTS)", re.MULTILINE)
_ASSESSMENT_HEADER = re.compile(r"^(?:ASSESSMENT|IMPRESSION)", re.MULTILINE)
_PLAN_HEADER = re.compile(r"^(?:PLAN|INSTRUCTIONS)", re.MULTILINE)


def _reference_notes(split: str) -> list[str]:
    data = json.loads((ACI_BENCH / f"{split}.json").read_text(encoding="utf-8"))["data"]
    return [item["tgt"] for item in data]


def _cut_sections(tgt: str) -> Note:
    """Cut a reference note into S/O/A/P at its headers; a missing header leaves "" there."""
    starts: list[int | None] = []
    pos = 0
    for header in (_OBJECTIVE_HEADER, _ASSESSMENT_HEADER, _PLAN_HEADER):
        found = header.search(tgt, pos)
        starts.append(found.start() if found else None)
        pos = found.start() if found else pos
    # A missing section starts where the next one does, so the text before stays with its
    # own section ("ASSESSMENT AND PLAN" notes get an empty plan, not an empty assessment).
    bounds = [len(tgt)]
    for start in reversed(starts):
        bounds.insert(0, bounds[0] if start is None else start)
    bounds.insert(0, 0)
    return {key: tgt[bounds[k] : bounds[k + 1]].strip() for k, key in enumerate(SECTION_KEYS)}


# D2N072 (valid split) translated to Portuguese: accents, a quoted phrase and an emoji outside
# the BMP, which json.dumps(ensure_ascii=True) writes as a surrogate pair.
PORTUGUESE_NOTE: Note = {
    "subjective": (
        "QUEIXA PRINCIPAL\n\nDor no dedo indicador direito.\n\nHDA\n\n"
        "Sra. Brooks, 48 anos, vem hoje para avaliação de dor no dedo indicador direito. "
        "Refere que estava esquiando 🎿 no domingo e hiperestendeu o dedo quando ficou preso "
        "numa alça durante um salto. Tentou aplicar gelo e tomar ibuprofeno, mas ainda dói "
        'muito. Tem "dor com o movimento".\n\nMEDICAÇÕES EM USO\n\nMiraLax\n\n'
        "ANTECEDENTES\n\nConstipação. Apendicectomia."
    ),
    "objective": (
        "EXAME\n\nDor à palpação da falange distal do indicador direito. Sem dor na falange "
        "proximal nem na articulação MF. Dor à flexão.\n\nRESULTADOS\n\nRadiografias da mão "
        "direita sem sinais óbvios de fratura ou alterações ósseas."
    ),
    "assessment": "IMPRESSÃO\n\nContusão na ponta do dedo indicador da mão direita.",
    "plan": (
        "PLANO\n\nDiscutidos o diagnóstico e as opções de tratamento com a paciente. "
        "Recomendada tala. Tomará Motrin 600 mg a cada 6 horas por uma semana. Se não "
        "melhorar, retorna para seguimento. Todas as dúvidas foram esclarecidas."
    ),
}

VALID_TGTS = _reference_notes("valid")
NOTES: list[Note] = [*(_cut_sections(t) for t in VALID_TGTS), PORTUGUESE_NOTE]

# (before, after) the JSON: what models put around it despite the prompt.
WRAPPERS = [
    ("", ""),
    ("```json\n", "\n```"),
    ("Here is the SOAP note:\n\n", "\n\nLet me know if you need changes."),
    ("Sure.\n```json\n", "\n```\nThe plan follows the transcript."),
    (" \n", "\n"),
]


def _serialise(note: Note, order: list[SectionKey], ensure_ascii: bool, indent: int | None) -> str:
    return json.dumps({k: note[k] for k in order}, ensure_ascii=ensure_ascii, indent=indent)


def _feed_and_check(note: Note, deltas: list[str]) -> SoapStreamParser:
    """Feed deltas, checking after each what a live screen would show."""
    parser = SoapStreamParser()
    seen = {k: "" for k in SECTION_KEYS}
    done = dict.fromkeys(SECTION_KEYS, False)
    finished = False
    for delta in deltas:
        changed = parser.feed(delta)
        now = parser.sections()
        now_done = parser.completeness()
        for key in SECTION_KEYS:
            assert note[key].startswith(now[key]), f"{key} shows text that is not a prefix"
            assert now_done[key] >= done[key], f"{key} went from complete to incomplete"
            if now_done[key]:
                assert now[key] == note[key], f"{key} marked complete before its end"
        if parser.current is not None:
            assert not now_done[parser.current]
        assert parser.started == any(now.values())
        assert changed == (now != seen or now_done != done or parser.finished != finished)
        seen, done, finished = now, now_done, parser.finished
    return parser


def _assert_final(parser: SoapStreamParser, note: Note) -> None:
    assert parser.finished
    assert parser.current is None
    assert parser.completeness() == dict.fromkeys(SECTION_KEYS, True)
    assert parser.sections() == note
    assert parser.note() == SoapNote.from_sections(note)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[Note, list[str]]:
    note = draw(st.sampled_from(NOTES))
    order = draw(st.permutations(SECTION_KEYS))
    output = _serialise(
        note, order, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 2]))
    )
    before, after = draw(st.sampled_from(WRAPPERS))
    text = before + output + after
    if draw(st.booleans()):
        # Arbitrary cut points anywhere, including inside escapes and surrogate pairs.
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=300)))
    else:
        # LLM-like: every delta a few characters long, starting at an arbitrary offset.
        size = draw(st.integers(1, 12))
        cuts = list(range(draw(st.integers(0, size)), len(text), size))
    deltas = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return note, deltas


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_streams())
def test_streamed_real_notes_end_exactly_as_written(stream: tuple[Note, list[str]]) -> None:
    note, deltas = stream
    parser = _feed_and_check(note, deltas)
    _assert_final(parser, note)


@pytest.mark.parametrize(
    ("note", "ensure_ascii", "indent", "wrapper"),
    [
        pytest.param(NOTES[0], False, None, WRAPPERS[2], id="aci-note-utf8"),
        pytest.param(PORTUGUESE_NOTE, True, 2, WRAPPERS[1], id="portuguese-ascii-escapes"),
    ],
)
def test_two_deltas_split_at_every_boundary(
    note: Note, ensure_ascii: bool, indent: int | None, wrapper: tuple[str, str]
) -> None:
    text = wrapper[0] + _serialise(note, list(SECTION_KEYS), ensure_ascii, indent) + wrapper[1]
    for cut in range(len(text) + 1):
        parser = SoapStreamParser()
        parser.feed(text[:cut])
        for key, partial in parser.sections().items():
            assert note[key].startswith(partial), (cut, key)
        parser.feed(text[cut:])
        _assert_final(parser, note)


def _feed_chars(parser: SoapStreamParser, output: str) -> None:
    for char in output:
        parser.feed(char)


@pytest.mark.parametrize(
    "output",
    [
        '{"subjective": foo',
        '{"subjective": "Right finger pain." "objective": ""}',
        '{"subjective" "Right finger pain."}',
        '{"subjective": "Right finger pain.",}',
        '{"subjective": "Right finger pain.\\q"}',
        '{"subjective": "Right finger pain.\\u00zz"}',
        '{"subjective": 01}',
        '{"subjective": 1.}',
        '{"plan": ["Splint." "Motrin 600 mg."]}',
        '{"plan": ["Splint.",]}',
        '{"plan": "Splint."]',
        "{,}",
        '{"subjective": tru}',
        "{subjective: 1}",
    ],
)
def test_malformed_output_fails_and_stays_failed(output: str) -> None:
    whole = SoapStreamParser()
    with pytest.raises(SoapOutputError):
        whole.feed("```json\n" + output + "\n```")
    with pytest.raises(SoapOutputError):
        whole.feed("}")
    assert not whole.finished

    # The same output in one-character deltas fails too, at some delta.
    stepwise = SoapStreamParser()
    with pytest.raises(SoapOutputError):
        _feed_chars(stepwise, output)
    with pytest.raises(SoapOutputError):
        stepwise.feed('"')
    with pytest.raises(SoapOutputError):
        stepwise.note()


def test_errors_never_quote_the_model_output() -> None:
    subjective = _cut_sections(VALID_TGTS[4])["subjective"]
    output = json.dumps({"subjective": subjective})[:-1] + " Brooks }"
    parser = SoapStreamParser()
    with pytest.raises(SoapOutputError) as raised:
        parser.feed(output)
    assert "Brooks" not in str(raised.value)
    with pytest.raises(SoapOutputError) as again:
        parser.feed(output)
    assert "Brooks" not in str(again.value)


def test_output_without_an_object_never_finishes() -> None:
    parser = SoapStreamParser()
    tgt = VALID_TGTS[4]
    assert "{" not in tgt
    for start in range(0, len(tgt), 7):
        assert parser.feed(tgt[start : start + 7]) is False
    assert not parser.finished
    assert not parser.started
    assert parser.sections() == dict.fromkeys(SECTION_KEYS, "")
    with pytest.raises(SoapOutputError):
        parser.note()


def test_truncated_output_keeps_partial_text_but_is_not_a_note() -> None:
    note = NOTES[0]
    output = json.dumps(note)
    # The raw JSON of the assessment's first 40 characters, without its closing quote.
    cut = output.index('"assessment": ') + len('"assessment": ')
    cut += len(json.dumps(note["assessment"][:40])) - 1
    parser = SoapStreamParser()
    parser.feed(output[:cut])
    assert parser.started
    assert parser.current == "assessment"
    assert parser.completeness() == {
        "subjective": True,
        "objective": True,
        "assessment": False,
        "plan": False,
    }
    assert parser.section_text("subjective") == note["subjective"]
    assert parser.section_text("assessment") == note["assessment"][:40]
    assert not parser.finished
    with pytest.raises(SoapOutputError):
        parser.note()


def _feed(output: str, step: int | None) -> SoapStreamParser:
    parser = SoapStreamParser()
    if step is None:
        parser.feed(output)
    else:
        for start in range(0, len(output), step):
            parser.feed(output[start : start + step])
    return parser


STEPS = [pytest.param(None, id="whole"), pytest.param(1, id="1-char"), pytest.param(5, id="5-char")]
REAL = _cut_sections(VALID_TGTS[4])  # D2N072: every section present


@pytest.mark.parametrize("step", STEPS)
def test_keys_are_case_insensitive_and_single_letters_work(step: int | None) -> None:
    output = json.dumps(
        {"SUBJECTIVE": REAL["subjective"], "O": REAL["objective"], "Assessment": ""}
        | {"p": REAL["plan"]}
    )
    assert _feed(output, step).note() == SoapNote(
        subjective=REAL["subjective"], objective=REAL["objective"], plan=REAL["plan"]
    )


@pytest.mark.parametrize("step", STEPS)
def test_unknown_keys_and_their_nested_values_are_skipped(step: int | None) -> None:
    output = (
        '{"note_id": {"sections": [1, -2.5e3, {"x": "}]\\",{["}], "ok": true, "n": null},'
        f' "subjective": {json.dumps(REAL["subjective"])},'
        ' "confidence": [0.9, false, [[]], {}],'
        f' "plan": {json.dumps(REAL["plan"])}, "S:": "not a section"}}'
    )
    parser = _feed(output, step)
    assert parser.note() == SoapNote(subjective=REAL["subjective"], plan=REAL["plan"])


@pytest.mark.parametrize("step", STEPS)
def test_non_string_section_values(step: int | None) -> None:
    lines = REAL["plan"].split(". ")
    output = json.dumps(
        {"subjective": None, "objective": 600, "assessment": {"impression": REAL["assessment"]}}
        | {"plan": lines}
    )
    parser = _feed(output, step)
    # An array of strings is one line per element; a nested object is not section text.
    assert parser.note() == SoapNote(objective="600", plan="\n".join(lines))


def test_array_section_streams_line_by_line() -> None:
    lines = REAL["plan"].split(". ")
    output = json.dumps({"plan": lines})
    final = "\n".join(lines)
    parser = SoapStreamParser()
    for char in output:
        parser.feed(char)
        assert final.startswith(parser.section_text("plan"))
        if parser.section_text("plan"):
            assert parser.current == "plan" or parser.completeness()["plan"]
    assert parser.note().plan == final


def test_literal_section_values() -> None:
    parser = _feed('{"objective": true, "plan": false, "assessment": -0.5E+2}', 1)
    assert parser.note() == SoapNote(objective="true", assessment="-0.5E+2", plan="false")


def test_duplicated_key_replaces_the_earlier_value() -> None:
    first, second = REAL["plan"][:60], REAL["plan"]
    parser = SoapStreamParser()
    parser.feed(f'{{"plan": {json.dumps(first)}, ')
    assert parser.completeness()["plan"]
    assert parser.section_text("plan") == first
    parser.feed(f'"plan": {json.dumps(second)}}}')
    assert parser.note().plan == second


@pytest.mark.parametrize("step", STEPS)
def test_whitespace_wherever_json_allows_it(step: int | None) -> None:
    output = (
        ' \r\n{\t"subjective" \n:\r\n "a"\n , "plan"\t:\t[ "b" ,\n"c" ] , "x" : '
        "[ 1 , { } , [ ] , true ]\n}\n"
    )
    assert _feed(output, step).note() == SoapNote(subjective="a", plan="b\nc")


def test_every_escape_decodes_across_any_split() -> None:
    value = 'tab\there "quoted" back\\slash /slash\nnew\rret\bbs\fff é 😀 há'
    outputs = [
        json.dumps({"subjective": value}, ensure_ascii=True).replace("/", "\\/"),
        json.dumps({"subjective": value}, ensure_ascii=False),
        # Upper-case hex digits are JSON too.
        '{"subjective": "\\u00E9\\uD83D\\uDE00"}',
    ]
    expected = [value, value, "é😀"]
    for output, want in zip(outputs, expected, strict=True):
        for a in range(len(output) + 1):
            for b in range(a, min(a + 8, len(output)) + 1):
                parser = SoapStreamParser()
                for delta in (output[:a], output[a:b], output[b:]):
                    parser.feed(delta)
                    assert want.startswith(parser.section_text("subjective"))
                assert parser.note().subjective == want


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('{"plan": "x\\ud83dy"}', "x\ufffdy"),
        ('{"plan": "x\\ude00"}', "x\ufffd"),
        ('{"plan": "x\\ud83d\\n"}', "x\ufffd\n"),
        ('{"plan": "x\\ud83d\\ud83d\\ude00"}', "x\ufffd😀"),
    ],
)
def test_lone_surrogates_become_replacement_characters(output: str, expected: str) -> None:
    for step in (1, 2, 3, len(output)):
        plan = _feed(output, step).note().plan
        assert plan == expected
        plan.encode("utf-8")  # what the SSE writer will do with it


def test_raw_control_characters_in_strings_are_accepted() -> None:
    parser = _feed('{"plan": "Splint.\nMotrin 600 mg."}', 3)
    assert parser.note().plan == "Splint.\nMotrin 600 mg."


def test_text_after_the_object_is_ignored() -> None:
    parser = SoapStreamParser()
    assert parser.feed('{"plan": "Splint."}') is True
    assert parser.finished
    assert parser.feed('\n```\n{"plan": "other"} not json at all "\\q') is False
    assert parser.note() == SoapNote(plan="Splint.")


def test_64kb_note_one_char_at_a_time_keeps_only_a_bounded_tail() -> None:
    # If feed kept (and re-read) the output so far, this pending tail would grow with it.
    text = "\n\n".join(VALID_TGTS + _reference_notes("train"))[: 64 * 1024]
    note: Note = {key: text[k * 16384 : (k + 1) * 16384] for k, key in enumerate(SECTION_KEYS)}
    output = json.dumps(note, ensure_ascii=True)
    parser = SoapStreamParser()
    worst = 0
    for char in output:
        parser.feed(char)
        worst = max(worst, parser._pending_size())
    assert worst <= 12
    assert parser.sections() == note
