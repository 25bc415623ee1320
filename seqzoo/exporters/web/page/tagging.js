// Tagging: a text -> a tag per token, with its probability.
import {config, encode, guard, h, run, start} from './seqzoo.js';

async function tag(text) {
  const source = encode(text);
  if (!source.tokens.length) throw new Error('Type a text to tag: this one has no tokens.');
  const out = await run('serving_default', {token_ids: source.padded});
  const count = config.meta.tags.length;
  const rows = source.tokens.map((_, i) => Array.from(out.probabilities.slice(i * count, (i + 1) * count)));
  const tags = rows.map((row) => config.meta.tags[row.indexOf(Math.max(...row))]);
  return {tokens: source.tokens, tags, probabilities: rows, truncated: source.truncated};
}

function render(app) {
  const text = h('input', {type: 'text', value: 'the minister said on tuesday', 'aria-label': 'text'});
  const output = h('div', {class: 'tokens'});
  const note = h('p', {class: 'muted'});
  const go = guard(async () => {
    const result = await tag(text.value);
    output.replaceChildren(...result.tokens.map((token, i) => h('span', {class: 'token'}, token,
      h('small', {title: `p = ${Math.max(...result.probabilities[i]).toFixed(3)}`}, result.tags[i]))));
    note.textContent = result.truncated ? `only the first ${config.text.max_length} tokens were read` : '';
  });
  app.append(h('form', {novalidate: '', onsubmit: go}, h('label', {}, 'Text', text), h('button', {type: 'submit'}, 'Tag')),
             output, note);
}

start({render, api: {tag}});
