// The clinician's workspace: wiring between the page, the API and the note state.
// Start here when changing the page; render.js draws the note, note.js holds its state.
import { ApiError, createApi, enc } from "./api.js";
import { $, el, formatTime, show } from "./dom.js";
import { markedRuns, shiftSpans, sourceOffset } from "./evidence.js";
import { emptyNote, plainText, reduce } from "./note.js";
import { LiveSession } from "./recorder.js";
import { metaText, renderSections, reviewText, statusText } from "./render.js";

const KEY_STORE = "delphos.key";
const CURRENT_STORE = "delphos.consultation";
const DEBOUNCE_MS = 1500; // the DELPHOS notes flow: send after a 1.5 s pause in typing

const app = {
  api: null,
  consultationId: null,
  saved: false,
  note: emptyNote(),
  lastHash: null,
  inFlight: null,
  debounce: null,
  turns: [], // final transcript turns of every session: the live note is made from them
  live: null,
  recording: false,
  versions: [],
  viewing: null, // { index, note, older } while an earlier version is shown
  draft: "",
  pinned: null,
  listCursor: null,
};

const notes = $("notes");
const backdrop = $("backdrop");

// --- sign in ------------------------------------------------------------------------------

function keyFromFragment() {
  // The key arrives in the fragment (never sent to a server, never in a log) and leaves
  // the address bar at once.
  const match = location.hash.match(/(?:^#|&)key=([^&]*)/);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

function showSignIn(message = "") {
  show($("workspace"), false);
  show($("signin"), true);
  $("signin-error").textContent = message;
  show($("signin-error"), Boolean(message));
  $("signin-key").value = "";
  $("signin-key").focus();
}

async function signIn(key) {
  const api = createApi(key);
  let page;
  try {
    page = await api.get("/v1/consultations?limit=20");
  } catch (err) {
    sessionStorage.removeItem(KEY_STORE);
    showSignIn(
      err.status === 401
        ? "This API key was refused. Check it and try again."
        : `Delphos could not check the key (${err.code}): ${err.message}`,
    );
    return;
  }
  sessionStorage.setItem(KEY_STORE, key);
  app.api = api;
  show($("signin"), false);
  show($("workspace"), true);
  renderList(page, false);
  const current = sessionStorage.getItem(CURRENT_STORE);
  if (current && page.items.some((c) => c.consultation_id === current)) await openConsultation(current);
  else newConsultation();
}

function signOut(message = "") {
  stopLive();
  app.inFlight?.abort();
  clearTimeout(app.debounce);
  sessionStorage.removeItem(KEY_STORE);
  sessionStorage.removeItem(CURRENT_STORE);
  Object.assign(app, { api: null, consultationId: null, note: emptyNote(), versions: [], turns: [], viewing: null });
  notes.value = "";
  $("consultation-list").replaceChildren();
  showSignIn(message);
}

function handleAuthFailure(err) {
  if (err instanceof ApiError && err.status === 401) {
    signOut("Your API key is no longer accepted. Sign in again.");
    return true;
  }
  return false;
}

// --- consultations ------------------------------------------------------------------------

function makeId() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}`;
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `visit-${stamp}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function resetConsultation(id) {
  stopLive();
  app.inFlight?.abort();
  clearTimeout(app.debounce);
  Object.assign(app, {
    consultationId: id,
    saved: false,
    note: emptyNote(),
    lastHash: null,
    turns: [],
    versions: [],
    viewing: null,
    pinned: null,
  });
  notes.readOnly = false;
  notes.value = "";
  $("interim").hidden = true;
  sessionStorage.setItem(CURRENT_STORE, id);
}

function newConsultation() {
  resetConsultation(makeId());
  renderAll();
  notes.focus();
}

async function openConsultation(id) {
  resetConsultation(id);
  renderAll();
  try {
    const [info, page, transcript] = await Promise.all([
      app.api.get(`/v1/consultations/${enc(id)}`),
      app.api.get(`/v1/consultations/${enc(id)}/soap-notes?limit=100`),
      app.api.get(`/v1/consultations/${enc(id)}/transcript`),
    ]);
    if (app.consultationId !== id) return;
    app.saved = true;
    app.versions = page.items;
    app.turns = transcript.turns.map((t) => t.text).filter((t) => t.trim());
    if (info.latest) {
      const detail = await app.api.get(`/v1/consultations/${enc(id)}/soap-notes/${info.latest.soap_hash}`);
      if (app.consultationId !== id) return;
      app.note = reduce(emptyNote(), "stored", detail);
      app.lastHash = detail.soap_hash;
      notes.value = detail.accumulated_text;
    } else {
      notes.value = app.turns.join("\n");
    }
  } catch (err) {
    if (handleAuthFailure(err)) return;
    app.note = reduce(app.note, "error", { code: err.code, message: err.message, degraded: false });
  }
  renderAll();
}

function preview(item) {
  const latest = item.latest;
  if (!latest) return "No note yet";
  const text = (latest.assessment || latest.subjective || "").replace(/\s+/g, " ").trim();
  return text.length > 90 ? `${text.slice(0, 90)}…` : text || "Empty note";
}

function renderList(page, append) {
  const list = $("consultation-list");
  if (!append) list.replaceChildren();
  for (const item of page.items) {
    list.append(
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: "consultation-item",
            dataset: { consultation: item.consultation_id },
            onclick: () => {
              closeList();
              openConsultation(item.consultation_id);
            },
          },
          el("span", { class: "item-id mono" }, item.consultation_id),
          el("span", { class: "item-time muted" }, formatTime(item.updated_at)),
          el("span", { class: "item-preview" }, preview(item)),
          el("span", { class: "item-versions muted" }, `${item.versions} version${item.versions === 1 ? "" : "s"}`),
        ),
      ),
    );
  }
  app.listCursor = page.next_cursor;
  show($("list-more"), Boolean(page.next_cursor));
  show($("list-empty"), !list.children.length);
}

