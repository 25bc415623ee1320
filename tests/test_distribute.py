"""tf.distribute: two workers on 127.0.0.1 train as one process does with the same global batch;
only the chief writes; a lost worker stops the other with one line and a restart resumes;
mirrored replicas equal one device; mixed precision trains and exports float32 with parity."""

import csv
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf
from command import cli

import seqzoo
from seqzoo.data.streaming import held_out
from seqzoo.data.translation import date_pairs, write_pairs
from seqzoo.errors import UserError
from seqzoo.training.distribute import make_strategy, workers_config

SEQZOO = [sys.executable, "-c", "import sys; from seqzoo.cli import main; sys.exit(main())"]
PER_REPLICA = 8


@pytest.fixture(scope="module")
def dates_file(tmp_path_factory):
    """512 date pairs: enough for the tiny translator to learn something in an epoch."""
    return write_pairs(tmp_path_factory.mktemp("dates") / "dates.tsv", date_pairs(512, seed=5))


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(args, tmp_path, count=2):
    """`seqzoo train ARGS --strategy multi_worker` as `count` workers; each its own TMPDIR."""
    workers = ",".join(f"127.0.0.1:{port}" for port in free_ports(count))
    processes = []
    for index in range(count):
        scratch = tmp_path / f"tmp{index}"
        scratch.mkdir(exist_ok=True)
        env = {**os.environ, "TMPDIR": str(scratch), "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.pop("TF_CONFIG", None)
        processes.append(subprocess.Popen(
            [*SEQZOO, "train", *args, "--strategy", "multi_worker", "--workers", workers,
             "--task-index", str(index)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return processes


def finish(processes, timeout=400):
    results = [p.communicate(timeout=timeout) for p in processes]
    return [(p.returncode, out, err) for p, (out, err) in zip(processes, results, strict=True)]


def history(run_dir):
    with open(run_dir / "history.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def assert_same_curve(ours, reference, tolerance):
    assert len(ours) == len(reference)
    for row, expected in zip(ours, reference, strict=True):
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            assert row[key] == pytest.approx(expected[key], rel=tolerance, abs=tolerance), (key, row)


def whole_batches_fraction(path, entry):
    """A validation fraction whose hash split (streamed line files) leaves whole global batches."""
    seed = seqzoo.get_config(entry, "tiny")["train"]["seed"]
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    for fraction in np.arange(0.05, 0.9, 0.001):
        heldout = int(held_out(tf.constant(lines), float(fraction), seed).numpy().sum())
        if heldout and (len(lines) - heldout) % (2 * PER_REPLICA) == 0:
            return round(float(fraction), 3)
    raise AssertionError("no fraction leaves whole batches")


# The seq2seq cases (a minute or more each) are `large`: the sentiment ones cover the same wiring.
@pytest.mark.parametrize("entry, data_fixture, epochs", [
    ("sentiment", "sentiment_file", 3),
    pytest.param("seq2seq_attn", "dates_file", 1, marks=pytest.mark.large)])
def test_two_workers_train_as_one_process_with_the_same_global_batch(entry, data_fixture, epochs, request,
                                                                     tmp_path):
    data = request.getfixturevalue(data_fixture)
    validation = whole_batches_fraction(data, entry)
    common = [entry, "--data", str(data), "--preset", "tiny", "--epochs", str(epochs),
              "--set", f"train.validation_fraction={validation}"]
    results = finish(start_workers([*common, "--set", f"train.batch_size={PER_REPLICA}",
                                    "--out", str(tmp_path / "cluster")], tmp_path))
    assert [rc for rc, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert "global batch 16 = 8 per replica x 2" in results[0][1]
    # The other worker reports the chief's run, or that the chief is still writing it.
    assert re.search(r"^(worker done; the chief writes|run: ).*cluster", results[1][1], re.M)
    single = seqzoo.train(entry, data, preset="tiny", epochs=epochs, out=tmp_path / "single", verbose=0,
                          strategy="one_device", overrides={"train.batch_size": 2 * PER_REPLICA,
                                                            "train.validation_fraction": validation})
    # The same steps on the same global batches; only the order of float sums differs.
    assert_same_curve(history(tmp_path / "cluster"), history(single), tolerance=1e-4)
    names = lambda run: sorted(p.name for p in run.iterdir())  # noqa: E731
    assert names(tmp_path / "cluster") == names(single)
    assert [list((tmp_path / f"tmp{i}").iterdir()) for i in range(2)] == [[], []]  # nothing left elsewhere


@pytest.mark.large
def test_a_lost_worker_stops_the_other_with_one_line_and_both_restarted_resume(dates_file, tmp_path):
    args = ["seq2seq_attn", "--data", str(dates_file), "--preset", "tiny", "--epochs", "3",
            "--out", str(tmp_path / "run")]
    chief, worker = start_workers(args, tmp_path)
    backup = tmp_path / "run" / "backup"
    deadline = time.monotonic() + 300
    while not (backup / "epoch-1").is_dir():
        assert time.monotonic() < deadline and chief.poll() is None, chief.communicate()[1][-2000:]
        time.sleep(0.2)
    worker.kill()
    killed = time.monotonic()
    _, err = chief.communicate(timeout=120)
    assert chief.returncode == 2
    assert time.monotonic() - killed < 60
    assert err.strip().splitlines()[-1] == (
        "seqzoo: error: training stopped in epoch 2: another worker was lost (UnavailableError); start "
        "every worker again with the same command to resume at epoch 2")
    assert (backup / "epoch-1").is_dir() and not (tmp_path / "run" / "run.json").exists()

    results = finish(start_workers(args, tmp_path))
    assert [rc for rc, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert "Epoch 1/3" not in results[0][1] and "Epoch 2/3" in results[0][1]  # resumed, not restarted
    assert [row["epoch"] for row in history(tmp_path / "run")] == [0, 1, 2]
    assert (tmp_path / "run" / "run.json").is_file() and not backup.exists()


@pytest.mark.large  # a minute; the two-worker test covers the collective path in the default run
def test_mirrored_replicas_on_two_logical_cpus_train_as_one_device(sentiment_file, tmp_path):
    validation = whole_batches_fraction(sentiment_file, "sentiment")
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import seqzoo
        seqzoo.train("sentiment", {str(sentiment_file)!r}, preset="tiny", out={str(tmp_path / "mirrored")!r},
                     overrides={{"train.batch_size": {PER_REPLICA},
                                "train.validation_fraction": {validation}}},
                     strategy="mirrored", verbose=2)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=400,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "MirroredStrategy, 2 replica(s); global batch 16 = 8 per replica x 2" in done.stdout
    single = seqzoo.train("sentiment", sentiment_file, preset="tiny", out=tmp_path / "one", verbose=0,
                          strategy="one_device", overrides={"train.batch_size": 2 * PER_REPLICA,
                                                            "train.validation_fraction": validation})
    assert_same_curve(history(tmp_path / "mirrored"), history(single), tolerance=1e-4)


def test_carried_states_are_refused_across_replicas_in_one_line(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from seqzoo.cli import main
        sys.exit(main(["train", "char_lm", "--preset", "tiny", "--strategy", "mirrored",
                       "--out", {str(tmp_path / "run")!r}]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        "seqzoo: error: train.carry_state trains one stream's lanes on one device; this strategy has 2 "
        "replicas (use train.strategy=one_device)")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("entry, data_fixture, precision, jit", [
    ("sentiment", "sentiment_file", "mixed_float16", True),
    pytest.param("seq2seq_attn", "dates_file", "mixed_bfloat16", False, marks=pytest.mark.large)])
def test_mixed_precision_trains_and_exports_a_float32_graph_with_parity(entry, data_fixture, precision, jit,
                                                                        request, tmp_path):
    data = request.getfixturevalue(data_fixture)
    run = seqzoo.train(entry, data, preset="tiny", epochs=2, out=tmp_path / "run", verbose=0,
                       overrides={"train.precision": precision, "train.jit_compile": jit})
    losses = [row["loss"] for row in history(run)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    model = seqzoo.load_run(run).model
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    card = json.loads((seqzoo.export_run(run, base=tmp_path / "saved") / "seqzoo.json").read_text())
    assert card["parity"]["saved_model_max_abs_diff"] < 1e-5
    assert card["parity"]["tflite_max_abs_diff"] < 1e-5


def test_a_training_step_xla_cannot_compile_is_one_line_and_leaves_nothing(dates_file, tmp_path):
    expected = (r"^train.jit_compile: XLA cannot compile seq2seq_attn's training step \(XLA compilation "
                r"requires a fixed tensor list size.*\); train it with train.jit_compile=false$")
    with pytest.raises(UserError, match=expected):
        seqzoo.train("seq2seq_attn", dates_file, preset="tiny", out=tmp_path / "run", verbose=0,
                     overrides={"train.jit_compile": True})
    assert not (tmp_path / "run").exists()


def test_cluster_settings_are_checked_with_one_line():
    assert json.loads(workers_config("a:1,b:2", 1)) == {
        "cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    for workers, index, message in [
        ("a:1,b", 0, "--workers expects host:port,host:port,..., got 'b'"),
        ("a:1,b:99999", 0, "--workers expects host:port,host:port,..., got 'b:99999'"),
        ("a:1,b:2", None, "--workers needs --task-index"),
        ("a:1,b:2", 2, "--task-index must be in [0, 1] for 2 workers, got 2"),
        (None, 0, "--task-index goes with --workers"),
    ]:
        with pytest.raises(UserError, match=re.escape(message)):
            workers_config(workers, index)
    with pytest.raises(UserError, match="unknown strategy 'mirror'.*mirrored"):
        make_strategy("mirror")


def test_a_broken_tf_config_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    done = cli("train", "sentiment", "--strategy", "multi_worker", "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("seqzoo: error: TF_CONFIG is not valid JSON")
    assert not (tmp_path / "run").exists()


def test_a_worker_whose_peers_never_come_says_whom_it_waits_for_and_ends_after_the_timeout(sentiment_file,
                                                                                           tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    started = time.monotonic()
    done = subprocess.run([*SEQZOO, "train", "sentiment", "--data", str(sentiment_file), "--preset", "tiny",
                           "--strategy", "multi_worker", "--workers", ",".join(workers), "--task-index", "0",
                           "--set", "train.join_timeout=3", "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=240,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert f"waiting for the cluster's workers to join ({workers[0]}, {workers[1]})" in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"seqzoo: error: worker 0: the cluster's other workers ({workers[1]}) did not join within 3 s "
        "(train.join_timeout); start the same command on each, or wait longer")
    assert done.returncode == 2  # TensorFlow's wait holds the interpreter: a C handler sets the status
    assert time.monotonic() - started < 200 and not (tmp_path / "run").exists()
