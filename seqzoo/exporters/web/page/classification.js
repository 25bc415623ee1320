// Classification: a text -> the probability of each label.
import {config, encode, guard, h, run, start} from './seqzoo.js';

async function classify(text) {
  const source = encode(text);
  const out = await run('serving_default', {token_ids: source.padded});
  const probabilities = Array.from(out.probabilities);
  const best = probabilities.indexOf(Math.max(...probabilities));
  return {label: config.meta.labels[best], probabilities, tokens: source.tokens,
          truncated: source.truncated, unknown_tokens: source.unknown};
}

function render(app) {
  const text = h('textarea', {rows: 3, cols: 60, 'aria-label': 'text'}, 'a gorgeous, moving film');
  const output = h('div', {class: 'output'});
  const bars = h('div');
  const go = guard(async () => {
    if (!text.value.trim()) throw new Error('Type a text to classify.');
    const result = await classify(text.value);
    output.textContent = result.label;
    bars.replaceChildren(...result.probabilities.map((p, i) => h('div', {class: 'bar'},
      h('span', {}, config.meta.labels[i]),
      h('span', {}, h('span', {class: 'fill', style: `width: ${(100 * p).toFixed(1)}%`})),
      h('span', {}, p.toFixed(3)))));
    if (result.truncated) bars.append(h('p', {class: 'muted'}, `only the first ${config.text.max_length} tokens were read`));
  });
  app.append(h('form', {novalidate: '', onsubmit: go}, h('label', {}, 'Text', text), h('button', {type: 'submit'}, 'Classify')),
             output, bars);
}

start({render, api: {classify}});
