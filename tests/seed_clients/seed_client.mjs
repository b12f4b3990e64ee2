// The JavaScript clients from the DELPHOS reference (seed 003), run under node unchanged.
// The seed uses a relative URL and a placeholder key, as a browser app on the same origin
// would; the only shim is a fetch wrapper that resolves the URL against the server and
// swaps the placeholder for the real key — the seed's own code below is verbatim.
const BASE = process.env.DELPHOS_URL;
const KEY = process.env.DELPHOS_KEY;
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init = {}) => {
  const headers = { ...(init.headers || {}) };
  if (headers['x-api-key'] === 'YOUR_API_KEY') headers['x-api-key'] = KEY;
  return realFetch(new URL(url, BASE), { ...init, headers });
};

// ---- seed 003: streamSOAP (verbatim) ----
async function streamSOAP(consultationId, text, prevHash, onEvent) { const response = await fetch('/v1/consultation/progressive-soap/stream', { method: 'POST', headers: { 'Content-Type': 'application/json', 'x-api-key': 'YOUR_API_KEY', 'Accept': 'text/event-stream' }, body: JSON.stringify({ consultation_id: consultationId, accumulated_text: text, previous_soap_hash: prevHash, stream: true }) });
if (!response.ok) { throw new Error(`HTTP ${response.status}`); }
const reader = response.body.getReader(); const decoder = new TextDecoder(); let buffer = '';
while (true) { const { done, value } = await reader.read(); if (done) break;
buffer += decoder.decode(value, { stream: true }); const blocks = buffer.split('\n\n'); buffer = blocks.pop(); // keep incomplete block
for (const block of blocks) { if (!block.trim()) continue; const evtLine = block.match(/^event:\s*(.+)$/m); const dataLine = block.match(/^data:\s*(.+)$/m); if (evtLine && dataLine) { onEvent(evtLine[1].trim(), JSON.parse(dataLine[1])); } } }}

// ---- seed 003: Quick Start loop (verbatim but for collecting instead of console.log) ----
async function quickStart(log) {
const response = await fetch('/v1/consultation/progressive-soap/stream', { method: 'POST', headers: { 'Content-Type': 'application/json', 'x-api-key': 'YOUR_API_KEY', 'Accept': 'text/event-stream' }, body: JSON.stringify({ consultation_id: 'consult-abc-123', accumulated_text: 'Patient reports headache for 3 days, tension type, no nausea. Denies fever. BP 120/80. HR 72. Normal neurological exam.', stream: true })});
const reader = response.body.getReader();const decoder = new TextDecoder();let buffer = '';
while (true) { const { done, value } = await reader.read(); if (done) break; buffer += decoder.decode(value, { stream: true }); const blocks = buffer.split('\n\n'); buffer = blocks.pop(); for (const block of blocks) { const evt = block.match(/^event:\s*(.+)$/m)?.[1]; const data = block.match(/^data:\s*(.+)$/m)?.[1]; if (evt && data) log(evt, JSON.parse(data)); }}
}

// ---- driver: prints one JSON line per event, tagged with the client that saw it ----
const text = process.env.DELPHOS_TEXT;
const events = [];
await streamSOAP(process.env.DELPHOS_CID, text, null, (type, data) => events.push(['streamSOAP', type, data]));
const hash = events.filter(e => e[1] === 'soap').map(e => e[2].soap_hash)[0] ?? null;
await streamSOAP(process.env.DELPHOS_CID, text, hash, (type, data) => events.push(['streamSOAP-again', type, data]));
await quickStart((type, data) => events.push(['quickStart', type, data]));
for (const e of events) console.log(JSON.stringify(e));
