// Captioning: draw digits (white on black, as the digit scenes are) or open an image -> its caption
// by beam search in the .tflite file, and where the model looked for each word.
import {config, guard, h, heatMap, numberIn, run, start, untilPadding} from './seqzoo.js';

const DRAWN = 256;  // the drawing canvas, in pixels

// pixels: float [size * size * 3] in [0, 255], rows first, RGB.
async function caption(pixels, beamWidth) {
  const meta = config.meta;
  const out = await run('caption', {image: pixels, beam_width: beamWidth});
  const ids = untilPadding(out.token_ids);
  const words = ids.map((id) => config.vocabulary[id]);
  const result = {caption: words.join(' '), token_ids: Array.from(out.token_ids), score: out.score[0], words};
  if (out.attention) {
    const regions = meta.grid[0] * meta.grid[1];
    result.attention = ids.map((_, i) => Array.from(out.attention.slice(i * regions, (i + 1) * regions)));
  }
  return result;
}

// Any drawable (a canvas, a decoded image) -> the model's pixels, resized by the browser.
function pixelsOf(source) {
  const size = config.meta.image_size;
  const canvas = h('canvas', {width: size, height: size});
  const g = canvas.getContext('2d');
  g.imageSmoothingQuality = 'high';
  g.drawImage(source, 0, 0, size, size);
  const rgba = g.getImageData(0, 0, size, size).data;
  const pixels = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) pixels.set([rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]], 3 * i);
  return pixels;
}

function drawingCanvas() {
  const canvas = h('canvas', {width: DRAWN, height: DRAWN, style: 'touch-action: none; background: #000'});
  const g = canvas.getContext('2d');
  const clear = () => { g.fillStyle = '#000'; g.fillRect(0, 0, DRAWN, DRAWN); };
  clear();
  g.strokeStyle = '#fff';
  g.lineWidth = DRAWN / 18;
  g.lineCap = g.lineJoin = 'round';
  let drawing = false;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * DRAWN / box.width, (event.clientY - box.top) * DRAWN / box.height];
  };
  canvas.addEventListener('pointerdown', (event) => { drawing = true; g.beginPath(); g.moveTo(...at(event)); });
  canvas.addEventListener('pointermove', (event) => { if (drawing) { g.lineTo(...at(event)); g.stroke(); } });
  window.addEventListener('pointerup', () => { drawing = false; });
  canvas.clear = clear;
  return canvas;
}

function attentionPanels(result, source) {
  const [rows, columns] = config.meta.grid;
  return h('div', {class: 'panels'}, ...result.words.map((word, i) => {
    const panel = h('canvas', {width: 96, height: 96});
    const g = panel.getContext('2d');
    g.drawImage(source, 0, 0, 96, 96);
    const peak = Math.max(...result.attention[i]);
    result.attention[i].forEach((w, k) => {
      g.fillStyle = `rgba(255, 200, 0, ${(0.7 * w / peak).toFixed(3)})`;
      g.fillRect((k % columns) * 96 / columns, Math.floor(k / columns) * 96 / rows, 96 / columns, 96 / rows);
    });
    return h('figure', {}, panel, h('figcaption', {}, word));
  }));
}

function render(app) {
  const meta = config.meta;
  const canvas = drawingCanvas();
  const file = h('input', {type: 'file', accept: 'image/*', 'aria-label': 'image file'});
  const beam = h('input', {type: 'number', min: 1, max: meta.max_beam_width, value: meta.beam_width});
  const output = h('div', {class: 'output'});
  const details = h('div');
  const show = async (source) => {
    const width = numberIn(beam, 'Beam width', 1, meta.max_beam_width, true);
    const result = await caption(pixelsOf(source), width);
    output.textContent = result.caption || '(nothing)';
    details.replaceChildren(h('p', {class: 'muted'}, `log p = ${result.score.toFixed(3)}`));
    if (result.attention) details.append(attentionPanels(result, source));
  };
  file.addEventListener('change', guard(async () => {
    if (!file.files.length) return;
    let image;
    try {
      image = await createImageBitmap(file.files[0]);
    } catch {
      throw new Error(`'${file.files[0].name}' is not an image this browser can decode`);
    }
    await show(image);
  }));
  app.append(
    h('p', {class: 'muted'}, 'Draw digits in the black square, or open an image.'),
    canvas,
    h('form', {novalidate: '', onsubmit: guard(() => show(canvas))},
      h('label', {}, 'Beam width (1: greedy)', beam), h('button', {type: 'submit'}, 'Caption'),
      h('button', {type: 'button', onclick: () => canvas.clear()}, 'Clear'), h('label', {}, 'Image', file)),
    output, details,
  );
}

start({render, api: {caption}});
