// AudioWorklet: microphone samples at the context's rate (44.1/48 kHz) -> 16 kHz mono
// Int16 frames of 100 ms, plus each frame's level for the meter.
// Resampling is a windowed-sinc low-pass (below the 8 kHz Nyquist of the target) then
// linear interpolation: skipping the filter aliases consonants ("chest" heard as "just").

const TARGET_RATE = 16000;
const FRAME = 1600; // 100 ms at 16 kHz
const TAPS = 63;
const CUTOFF_HZ = 7000;

function lowPass(rate) {
  const fc = CUTOFF_HZ / rate;
  const mid = (TAPS - 1) / 2;
  const taps = new Float32Array(TAPS);
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const window = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (TAPS - 1)); // Hamming
    taps[i] = sinc * window;
    sum += taps[i];
  }
  for (let i = 0; i < TAPS; i++) taps[i] /= sum; // unity gain at 0 Hz
  return taps;
}

class Pcm16Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.taps = lowPass(sampleRate);
    this.history = new Float32Array(TAPS * 2); // doubled ring: a contiguous window
    this.head = 0;
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.index = 0; // input samples filtered so far
    this.next = 0; // input position of the next output sample
    this.prev = 0; // previous filtered sample
    this.frame = new Int16Array(FRAME);
    this.filled = 0;
    this.sumSquares = 0;
  }

  filter(sample) {
    this.history[this.head] = sample;
    this.history[this.head + TAPS] = sample;
    this.head = (this.head + 1) % TAPS;
    let y = 0;
    // history[head .. head+TAPS) holds the last TAPS samples, oldest first.
    for (let i = 0; i < TAPS; i++) y += this.taps[i] * this.history[this.head + i];
    return y;
  }

  emit(value) {
    const v = Math.max(-1, Math.min(1, value));
    this.sumSquares += v * v;
    this.frame[this.filled++] = v < 0 ? v * 0x8000 : v * 0x7fff;
    if (this.filled === FRAME) {
      const level = Math.sqrt(this.sumSquares / FRAME);
      this.port.postMessage({ pcm: this.frame.buffer, level }, [this.frame.buffer]);
      this.frame = new Int16Array(FRAME);
      this.filled = 0;
      this.sumSquares = 0;
    }
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const y = this.filter(channel[i]);
      // Output samples that fall between the previous filtered sample and this one.
      while (this.next <= this.index) {
        const frac = this.next - (this.index - 1);
        this.emit(this.prev + (y - this.prev) * frac);
        this.next += this.step;
      }
      this.prev = y;
      this.index += 1;
    }
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
