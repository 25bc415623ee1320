"""show_attend_tell captioning: the in-graph batched search vs the TensorFlow tutorial's per-step loop.

    python bench/bench_captioning.py [--run runs/show_attend_tell] [--images 1000] [--batch 100]

The same trained model captions the same held-out digit scenes both ways, greedy:
- seqzoo: `Translator.search` over a batch of images in one `tf.function` (the loop the
  SavedModel runs);
- the TensorFlow "Image captioning with visual attention" tutorial's way: `evaluate(image)`
  encodes one image, then calls the decoder once per step from a Python `for` loop (eagerly),
  argmax, until [END] (`tutorial_loop` of bench_translation.py, at batch 1 as the tutorial runs it).
Both produce the same captions (checked). Target: >= 5x captions/s. Then batch-1 latency of the
exported `.tflite` file (pixels in) beside the SavedModel's `caption` signature (image bytes in,
decoding included). Without --run, `small` trains one epoch on the digit scenes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_sentiment import median_seconds  # noqa: E402
from bench_translation import timed, tutorial_loop  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.data.captions import digit_scenes, read_captions  # noqa: E402
from seqzoo.data.images import decode_images  # noqa: E402
from seqzoo.decoding.translator import Translator  # noqa: E402
from seqzoo.tasks.captioning import END_ID, START_ID  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained show_attend_tell run directory")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    run_dir = args.run or seqzoo.train("show_attend_tell", preset="small", epochs=1, verbose=0)
    run = seqzoo.load_run(run_dir)
    translator = Translator(run.model, START_ID, END_ID)
    max_steps, size = run.meta["max_steps"], run.meta["image_size"]
    paths = read_captions(digit_scenes() / "test.tsv").paths[: args.images]
    data = [Path(p).read_bytes() for p in paths]
    pixels = decode_images(tf.constant(data), size)[0]
    batches = [pixels[i : i + args.batch] for i in range(0, len(data), args.batch)]

    search = tf.function(lambda images: translator.search(images, 1, max_steps).token_ids, autograph=False,
                         input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    search(batches[0])  # trace once, as a loaded SavedModel already is
    tutorial_loop(translator, pixels[:1], max_steps)  # warm up the eager kernels too
    loop_seconds, loop_ids = timed(lambda image: tutorial_loop(translator, image, max_steps),
                                   [pixels[i : i + 1] for i in range(len(data))])
    batched_loop_seconds, _ = timed(lambda images: tutorial_loop(translator, images, max_steps), batches)
    graph_seconds, graph_ids = timed(lambda images: search(images).numpy(), batches)
    same = np.array_equal(np.concatenate(loop_ids), np.concatenate(graph_ids))
    count = len(data)

    print(f"{count} digit scenes ({size} x {size}), greedy, batches of {args.batch} "
          f"(identical captions: {same})")
    print(f"  tutorial loop, one image at a time   {count / loop_seconds:9.1f} captions/s")
    print(f"  tutorial loop, batches of {args.batch:<4}       {count / batched_loop_seconds:9.1f} captions/s")
    print(f"  seqzoo in-graph search               {count / graph_seconds:9.1f} captions/s")
    print(f"  ratio vs the tutorial                {loop_seconds / graph_seconds:9.1f}x   (target >= 5x)")
    print(f"  ratio vs its loop batched            {batched_loop_seconds / graph_seconds:9.1f}x")

    from ai_edge_litert.interpreter import Interpreter

    version = seqzoo.export_run(run_dir, base=tempfile.mkdtemp(prefix="bench-captioning-"))
    served = tf.saved_model.load(str(version)).signatures["caption"]
    image, beam = tf.constant(data[:1]), tf.constant(1)
    runner = Interpreter(model_path=str(version / f"{run.name}.tflite")).get_signature_runner("caption")
    one = pixels[:1].numpy()
    saved_ms = median_seconds(lambda: served(image=image, beam_width=beam)) * 1000
    tflite_ms = median_seconds(lambda: runner(image=one, beam_width=np.int32(1))) * 1000
    print(f"batch-1 latency, greedy: TFLite (pixels in) {tflite_ms:.2f} ms, SavedModel caption "
          f"(PNG bytes in, decoded in the graph) {saved_ms:.2f} ms: {saved_ms / tflite_ms:.1f}x")


if __name__ == "__main__":
    main()
