"""Four short lines by one synthetic writer: the next pen offset follows the glyphs' paths."""

import numpy as np

from seqzoo.data.handwriting import START, Alphabet, Style, write_synthetic
from seqzoo.layers.mixture_density import split_mixture
from seqzoo.tasks import get_task
from tiny import SUBMIT, Tiny, TinyTask, byte_rows, per_step_shape

TEXTS = ["bad cab", "dab ace", "a bead", "cede bac"]
POINTS = 40  # each line's first points: one length, so a full batch fits without padding
STYLE = Style(font="scripts", slant=0.2, scale=1.0, spacing=0.5, drift=0.5, tremor=0.1, speed=2.5)


def lines():
    rng = np.random.default_rng(0)
    return [write_synthetic(text, STYLE, rng, writer="tiny") for text in TEXTS]


def network_inputs(written, scale):
    """(points before each [n, POINTS, 3], the points [n, POINTS, 3]), normalised as training does."""
    points = np.stack([line.points[:POINTS] for line in written]) / np.array([*scale, 1.0], np.float32)
    before = np.concatenate([np.tile(START, (len(points), 1, 1)), points[:, :-1]], axis=1)
    return before.astype(np.float32), points.astype(np.float32)


class HandwritingPrediction(TinyTask):
    task = "handwriting_prediction"

    def data(self, config):
        written = lines()
        scale = [2.5, 2.5]
        before, points = network_inputs(written, scale)
        task = get_task(self.task)
        meta = task.meta(config, Alphabet.of(TEXTS), scale, {})
        heldout = [
            line.points[:24].tolist() for line in written
        ]  # parity takes points, as run.json keeps them
        return Tiny(None, before, points, meta, served=task.parity_inputs(heldout), heldout=heldout)

    def forward_inputs(self, ids, model):
        rng = np.random.default_rng(ids.sum())
        return np.concatenate([rng.normal(size=(*ids.shape, 2)), (ids % 2)[..., None]], axis=-1).astype(
            "float32"
        )

    output_shape = staticmethod(per_step_shape)

    def check_outputs(self, outputs):
        end, weights, _, _, sigma_x, sigma_y, rho = (np.asarray(v) for v in split_mixture(outputs))
        assert ((end > 0) & (end < 1)).all()
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
        assert (sigma_x > 0).all() and (sigma_y > 0).all() and (np.abs(rho) < 1).all()

    def served_from(self, items):
        """Each byte a point (dx = (byte - 128) / 8, dy = (byte % 16 - 8) / 4, pen lifted on odd
        bytes), an empty text one still point, padded with still points: [n, time, 3]."""
        rows = byte_rows(items)
        strokes = np.zeros((len(rows), max(1, *map(len, rows)), 3), np.float32)
        for i, row in enumerate(rows):
            values = np.frombuffer(row, np.uint8).astype(np.float32)
            strokes[i, : len(row)] = np.column_stack([(values - 128) / 8, (values % 16 - 8) / 4, values % 2])
        return strokes

    def page_refusals(self):
        return [(SUBMIT, ["input[type=number]", "-2"], "Bias must be a number from 0 to 100")]

    def page_checks(self, interpreter, data):
        points = greedy_writing(interpreter, data.meta, None, 12)
        return [("n => seqzoo.write('', 0, 1, n, true)", 12, {"points": points})]


def greedy_writing(interpreter, meta: dict, chars, count: int) -> np.ndarray:
    """What the page writes greedily through the file's `step` (each point its most probable component's
    mean, the pen lifted where p(end) > 1/2; synthesis stops where the window passes the last of
    `chars`): points [n, 3] in the data's units."""
    step = interpreter.get_signature_runner("step")
    states = {name: np.zeros(d["shape"], d["dtype"]) for name, d in step.get_input_details().items()
              if name not in ("point", "chars")}
    text = {} if chars is None else {"chars": np.pad(chars, (0, meta["max_chars"] - len(chars)))[None]}
    point, points = START, []
    for _ in range(count):
        out = step(point=point[None].astype(np.float32), **text, **states)
        states = {name: out[name] for name in states}
        end, weights, mu_x, mu_y, *_ = (np.asarray(v)[0] for v in split_mixture(out["mixture"]))
        best = int(np.argmax(weights))
        point = np.array([mu_x[best], mu_y[best], float(end > 0.5)], np.float32)
        phi = out["phi"][0] if chars is not None else None
        past = phi is not None and phi[len(chars)] > phi[: len(chars)].max()
        if past:
            point[2] = 1.0
        points.append(point * [*meta["offset_scale"], 1.0])
        if past:
            break
    return np.array(points)


TINY = HandwritingPrediction()
