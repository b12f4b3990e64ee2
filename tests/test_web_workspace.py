"""The clinician's workspace page in a real browser (Debian's headless Chromium) against a
real `delphos serve --dev-key`, opened at the address that command prints.

Each scenario asserts what a person sees in the DOM (section texts and state badges,
banners, the transcript, the list) and saves a screenshot under .artifacts/screenshots/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from delphos.records import SECTION_KEYS
from tests.support.fakes.llm_server import FakeLLMServer, Scenario
from tests.support.fixtures.browser import (
    Served,
    chromium,
    delphos_serve,
    require_browser,
    screenshot,
    wait_for,
    write_wav,
)
from tests.support.speech import BLOOD_PRESSURE, join, require_espeak, silence, speech
from tests.support.upstream import NOTE, NOTE_JSON

pytestmark = pytest.mark.slow

TYPED = (
    "Patient reports headache for 3 days, tension type, no nausea. Denies fever. "
    "BP 120/80. HR 72. Normal neurological exam. Plan: paracetamol 1 g as needed, "
    "review in one week."
)


# Spoken by espeak-ng: sentences Whisper tiny.en hears reliably from espeak's voice
# (checked: each decodes verbatim with a comfortable log-probability).
HEADACHE = "The patient has had a headache for three days."
IBUPROFEN = "Take ibuprofen twice a day for the pain."


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The offline local engine, as `make run` serves it."""
    require_browser()
    with delphos_serve(tmp_path_factory.mktemp("web-local")) as served:
        yield served


@pytest.fixture
def llm_server(fake_anthropic: FakeLLMServer, tmp_path: Path) -> Iterator[Served]:
    """The Anthropic engine, its API faked on 127.0.0.1 (pushed scenarios decide each
    answer); no retries, so a failure shows at once."""
    require_browser()
    with delphos_serve(
        tmp_path,
        DELPHOS_ENGINE="anthropic",
        DELPHOS_ANTHROPIC_BASE_URL=fake_anthropic.base_url,
        ANTHROPIC_API_KEY="sk-ant-test-not-a-real-key",
        DELPHOS_RETRY_ATTEMPTS="0",
        DELPHOS_PARTIALS_PER_SECOND="10",
    ) as served:
        yield served


# --- what the page shows ------------------------------------------------------------------


# The sections are redrawn as events arrive: read them in one script, not element by
# element (an element found a moment ago may already be replaced).
_SECTIONS_JS = """
return Array.from(document.querySelectorAll('#sections .section'), (s) => ({
  key: s.dataset.section, state: s.dataset.state,
  badge: s.querySelector('.badge').innerText, text: noteText(s.querySelector('.section-text')),
}));
// The section's words as written, without the evidence flags (! / ?) the page adds.
function noteText(node) {
  const copy = node.cloneNode(true);
  copy.querySelectorAll('.flag').forEach((f) => f.remove());
  return copy.textContent;
}
"""


def sections(d: WebDriver) -> dict[str, dict[str, str]]:
    return {s["key"]: s for s in d.execute_script(_SECTIONS_JS)}


def states(d: WebDriver) -> dict[str, str]:
    return {key: s["state"] for key, s in sections(d).items()}


def badges(d: WebDriver) -> dict[str, str]:
    return {key: s["badge"] for key, s in sections(d).items()}


def section_text(d: WebDriver, key: str) -> str:
    return sections(d)[key]["text"]


def status(d: WebDriver) -> tuple[str, str]:
    chip = d.execute_script(
        "const c = document.getElementById('note-status'); return [c.dataset.phase, c.innerText];"
    )
    return str(chip[0] or ""), str(chip[1])


def visible(d: WebDriver, element_id: str) -> bool:
    return bool(d.find_element(By.ID, element_id).is_displayed())


def all_complete(d: WebDriver) -> bool:
    return set(states(d).values()) == {"complete"} and status(d)[0] in ("done", "cache_hit")


def record_states(d: WebDriver) -> None:
    """Remember every state each section shows, as a person watching would."""
    d.execute_script(
        """
        window.seenStates = {};
        const note = () => document.querySelectorAll('#sections .section').forEach((s) => {
          (window.seenStates[s.dataset.section] ||= []).includes(s.dataset.state)
            || window.seenStates[s.dataset.section].push(s.dataset.state);
        });
        new MutationObserver(note).observe(document.getElementById('sections'),
          { childList: true, subtree: true, attributes: true });
        """
    )


