// The useSOAPStream React hook from the DELPHOS reference (seed 003), VERBATIM: from its
// `import` line to its last line, byte for byte (the `SOAPPanel` usage example is left out).
// Do not "fix" it: it is the contract's first React user. Only the `export` line at the end
// is ours, so the driver (run_hook.mjs) can mount the hook.
import { useState, useRef, useCallback } from 'react';
interface SOAPSections { subjective: string; objective: string; assessment: string; plan: string;}
interface SOAPCompleteness { s: boolean; o: boolean; a: boolean; p: boolean;}
interface SOAPStreamState { sections: SOAPSections; completeness: SOAPCompleteness; isStreaming: boolean; isDegraded: boolean; error: string | null; soapHash: string | null;}
function useSOAPStream(consultationId: string) { const [state, setState] = useState<SOAPStreamState>({ sections: { subjective: '', objective: '', assessment: '', plan: '' }, completeness: { s: false, o: false, a: false, p: false }, isStreaming: false, isDegraded: false, error: null, soapHash: null, });
const abortRef = useRef<AbortController | null>(null); const hashRef = useRef<string | null>(null);
const stream = useCallback(async (text: string) => { abortRef.current?.abort(); const controller = new AbortController(); abortRef.current = controller;
setState(prev => ({ ...prev, isStreaming: true, error: null }));
try { const res = await fetch('/v1/consultation/progressive-soap/stream', { method: 'POST', headers: { 'Content-Type': 'application/json', 'x-api-key': 'YOUR_API_KEY', 'Accept': 'text/event-stream', }, body: JSON.stringify({ consultation_id: consultationId, accumulated_text: text, previous_soap_hash: hashRef.current, stream: true, }), signal: controller.signal, });
if (!res.body) throw new Error('Response body is null'); const reader = res.body.getReader(); const decoder = new TextDecoder(); let buffer = '';
while (true) { const { done, value } = await reader.read(); if (done) break;
buffer += decoder.decode(value, { stream: true }); const blocks = buffer.split('\n\n'); buffer = blocks.pop()!; // split() always returns >= 1 element
for (const block of blocks) { if (!block.trim()) continue; const evtLine = block.match(/^event:\s*(.+)$/m); const dataLine = block.match(/^data:\s*(.+)$/m); if (!evtLine || !dataLine) continue;
const eventType = evtLine[1].trim(); const data = JSON.parse(dataLine[1]);
if (eventType === 'partial' || eventType === 'soap') { hashRef.current = data.soap_hash ?? hashRef.current; setState(prev => ({ ...prev, sections: { subjective: data.subjective, objective: data.objective, assessment: data.assessment, plan: data.plan, }, completeness: data.completeness, soapHash: data.soap_hash ?? prev.soapHash, isDegraded: data.is_degraded ?? false, })); } else if (eventType === 'error') { setState(prev => ({ ...prev, error: `${data.code}: ${data.message}`, isDegraded: data.degraded ?? false, })); } } } } catch (err: any) { if (err.name !== 'AbortError') { setState(prev => ({ ...prev, error: err.message })); } } finally { setState(prev => ({ ...prev, isStreaming: false })); } }, [consultationId]);
const cancel = useCallback(() => { abortRef.current?.abort(); }, []);
return { ...state, stream, cancel };}

export { useSOAPStream };
