// A language model: a prompt -> sampled text, token by token, through the .tflite file's `step`
// (states fed back, as `seqzoo generate` does it in the graph).
import {config, guard, h, numberIn, random, sample, samplingFields, start, steps, tokenIds} from './seqzoo.js';

const STEP_INPUT = 'token_ids';

// [BOS] + the prompt's last max_length - 1 ids, fed one at a time: the probabilities of the next token.
async function prime(prompt) {
  const ids = [config.meta.bos_id, ...tokenIds(prompt).ids.slice(-(config.text.max_length - 1))];
  return steps(STEP_INPUT, ids);
}

async function probabilities(prompt) {
  return Array.from((await prime(prompt)).probabilities);
}

// Samples `count` tokens after the prompt (temperature <= 0: greedy); `onToken` sees each as it comes.
async function generate(prompt, count, temperature, seed, onToken = () => {}) {
  const next = random(seed);
  const banned = [0, config.meta.bos_id];
  let state = await prime(prompt);
  const ids = [];
  for (let i = 0; i < count; i++) {
    const id = sample(state.probabilities, temperature, next, banned);
    ids.push(id);
    onToken(config.vocabulary[id]);
    state = await steps(STEP_INPUT, [id], state.states);
    if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 0));  // let the page show it
  }
  return {ids, text: ids.map((id) => config.vocabulary[id]).join(config.meta.separator)};
}

function render(app) {
  const meta = config.meta;
  const prompt = h('input', {type: 'text', value: 'The ', 'aria-label': 'prompt'});
  const count = h('input', {type: 'number', min: 1, max: meta.max_new_tokens_limit, value: meta.max_new_tokens});
  const sampling = samplingFields(0.8);
  const output = h('div', {class: 'output'});
  const note = h('p', {class: 'muted'});
  const go = guard(async () => {
    const n = numberIn(count, `New ${meta.unit}s`, 1, meta.max_new_tokens_limit, true);
    const {temperature, seed} = sampling.read();
    const began = performance.now();
    output.textContent = prompt.value;
    let first = true;
    const result = await generate(prompt.value, n, temperature, seed, (token) => {
      output.textContent += (first && !prompt.value ? '' : meta.separator) + token;
      first = false;
    });
    const ms = performance.now() - began;
    note.textContent = `${result.ids.length} ${meta.unit}s in ${Math.round(ms)} ms (${(ms / result.ids.length).toFixed(1)} ms each)`;
  });
  app.append(
    h('form', {novalidate: '', onsubmit: go}, h('label', {}, 'Prompt', prompt), h('label', {}, `New ${meta.unit}s`, count),
      ...sampling.labels,
      h('button', {type: 'submit'}, 'Generate')),
    output, note,
  );
}

start({render, api: {probabilities, generate}});
