"""Reads an exported version back: predictions from its SavedModel or its TFLite file."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.data.tagging import is_restoration_tagset, restore
from seqzoo.errors import UserError
from seqzoo.exporters.card import card_meta
from seqzoo.exporters.integrity import latest_version, read_card
from seqzoo.files import read_json
from seqzoo.schema import FLOAT32_MAX, INT32_MAX, MAX_BEAM_WIDTH, Rule
from seqzoo.text import Vectorizer, string_tensor

# The card's task metadata this reader uses, checked as data (a card may have been edited).
META_RULES = {
    "labels": Rule(list, item=Rule(str), non_empty=True), "tags": Rule(list, item=Rule(str), non_empty=True),
    "max_new_tokens_limit": Rule(int, minimum=0, maximum=INT32_MAX), "max_new_tokens": Rule(int, minimum=0),
    "frames_limit": Rule(int, minimum=1, maximum=INT32_MAX), "frames": Rule(int, minimum=1),
    "sample_rate": Rule(int, minimum=1000, maximum=384_000), "samples_limit": Rule(int, minimum=1),
    "seconds": Rule(float, above=0.0), "prime_limit": Rule(int, minimum=0, maximum=INT32_MAX),
    "beam_width": Rule(int, minimum=1, maximum=MAX_BEAM_WIDTH), "separator": Rule(str),
    "bias": Rule(float, minimum=0.0, maximum=100.0), "max_points": Rule(int, minimum=1),
    "max_points_limit": Rule(int, minimum=1, maximum=INT32_MAX), "alphabet": Rule(str, non_empty=True),
    "max_chars": Rule(int, minimum=1, maximum=INT32_MAX),
    "offset_scale": Rule(list, item=Rule(float, above=0.0, maximum=FLOAT32_MAX), non_empty=True),
    "max_samples": Rule(int, minimum=1, maximum=INT32_MAX), "speakers": Rule(list, item=Rule(str)),
}
# What `generate` takes, checked before the graph sees it (a NaN temperature would mean greedy).
INT32 = Rule(int, minimum=-INT32_MAX - 1, maximum=INT32_MAX)
SAMPLING = {"temperature": Rule(float, minimum=-FLOAT32_MAX, maximum=FLOAT32_MAX), "top_k": INT32,
            "top_p": Rule(float, above=0.0, maximum=FLOAT32_MAX), "seed": INT32}


class ExportedModel:
    """One exported version folder, read the way a server or an app would read it.

    Args:
        path: str. `saved_models/<name>` (the newest version is taken) or a version folder.

    Example:
    ```python
    exported = ExportedModel("saved_models/sentiment")
    exported.predict(["a gorgeous film"])            # through the SavedModel
    exported.predict(["a gorgeous film"], "tflite")  # through LiteRT, ids from vocabulary.json
    ExportedModel("saved_models/char_lm").generate(["The minister"], max_new_tokens=50)
    ExportedModel("saved_models/bilstm_tagger").tag(["the minister said on tuesday"])
    ExportedModel("saved_models/seq2seq_attn").translate(["3rd of March, 2021"], beam_width=4)
    ExportedModel("saved_models/show_attend_tell").caption([open("scene.png", "rb").read()])
    ExportedModel("saved_models/tcn_music").compose([[60, 64, 67, 72]], frames=64, seed=3)
    ExportedModel("saved_models/wavenet").synthesize(seconds=2, temperature=1.0, seed=1)
    ExportedModel("saved_models/ctc_recognizer").transcribe([samples], beam_width=8)
    ExportedModel("saved_models/audio_classifier").classify([samples])
    ```
    """

    def __init__(self, path: str | Path):
        self.path = latest_version(path)
        self.card = read_card(self.path)
        self.meta = card_meta(self.card)  # the task's: labels, limits, search settings, ...

    def predict(self, texts: list[str], runtime: str = "saved_model") -> list[dict]:
        """[{'text', 'label', 'probability', 'probabilities': {label: p}}] per text."""
        self.require_task("classification", "predict")
        if runtime == "saved_model":
            serve = self.saved_model.signatures["serving_default"]
            probabilities = serve(text=string_tensor(texts))["probabilities"].numpy()
        elif runtime == "tflite":
            probabilities = self._tflite_probabilities(texts)
        else:
            raise ValueError(f"unknown runtime {runtime!r}")
        return [self._row(text, p) for text, p in zip(texts, probabilities, strict=True)]

    def generate(
        self, prompts: list[str], max_new_tokens: int | None = None, temperature: float = 1.0,
        top_k: int = 0, top_p: float = 1.0, seed: int = 0, stop: list[str] = (),
    ) -> list[str]:
        """Prompt + continuation per prompt, from the SavedModel's `generate` signature.

        `temperature` <= 0 is greedy; `top_k` <= 0 and `top_p` >= 1 keep every
        token; the same seed gives the same text; the generated part is cut at
        the first of the `stop` strings.
        """
        self.require_task("language_model", "generate")
        limit = self.setting("max_new_tokens_limit")
        max_new_tokens = self.setting("max_new_tokens") if max_new_tokens is None else max_new_tokens
        max_new_tokens = INT32.check("max_new_tokens", max_new_tokens, what="")
        if not 0 <= max_new_tokens <= limit:
            raise UserError(f"max_new_tokens must be between 0 and {limit} (this model's ceiling), "
                            f"got {max_new_tokens}")
        sampling = {name: rule.check(name, value, what="") for (name, rule), value in
                    zip(SAMPLING.items(), (temperature, top_k, top_p, seed), strict=True)}
        generate = self.saved_model.signatures["generate"]
        out = generate(
            prompt=string_tensor(list(prompts)), max_new_tokens=tf.constant(max_new_tokens),
            temperature=tf.constant(sampling["temperature"], tf.float32),
            top_k=tf.constant(sampling["top_k"]), top_p=tf.constant(sampling["top_p"], tf.float32),
            seed=tf.constant(sampling["seed"]), stop=string_tensor(list(stop)),
        )
        return [text.decode("utf-8", errors="replace") for text in out["text"].numpy()]

    def compose(self, start: list[list[int]], frames: int | None = None, temperature: float = 1.0,
                seed: int = 0) -> np.ndarray:
        """A piano roll [len(start) + frames, 88] (0/1; column i is MIDI 21 + i): the start frames
        (each a list of MIDI numbers, a chord), then `frames` sampled one at a time, each fed back,
        from the SavedModel's `generate`. `temperature` <= 0 is greedy; the same seed, the same music."""
        from seqzoo.data.music import HIGHEST, LOWEST

        self.require_task("music", "compose")
        limit = self.setting("frames_limit")
        frames = INT32.check("frames", self.setting("frames") if frames is None else frames, what="")
        if not 1 <= frames <= limit:
            raise UserError(f"frames must be between 1 and {limit} (this model's ceiling), got {frames}")
        if not start:
            raise UserError("the start is empty: give at least one chord")
        for chord in start:
            for number in chord:
                if INT32.check("a start note", number, what="") not in range(LOWEST, HIGHEST + 1):
                    raise UserError(f"start note {number} is outside the piano's range, "
                                    f"MIDI {LOWEST} to {HIGHEST}")
        width = max(1, *map(len, start))
        padded = np.array([list(chord) + [0] * (width - len(chord)) for chord in start], np.int32)
        temperature = SAMPLING["temperature"].check("temperature", temperature, what="")
        out = self.saved_model.signatures["generate"](
            start=tf.constant(padded), frames=tf.constant(frames),
            temperature=tf.constant(temperature, tf.float32),
            seed=tf.constant(SAMPLING["seed"].check("seed", seed, what="")))
        return out["piano_roll"].numpy()

    def write(self, text: str | None = None, bias: float | None = None, seed: int = 0,
              max_points: int | None = None, style=None) -> dict:
        """Handwriting from the SavedModel's `write`: {'strokes' [points, 3] (dx, dy, end of stroke, in
        the data's units), 'window' [points, characters] (synthesis)}. A synthesis model writes
        `text` and stops at its end (or at `max_points`); a prediction model writes `max_points`
        points freely. `bias` (default: the card's) >= 0 makes it tidier (Graves 2013). `style`: a
        writer's line (a `seqzoo.data.handwriting.Line`, as `read_iam_line` reads one) whose hand the
        synthesis model writes in (`write_in_style`, Graves' priming)."""
        from seqzoo.data.handwriting import Alphabet

        task = self.card.get("task")
        if task not in ("handwriting_prediction", "handwriting_synthesis"):
            raise UserError(f"'{self.path}' is a {self.card['model']} export ({task}); `write` needs a "
                            "handwriting model")
        synthesis = task == "handwriting_synthesis"
        bias = META_RULES["bias"].check("bias", self.setting("bias") if bias is None else bias, what="")
        limit = self.setting("max_points_limit")
        points = INT32.check("max points", self.setting("max_points") if max_points is None else max_points,
                             what="")
        if not 1 <= points <= limit:
            raise UserError(f"max points must be between 1 and {limit} (this model's ceiling), got {points}")
        seed = tf.constant(SAMPLING["seed"].check("seed", seed, what=""))
        signature = self.saved_model.signatures["write"]
        if not synthesis:
            if text:
                raise UserError("a prediction model writes freely and takes no text; "
                                "handwriting_synthesis writes a text")
            out = signature(points=tf.constant(points), bias=tf.constant(bias, tf.float32), seed=seed)
            strokes = out["strokes"].numpy()
            return {"strokes": strokes, "window": np.zeros((len(strokes), 0), np.float32)}
        if not text or not text.strip():
            raise UserError("the text is empty: give the words to write")
        alphabet, width = Alphabet(self.setting("alphabet")), self.setting("max_chars")
        unknown = alphabet.unknown(text)
        if unknown:
            raise UserError(f"the model was not trained on {', '.join(map(repr, unknown))}; it writes "
                            f"{alphabet.characters!r}")
        if len(text) > width:
            raise UserError(f"the text has {len(text)} characters; this model writes at most {width}")
        inputs = {"text": tf.constant([text]), "bias": tf.constant(bias, tf.float32), "seed": seed,
                  "max_points": tf.constant(points)}
        if style is not None:
            signature = self._style_signature(style, alphabet, width, limit)
            inputs.update(style_text=tf.constant([style.text]), style_strokes=tf.constant(style.points[None]))
        out = signature(**inputs)
        length = int(out["lengths"][0])
        return {"strokes": out["strokes"][0, :length].numpy(), "window": out["window"][0, :length].numpy()}

    def _style_signature(self, style, alphabet, width: int, limit: int):
        """`write_in_style`, once the style's line is checked against this model."""
        if "write_in_style" not in self.saved_model.signatures:
            raise UserError(f"'{self.path}' was exported before writing in a style: export its run again")
        unknown = alphabet.unknown(style.text)
        if unknown:
            raise UserError(f"the style's text holds {', '.join(map(repr, unknown))}, which the model was "
                            f"not trained on; it writes {alphabet.characters!r}")
        if not style.text.strip() or len(style.text) > width:
            raise UserError(f"the style's text has {len(style.text)} characters; this model takes 1 to "
                            f"{width}")
        if len(style.points) > limit:
            raise UserError(f"the style's line has {len(style.points)} points; this model takes at most "
                            f"{limit}")
        return self.saved_model.signatures["write_in_style"]

    def synthesize(self, seconds: float | None = None, temperature: float = 1.0, seed: int = 0,
                   prime: np.ndarray | None = None, xla: bool = True,
                   speaker: str | None = None) -> np.ndarray:
        """Audio samples float32 in [-1, 1] at the card's `sample_rate`: the `prime` (samples at that
        rate; default none, starting from silence), then `seconds` of new samples drawn one at a
        time, each fed back, from the SavedModel's `generate`. `temperature` <= 0 is greedy. `speaker`:
        the voice of a speaker-conditioned WaveNet, one of the card's `speakers` (default: the first).

        `xla`: run `generate` compiled by XLA into one CPU program (about 4x faster: real time at
        8 kHz for the default model); False runs it as TF Serving does. Each gives the same audio
        for the same seed, but not the other's: XLA draws its random numbers its own way."""
        self.require_task("audio", "synthesize")
        rate, limit = self.setting("sample_rate"), self.setting("samples_limit")
        seconds = Rule(float, above=0.0, maximum=FLOAT32_MAX).check(
            "seconds", self.setting("seconds") if seconds is None else seconds, what="")
        samples = round(seconds * rate)
        if not 1 <= samples <= limit:
            raise UserError(f"seconds must give 1 to {limit} samples ({limit / rate:g} s, this model's "
                            f"ceiling), got {seconds:g} s = {samples} samples")
        prime = np.zeros(0, np.float32) if prime is None else np.asarray(prime, np.float32).reshape(-1)
        if len(prime) > self.setting("prime_limit"):
            raise UserError(f"the prime is {len(prime) / rate:g} s long; this model takes at most "
                            f"{self.setting('prime_limit') / rate:g} s")
        if not np.isfinite(prime).all():
            raise UserError("the prime holds NaN or infinite samples")
        generate = self._generate_xla if xla else self.saved_model.signatures["generate"]
        speakers = self.setting("speakers") if "speakers" in self.meta else []
        if speaker is not None and speaker not in speakers:
            raise UserError(f"speaker {speaker!r} is not one this model speaks as: "
                            + (", ".join(speakers) if speakers else "it was trained without speakers"))
        if speakers:
            speaker_id = tf.constant(speakers.index(speaker or speakers[0]))
            generate = functools.partial(generate, speaker=speaker_id)
        out = generate(
            samples=tf.constant(samples), prime=tf.constant(prime),
            temperature=tf.constant(SAMPLING["temperature"].check("temperature", temperature, what=""),
                                    tf.float32),
            seed=tf.constant(SAMPLING["seed"].check("seed", seed, what="")))
        return out["waveform"].numpy()

    def transcribe(self, waveforms: list[np.ndarray], beam_width: int | None = None,
                   runtime: str = "saved_model") -> list[dict]:
        """[{'text', 'score'}] per waveform (float samples in [-1, 1] at the card's `sample_rate`), from the
        SavedModel's `transcribe` (greedy: `beam_width` 1) then TensorFlow's CTC beam search over its
        log-probabilities at `beam_width` (default: the card's); 'score' is the transcript's log-probability
        (None for greedy). `runtime="tflite"`: the `.tflite` file's greedy ids, one clip at a time."""
        from seqzoo.decoding.ctc import beam_ids, ids_text

        self.require_task("speech", "transcribe")
        beam_width, alphabet = self._beam_width(beam_width), self.setting("alphabet")
        padded, lengths = self._clips(waveforms)
        if runtime == "tflite":
            runner = self._interpreter().get_signature_runner("serving_default")
            ids = [runner(waveform=np.asarray(w, np.float32)[None])["ids"] for w in waveforms]
            texts = ids_text(tf.ragged.constant(ids, tf.int32, ragged_rank=1), alphabet).numpy()
            return [{"text": text.decode("utf-8"), "score": None} for text in texts]
        transcribe = self.saved_model.signatures["transcribe"]
        out = transcribe(waveform=tf.constant(padded), length=tf.constant(lengths))
        if beam_width == 1:
            return [{"text": text.decode("utf-8"), "score": None} for text in out["text"].numpy()]
        ids, scores = beam_ids(out["log_probabilities"], out["frames"], beam_width)
        return [{"text": text.decode("utf-8"), "score": round(float(score), 4)}
                for text, score in zip(ids_text(ids, alphabet).numpy(), scores.numpy(), strict=True)]

    def classify(self, waveforms: list[np.ndarray], runtime: str = "saved_model") -> list[dict]:
        """[{'label', 'probability', 'probabilities': {label: p}}] per waveform (float samples in [-1, 1] at
        the card's `sample_rate`), from the SavedModel's `classify` or the `.tflite` file (a clip a call)."""
        self.require_task("audio_classification", "classify")
        padded, lengths = self._clips(waveforms)
        if runtime == "tflite":
            runner = self._interpreter().get_signature_runner("serving_default")
            probabilities = np.concatenate([runner(waveform=np.asarray(w, np.float32)[None])["probabilities"]
                                            for w in waveforms])
        else:
            probabilities = self.saved_model.signatures["classify"](
                waveform=tf.constant(padded), length=tf.constant(lengths))["probabilities"].numpy()
        rows = [self._row("", p) for p in probabilities]
        return [{key: value for key, value in row.items() if key != "text"} for row in rows]

    def _clips(self, waveforms: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Waveforms as a batch: samples [n, longest] (zeros after each) and lengths [n]; UserError for one
        of no samples or more than the card's `max_samples`."""
        limit = self.setting("max_samples")
        for waveform in waveforms:
            if not 1 <= len(waveform) <= limit:
                raise UserError(f"a clip holds {len(waveform)} samples; this model takes 1 to {limit} "
                                f"({limit / self.setting('sample_rate'):g} s)")
        padded = np.zeros((len(waveforms), max(map(len, waveforms), default=1)), np.float32)
        for i, waveform in enumerate(waveforms):
            padded[i, : len(waveform)] = waveform
        return padded, np.array([len(w) for w in waveforms], np.int32)

    def tag(self, texts: list[str]) -> list[dict]:
        """[{'text', 'tokens', 'tags', 'truncated'}] per text, from the SavedModel; with a
        punctuation-restoration tagger, also 'restored': the text with capitals and marks."""
        self.require_task("tagging", "tag")
        out = self.saved_model.signatures["serving_default"](text=string_tensor(list(texts)))
        restoring = is_restoration_tagset(self.setting("tags"))
        rows = []
        for i, text in enumerate(texts):
            length = int(out["lengths"][i])
            tokens = [t.decode("utf-8", errors="replace") for t in out["tokens"][i, :length].numpy()]
            tags = [t.decode("utf-8") for t in out["tags"][i, :length].numpy()]
            row = {"text": text, "tokens": tokens, "tags": tags, "truncated": bool(out["truncated"][i])}
            if restoring:
                row["restored"] = restore(tokens, tags)
            rows.append(row)
        return rows

    def translate(self, texts: list[str], beam_width: int | None = None, attention: bool = False,
                  runtime: str = "saved_model") -> list[dict]:
        """[{'text', 'translation', 'score', 'truncated', 'unknown_tokens'}] per text, from the
        SavedModel; `attention` adds 'source_tokens', 'target_tokens' and 'attention' (a
        seq2seq_attn model), which `seqzoo.plots.plot_attention` draws. `runtime="tflite"`: the
        `.tflite` file's `translate`, one text at a time, tokenized as the card tells an app to
        ({'text', 'translation', 'score'} per text)."""
        from seqzoo.tasks.translation import translation_rows

        if runtime == "tflite":
            return self._tflite_translations(list(texts), beam_width)
        if runtime != "saved_model":
            raise ValueError(f"unknown runtime {runtime!r}")
        search = self._search("translation", "translate", beam_width, attention, "seq2seq_attn")
        out = search(text=string_tensor(list(texts)))
        return translation_rows(list(texts), {k: v.numpy() for k, v in out.items()})

    def caption(self, images: list[bytes], beam_width: int | None = None, attention: bool = False
                ) -> list[dict]:
        """[{'caption', 'score', 'valid'}] per encoded image (PNG / JPEG / GIF / BMP bytes), from
        the SavedModel; an image that does not decode gets valid False and ''. `attention` adds
        'tokens' and 'attention' [word, row, column] (show_attend_tell), which
        `seqzoo.plots.plot_caption_attention` draws."""
        from seqzoo.tasks.captioning import caption_rows

        search = self._search("captioning", "caption", beam_width, attention, "show_attend_tell")
        out = search(image=tf.constant(list(images), tf.string, shape=[len(images)]))
        return caption_rows({k: v.numpy() for k, v in out.items()})

    def _search(self, task: str, verb: str, beam_width: int | None, attention: bool, attending: str):
        """The search signature (`translate`, `caption`; `..._with_attention` when asked) with the
        beam width checked and bound."""
        self.require_task(task, verb)
        beam_width = self._beam_width(beam_width)
        signature = f"{verb}_with_attention" if attention else verb
        if signature not in self.saved_model.signatures:
            raise UserError(f"'{self.path}' has no attention weights ({self.card['model']} has no "
                            f"attention; {attending} has)")
        return functools.partial(self.saved_model.signatures[signature],
                                 beam_width=tf.constant(beam_width, tf.int32))

    def _beam_width(self, beam_width: int | None) -> int:
        """The card's beam width, or the one asked for, checked: 1 to MAX_BEAM_WIDTH."""
        from seqzoo.tasks.encoder_decoder import checked_beam_width

        return checked_beam_width(self.setting("beam_width") if beam_width is None else beam_width)

    def mixtures(self, strokes) -> np.ndarray:
        """A prediction model's distribution for each point of `strokes` [points, 3] (dx, dy, end of
        stroke, in the data's units) given the points before it: mixtures [points, 1 + 6M] in the
        data's units (the card's layout), from the SavedModel's `step` fed the strokes one by one
        (what `seqzoo write` draws as Graves' heat map)."""
        from seqzoo.data.handwriting import START
        from seqzoo.tasks.handwriting import in_data_units

        self.require_task("handwriting_prediction", "the mixture of each point")
        strokes = np.asarray(strokes, np.float32).reshape(-1, 3)
        if not np.isfinite(strokes).all():
            raise UserError("the strokes are not finite")
        step = self.saved_model.signatures["step"]
        scale = np.array([*self.setting("offset_scale"), 1.0], np.float32)
        states = {name: tf.zeros([1, *spec.shape[1:]], spec.dtype)
                  for name, spec in step.structured_input_signature[1].items() if name != "point"}
        rows = [np.zeros((0, step.structured_outputs["mixture"].shape[-1]), np.float32)]
        for point in np.concatenate([START[None], strokes[:-1] / scale])[: len(strokes)]:
            out = step(point=tf.constant(point[None]), **states)
            states = {name: out[name] for name in states}
            rows.append(in_data_units(out["mixture"], tf.constant(scale)).numpy())
        return np.concatenate(rows)

    def _tflite_translations(self, texts: list[str], beam_width: int | None) -> list[dict]:
        from seqzoo.tasks import get_task
        from seqzoo.tasks.encoder_decoder import detokenize

        self.require_task("translation", "translate")
        meta = {**self.meta, "beam_width": self._beam_width(beam_width)}
        out = get_task("translation").tflite_outputs(self._interpreter(), self._app_vectorizer(), texts, meta)
        vocabulary = tf.constant(self.card["tflite"]["target_vocabulary"])
        translations = detokenize(vocabulary, out["token_ids"], self.setting("separator")).numpy()
        return [{"text": text, "translation": words.decode("utf-8", errors="replace"), "score": float(score)}
                for text, words, score in zip(texts, translations, out["score"], strict=True)]

    @functools.cached_property
    def _generate_xla(self):
        """`generate` compiled by XLA, once per ExportedModel (a new tf.function would compile again)."""
        return tf.function(self.saved_model.signatures["generate"], jit_compile=True)

    @functools.cached_property
    def saved_model(self):
        """The loaded SavedModel, read once per ExportedModel."""
        return tf.saved_model.load(str(self.path))

    def require_task(self, task: str, verb: str) -> None:
        """UserError unless this is a `task` model (`verb` names what was asked of it)."""
        if self.card["task"] != task:
            raise UserError(f"'{self.path}' is a {self.card['task']} model; {verb} needs a {task} model")

    def _tflite_probabilities(self, texts: list[str]) -> np.ndarray:
        vectorizer = self._app_vectorizer()
        runner = self._interpreter().get_signature_runner("serving_default")
        return np.concatenate(
            [runner(token_ids=vectorizer([text]).numpy())["probabilities"] for text in texts]
        )

    def _app_vectorizer(self) -> Vectorizer:
        """Tokenizes as the card tells an app to: the text settings and the vocabulary files."""
        vocabulary = self._read_json(self.card["tflite"]["vocabulary_file"])
        wordpiece_file = self.card["tflite"]["wordpiece_vocabulary_file"]
        return Vectorizer(**self.card["text"], vocabulary=vocabulary[2:],
                          wordpiece_vocabulary=self._read_json(wordpiece_file) if wordpiece_file else None)

    def _interpreter(self):
        """The `.tflite` file in a LiteRT interpreter."""
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=str(self._listed(self.card["tflite"]["file"])))

    def _read_json(self, name: str):
        return read_json(self._listed(name), f"exported version '{self.path}' is damaged: {name}")

    def setting(self, key: str):
        """A value of the task's metadata in the card, checked as data before it is used."""
        if key not in self.meta:
            raise UserError(f"exported version '{self.path}' is damaged: its card has no {key}")
        return META_RULES[key].check(key, self.meta[key], what=f"exported version '{self.path}' is damaged: "
                                                                 "its card's")

    def _listed(self, name) -> Path:
        """A file of the version its card names: one the card lists (and so checked against its sha256),
        never a path elsewhere."""
        if not isinstance(name, str) or name not in self.card["files"]:
            raise UserError(f"exported version '{self.path}' is damaged: its card names {name!r}, a file it "
                            "does not list")
        return self.path / name

    def _row(self, text: str, probabilities: np.ndarray) -> dict:
        labels = self.setting("labels")
        if len(probabilities) != len(labels):
            raise UserError(f"exported version '{self.path}' is damaged: its card names {len(labels)} "
                            f"labels for the model's {len(probabilities)} classes")
        best = int(np.argmax(probabilities))
        return {
            "text": text,
            "label": labels[best],
            "probability": float(probabilities[best]),
            "probabilities": {label: float(p) for label, p in zip(labels, probabilities, strict=True)},
        }
