// The note on screen as a pure reducer: (note, event) -> note. The stream handlers, the
// live socket and opening a stored version all feed it; rendering only reads it.

export const SECTIONS = [
  { key: "subjective", flag: "s", title: "Subjective" },
  { key: "objective", flag: "o", title: "Objective" },
  { key: "assessment", flag: "a", title: "Assessment" },
  { key: "plan", flag: "p", title: "Plan" },
];

const blank = () => ({ subjective: "", objective: "", assessment: "", plan: "" });
const each = (value) => Object.fromEntries(SECTIONS.map((s) => [s.key, value]));

export function emptyNote() {
  return {
    phase: "empty", // empty | sending | generating | cache_hit | done | stored | error
    sections: blank(),
    // pending | writing | complete | incomplete (an error cut it short)
    states: each("pending"),
    // While a new note is written, the previous one stays visible (dimmed) in the sections
    // not reached yet, so the screen does not blank on every pause in typing.
    previous: null,
    cached: false,
    degraded: false,
    error: null,
    soapHash: null,
    evidence: null,
    usage: null,
    engine: null,
    model: null,
    generationMs: null,
    createdAt: null,
    requested: null, // the text of the last request (sent, or being answered)
    source: null, // the text the note on screen was made from: evidence spans point into it
  };
}

function hasText(sections) {
  return SECTIONS.some((s) => sections[s.key]);
}

function fromPayload(data) {
  const sections = blank();
  for (const s of SECTIONS) sections[s.key] = data[s.key] || "";
  return sections;
}

export function reduce(note, type, data) {
  switch (type) {
    case "start": // a request for `data.text` is being sent
      return {
        ...note,
        phase: "sending",
        error: null,
        requested: data.text,
        previous: hasText(note.sections) ? note.sections : note.previous,
      };
    case "status":
      if (data.type === "cache_hit") return { ...note, phase: "cache_hit" };
      return {
        ...note,
        phase: "generating",
        sections: blank(),
        states: each("pending"),
        evidence: null,
        degraded: false,
      };
    case "partial": {
      const sections = fromPayload(data);
      const states = {};
      for (const s of SECTIONS) {
        if (data.completeness?.[s.flag]) states[s.key] = "complete";
        else states[s.key] = sections[s.key] ? "writing" : "pending";
      }
      return { ...note, phase: "generating", sections, states, evidence: data.evidence ?? note.evidence };
    }
    case "soap":
      return {
        ...note,
        // A cache hit answers with a note made from an earlier, nearly equal text: the
        // evidence points into that text, which we know only if it is the note we had.
        source: !data.cached ? note.requested : data.soap_hash === note.soapHash ? note.source : null,
        phase: data.cached ? "cache_hit" : "done",
        sections: fromPayload(data),
        states: each("complete"),
        previous: null,
        cached: Boolean(data.cached),
        degraded: Boolean(data.is_degraded),
        error: null,
        soapHash: data.soap_hash,
        evidence: data.evidence ?? null,
        usage: data.usage ?? null,
        engine: data.engine ?? null,
        model: data.model ?? null,
        generationMs: data.generation_ms ?? null,
        createdAt: null,
      };
    case "error": {
      const states = {};
      for (const s of SECTIONS) {
        const st = note.states[s.key];
        states[s.key] = st === "complete" ? "complete" : "incomplete";
      }
      return {
        ...note,
        phase: "error",
        states,
        previous: null,
        error: { code: data.code, message: data.message },
        degraded: Boolean(data.degraded),
      };
    }
    case "stored": // a saved version, opened from the history
      return {
        ...emptyNote(),
        phase: "stored",
        sections: fromPayload(data),
        states: each("complete"),
        degraded: Boolean(data.is_degraded),
        soapHash: data.soap_hash,
        evidence: data.evidence ?? null,
        usage: data.usage ?? null,
        engine: data.engine,
        model: data.model,
        generationMs: data.latency_ms ?? null,
        createdAt: data.created_at,
        source: data.accumulated_text ?? null,
        requested: data.accumulated_text ?? null,
      };
    default:
      return note;
  }
}

/** The note as plain text with headings, for pasting into an EHR. */
export function plainText(sections) {
  return SECTIONS.map((s) => `${s.title.toUpperCase()}\n${(sections[s.key] || "").trim() || "—"}`).join("\n\n") + "\n";
}
