"""An image of coloured blocks per text, captioned by the text."""

import tempfile
from pathlib import Path

import numpy as np

from seqzoo.data.captions import CaptionedImages
from seqzoo.tasks import get_task
from seqzoo.tasks.captioning import caption_dataset, captioning_meta
from seqzoo.tasks.encoder_decoder import target_vectorizer
from seqzoo.text import string_tensor
from tiny import TEXTS, Tiny, TinyTask, byte_rows, per_step_shape


def block_images(count: int) -> list[str]:
    """PNG files of a few coloured rectangles each, in a temporary folder (seeded)."""
    from PIL import Image

    folder = Path(tempfile.mkdtemp(prefix="seqzoo-contract-images-"))
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        pixels = np.zeros((24, 24, 3), np.uint8)
        for _ in range(i % 3 + 1):
            top, left = rng.integers(0, 16, size=2)
            pixels[top : top + 8, left : left + 8] = rng.integers(64, 256, size=3)
        path = folder / f"{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


class Captioning(TinyTask):
    def data(self, config):
        config["text"]["max_tokens"] = 40
        vectorizer = target_vectorizer(config["text"], [t for t in TEXTS if t])
        config["text"]["max_tokens"] = vectorizer.vocabulary_size()
        meta = captioning_meta(config, vectorizer)
        paths = block_images(len(TEXTS))
        images = CaptionedImages(paths, [[t or "nothing"] for t in TEXTS])
        (pixels, caption_in), caption_out = next(iter(caption_dataset(images, vectorizer, meta["image_size"],
                                                                        len(TEXTS))))
        return Tiny(vectorizer, [pixels.numpy(), caption_in.numpy()], caption_out.numpy(), meta,
                    served=[Path(p).read_bytes() for p in paths])  # served: the images' bytes

    def forward_inputs(self, ids, model):
        shape = (len(ids), *model.inputs[0].shape[1:])
        return [np.random.default_rng(0).uniform(0, 255, shape).astype("float32"), ids]  # ids: a caption

    output_shape = staticmethod(per_step_shape)

    def served_from(self, items):
        return string_tensor(byte_rows(items))  # bytes that are (almost surely) not images: flagged

    def request_values(self, input_name, folder):
        return block_images(2)

    def page_refusals(self):
        """A file that is no image, opened as one."""
        drop = """async (text) => {
          const input = document.querySelector('input[type=file]');
          const files = new DataTransfer();
          files.items.add(new File([text], 'notes.png', {type: 'image/png'}));
          input.files = files.files;
          input.dispatchEvent(new Event('change'));
          await new Promise((resolve) => setTimeout(resolve, 500));
          return document.getElementById('message').textContent;
        }"""
        return [(drop, "not an image", "'notes.png' is not an image this browser can decode")]

    def page_checks(self, interpreter, data):
        caption = interpreter.get_signature_runner("caption")
        checks = []
        for pixels in get_task("captioning").tflite_sources(data.vectorizer, data.served[:3], data.meta):
            out = caption(image=pixels, beam_width=np.int32(2))
            steps = int(np.count_nonzero(out["token_ids"][0]))
            expected = {"token_ids": out["token_ids"][0], "score": out["score"][0]}
            if "attention" in out:
                expected["attention"] = out["attention"][0, :steps]
            checks.append(("([p, b]) => seqzoo.caption(p, b)", [pixels.ravel().tolist(), 2], expected))
        return checks


TINY = Captioning()