def open_workspace(d: WebDriver, served: Served, key: str | None = None) -> None:
    url = served.page_url if key is None else f"{served.url}/#key={key}"
    d.get(url)
    wait_for(d, lambda d: visible(d, "workspace"), "the workspace after sign-in")


def transcript(d: WebDriver) -> str:
    return str(d.find_element(By.ID, "notes").get_attribute("value") or "").lower()


def type_notes(d: WebDriver, text: str) -> None:
    d.find_element(By.ID, "notes").send_keys(text)


# --- scenarios ----------------------------------------------------------------------------


def test_typing_builds_all_four_sections_showing_each_state(
    llm_server: Served, fake_anthropic: FakeLLMServer
) -> None:
    # A paced provider (~7 s for the note; its shortest section, 40 characters, takes
    # 0.25 s) so each section visibly writes, then completes.
    fake_anthropic.push(Scenario(text=NOTE_JSON, chunk=8, delay=0.05))
    with chromium() as d:
        open_workspace(d, llm_server)
        assert "key=" not in d.current_url, "the key leaves the address bar at once"
        assert d.execute_script("return sessionStorage.getItem('delphos.key')") == llm_server.key
        assert d.switch_to.active_element.get_attribute("id") == "notes", "ready to type"
        assert set(states(d).values()) == {"pending"}
        record_states(d)
        type_notes(d, TYPED)
        assert status(d)[0] == "stale", "before the pause, the note is not sent"
        wait_for(d, lambda d: "writing" in states(d).values(), "a section being written")
        screenshot(d, "01-typing-note-being-written")
        wait_for(d, all_complete, "all four sections complete")
        seen = d.execute_script("return window.seenStates")
        texts = {key: section_text(d, key) for key in SECTION_KEYS}
        screenshot(d, "02-typing-note-complete")
        copied = d.find_element(By.ID, "copy")
        copied.click()
        wait_for(d, lambda d: copied.text in ("Copied ✓", "Copy failed"), "copy feedback")
        copy_feedback = copied.text

    assert len(fake_anthropic.requests) == 1, "one request after the pause, not one per key"
    sent = fake_anthropic.requests[0]
    assert TYPED in json.dumps(sent), "the full typed text reached the engine"
    for key in SECTION_KEYS:
        assert seen[key][0] == "pending", seen
        assert "writing" in seen[key], f"{key} was never shown being written: {seen}"
        assert seen[key][-1] == "complete", seen
        # What the clinician reads is the note the engine wrote.
        assert " ".join(texts[key].split()) == " ".join(getattr(NOTE, key).split())
    assert copy_feedback == "Copied ✓"


def test_the_same_text_again_is_shown_as_a_cache_hit(local_server: Served) -> None:
    with chromium() as d:
        open_workspace(d, local_server)
        type_notes(d, TYPED)
        wait_for(d, all_complete, "the first note")
        first = {key: section_text(d, key) for key in SECTION_KEYS}
        # Two more words: fewer than five changed, so Delphos answers from its cache.
        type_notes(d, " Feels better.")
        wait_for(d, lambda d: status(d)[0] == "cache_hit", "the cache hit")
        screenshot(d, "03-cache-hit")
        label = status(d)[1]
        again = {key: section_text(d, key) for key in SECTION_KEYS}
        version_options = d.find_elements(By.CSS_SELECTOR, "#versions option")

    assert "cache" in label.lower()
    assert again == first
    assert all(first.values())
    assert len(version_options) == 1, "a cache hit adds no version"


