// A live session: microphone -> AudioWorklet (16 kHz Int16) -> binary frames on
// WS /ws/transcribe, authenticated with a single-use token (never the API key in a URL).
// Order matters (see docs/browser-testing): the AudioContext, the worklet and the socket
// are ready BEFORE the microphone opens, so the first words are not lost.

export class LiveSession {
  constructor({ api, consultationId, onMessage, onLevel, onClosed }) {
    this.api = api;
    this.consultationId = consultationId;
    this.onMessage = onMessage;
    this.onLevel = onLevel;
    this.onClosed = onClosed;
    this.queue = [];
    this.stopping = false;
  }

  async start() {
    const { token } = await this.api.post("/v1/transcription/token");
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule("/web/js/capture-worklet.js");
    await this.context.resume();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ token, consultation_id: this.consultationId, sample_rate: "16000" });
    this.socket = new WebSocket(`${scheme}//${location.host}/ws/transcribe?${query}`);
    this.socket.binaryType = "arraybuffer";
    this.socket.onopen = () => {
      for (const frame of this.queue) this.socket.send(frame);
      this.queue = [];
    };
    this.socket.onmessage = (event) => {
      if (typeof event.data === "string") this.onMessage(JSON.parse(event.data));
    };
    this.socket.onclose = (event) => {
      this.release();
      this.onClosed(event);
    };
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        // Raw audio: the browser's voice processing (made for calls) costs Whisper words.
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (err) {
      this.socket.close();
      this.release();
      throw err;
    }
    this.source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "pcm16-capture");
    this.node.port.onmessage = ({ data }) => {
      this.onLevel(data.level);
      if (this.stopping) return;
      if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data.pcm);
      else if (this.socket.readyState === WebSocket.CONNECTING) this.queue.push(data.pcm);
    };
    this.source.connect(this.node);
  }

  /** Stop listening; the server sends the last turn, the final note, then closes. */
  stop() {
    if (this.stopping) return;
    this.stopping = true;
    this.releaseMicrophone();
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "stop" }));
    } else if (this.socket) {
      this.socket.close();
    }
  }

  releaseMicrophone() {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.source?.disconnect();
    this.node?.disconnect();
    this.onLevel(0);
  }

  release() {
    this.releaseMicrophone();
    if (this.context && this.context.state !== "closed") this.context.close();
  }
}
