// Server-Sent Events over fetch (EventSource cannot POST). Pure: bytes in, events out.

/** Split `buffer` into complete event blocks; returns the events and the unfinished rest. */
export function takeEvents(buffer) {
  const blocks = buffer.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop();
  const events = [];
  for (const block of blocks) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue; // keep-alive comment
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) events.push({ name, data: JSON.parse(data.join("\n")) });
  }
  return { events, rest };
}

/** Read a streaming Response, calling onEvent(name, data) for each event in order. */
export async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const { events, rest } = takeEvents(buffer);
    buffer = rest;
    for (const e of events) onEvent(e.name, e.data);
  }
  const { events } = takeEvents(buffer + "\n\n");
  for (const e of events) onEvent(e.name, e.data);
}