async function openList() {
  show($("list-panel"), true);
  $("open-list").setAttribute("aria-expanded", "true");
  try {
    renderList(await app.api.get("/v1/consultations?limit=20"), false);
  } catch (err) {
    if (!handleAuthFailure(err)) $("list-empty").textContent = `Could not load the list (${err.code}).`;
  }
  $("close-list").focus();
}

function closeList() {
  show($("list-panel"), false);
  $("open-list").setAttribute("aria-expanded", "false");
}

async function refreshVersions(expectHash) {
  // Notes are stored in the background just after they are sent: try a few times.
  const id = app.consultationId;
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      const page = await app.api.get(`/v1/consultations/${enc(id)}/soap-notes?limit=100`);
      if (app.consultationId !== id) return;
      app.versions = page.items;
      app.saved = page.items.length > 0;
      if (!expectHash || page.items[0]?.soap_hash === expectHash) break;
    } catch (err) {
      if (handleAuthFailure(err) || err.status !== 404) return;
    }
    await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
  }
  renderVersions();
  renderHeader();
}

// --- the note from typed text (SSE) -------------------------------------------------------

function dispatch(type, data) {
  app.note = reduce(app.note, type, data);
  if (type === "soap") {
    app.lastHash = data.soap_hash;
    if (!data.cached) refreshVersions(data.soap_hash);
  }
  renderNote();
}

async function sendNote(text, { force = false } = {}) {
  clearTimeout(app.debounce);
  if (app.viewing || app.recording) return;
  if (!text.trim() && !app.note.requested) return;
  const busy = ["sending", "generating"].includes(app.note.phase);
  const current = ["done", "cache_hit", "stored"].includes(app.note.phase);
  if (!force && text === app.note.requested && (busy || current)) return;
  app.inFlight?.abort();
  const controller = new AbortController();
  app.inFlight = controller;
  const id = app.consultationId;
  dispatch("start", { text });
  try {
    await app.api.streamNote(
      { consultation_id: id, accumulated_text: text, previous_soap_hash: app.lastHash },
      (name, data) => {
        if (!controller.signal.aborted && app.consultationId === id) dispatch(name, data);
      },
      controller.signal,
    );
    if (!controller.signal.aborted && ["sending", "generating"].includes(app.note.phase)) {
      dispatch("error", { code: "NETWORK_ERROR", message: "The connection closed before the note was finished", degraded: false });
    }
  } catch (err) {
    if (err.name === "AbortError" || controller.signal.aborted) return;
    if (handleAuthFailure(err)) return;
    dispatch("error", { code: err.code, message: err.message, degraded: false });
  } finally {
    if (app.inFlight === controller) app.inFlight = null;
  }
}