def test_an_engine_failing_mid_note_shows_the_error_its_code_a_retry_and_what_was_written(
    llm_server: Served, fake_anthropic: FakeLLMServer
) -> None:
    # The provider breaks off after the first two sections.
    cut = NOTE_JSON.index('"assessment"') + 40
    fake_anthropic.push(Scenario(text=NOTE_JSON, chunk=16, delay=0.005, error_after=cut))
    with chromium() as d:
        open_workspace(d, llm_server)
        type_notes(d, TYPED)
        wait_for(d, lambda d: visible(d, "error-banner"), "the error banner")
        screenshot(d, "04-engine-failed-mid-note")
        error = d.find_element(By.ID, "error-banner").text
        after_error = states(d)
        written = {key: section_text(d, key) for key in ("subjective", "objective")}
        shown_badges = badges(d)
        # Retry: this time the provider answers.
        fake_anthropic.push(Scenario(text=NOTE_JSON, chunk=64))
        d.find_element(By.ID, "retry").click()
        wait_for(d, all_complete, "the note after Retry")
        error_gone = not visible(d, "error-banner")

    assert "PROCESSING_ERROR" in error
    assert "Retry" in error
    assert after_error["subjective"] == after_error["objective"] == "complete"
    assert after_error["assessment"] == after_error["plan"] == "incomplete"
    assert shown_badges["plan"] == "Incomplete"
    assert " ".join(written["subjective"].split()) == " ".join(NOTE.subjective.split())
    assert written["objective"].strip()
    assert error_gone


def test_a_note_that_could_not_be_checked_says_so_and_shows_no_marks(
    llm_server: Served, fake_anthropic: FakeLLMServer
) -> None:
    # Past 500 statements a note goes out with evidence null: with no marks and no banner
    # it read exactly like a note whose every statement was found in the transcript.
    huge = json.loads(NOTE_JSON)
    huge["plan"] = " ".join(f"Paracetamol as needed, review {i}." for i in range(600))
    fake_anthropic.push(Scenario(text=json.dumps(huge), chunk=512))
    with chromium() as d:
        open_workspace(d, llm_server)
        type_notes(d, TYPED)
        wait_for(d, all_complete, "the whole note")
        wait_for(d, lambda d: visible(d, "review-banner"), "the review banner")
        screenshot(d, "05-note-not-checked")
        banner = d.find_element(By.ID, "review-banner").text
        marks = d.execute_script(
            "return document.querySelectorAll('#sections .flag, #sections .statement').length;"
        )

    assert "Not checked against the transcript" in banner
    assert marks == 0


def test_speaking_through_the_microphone_builds_the_transcript_and_the_note(
    local_server: Served, tmp_path: Path
) -> None:
    require_espeak()
    rate = 48_000
    audio = join(
        silence(0.7, rate),
        speech(HEADACHE, rate),
        silence(1.6, rate),
        speech(BLOOD_PRESSURE, rate),
        silence(1.6, rate),
        speech(IBUPROFEN, rate),
        silence(3.0, rate),
    )
    wav = write_wav(tmp_path / "consultation.wav", audio, rate)
    with chromium(microphone_wav=wav) as d:
        open_workspace(d, local_server)
        d.execute_script(INTERIM_WATCH)
        record = d.find_element(By.ID, "record")
        assert "Record" in record.text
        record.click()
        wait_for(d, lambda d: "Stop" in record.text, "recording to start")
        started = time.monotonic()
        wait_for(
            d,
            lambda d: float(d.find_element(By.ID, "level").get_attribute("value") or 0) > 0,
            "the level meter to move",
        )
        level_seen = True
        wait_for(d, lambda d: "pressure" in transcript(d), "the second sentence's turn", timeout=90)
        screenshot(d, "05-recording-transcript-and-note")
        # The microphone plays the file in real time, then falls silent: Stop after it.
        time.sleep(max(0.0, audio.shape[0] / rate + 0.5 - (time.monotonic() - started)))
        record.click()
        wait_for(d, lambda d: "Stopped" in d.find_element(By.ID, "record-status").text, "stop")
        wait_for(d, all_complete, "the live note")
        text = transcript(d)
        lines = [line for line in text.splitlines() if line.strip()]
        note = " ".join(section_text(d, key) for key in SECTION_KEYS).lower()
        screenshot(d, "06-recording-stopped-note")
        read_only_after = d.find_element(By.ID, "notes").get_attribute("readonly")
        interims = d.execute_script("return window.interims")

    assert level_seen
    assert interims, "interim text is shown while someone speaks"
    ink = "rgb(29, 39, 51)"
    assert all(i["color"] != ink for i in interims), "interim text is greyed, not ink"
    for word in ("headache", "pressure", "ibuprofen"):
        assert word in text, text
    assert len(lines) >= 2, f"spoken sentences are turns of their own: {lines}"
    # The note is made from the spoken turns. Only words whose recognition is stable are
    # required: Whisper tiny.en hears espeak's "twice a day" variously (once as "why
    # someday ...?"), and the local engine rightly keeps a question out of the Plan.
    assert "headache" in note, note
    assert "120" in note, note
    assert read_only_after is None, "typing resumes after Stop"


