// Rendering of the note pane: sections with their states, evidence marks, banners,
// version differences. Reads the note state; never changes it.
import { diffWords } from "./diff.js";
import { el } from "./dom.js";
import { SUPPORT_LABEL, sectionRuns } from "./evidence.js";
import { SECTIONS } from "./note.js";

const STATE_LABEL = {
  pending: "Pending",
  writing: "Writing…",
  complete: "Complete",
  incomplete: "Incomplete",
};

const PLACEHOLDER = {
  pending: "Waiting for the note…",
  writing: "",
  complete: "Nothing recorded for this section.",
  incomplete: "Not written: the note stopped before this section.",
};

function statementNode(st, text, handlers) {
  const issues = st.issues || [];
  const flagged = st.support !== "supported" || issues.length > 0;
  const title = [SUPPORT_LABEL[st.support] || st.support, ...issues.map((i) => i.message)].join("\n");
  return el(
    "span",
    {
      class: `statement support-${st.support}${issues.length ? " has-issues" : ""}`,
      tabindex: "0",
      title,
      dataset: { support: st.support, issues: String(issues.length) },
      "aria-label": flagged ? `${text} — ${title.replace(/\n/g, ". ")}` : null,
      onmouseenter: () => handlers.enter(st),
      onmouseleave: () => handlers.leave(st),
      onfocus: () => handlers.enter(st),
      onblur: () => handlers.leave(st),
      onclick: () => handlers.pin(st),
    },
    text,
    flagged ? el("sup", { class: "flag", "aria-hidden": "true" }, issues.length ? "!" : "?") : null,
  );
}

function sectionBody(key, text, state, note, handlers) {
  const body = el("div", { class: "section-text" });
  const statements = (note.evidence?.statements || []).filter((s) => s.section === key);
  if (text && state === "complete" && statements.length) {
    for (const run of sectionRuns(text, statements)) {
      body.append(run.statement ? statementNode(run.statement, run.text, handlers) : run.text);
    }
  } else if (text) {
    body.append(text);
  }
  return { body, statements };
}

function issueList(statements) {
  const items = [];
  for (const st of statements) {
    for (const issue of st.issues || []) {
      items.push(el("li", { class: `issue issue-${issue.kind}` }, el("strong", {}, issue.kind), " ", issue.message));
    }
    if (st.support === "unsupported" && !(st.issues || []).length) {
      items.push(el("li", { class: "issue issue-unsupported" }, el("strong", {}, "unsupported"), " “", st.text, "” was not found in the transcript."));
    }
  }
  return items.length ? el("ul", { class: "issues" }, items) : null;
}

function diffBody(before, after) {
  const body = el("div", { class: "section-text diff" });
  for (const part of diffWords(before, after)) {
    if (part.kind === "same") body.append(part.text);
    else body.append(el(part.kind === "added" ? "ins" : "del", {}, part.text));
  }
  return body;
}

/** The four sections. `compareTo` (older sections) switches to a word diff. */
export function renderSections(container, note, handlers, compareTo = null) {
  container.replaceChildren();
  for (const s of SECTIONS) {
    const state = note.states[s.key];
    let text = note.sections[s.key];
    let previous = false;
    if (!text && state === "pending" && note.previous?.[s.key]) {
      text = note.previous[s.key];
      previous = true;
    }
    let body;
    let statements = [];
    if (compareTo) {
      body = diffBody(compareTo[s.key], text);
    } else {
      ({ body, statements } = sectionBody(s.key, previous ? "" : text, state, note, handlers));
      if (previous) body.append(el("span", { class: "previous-text", title: "The previous note, shown until this section is rewritten" }, text));
      if (!text) body.append(el("span", { class: "placeholder" }, PLACEHOLDER[state]));
      if (state === "writing") body.append(el("span", { class: "caret", "aria-hidden": "true" }));
    }
    container.append(
      el(
        "article",
        { class: `section state-${state}`, dataset: { section: s.key, state }, "aria-busy": state === "writing" ? "true" : null },
        el(
          "header",
          {},
          el("h3", {}, s.title),
          el("span", { class: `badge badge-${state}`, dataset: { badge: state } }, STATE_LABEL[state]),
        ),
        body,
        compareTo ? null : issueList(statements),
      ),
    );
  }
}

const PHASE_LABEL = {
  empty: "No note yet",
  sending: "Sending…",
  generating: "Writing the note…",
  cache_hit: "Unchanged — answered from cache",
  done: "Up to date",
  stored: "Saved version",
  error: "Failed",
};

export function statusText(note, { stale, recording }) {
  if (recording && note.phase !== "generating") return "Listening";
  if (stale && note.phase !== "sending" && note.phase !== "generating") return "Will update when you pause typing";
  return PHASE_LABEL[note.phase] || note.phase;
}

// What the review banner says of a finished note: its flags, or, when its statements could
// not be checked (`evidence` null: a note of hundreds of statements, or stored before the
// check existed), that nothing was. No marks must never read as "all supported".
export function reviewText(evidence, written) {
  if (!evidence) {
    return written ? "Not checked against the transcript: read every statement before using this note." : "";
  }
  const summary = evidence.summary;
  if (!summary?.needs_review) return "";
  const parts = [];
  const unsupported = summary.support?.unsupported || 0;
  if (unsupported) parts.push(`${unsupported} statement${unsupported > 1 ? "s" : ""} not found in the transcript`);
  for (const [kind, n] of Object.entries(summary.issues || {})) {
    if (n) parts.push(`${n} ${kind} issue${n > 1 ? "s" : ""}`);
  }
  return `Needs review: ${parts.join(", ") || "some statements are flagged"}. Check the marked statements before using this note.`;
}

export function metaText(note) {
  const parts = [];
  if (note.engine) parts.push(note.model && note.model !== note.engine ? `${note.engine} · ${note.model}` : note.engine);
  if (note.generationMs != null) parts.push(`written in ${(note.generationMs / 1000).toFixed(1)} s`);
  if (note.usage) parts.push(`${note.usage.input_tokens.toLocaleString()} in / ${note.usage.output_tokens.toLocaleString()} out tokens`);
  if (note.soapHash) parts.push(`#${note.soapHash.slice(0, 8)}`);
  return parts.join(" · ");
}