function scheduleNote() {
  clearTimeout(app.debounce);
  app.debounce = setTimeout(() => sendNote(notes.value), DEBOUNCE_MS);
}

// --- the note from speech (WebSocket) -----------------------------------------------------

const LIVE_EVENT = { soap_status: "status", soap_partial: "partial", soap: "soap", soap_error: "error" };

function appendTurn(text) {
  app.turns.push(text);
  notes.value = notes.value.trim() ? `${notes.value.replace(/\s+$/, "")}\n${text}` : text;
  notes.scrollTop = notes.scrollHeight;
}

function onLiveMessage(msg) {
  if (msg.type === "connection") setRecordStatus("Listening…");
  else if (msg.type === "transcription") {
    const interim = $("interim");
    if (msg.isFinal) {
      interim.hidden = true;
      interim.textContent = "";
      if (msg.text.trim()) appendTurn(msg.text.trim());
    } else if (msg.text.trim()) {
      interim.textContent = msg.text;
      interim.hidden = false;
    }
  } else if (msg.type in LIVE_EVENT) {
    // The live note is made from the transcript turns joined by newlines.
    if (msg.type === "soap_status") dispatch("start", { text: app.turns.join("\n") });
    dispatch(LIVE_EVENT[msg.type], msg.data);
  } else if (msg.type === "lagging") setRecordStatus("The server is busy: some live text was skipped");
  else if (msg.type === "error") setRecordStatus(`${msg.code}: ${msg.message}`, true);
  else if (msg.type === "session_end") {
    setRecordStatus(`Stopped · ${msg.turns} turn${msg.turns === 1 ? "" : "s"} · ${Math.round(msg.audio_seconds)} s of audio`);
  }
}

async function startLive() {
  if (app.viewing) backToCurrent();
  clearTimeout(app.debounce);
  app.inFlight?.abort();
  const button = $("record");
  button.disabled = true;
  setRecordStatus("Starting the microphone…");
  const session = new LiveSession({
    api: app.api,
    consultationId: app.consultationId,
    onMessage: onLiveMessage,
    onLevel: (level) => {
      $("level").value = Math.min(1, level * 4);
    },
    onClosed: () => onLiveClosed(session),
  });
  app.live = session;
  try {
    await session.start();
  } catch (err) {
    app.live = null;
    button.disabled = false;
    if (handleAuthFailure(err)) return;
    const denied = err.name === "NotAllowedError" || err.name === "NotFoundError";
    setRecordStatus(denied ? "The microphone is not available or was not allowed." : `Could not start recording: ${err.message}`, true);
    return;
  }
  app.recording = true;
  // While recording, the transcript owns the text: typing resumes after Stop.
  notes.readOnly = true;
  button.disabled = false;
  renderRecord();
  renderNote();
}

function stopLive() {
  if (!app.live) return;
  setRecordStatus("Finishing the last turn and the note…");
  $("record").disabled = true;
  app.live.stop();
}

function onLiveClosed(session) {
  if (app.live !== session) return;
  app.live = null;
  app.recording = false;
  notes.readOnly = Boolean(app.viewing);
  $("record").disabled = false;
  $("interim").hidden = true;
  renderRecord();
  // Text typed before recording is not part of the live note: bring the note up to date.
  if (notes.value.trim() && notes.value !== app.note.requested) sendNote(notes.value);
  renderNote();
}

function setRecordStatus(text, isError = false) {
  const status = $("record-status");
  status.textContent = text;
  status.classList.toggle("error-text", isError);
}

// --- evidence: statement -> transcript ----------------------------------------------------

function paintBackdrop(runs) {
  backdrop.replaceChildren();
  for (const run of runs) backdrop.append(run.mark ? el("mark", {}, run.text) : run.text);
  backdrop.append("\n"); // a trailing newline in the textarea still takes a line
  backdrop.scrollTop = notes.scrollTop;
}