INTERIM_WATCH = """
window.interims = [];
const interim = document.getElementById('interim');
new MutationObserver(() => {
  if (!interim.hidden && interim.textContent) {
    window.interims.push({ text: interim.textContent, color: getComputedStyle(interim).color });
  }
}).observe(interim, { childList: true, characterData: true, subtree: true, attributes: true });
"""


def _evidence_available(served: Served) -> bool:
    answer = httpx.post(
        f"{served.url}/v1/consultation/progressive-soap",
        json={"consultation_id": "evidence-probe", "accumulated_text": TYPED},
        headers={"x-api-key": served.key},
        timeout=30,
    )
    return "evidence" in answer.json()


def test_hovering_a_statement_highlights_its_evidence_in_the_text(local_server: Served) -> None:
    if not _evidence_available(local_server):
        pytest.skip("PENDING issue 8: the soap event does not carry `evidence` yet")
    with chromium() as d:
        open_workspace(d, local_server)
        type_notes(d, TYPED)
        wait_for(d, all_complete, "the note")
        statements = d.find_elements(By.CSS_SELECTOR, "#sections .statement")
        supported = [s for s in statements if s.get_attribute("data-support") == "supported"]
        assert supported, "statements of the note are shown as such"
        ActionChains(d).move_to_element(supported[0]).perform()
        wait_for(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#backdrop mark"), "a highlight")
        marks = [
            m.text or m.get_attribute("textContent")
            for m in d.find_elements(By.CSS_SELECTOR, "#backdrop mark")
        ]
        screenshot(d, "07-evidence-highlight")

    assert all(m and m in TYPED for m in marks), marks


def test_a_wrong_key_is_refused_and_shows_nothing(local_server: Served) -> None:
    with chromium() as d:
        d.get(f"{local_server.url}/#key=not-a-real-key")
        wait_for(d, lambda d: visible(d, "signin-error"), "the refusal")
        screenshot(d, "08-wrong-key-refused")
        refusal = d.find_element(By.ID, "signin-error").text
        workspace_hidden = not visible(d, "workspace")
        url_after = d.current_url
        kept = d.execute_script("return sessionStorage.getItem('delphos.key')")
        listed = d.find_elements(By.CSS_SELECTOR, "#consultation-list li")
        # The right key, typed in, is accepted.
        field = d.find_element(By.ID, "signin-key")
        field.send_keys(local_server.key, Keys.ENTER)
        wait_for(d, lambda d: visible(d, "workspace"), "the workspace with the right key")

    assert "refused" in refusal.lower()
    assert workspace_hidden
    assert "not-a-real-key" not in url_after
    assert kept is None
    assert listed == []


def test_two_tenants_pages_never_show_each_others_consultations(local_server: Served) -> None:
    keys = {name: local_server.tenant_key(name) for name in ("clinic-north", "clinic-south")}
    consultation: dict[str, str] = {}
    listed: dict[str, list[str]] = {}
    for name, key in keys.items():
        with chromium() as d:
            open_workspace(d, local_server, key)
            type_notes(d, f"{TYPED} Seen at {name}.")
            wait_for(d, all_complete, f"{name}'s note")
            consultation[name] = d.find_element(By.ID, "consultation-id").text
            wait_for(
                d,
                lambda d: d.find_element(By.ID, "consultation-saved").text.startswith("saved"),
                "the note to be saved",
            )
            d.find_element(By.ID, "open-list").click()
            wait_for(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".consultation-item"), "list")
            listed[name] = [
                item.get_attribute("data-consultation") or ""
                for item in d.find_elements(By.CSS_SELECTOR, ".consultation-item")
            ]
            screenshot(d, f"09-consultation-list-{name}")
            # Opening it again shows the saved note with its text.
            d.find_element(By.CSS_SELECTOR, ".consultation-item").click()
            wait_for(d, lambda d: status(d)[0] == "stored", "the reopened consultation")
            reopened: Any = d.find_element(By.ID, "notes").get_attribute("value")
            assert name in reopened

    assert listed["clinic-north"] == [consultation["clinic-north"]]
    assert listed["clinic-south"] == [consultation["clinic-south"]]
