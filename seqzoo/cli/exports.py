"""`seqzoo export`, `seqzoo verify`, `seqzoo request` and `seqzoo web`: exported versions, their TF Serving
requests and their browser pages."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_commands(commands) -> None:
    """export, request, verify, web"""
    command = commands.add_parser("export", help="export a run to SavedModel + TFLite")
    command.add_argument("run_dir")
    command.add_argument("--name", help="served model name (default: the entry's)")
    command.add_argument("--base", default="saved_models", help="export base (default: %(default)s)")
    command.add_argument("--quantize", metavar="KINDS", help="quantised .tflite files to add, comma-"
                         "separated: float16, dynamic (int8 weights), int8 (full integer, calibrated on "
                         "held-out inputs)")
    command.add_argument("--web", action="store_true", help="also write web/: a page that runs the model in "
                         "a browser on LiteRT.js (see `seqzoo web`)")
    command.set_defaults(run=export_command)

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

    command = commands.add_parser("web", help="serve an export's browser page on 127.0.0.1 (`export --web` "
                                  "writes it), or fetch the LiteRT.js files pages are made with")
    command.add_argument("model", nargs="?", help="saved_models/NAME (newest version), a version folder or "
                         "its web/ folder")
    command.add_argument("--port", type=int, default=8000, help="default: %(default)s (0: any free port)")
    command.add_argument("--open", action="store_true", help="open the page in the default browser")
    command.add_argument("--fetch-runtime", action="store_true", help="put the pinned LiteRT.js npm packages "
                         "in seqzoo's cache with `npm pack`, once, before `export --web`")
    command.set_defaults(run=_web)


def export_command(args) -> Path:
    import seqzoo
    from seqzoo.exporters.quantize import parse_quantizations

    kinds = parse_quantizations(args.quantize)  # a wrong kind fails before the run is loaded
    path = seqzoo.export_run(args.run_dir, name=args.name, base=args.base, quantize=kinds, web=args.web)
    card = json.loads((path / "seqzoo.json").read_text())
    parity = card["parity"]
    print(f"exported: {path}  (SavedModel, {card['tflite']['file']}, seqzoo.json)")
    print(f"parity vs Keras on {parity['texts']} held-out inputs: SavedModel "
          f"{parity['saved_model_max_abs_diff']:.2g}, TFLite {parity['tflite_max_abs_diff']:.2g}")
    web = card.get("web")
    if web and web.get("folder"):
        parity = web["parity"]
        print(f"browser page: {path / web['folder']}/index.html ({web['bytes_loaded'] / 1e6:.1f} MB loaded; "
              f"its file agrees with the .tflite file to {parity['max_abs_diff_vs_tflite']:.2g} over "
              f"{parity['calls']} calls); serve it with `seqzoo web {path}`")
    quantized = card["tflite"].get("quantized")
    if quantized:
        from seqzoo.exporters.quantize import TABLE_HEADER, quantization_table

        print(f"LiteRT files on {quantized['heldout_inputs']} held-out inputs, batch 1:")
        print("\n".join([*TABLE_HEADER, *quantization_table(quantized)]))
    return path


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
    binary = get_task(exported.card["task"]).serving.binary_inputs
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
    from seqzoo.exporters.integrity import CARD, changes, provenance, read_card
    from seqzoo.files import data_fingerprint, irregularity

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
        card = read_card(version)
        try:
            made_by, data = provenance(card)
        except UserError as err:
            damaged.append(f"'{version}' has a damaged card: {err}")
            continue
        print(f"ok: '{version}' is as exported: its {len(card['files'])} files and card match their sha256, "
              f"SavedModel fingerprint {card['saved_model_fingerprint']['saved_model_checksum']}; made by "
              f"seqzoo {made_by['seqzoo']}, TensorFlow {made_by['tensorflow']}, Keras {made_by['keras']}")
        if data is not None:
            print(f"  trained on {data['path']} ({data['bytes']:,} bytes, sha256 {data['sha256'][:16]}...)")
            where = Path(data["path"])
            if where.exists() and not where.is_dir() and irregularity(where) is not None:
                print(f"seqzoo: note: the training data at {where} is no longer a regular file; not compared",
                      file=sys.stderr)
            elif where.exists() and data_fingerprint(where)["sha256"] != data["sha256"]:
                print(f"seqzoo: note: the training data at {data['path']} has changed since training",
                      file=sys.stderr)
    if damaged:
        raise UserError(damaged[0] if len(damaged) == 1
                        else f"{len(damaged)} versions have changed: " + " | ".join(damaged))


def _web(args) -> None:
    from seqzoo.errors import UserError
    from seqzoo.exporters.web.runtime import fetch_runtime

    if args.fetch_runtime:
        print(f"LiteRT.js: {fetch_runtime()}")
        if args.model is None:
            return
    if args.model is None:
        raise UserError("name an export to serve (saved_models/NAME), or pass --fetch-runtime")
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be from 0 to 65535, got {args.port}")
    import threading
    import webbrowser

    from seqzoo.exporters.web.serve import page_folder, serving

    folder = page_folder(args.model)
    with serving(folder, args.port) as url:
        print(f"serving {folder} at {url} (Ctrl-C stops)", flush=True)
        if args.open:
            webbrowser.open(url)
        threading.Event().wait()  # until Ctrl-C