function clearHighlight() {
  backdrop.replaceChildren();
  show($("source-banner"), false);
  document.querySelectorAll(".statement.active").forEach((n) => n.classList.remove("active"));
}

function highlight(statement) {
  const shown = app.viewing ? app.viewing.note : app.note;
  document.querySelectorAll(".statement.active").forEach((n) => n.classList.remove("active"));
  document.querySelectorAll(".statement").forEach((n) => {
    if (n.__statement === statement) n.classList.add("active");
  });
  const banner = $("source-banner");
  const offset = sourceOffset(notes.value, shown.source);
  if (offset < 0) {
    backdrop.replaceChildren();
    banner.textContent = "The text has changed since this note was made; its evidence shows again once the note is updated.";
    show(banner, true);
    return;
  }
  const spans = shiftSpans(statement.evidence || [], offset);
  if (!spans.length) {
    backdrop.replaceChildren();
    banner.textContent = "Nothing in the transcript supports this statement.";
    show(banner, true);
    return;
  }
  show(banner, false);
  paintBackdrop(markedRuns(notes.value, spans));
  const first = backdrop.querySelector("mark");
  if (first) {
    notes.scrollTop = Math.max(0, first.offsetTop - notes.clientHeight / 3);
    backdrop.scrollTop = notes.scrollTop;
  }
}

const statementHandlers = {
  enter: (st) => highlight(st),
  leave: () => {
    if (app.pinned) highlight(app.pinned);
    else clearHighlight();
  },
  pin: (st) => {
    app.pinned = app.pinned === st ? null : st;
    if (app.pinned) highlight(st);
    else clearHighlight();
  },
};

// --- versions -----------------------------------------------------------------------------

async function viewVersion(index) {
  if (index === 0) return backToCurrent();
  const version = app.versions[index];
  try {
    const detail = await app.api.get(`/v1/consultations/${enc(app.consultationId)}/soap-notes/${version.soap_hash}`);
    if (!app.viewing) app.draft = notes.value;
    app.viewing = { index, note: reduce(emptyNote(), "stored", detail), older: app.versions[index + 1] || null };
    notes.value = detail.accumulated_text;
    notes.readOnly = true;
  } catch (err) {
    if (handleAuthFailure(err)) return;
  }
  clearHighlight();
  renderAll();
}

function backToCurrent() {
  if (!app.viewing) return;
  app.viewing = null;
  notes.value = app.draft;
  notes.readOnly = app.recording;
  $("show-changes").checked = false;
  clearHighlight();
  renderAll();
}

// --- rendering ----------------------------------------------------------------------------

function renderHeader() {
  $("consultation-id").textContent = app.consultationId || "";
  const latest = app.versions[0];
  $("consultation-saved").textContent = latest ? `saved ${formatTime(latest.created_at)}` : "new — not saved yet";
}

function renderVersions() {
  const select = $("versions");
  select.replaceChildren();
  const total = app.versions.length;
  if (!total) {
    select.append(el("option", {}, "No saved version"));
    select.disabled = true;
    return;
  }
  app.versions.forEach((v, i) => {
    const label = `Version ${total - i} · ${formatTime(v.created_at)}${i === 0 ? " · latest" : ""}`;
    select.append(el("option", { value: String(i) }, label));
  });
  select.value = String(app.viewing ? app.viewing.index : 0);
  select.disabled = total < 2 || app.recording;
}

function renderRecord() {
  const button = $("record");
  button.textContent = app.recording ? "■ Stop recording" : "● Record";
  button.setAttribute("aria-pressed", String(app.recording));
  button.classList.toggle("recording", app.recording);
  show($("level"), app.recording);
  $("editor").classList.toggle("readonly", notes.readOnly);
  $("notes-hint").textContent = app.recording
    ? "Recording: each finished sentence is added here. Typing resumes when you stop."
    : app.viewing
      ? "An earlier version and the text it was made from (read-only)."
      : "The note updates 1.5 s after you pause typing (Ctrl+Enter: now).";
}

