// Mounts the DELPHOS reference's useSOAPStream hook (useSOAPStream.ts, verbatim) in REAL
// React and drives it against a real Delphos server, as a clinician's screen would.
//
// Environment: DELPHOS_URL, DELPHOS_KEY, DELPHOS_CID (consultation id), DELPHOS_TEXT
// (the consultation text), DELPHOS_MODE:
//   "stream-twice"  stream(text) to the end, then stream(text) again (the hook now sends
//                   its hashRef as previous_soap_hash);
//   "cancel"        stream(text), cancel() as soon as the first words are on screen.
// Prints ONE JSON object on stdout: every distinct state React committed (the screen),
// grouped by call, the request bodies the hook sent, and any console.error React logged.
//
// Why no act(): an async act() queues every update until its callback resolves, so a
// whole stream would commit once, hiding the progressive rendering under test. A browser
// renders each update on its own; React's Scheduler does the same in Node (setImmediate),
// which is what runs here.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createElement, useLayoutEffect, useState } from 'react';
import { create } from 'react-test-renderer';
import ts from 'typescript';

const BASE = process.env.DELPHOS_URL;
const KEY = process.env.DELPHOS_KEY;
const CID = process.env.DELPHOS_CID;
const TEXT = process.env.DELPHOS_TEXT;
const MODE = process.env.DELPHOS_MODE;
const DEADLINE_MS = 20_000; // a hang fails with what was seen so far, not a pytest timeout

// React's own complaints (bad hook use, updates on unmounted components...) are part of
// the result; only react-test-renderer's notice that it is deprecated in React 19 is not.
const consoleErrors = [];
console.error = (...args) => {
  const message = args.map(String).join(' ');
  if (!message.startsWith('react-test-renderer is deprecated')) consoleErrors.push(message);
};

// The seed uses a relative URL and a placeholder key, as a browser app on the same origin
// would: resolve the one and swap the other, exactly as seed_client.mjs does. The request
// bodies are recorded to show what the hook sent (e.g. its previous_soap_hash).
const requests = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init = {}) => {
  const headers = { ...(init.headers || {}) };
  if (headers['x-api-key'] === 'YOUR_API_KEY') headers['x-api-key'] = KEY;
  requests.push(JSON.parse(init.body));
  return realFetch(new URL(url, BASE), { ...init, headers });
};

// TypeScript -> JavaScript with the compiler's own transpiler (types erased, nothing else
// changed). The output sits under node_modules so its `import ... from 'react'` resolves.
const here = new URL('./', import.meta.url);
const compiled = ts.transpileModule(readFileSync(new URL('useSOAPStream.ts', here), 'utf8'), {
  fileName: 'useSOAPStream.ts',
  reportDiagnostics: true,
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
});
if (compiled.diagnostics.length > 0) {
  const text = compiled.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  throw new Error(`useSOAPStream.ts does not transpile: ${text.join('; ')}`);
}
const outDir = new URL('node_modules/.cache/delphos/', here);
mkdirSync(outDir, { recursive: true });
const outFile = new URL('useSOAPStream.mjs', outDir);
writeFileSync(outFile, compiled.outputText);
const { useSOAPStream } = await import(outFile.href);

// ---- the screen: one component using the hook, recording each committed state ----------
const screen = { api: null, tick: 0, setTick: null, states: [], waiters: [] };

function visible(hook) {
  const { sections, completeness, isStreaming, isDegraded, error, soapHash } = hook;
  return { sections, completeness, isStreaming, isDegraded, error, soapHash };
}

function Consultation({ consultationId }) {
  const hook = useSOAPStream(consultationId);
  // Our own counter: a commit showing the tick we asked for includes every update queued
  // before it (same lane, processed in order), so the screen is then up to date.
  const [tick, setTick] = useState(0);
  useLayoutEffect(() => {
    Object.assign(screen, { api: hook, tick, setTick });
    const state = visible(hook);
    const last = screen.states.at(-1);
    // Only changes are recorded: a re-render showing the same thing is invisible.
    if (last === undefined || JSON.stringify(last) !== JSON.stringify(state)) {
      screen.states.push(state);
    }
    screen.waiters = screen.waiters.filter((w) => !w.check());
  });
  return null;
}

function until(predicate, what) {
  return new Promise((resolve, reject) => {
    const check = () => (predicate() ? (resolve(), true) : false);
    if (check()) return;
    screen.waiters.push({ check });
    setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), DEADLINE_MS).unref();
  });
}

async function settle() {
  const want = screen.tick + 1;
  screen.setTick(want);
  await until(() => screen.tick >= want, 'React to commit the last update');
}

// One call of the hook's stream(): the states the screen went through, from the state it
// showed before the call (index 0) to the last one after it.
async function call(action) {
  const before = screen.states.length - 1;
  await action();
  await settle();
  return screen.states.slice(before);
}

// ---- drive ---------------------------------------------------------------------------
const renderer = create(createElement(Consultation, { consultationId: CID }));
await until(() => screen.api !== null, 'the component to mount');

const result = { mode: MODE, calls: [], requests, consoleErrors };
if (MODE === 'stream-twice') {
  result.calls.push(await call(() => screen.api.stream(TEXT)));
  result.calls.push(await call(() => screen.api.stream(TEXT)));
} else if (MODE === 'cancel') {
  result.calls.push(
    await call(async () => {
      const running = screen.api.stream(TEXT);
      await until(() => screen.states.at(-1).sections.subjective !== '', 'the first words');
      screen.api.cancel();
      await running;
    }),
  );
} else {
  throw new Error(`unknown DELPHOS_MODE ${MODE}`);
}
renderer.unmount();
console.log(JSON.stringify(result));
