// What every seqzoo page shares: LiteRT.js and the model, tokenizing as the export's vectorizer does,
// seeded sampling, and one place where every error becomes a message on the page.
//
// Forms are `novalidate`: a value out of range gets the page's own message, naming the range.
//
// A page module calls `start({render, api})`: once the model is loaded, `render(app)` builds the page
// and `window.seqzoo` holds `api` besides the shared functions below (the browser tests call them).
import {loadAndCompile, loadLiteRt, Tensor} from './litert/core/index.js';

const TYPED = {int32: Int32Array, float32: Float32Array, uint8: Uint8Array};
// The ASCII punctuation the vectorizer strips (seqzoo.text.tokenizers.PUNCTUATION).
const PUNCTUATION = /[!"#$%&()*+,\-./:;<=>?@[\\\]^_`{|}~']/g;
const WHITESPACE = /[ \t\n\v\f\r]+/;  // what tf.strings.split splits on
const UNKNOWN_ID = 1;

export let config = null;
let model = null;
let vocabularyIds = null;

export function showMessage(text) {
  const box = document.getElementById('message');
  box.textContent = text || '';
  box.hidden = !text;
}

function describe(error) {
  return (error && (error.message || error.reason?.message)) || String(error);
}

window.addEventListener('error', (event) => showMessage(`Error: ${describe(event.error || event)}`));
window.addEventListener('unhandledrejection', (event) => showMessage(`Error: ${describe(event.reason)}`));

// An event handler that shows what went wrong instead of leaving the page as it was.
export function guard(handler) {
  return async (event) => {
    event?.preventDefault?.();
    showMessage('');
    try {
      await handler(event);
    } catch (error) {
      showMessage(describe(error));
    }
  };
}

export async function start(page) {
  const began = performance.now();
  window.seqzoo = {ready: false};
  try {
    const response = await fetch('model.json');
    if (!response.ok) throw new Error(`model.json: HTTP ${response.status}`);
    config = await response.json();
    await loadLiteRt(new URL('litert/wasm/', location.href).href);
    model = await loadAndCompile(new URL(config.model, location.href).href, {accelerator: 'wasm'});
    vocabularyIds = new Map((config.vocabulary || []).map((token, id) => [token, id]));
    const app = document.getElementById('app');
    app.replaceChildren();
    page.render(app);
    const loaded = performance.now() - began;
    document.getElementById('timing').textContent = `model loaded in ${Math.round(loaded)} ms`;
    Object.assign(window.seqzoo, {run, encode, tokenIds, config, loadMs: loaded, ...page.api, ready: true});
  } catch (error) {
    window.seqzoo.failed = describe(error);
    showMessage(`The model could not be loaded: ${describe(error)}`);
  }
}

// Runs one signature of the model: `values` maps each input to a typed array, an array or a number,
// of the input's fixed size (model.json). Returns each output as a typed array of its own.
export async function run(signature, values) {
  const spec = config.signatures[signature];
  if (!spec) throw new Error(`the model has no signature '${signature}'`);
  const tensors = {};
  try {
    for (const [name, detail] of Object.entries(spec.inputs)) {
      const value = values[name];
      if (value === undefined) throw new Error(`${signature}: no value for '${name}'`);
      const size = detail.shape.reduce((a, b) => a * b, 1);
      const data = TYPED[detail.dtype].from(typeof value === 'number' ? [value] : value);
      if (data.length !== size) {
        throw new Error(`${signature}: '${name}' has ${data.length} values; the model takes ` +
                        `${size} (${JSON.stringify(detail.shape)})`);
      }
      tensors[name] = new Tensor(data, detail.shape);
    }
    const outputs = await model.run(signature, tensors);
    const result = {};
    for (const [name, tensor] of Object.entries(outputs)) {
      result[name] = tensor.toTypedArray().slice();
      tensor.delete();
    }
    return result;
  } finally {
    for (const tensor of Object.values(tensors)) tensor.delete();
  }
}

// The .tflite file's `step`, as an app drives it: the states (every input but `inputs`) start at
// zeros and are fed back.
export function firstStates(...inputs) {
  const states = {};
  for (const [name, detail] of Object.entries(config.signatures.step.inputs)) {
    if (!inputs.includes(name)) states[name] = new TYPED[detail.dtype](detail.shape.reduce((a, b) => a * b, 1));
  }
  return states;
}

// Feeds `values` to `step` one at a time (input `input`), from `states` (default: the first ones);
// returns the last probabilities and the states to go on from.
export async function steps(input, values, states = firstStates(input)) {
  let probabilities = null;
  for (const value of values) {
    const out = await run('step', {[input]: value, ...states});
    probabilities = out.probabilities;
    states = Object.fromEntries(Object.keys(states).map((name) => [name, out[name]]));
  }
  return {probabilities, states};
}

function lowercase(text) {
  // Code point by code point, as tf.strings.lower does (no final-sigma rule).
  return Array.from(text, (c) => c.toLowerCase()).join('');
}

// A text's tokens and ids as the export's vectorizer makes them, none cut off.
export function tokenIds(text) {
  const settings = config.text;
  let standard = String(text);
  if (settings.lowercase) standard = lowercase(standard);
  if (settings.strip_punctuation) standard = standard.replace(PUNCTUATION, '');
  const tokens = settings.tokenizer === 'char' ? Array.from(standard) : standard.split(WHITESPACE).filter(Boolean);
  return {tokens, ids: tokens.map((token) => vocabularyIds.get(token) ?? UNKNOWN_ID)};
}

// A text as a model reads it: its first max_length tokens and their ids, the ids padded with 0 to
// max_length (an empty text is one unknown token), and what was lost.
export function encode(text) {
  const all = tokenIds(text);
  const length = config.text.max_length;
  const ids = all.ids.slice(0, length);
  const padded = new Int32Array(length);
  padded.set(ids.length ? ids : [UNKNOWN_ID]);
  return {tokens: all.tokens.slice(0, length), ids, padded, truncated: all.tokens.length > length,
          unknown: ids.filter((id) => id === UNKNOWN_ID).length};
}

// The same numbers from the same seed in every browser (mulberry32).
export function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// An id drawn from probabilities at a temperature (<= 0: the most probable), never one of `banned`.
export function sample(probabilities, temperature, next, banned = []) {
  const skip = new Set(banned);
  if (!(temperature > 0)) {
    let best = -1;
    probabilities.forEach((p, id) => {
      if (!skip.has(id) && (best < 0 || p > probabilities[best])) best = id;
    });
    return best;
  }
  const weights = Array.from(probabilities, (p, id) => (skip.has(id) || !(p > 0) ? 0 : Math.exp(Math.log(p) / temperature)));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = next() * total;
  for (let id = 0; id < weights.length; id++) {
    u -= weights[id];
    if (u < 0 && weights[id] > 0) return id;
  }
  return weights.findLastIndex((w) => w > 0);
}

// An element: h('p', {class: 'muted'}, 'text', child, ...).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

// A number field's value, checked: a finite number within [low, high], else an error naming it.
export function numberIn(input, name, low, high, integer = false) {
  const value = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(value) || value < low || value > high ||
      (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${low} to ${high}`);
  }
  return value;
}

// The temperature and seed fields of a page that samples: their labelled inputs, and `read()`, their
// checked values.
export function samplingFields(temperature = 1) {
  const fields = {temperature: h('input', {type: 'number', step: 0.1, value: temperature}),
                  seed: h('input', {type: 'number', value: 1})};
  return {
    labels: [h('label', {}, 'Temperature (0: greedy)', fields.temperature), h('label', {}, 'Seed', fields.seed)],
    read: () => ({temperature: numberIn(fields.temperature, 'Temperature', -100, 100),
                  seed: numberIn(fields.seed, 'Seed', 0, 2 ** 32 - 1, true)}),
  };
}

// A heat map of weights[rows][columns] with labels, in a canvas.
export function heatMap(weights, rowLabels, columnLabels, cell = 22) {
  const left = 8 + 7 * Math.max(1, ...rowLabels.map((l) => l.length));
  const top = 8 + 7 * Math.max(1, ...columnLabels.map((l) => l.length));
  const canvas = h('canvas', {width: left + cell * columnLabels.length + 4, height: top + cell * rowLabels.length + 4});
  const g = canvas.getContext('2d');
  g.font = '12px sans-serif';
  g.fillStyle = '#222';
  rowLabels.forEach((label, i) => g.fillText(label, 4, top + cell * i + cell * 0.7));
  columnLabels.forEach((label, j) => {
    g.save();
    g.translate(left + cell * j + cell * 0.7, top - 4);
    g.rotate(-Math.PI / 2);
    g.fillText(label, 0, 0);
    g.restore();
  });
  weights.forEach((row, i) => row.forEach((w, j) => {
    const shade = Math.round(255 * (1 - Math.min(1, Math.max(0, w))));
    g.fillStyle = `rgb(${shade},${shade},255)`;
    g.fillRect(left + cell * j, top + cell * i, cell - 1, cell - 1);
  }));
  return canvas;
}

// The ids up to the first 0 (the end of a decoded sequence).
export function untilPadding(ids) {
  const end = Array.prototype.indexOf.call(ids, 0);
  return Array.from(end < 0 ? ids : ids.slice(0, end));
}