function renderNote() {
  const viewing = app.viewing;
  const note = viewing ? viewing.note : app.note;
  const compare = viewing && $("show-changes").checked ? viewing.older || {} : null;
  renderSections($("sections"), note, statementHandlers, compare);
  // Statement nodes remember their statement, for highlighting the active one.
  const statements = (note.evidence?.statements || []).slice();
  document.querySelectorAll("#sections .statement").forEach((node) => {
    const section = node.closest(".section").dataset.section;
    const text = node.firstChild.textContent;
    node.__statement = statements.find((s) => s.section === section && s.text === text) || null;
  });

  const stale = !viewing && notes.value !== (note.requested ?? "") && !app.recording && Boolean(notes.value.trim() || note.requested);
  const status = $("note-status");
  status.textContent = viewing ? `Version ${app.versions.length - viewing.index} (read-only)` : statusText(note, { stale, recording: app.recording });
  status.dataset.phase = viewing ? "version" : stale && !["sending", "generating"].includes(note.phase) ? "stale" : note.phase;

  const written = Object.values(note.sections || {}).some((text) => text && text.trim());
  const review = reviewText(note.evidence, written);
  $("review-banner").textContent = review;
  show($("review-banner"), Boolean(review) && ["done", "cache_hit", "stored"].includes(note.phase));

  show($("error-banner"), note.phase === "error" && !viewing);
  if (note.error) {
    const message = /[.!?]$/.test(note.error.message) ? note.error.message : `${note.error.message}.`;
    $("error-text").replaceChildren(
      el("strong", { class: "error-code" }, note.error.code),
      " ",
      message,
      note.degraded ? " Sections marked Complete were written before the failure; the others are missing." : "",
    );
  }
  const degraded = note.degraded && note.phase !== "error";
  $("degraded-banner").textContent = degraded
    ? "Degraded note: the language model failed and the offline engine completed it. Review it carefully."
    : "";
  show($("degraded-banner"), degraded);
  $("note-meta").textContent = metaText(note);
  $("copy").disabled = !Object.values(note.sections).some(Boolean);
}

function renderAll() {
  renderHeader();
  renderVersions();
  renderRecord();
  renderNote();
  const v = app.viewing;
  show($("version-bar"), Boolean(v));
  if (v) {
    $("version-label").textContent = `Version ${app.versions.length - v.index} of ${app.versions.length}, ${formatTime(app.versions[v.index].created_at)} — read-only, with the text it was made from.`;
    $("show-changes").disabled = !v.older;
  }
}

// --- events -------------------------------------------------------------------------------

async function copyNote() {
  const note = app.viewing ? app.viewing.note : app.note;
  const text = plainText(note.sections);
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    // Clipboard API refused (no permission / not a secure context): the old way.
    const area = el("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    ok = document.execCommand("copy");
    area.remove();
  }
  const button = $("copy");
  button.textContent = ok ? "Copied ✓" : "Copy failed";
  setTimeout(() => (button.textContent = "Copy note"), 2000);
}

function wire() {
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("signin-key").value.trim();
    if (key) signIn(key);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("new-consultation").addEventListener("click", () => newConsultation());
  $("open-list").addEventListener("click", () => ($("list-panel").hidden ? openList() : closeList()));
  $("close-list").addEventListener("click", closeList);
  $("list-more").addEventListener("click", async () => {
    renderList(await app.api.get(`/v1/consultations?limit=20&cursor=${enc(app.listCursor)}`), true);
  });
  $("record").addEventListener("click", () => (app.live ? stopLive() : startLive()));
  $("retry").addEventListener("click", () => sendNote(app.note.requested ?? notes.value, { force: true }));
  $("copy").addEventListener("click", copyNote);
  $("versions").addEventListener("change", (e) => viewVersion(Number(e.target.value)));
  $("back-to-current").addEventListener("click", backToCurrent);
  $("show-changes").addEventListener("change", renderNote);
  notes.addEventListener("input", () => {
    app.pinned = null;
    clearHighlight();
    scheduleNote();
    renderNote();
  });
  notes.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      sendNote(notes.value, { force: app.note.phase === "error" });
    }
  });
  notes.addEventListener("scroll", () => (backdrop.scrollTop = notes.scrollTop));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("list-panel").hidden) closeList();
  });
}

wire();
const fromFragment = keyFromFragment();
const stored = fromFragment || sessionStorage.getItem(KEY_STORE);
if (stored) signIn(stored);
else showSignIn();
