"""The commands that run an exported model: predict, tag, translate, caption, transcribe, classify, attention,
generate, compose, synthesize, write."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from seqzoo.cli.common import texts
from seqzoo.schema import MAX_BEAM_WIDTH


def add_commands(commands) -> None:
    """predict, tag, translate, caption, transcribe, classify, attention, generate, compose, synthesize,
    write"""
    command = commands.add_parser("predict", help="label texts with an exported model")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("texts", nargs="+", metavar="TEXT")
    command.add_argument("--tflite", action="store_true", help="run the .tflite file with LiteRT")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_predict)

    command = commands.add_parser("tag", help="tag each word of texts with an exported tagger")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("texts", nargs="+", metavar="TEXT")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_tag)

    command = commands.add_parser("translate", help="translate texts with an exported encoder-decoder")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("texts", nargs="+", metavar="TEXT")
    command.add_argument("--beam", type=int,
                         help=f"beam width, 1 (greedy) to {MAX_BEAM_WIDTH} (default: the card's)")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_translate)

    command = commands.add_parser("caption", help="caption image files with an exported captioner")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, GIF or BMP files")
    command.add_argument("--beam", type=int,
                         help=f"beam width, 1 (greedy) to {MAX_BEAM_WIDTH} (default: the card's)")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_caption)

    command = commands.add_parser("transcribe", help="transcribe WAV files with an exported recognizer")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("wavs", nargs="+", metavar="WAV", help="WAV files (any PCM or float format and "
                         "rate: mixed down to mono and resampled to the model's, with a note)")
    command.add_argument("--beam", type=int, help=f"beam width, 1 (greedy) to {MAX_BEAM_WIDTH} (default: "
                         "the card's)")
    command.add_argument("--tflite", action="store_true", help="run the .tflite file with LiteRT (greedy)")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_transcribe)

    command = commands.add_parser("classify", help="label WAV files with an exported audio classifier")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("wavs", nargs="+", metavar="WAV", help="WAV files (as transcribe reads them)")
    command.add_argument("--tflite", action="store_true", help="run the .tflite file with LiteRT")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_classify)

    command = commands.add_parser("attention", help="draw the attention of a translation (a text) or "
                                  "of a caption (an image file: one panel per word)")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("text", metavar="TEXT_OR_IMAGE")
    command.add_argument("--out", default="attention.png", help="image file: .png, .svg or .pdf")
    command.add_argument("--beam", type=int, help="beam width (default: the card's)")
    command.set_defaults(run=_attention)

    command = commands.add_parser("generate", help="generate text with an exported language model")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("--prompt", action="append", dest="prompts", metavar="TEXT",
                         help="a prompt (repeat for a batch; default: one empty prompt)")
    command.add_argument("--max-new-tokens", type=int, help="default: the model card's")
    command.add_argument("--temperature", type=float, default=1.0, help="<= 0 is greedy")
    command.add_argument("--top-k", type=int, default=0, help="<= 0 keeps all tokens")
    command.add_argument("--top-p", type=float, default=1.0, help=">= 1 keeps all tokens")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--stop", action="append", default=[], help="cut at this text (repeatable)")
    command.set_defaults(run=_generate)

    command = commands.add_parser("compose", help="compose music with an exported music model")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("--start", required=True, help="a chord (note names or MIDI numbers: "
                         "\"C4 E4 G4 C5\", \"60 64 67\"), or a MIDI / MusicXML file whose first "
                         "--start-frames frames start the music")
    command.add_argument("--start-frames", type=int, default=8, help="frames taken from a --start file "
                         "(default: %(default)s)")
    command.add_argument("--frames", type=int, help="frames (quarter notes) to generate (default: the "
                         "model card's)")
    command.add_argument("--temperature", type=float, default=1.0, help="<= 0 is greedy")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--out", required=True, help="a .mid or .musicxml file; a piano-roll .png is "
                         "written beside it")
    command.set_defaults(run=_compose)

    command = commands.add_parser("synthesize", help="generate audio with an exported WaveNet")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("--seconds", type=float, help="seconds to generate (default: the model card's)")
    command.add_argument("--temperature", type=float, default=1.0, help="<= 0 is greedy")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--prime", help="a WAV file to continue (default: start from silence)")
    command.add_argument("--speaker", help="the voice of a speaker-conditioned WaveNet (default: its first; "
                         "the card's `speakers`)")
    command.add_argument("--no-xla", dest="xla", action="store_false", help="run `generate` as TF Serving "
                         "does, not compiled by XLA (slower; other audio for the same seed)")
    command.add_argument("--out", required=True, help="a .wav file (16-bit PCM); a spectrogram .png is "
                         "written beside it")
    command.set_defaults(run=_synthesize)

    command = commands.add_parser("write", help="write handwriting with an exported handwriting model")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("text", nargs="?", help="what to write (handwriting_synthesis); none for "
                         "handwriting_prediction, which writes freely")
    command.add_argument("--bias", type=float, help="Graves' bias >= 0: 0 samples the model as trained, "
                         "higher is tidier (default: the model card's)")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--max-points", type=int, help="points to write (prediction), or the most to "
                         "write (synthesis, which stops at the text's end; default: the card's)")
    command.add_argument("--style-of", help="an IAM-OnDB stroke file (.xml) of one line with its text: "
                         "write in that writer's hand (Graves' priming; handwriting_synthesis)")
    command.add_argument("--colour-strokes", action="store_true", help="draw each stroke in its own colour")
    command.add_argument("--out", required=True, help="an .svg or .png file of the writing; beside it, "
                         "for synthesis the window's alignment (NAME.window.png), for prediction each "
                         "point's predicted distribution over the line (NAME.density.png, Graves' heat map)")
    command.set_defaults(run=_write)


def _predict(args) -> None:
    from seqzoo.exporters import ExportedModel

    rows = ExportedModel(args.model).predict(texts(args.texts), "tflite" if args.tflite else "saved_model")
    for row in rows:
        print(json.dumps(row, ensure_ascii=False) if args.json
              else f"{row['label']}\t{row['probability']:.3f}\t{row['text']}")


def _tag(args) -> None:
    from seqzoo.exporters import ExportedModel

    exported = ExportedModel(args.model)
    limit = exported.card["text"]["max_length"]
    for row in exported.tag(texts(args.texts)):
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
            continue
        print(" ".join(f"{token}/{tag}" for token, tag in zip(row["tokens"], row["tags"], strict=True)))
        if "restored" in row:
            print(f"  restored: {row['restored']}")
        if row["truncated"]:
            print(f"  note: only the first {limit} words were tagged (text.max_length)", file=sys.stderr)


def _translate(args) -> None:
    from seqzoo.exporters import ExportedModel

    exported = ExportedModel(args.model)
    for row in exported.translate(texts(args.texts), args.beam):
        print(json.dumps(row, ensure_ascii=False) if args.json else f"{row['translation']}\t{row['text']}")
        _translation_notes(row, exported.card["text"]["max_length"])


def _attention(args) -> None:
    from seqzoo.exporters import ExportedModel
    from seqzoo.files import check_target
    from seqzoo.plots import figure_format, plot_attention

    figure_format(args.out)  # a target that cannot be written fails before the model runs
    check_target(args.out)
    exported = ExportedModel(args.model)
    if exported.card["task"] == "captioning":
        from seqzoo.plots import plot_caption_attention

        data = _image_files([args.text])[0][1]
        row = exported.caption([data], args.beam, attention=True)[0]
        plot_caption_attention(data, row, args.out)
        print(f"{row['caption']}\t{args.text}\nattention: {args.out} (one panel per word)")
        return
    row = exported.translate(texts([args.text]), args.beam, attention=True)[0]
    plot_attention(row, args.out)
    print(f"{row['translation']}\t{row['text']}\nattention map: {args.out}")
    _translation_notes(row, exported.card["text"]["max_length"])


def _caption(args) -> None:
    from seqzoo.exporters import ExportedModel

    exported = ExportedModel(args.model)
    files = _image_files(args.images, all_needed=False)
    rows = exported.caption([data for _, data in files], args.beam)
    captioned = 0
    for (name, _), row in zip(files, rows, strict=True):
        if not row["valid"]:
            print(f"seqzoo: {name}: not a whole PNG, JPEG, GIF or BMP image", file=sys.stderr)
            continue
        captioned += 1
        print(json.dumps({"image": name, **row}, ensure_ascii=False) if args.json
              else f"{row['caption']}\t{name}")
    if not captioned:
        from seqzoo.errors import UserError

        raise UserError("no image could be captioned")


def _transcribe(args) -> None:
    from seqzoo.exporters import ExportedModel

    exported = ExportedModel(args.model)
    exported.require_task("speech", "transcribe")
    clips = _wav_clips(exported, args.wavs, "transcribe")
    rows = exported.transcribe([waveform for _, waveform in clips], 1 if args.tflite else args.beam,
                               "tflite" if args.tflite else "saved_model")
    for (name, _), row in zip(clips, rows, strict=True):
        print(json.dumps({"file": name, **row}, ensure_ascii=False) if args.json
              else f"{row['text']}\t{name}")


def _classify(args) -> None:
    from seqzoo.exporters import ExportedModel

    exported = ExportedModel(args.model)
    exported.require_task("audio_classification", "classify")
    clips = _wav_clips(exported, args.wavs, "classify")
    rows = exported.classify([waveform for _, waveform in clips], "tflite" if args.tflite else "saved_model")
    for (name, _), row in zip(clips, rows, strict=True):
        print(json.dumps({"file": name, **row}, ensure_ascii=False) if args.json
              else f"{row['label']}\t{row['probability']:.3f}\t{name}")


def _wav_clips(exported, names: list[str], verb: str) -> list[tuple[str, object]]:
    """(name, mono samples at the model's rate) of each WAV file that can be used (`read_wav`: any PCM or
    float format, resampled with a note); one that cannot is one line on stderr and the others go on.
    UserError when none can."""
    import warnings

    import numpy as np

    from seqzoo.data.audio import AudioError, check_wav_header, read_wav
    from seqzoo.errors import SeqzooNote, UserError
    from seqzoo.files import irregularity

    rate, limit = exported.setting("sample_rate"), exported.setting("max_samples")
    clips = []
    for name in names:
        try:
            problem = irregularity(name)
            if problem is not None:
                raise AudioError(problem)
            declared, waveform = check_wav_header(Path(name)), read_wav(name, rate)
            if len(waveform) > limit:
                raise AudioError(f"is {len(waveform) / rate:.1f} s long; this model takes at most "
                                 f"{limit / rate:g} s")
            if not np.any(np.abs(waveform) >= 1 / 32768):
                raise AudioError(f"is silent: nothing to {verb}")
        except AudioError as err:
            print(f"seqzoo: '{name}' {err}", file=sys.stderr)
            continue
        if declared != rate:
            warnings.warn(f"'{name}': resampled from {declared} Hz to the model's {rate} Hz", SeqzooNote,
                          stacklevel=2)
        clips.append((name, waveform))
    if not clips:
        raise UserError(f"no WAV file could be {'transcribed' if verb == 'transcribe' else 'classified'}")
    return clips


def _image_files(names: list[str], all_needed: bool = True) -> list[tuple[str, bytes]]:
    """(name, bytes) of the files that read; one line on stderr per file that does not (an
    error when `all_needed`, or when none reads)."""
    from seqzoo.data.images import read_image_file
    from seqzoo.errors import UserError

    files = []
    for name in names:
        try:
            files.append((name, read_image_file(name)))
        except UserError as err:
            if all_needed:
                raise
            print(f"seqzoo: {err}", file=sys.stderr)
    if not files:
        raise UserError("no image file could be read")
    return files


def _translation_notes(row: dict, limit: int) -> None:
    if row["truncated"]:
        print(f"  note: only the first {limit} source tokens were read (text.max_length)", file=sys.stderr)
    if row["unknown_tokens"]:
        print(f"  note: {row['unknown_tokens']} source token(s) were never seen in training", file=sys.stderr)


def _generate(args) -> None:
    from seqzoo.exporters import ExportedModel

    generated = ExportedModel(args.model).generate(
        texts(args.prompts or [""], "--prompt"), args.max_new_tokens, args.temperature, args.top_k,
        args.top_p, args.seed, texts(args.stop, "--stop"),
    )
    print("\n".join(generated))


def _compose(args) -> None:
    from seqzoo.data.music import SCORE_SUFFIXES, parse_notes, read_start, write_score
    from seqzoo.errors import UserError
    from seqzoo.exporters import ExportedModel
    from seqzoo.files import check_beside, check_target
    from seqzoo.plots import plot_piano_roll

    out = Path(args.out)
    if out.suffix.lower() not in (".mid", ".midi", ".musicxml", ".xml"):
        raise UserError(f"--out '{out}': name a .mid or .musicxml file")
    check_target(out)
    picture = check_beside(out, out.with_suffix(".png"), "piano roll")
    exported = ExportedModel(args.model)  # a wrong model fails before the start is read
    if Path(args.start).suffix.lower() in SCORE_SUFFIXES:
        start = read_start(args.start, args.start_frames)
    else:
        start = [parse_notes(args.start)]
    roll = exported.compose(start, args.frames, args.temperature, args.seed)
    write_score(roll, out)
    picture = plot_piano_roll(roll, picture, start=len(start),
                              title=f"{exported.card['model']}: {args.start} + {len(roll) - len(start)} "
                                    f"frames, temperature {args.temperature:g}, seed {args.seed}")
    print(f"wrote {out} ({len(roll)} frames: {len(start)} given, {len(roll) - len(start)} generated) "
          f"and {picture}")


def _synthesize(args) -> None:
    from seqzoo.data.audio import wav_input, write_wav
    from seqzoo.errors import UserError
    from seqzoo.exporters import ExportedModel
    from seqzoo.files import check_beside, check_target
    from seqzoo.plots import plot_spectrogram

    out = Path(args.out)
    if out.suffix.lower() not in (".wav", ".wave"):
        raise UserError(f"--out '{out}': name a .wav file")
    check_target(out)
    picture = check_beside(out, out.with_suffix(".png"), "spectrogram")
    exported = ExportedModel(args.model)  # a wrong model fails before the prime is read
    exported.require_task("audio", "synthesize")
    rate = exported.setting("sample_rate")
    prime = wav_input(args.prime, rate, "--prime") if args.prime else None
    waveform = exported.synthesize(args.seconds, args.temperature, args.seed, prime, xla=args.xla,
                                   speaker=args.speaker)
    given = 0 if prime is None else len(prime)
    write_wav(out, waveform, rate)
    voice = f", speaker {args.speaker}" if args.speaker else ""
    title = (f"{exported.card['model']}{voice}: {(len(waveform) - given) / rate:g} s at {rate} Hz, "
             f"temperature {args.temperature:g}, seed {args.seed}")
    picture = plot_spectrogram(waveform, rate, picture, start=given, title=title)
    print(f"wrote {out} ({len(waveform) / rate:g} s at {rate} Hz: {given / rate:g} s primed, "
          f"{(len(waveform) - given) / rate:g} s generated) and {picture}")


def _write(args) -> None:
    from seqzoo.data.handwriting import read_iam_line
    from seqzoo.errors import UserError
    from seqzoo.exporters import ExportedModel
    from seqzoo.files import check_beside, check_target
    from seqzoo.plots import figure_format, plot_mixture_density, plot_strokes, plot_window

    out = Path(args.out)
    if out.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise UserError(f"--out '{out}': name an .svg, .png or .pdf file")
    figure_format(out)
    check_target(out)
    exported = ExportedModel(args.model)
    style = None
    if args.style_of:
        if exported.card.get("task") != "handwriting_synthesis":
            raise UserError("--style-of primes a handwriting_synthesis model with a writer's line")
        style = read_iam_line(Path(args.style_of))
    written = exported.write(args.text, args.bias, args.seed, args.max_points, style=style)
    strokes, window = written["strokes"], written["window"]
    bias = exported.setting("bias") if args.bias is None else args.bias
    what = repr(args.text) if args.text else "free writing"
    plot_strokes(strokes, out, title=f"{exported.card['model']}: {what}, bias {bias:g}, seed {args.seed}",
                 colour_by_stroke=args.colour_strokes)
    pictures = [out]
    if window.shape[1]:
        beside = check_beside(out, out.with_name(out.stem + ".window.png"), "window picture")
        pictures.append(plot_window(window, args.text, beside, title="the window's weight on each character"))
    elif exported.card["task"] == "handwriting_prediction" and len(strokes):
        beside = check_beside(out, out.with_name(out.stem + ".density.png"), "density picture")
        pictures.append(plot_mixture_density(strokes, exported.mixtures(strokes), beside,
                                             title="each point's predicted distribution"))
    strokes_count = int((strokes[:, 2] > 0.5).sum()) if len(strokes) else 0
    print(f"wrote {' and '.join(map(str, pictures))} ({len(strokes)} points, {strokes_count} strokes)")
