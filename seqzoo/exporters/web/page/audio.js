// WaveNet: seconds, temperature, seed -> raw audio, one mu-law sample at a time through the .tflite
// file's `step` (a receptive field of silence first, as before every training recording); played and
// drawn.
import {config, guard, h, numberIn, random, sample, samplingFields, start, steps} from './seqzoo.js';

const STEP_INPUT = 'code';

function silence() {
  return Math.floor(config.meta.mu / 2) + 1;  // the code of 0.0
}

function decode(code) {
  const mu = config.meta.mu;
  const companded = 2 * code / mu - 1;
  return Math.sign(companded) * ((1 + mu) ** Math.abs(companded) - 1) / mu;
}

async function prime(codes) {
  return steps(STEP_INPUT, codes);
}

// The probabilities of the next code after the receptive field of silence and `codes`.
async function probabilities(codes) {
  const field = new Array(config.meta.receptive_field).fill(silence());
  return Array.from((await prime([...field, ...codes])).probabilities);
}

async function synthesize(samples, temperature, seed, onProgress = () => {}) {
  const next = random(seed);
  let state = await prime(new Array(config.meta.receptive_field).fill(silence()));
  const codes = [];
  for (let i = 0; i < samples; i++) {
    const code = sample(state.probabilities, temperature, next);
    codes.push(code);
    state = await steps(STEP_INPUT, [code], state.states);
    if (i % 500 === 499) {
      onProgress(i + 1);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return {codes, waveform: codes.map(decode)};
}

function drawWave(waveform) {
  const canvas = h('canvas', {width: 800, height: 160});
  const g = canvas.getContext('2d');
  g.strokeStyle = '#4a7bd0';
  g.beginPath();
  waveform.forEach((x, i) => {
    const px = (i / Math.max(1, waveform.length - 1)) * 800;
    const py = 80 - 78 * x;
    if (i) g.lineTo(px, py); else g.moveTo(px, py);
  });
  g.stroke();
  return canvas;
}

function play(waveform) {
  const audio = new AudioContext();
  const buffer = audio.createBuffer(1, waveform.length, config.meta.sample_rate);
  buffer.copyToChannel(Float32Array.from(waveform), 0);
  const source = audio.createBufferSource();
  source.buffer = buffer;
  source.connect(audio.destination);
  source.start();
}

function render(app) {
  const meta = config.meta;
  const limit = meta.samples_limit / meta.sample_rate;
  const seconds = h('input', {type: 'number', step: 0.05, min: 0.05, max: limit, value: 0.25});
  const sampling = samplingFields();
  const output = h('div');
  const note = h('p', {class: 'muted'});
  let waveform = null;
  const playButton = h('button', {type: 'button', disabled: '', onclick: guard(() => play(waveform))}, 'Play');
  const go = guard(async () => {
    const samples = Math.round(numberIn(seconds, 'Seconds', 1 / meta.sample_rate, limit) * meta.sample_rate);
    const {temperature, seed} = sampling.read();
    const began = performance.now();
    const result = await synthesize(samples, temperature, seed, (done) => { note.textContent = `${done} of ${samples} samples`; });
    waveform = result.waveform;
    const ms = performance.now() - began;
    output.replaceChildren(drawWave(waveform));
    note.textContent = `${samples} samples (${(samples / meta.sample_rate).toFixed(2)} s at ${meta.sample_rate} Hz) ` +
                       `in ${(ms / 1000).toFixed(1)} s`;
    playButton.removeAttribute('disabled');
    play(waveform);
  });
  app.append(
    h('form', {novalidate: '', onsubmit: go}, h('label', {}, 'Seconds', seconds),
      ...sampling.labels,
      h('button', {type: 'submit'}, 'Synthesize'), playButton),
    output, note,
  );
}

start({render, api: {probabilities, synthesize}});
