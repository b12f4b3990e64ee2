// Evidence (see CONTRACTS.md): statements are code-point offsets into a section's text,
// evidence spans are code-point offsets into the text the note was made from. JavaScript
// strings index UTF-16 units, so everything here slices arrays of code points.

export const codePoints = (text) => Array.from(text || "");

/** A section's text cut into plain runs and statements, in order. */
export function sectionRuns(text, statements) {
  const cps = codePoints(text);
  const runs = [];
  let at = 0;
  const sorted = [...statements].sort((a, b) => a.start - b.start);
  for (const st of sorted) {
    if (st.start < at || st.end > cps.length || st.end <= st.start) continue; // overlapping or stale
    if (st.start > at) runs.push({ text: cps.slice(at, st.start).join(""), statement: null });
    runs.push({ text: cps.slice(st.start, st.end).join(""), statement: st });
    at = st.end;
  }
  if (at < cps.length) runs.push({ text: cps.slice(at).join(""), statement: null });
  return runs;
}

/** `text` cut into runs, `mark: true` inside any of `spans` (merged, clipped). */
export function markedRuns(text, spans) {
  const cps = codePoints(text);
  const sorted = spans
    .map((s) => ({ start: Math.max(0, s.start), end: Math.min(cps.length, s.end) }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const runs = [];
  let at = 0;
  for (const span of sorted) {
    if (span.end <= at) continue;
    const start = Math.max(span.start, at);
    if (start > at) runs.push({ text: cps.slice(at, start).join(""), mark: false });
    runs.push({ text: cps.slice(start, span.end).join(""), mark: true });
    at = span.end;
  }
  if (at < cps.length) runs.push({ text: cps.slice(at).join(""), mark: false });
  return runs;
}

/** Where `source` sits in `shown` (code points), or -1. The live note is made from the
 * transcript, which the notes area ends with after any text typed before recording. */
export function sourceOffset(shown, source) {
  if (source == null) return -1;
  if (shown === source) return 0;
  if (source && shown.endsWith(source)) return codePoints(shown).length - codePoints(source).length;
  return -1;
}

export function shiftSpans(spans, by) {
  return spans.map((s) => ({ start: s.start + by, end: s.end + by }));
}

export const SUPPORT_LABEL = {
  supported: "Supported by the transcript",
  partial: "Partly supported by the transcript",
  unsupported: "Not found in the transcript",
};
