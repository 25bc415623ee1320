// Handwriting (Graves 2013): a text (synthesis) or nothing (prediction) -> pen strokes, one point at a
// time through the .tflite file's `step`, each point sampled from the mixture it returns (Graves' bias
// sharpens it) and fed back; synthesis stops where the window moves past the text's last character.
import {config, firstStates, guard, h, numberIn, random, run, samplingFields, start} from './seqzoo.js';

const START = [0, 0, 1];  // what the networks read before a line's first point

function synthesis() {
  return 'chars' in config.signatures.step.inputs;
}

// A text's character ids, 0 after its end, and the characters the model never saw (dropped).
function charIds(text) {
  const alphabet = Array.from(config.meta.alphabet);
  const width = config.meta.max_chars;
  const characters = Array.from(text);
  const unknown = [...new Set(characters.filter((c) => !alphabet.includes(c)))];
  const ids = characters.filter((c) => alphabet.includes(c)).map((c) => alphabet.indexOf(c) + 1);
  if (ids.length > width) throw new Error(`The text has ${ids.length} characters; this model writes ${width} at most.`);
  const padded = new Int32Array(width);
  padded.set(ids);
  return {padded, length: ids.length, unknown};
}

function normal(next) {  // Box-Muller
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

// A point from the mixture [1 + 6M] (the network's units): `bias` as Graves' eqs. 61-62; greedy: the
// most probable component's mean, the pen lifted where p(end) > 1/2.
function samplePoint(mixture, bias, next, greedy) {
  const m = (mixture.length - 1) / 6;
  const part = (k) => Array.from(mixture.slice(1 + k * m, 1 + (k + 1) * m));
  const [weights, muX, muY, sigmaX, sigmaY, rho] = [0, 1, 2, 3, 4, 5].map(part);
  let chosen;
  if (greedy) {
    chosen = weights.indexOf(Math.max(...weights));
    return [muX[chosen], muY[chosen], mixture[0] > 0.5 ? 1 : 0];
  }
  const sharpened = weights.map((w) => Math.exp(Math.log(Math.max(w, 1e-30)) * (1 + bias)));
  let u = next() * sharpened.reduce((a, b) => a + b, 0);
  chosen = sharpened.findIndex((w) => (u -= w) < 0);
  if (chosen < 0) chosen = m - 1;
  const scale = Math.exp(-bias);
  const [z0, z1] = [normal(next), normal(next)];
  const r = rho[chosen];
  return [muX[chosen] + sigmaX[chosen] * scale * z0,
          muY[chosen] + sigmaY[chosen] * scale * (r * z0 + Math.sqrt(1 - r * r) * z1),
          next() < mixture[0] ? 1 : 0];
}

// Writes: points [n][3] (dx, dy, end of stroke) in the data's units, and the window's weight on each
// character at each point (synthesis).
async function write(text, bias, seed, maxPoints, greedy = false) {
  const meta = config.meta;
  let chars = null;
  if (synthesis()) {
    chars = charIds(text);
    if (!chars.length) throw new Error('Type a text to write: none of its characters is one this model writes.');
  }
  const next = random(seed);
  let states = firstStates('point', 'chars');
  let point = START;
  const points = [];
  const window = [];
  for (let i = 0; i < maxPoints; i++) {
    const out = await run('step', {point, ...(chars ? {chars: chars.padded} : {}), ...states});
    states = Object.fromEntries(Object.keys(states).map((name) => [name, out[name]]));
    point = samplePoint(out.mixture, bias, next, greedy);
    let past = false;
    if (chars) {
      const phi = Array.from(out.phi);
      past = phi[chars.length] > Math.max(...phi.slice(0, chars.length));
      window.push(phi.slice(0, chars.length));
      if (past) point = [point[0], point[1], 1];
    }
    points.push([point[0] * meta.offset_scale[0], point[1] * meta.offset_scale[1], point[2]]);
    if (past) break;
    if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return {points, window, unknown: chars ? chars.unknown : []};
}

function drawStrokes(points) {
  let x = 0;
  let y = 0;
  const path = points.map(([dx, dy, end]) => [(x += dx), (y += dy), end]);
  const xs = path.map((p) => p[0]);
  const ys = path.map((p) => p[1]);
  const [left, right, low, high] = [Math.min(0, ...xs), Math.max(0, ...xs), Math.min(0, ...ys), Math.max(0, ...ys)];
  const scale = Math.min(900 / Math.max(right - left, 1e-9), 200 / Math.max(high - low, 1e-9));
  const canvas = h('canvas', {width: Math.ceil((right - left) * scale) + 20, height: Math.ceil((high - low) * scale) + 20});
  const g = canvas.getContext('2d');
  g.lineWidth = 2;
  g.lineCap = g.lineJoin = 'round';
  g.beginPath();
  let down = false;
  for (const [px, py, end] of path) {
    const cx = 10 + (px - left) * scale;
    const cy = 10 + (high - py) * scale;  // y up, as the data's
    if (down) g.lineTo(cx, cy); else g.moveTo(cx, cy);
    down = end < 0.5;
  }
  g.stroke();
  return canvas;
}

function render(app) {
  const meta = config.meta;
  const text = h('input', {type: 'text', value: 'hello world', 'aria-label': 'text'});
  const bias = h('input', {type: 'number', step: 0.25, min: 0, max: 100, value: meta.bias});
  const points = h('input', {type: 'number', min: 1, max: meta.max_points_limit, value: meta.max_points});
  const sampling = samplingFields();
  const output = h('div');
  const note = h('p', {class: 'muted'});
  const go = guard(async () => {
    const b = numberIn(bias, 'Bias', 0, 100);
    const n = numberIn(points, 'Points', 1, meta.max_points_limit, true);
    const {seed} = sampling.read();
    const began = performance.now();
    const result = await write(text.value, b, seed, n);
    output.replaceChildren(drawStrokes(result.points));
    const notes = [`${result.points.length} points in ${Math.round(performance.now() - began)} ms`];
    if (result.unknown.length) notes.push(`not in its alphabet, left out: ${result.unknown.join(' ')}`);
    if (synthesis() && result.points.length === n) notes.push('stopped at the point limit, not at the text\'s end');
    note.textContent = notes.join(' · ');
  });
  app.append(
    h('form', {novalidate: '', onsubmit: go}, synthesis() ? h('label', {}, 'Text', text) : null,
      h('label', {}, 'Bias (0: as trained)', bias), h('label', {}, synthesis() ? 'At most, points' : 'Points', points),
      sampling.labels[1], h('button', {type: 'submit'}, 'Write')),
    output, note,
  );
}

start({render, api: {write}});
