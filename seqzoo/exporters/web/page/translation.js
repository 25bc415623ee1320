// Translation: a text -> its translation by beam search (the whole search runs in the .tflite file),
// its score, and the attention each target token gave each source token.
import {config, encode, guard, h, heatMap, numberIn, run, start, untilPadding} from './seqzoo.js';

async function translate(text, beamWidth) {
  const meta = config.meta;
  const source = encode(text);
  if (!source.tokens.length) throw new Error('Type a text to translate: this one has no tokens.');
  const out = await run('translate', {token_ids: source.padded, beam_width: beamWidth});
  const ids = untilPadding(out.token_ids);
  const targetTokens = ids.map((id) => meta.target_vocabulary[id]);
  const result = {
    translation: targetTokens.join(meta.separator), token_ids: Array.from(out.token_ids),
    score: out.score[0], source_tokens: source.tokens, target_tokens: targetTokens,
    truncated: source.truncated, unknown_tokens: source.unknown,
  };
  if (out.attention) {
    const width = config.text.max_length;
    result.attention = ids.map((_, i) => Array.from(out.attention.slice(i * width, i * width + source.ids.length)));
  }
  return result;
}

function render(app) {
  const meta = config.meta;
  const text = h('input', {type: 'text', value: '3rd of March, 2021', 'aria-label': 'text'});
  const beam = h('input', {type: 'number', min: 1, max: meta.max_beam_width, value: meta.beam_width});
  const output = h('div', {class: 'output'});
  const details = h('div');
  const go = guard(async () => {
    const width = numberIn(beam, 'Beam width', 1, meta.max_beam_width, true);
    const began = performance.now();
    const result = await translate(text.value, width);
    output.textContent = result.translation || '(nothing)';
    const notes = [`log p = ${result.score.toFixed(3)}`, `${Math.round(performance.now() - began)} ms`];
    if (result.truncated) notes.push(`only the first ${config.text.max_length} tokens were read`);
    if (result.unknown_tokens) notes.push(`${result.unknown_tokens} unknown token(s)`);
    details.replaceChildren(h('p', {class: 'muted'}, notes.join(' · ')));
    if (result.attention) {
      const shown = (tokens) => tokens.map((t) => (t === ' ' ? '␣' : t));  // a space, visible
      details.append(heatMap(result.attention, shown(result.target_tokens), shown(result.source_tokens)));
    }
  });
  app.append(
    h('form', {novalidate: '', onsubmit: go}, h('label', {}, 'Text', text), h('label', {}, 'Beam width (1: greedy)', beam),
      h('button', {type: 'submit'}, 'Translate')),
    output, details,
  );
}

start({render, api: {translate}});
