// Music: a chord -> a piano roll, one frame (a quarter note) at a time through the .tflite file's
// `step`, each note drawn on its own; drawn, and played with the Web Audio API.
import {config, guard, h, numberIn, random, samplingFields, start, steps} from './seqzoo.js';

const STEP_INPUT = 'frame';
const NAMES = ['c', 'c#', 'd', 'd#', 'e', 'f', 'f#', 'g', 'g#', 'a', 'a#', 'b'];

// "C4 E4 G4" or "60 64 67" -> MIDI numbers; an error naming what is not a note in range.
function chord(text) {
  const meta = config.meta;
  const high = meta.lowest_midi + meta.pitches - 1;
  const notes = text.trim().split(/[\s,]+/).filter(Boolean).map((word) => {
    const name = /^([a-gA-G]#?)(-?\d)$/.exec(word);
    const midi = name ? 12 * (Number(name[2]) + 1) + NAMES.indexOf(name[1].toLowerCase()) : Number(word);
    if (!Number.isInteger(midi) || midi < meta.lowest_midi || midi > high) {
      throw new Error(`'${word}' is not a note from MIDI ${meta.lowest_midi} to ${high} (A0 to C8)`);
    }
    return midi;
  });
  if (!notes.length) throw new Error('Give the first chord: notes such as C4 E4 G4, or MIDI numbers.');
  return notes;
}

function frameOf(notes) {
  const frame = new Float32Array(config.meta.pitches);
  for (const midi of notes) frame[midi - config.meta.lowest_midi] = 1;
  return frame;
}

// The note probabilities after each frame of a roll (frames of 0/1), from silence.
async function probabilities(roll) {
  let state = {states: undefined};
  const rows = [];
  for (const frame of roll) {
    state = await steps(STEP_INPUT, [frame], state.states);
    rows.push(Array.from(state.probabilities));
  }
  return rows;
}

// Each note on with probability sigmoid(logit / temperature); temperature <= 0: the notes above 1/2.
function drawNotes(p, temperature, next) {
  return Float32Array.from(p, (q) => {
    if (!(temperature > 0)) return q > 0.5 ? 1 : 0;
    const clipped = Math.min(Math.max(q, 1e-7), 1 - 1e-7);
    const sharpened = 1 / (1 + Math.exp(-Math.log(clipped / (1 - clipped)) / temperature));
    return next() < sharpened ? 1 : 0;
  });
}

async function compose(notes, frames, temperature, seed) {
  const next = random(seed);
  let frame = frameOf(notes);
  const roll = [Array.from(frame)];
  let state = await steps(STEP_INPUT, [frame]);
  for (let i = 0; i < frames; i++) {
    frame = drawNotes(state.probabilities, temperature, next);
    roll.push(Array.from(frame));
    state = await steps(STEP_INPUT, [frame], state.states);
  }
  return {piano_roll: roll};
}

function drawRoll(roll) {
  const pitches = config.meta.pitches;
  const canvas = h('canvas', {width: Math.max(200, roll.length * 8), height: pitches * 4});
  const g = canvas.getContext('2d');
  g.fillStyle = '#4a7bd0';
  roll.forEach((frame, t) => frame.forEach((on, k) => on && g.fillRect(t * 8, (pitches - 1 - k) * 4, 7, 3)));
  return canvas;
}

function play(roll, seconds = 0.5) {
  const audio = new AudioContext();
  const begin = audio.currentTime + 0.05;
  roll.forEach((frame, t) => frame.forEach((on, k) => {
    if (!on) return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = 'triangle';
    oscillator.frequency.value = 440 * 2 ** ((config.meta.lowest_midi + k - 69) / 12);
    gain.gain.setValueAtTime(0.08, begin + t * seconds);
    gain.gain.exponentialRampToValueAtTime(0.001, begin + (t + 0.95) * seconds);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(begin + t * seconds);
    oscillator.stop(begin + (t + 1) * seconds);
  }));
}

function render(app) {
  const meta = config.meta;
  const first = h('input', {type: 'text', value: 'C4 E4 G4 C5', 'aria-label': 'first chord'});
  const frames = h('input', {type: 'number', min: 1, max: meta.frames_limit, value: meta.frames});
  const sampling = samplingFields();
  const output = h('div');
  let roll = null;
  const playButton = h('button', {type: 'button', disabled: '', onclick: guard(() => play(roll))}, 'Play');
  const go = guard(async () => {
    const notes = chord(first.value);
    const n = numberIn(frames, 'Frames', 1, meta.frames_limit, true);
    const {temperature, seed} = sampling.read();
    const began = performance.now();
    roll = (await compose(notes, n, temperature, seed)).piano_roll;
    output.replaceChildren(drawRoll(roll), h('p', {class: 'muted'},
      `${roll.length} frames (quarter notes) in ${Math.round(performance.now() - began)} ms`));
    playButton.removeAttribute('disabled');
  });
  app.append(
    h('form', {novalidate: '', onsubmit: go}, h('label', {}, 'First chord', first), h('label', {}, 'Frames', frames),
      ...sampling.labels,
      h('button', {type: 'submit'}, 'Compose'), playButton),
    output,
  );
}

start({render, api: {chord, probabilities, compose}});
