"""Wrong arguments to the surgery plugin fail where they are given, as zoo errors that say what to pass,
instead of being taken as something else (a truthy "no", a NaN threshold, a typo'd pattern matching
nothing) or surfacing later as raw Python errors; and a damaged sparse file never loads."""

import importlib.util
import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from zoo_surgery import DynamicNetworkSurgery, DynamicSurgery, bake, report, sparse, to_masked
from zoo_surgery.layers import MaskedLinear, masked_layers
from zoo_surgery.models import lenet_300_100

import zoo

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "surgery_lenet.py"


def _masked():
    return lenet_300_100(input_shape=(1, 8, 8), masked=True)


# -- DynamicSurgery and the callback: every argument at construction ---------------------------------------
BAD_SURGERY_ARGUMENTS = [
    ({"c_rate": float("nan")}, "c_rate must be a finite number"),
    ({"c_rate": math.inf}, "c_rate must be a finite number"),
    ({"c_rate": "3"}, r"pass 3\.0"),
    ({"c_rate": None}, "c_rate must be a finite number"),
    ({"gamma": float("nan")}, "gamma must be a finite number >= 0"),
    ({"gamma": "1e-3"}, r"pass 0\.001"),
    ({"gamma": -1}, "gamma must be a finite number >= 0"),
    ({"power": math.inf}, "power must be"),
    ({"iter_stop": None}, "iter_stop must be a whole number"),
    ({"iter_stop": math.inf}, "iter_stop must be a whole number"),
    ({"iter_stop": 2.5}, "iter_stop must be a whole number"),
    ({"iter_stop": -1}, "iter_stop must be a whole number >= 0"),
    ({"seed": "x"}, "seed must be None or a whole number"),
    ({"seed": 1.5}, "seed must be None or a whole number"),
    ({"splice": "no"}, r"splice must be True or False, got 'no' \(str\); pass False"),
    ({"splice": "False"}, "pass False"),
    ({"splice": 1}, "splice must be True or False"),
    ({"layers": {"fc1": 4}}, r"layers\['fc1'\] must be a dict of settings such as \{'c_rate': 4\}"),
    ({"layers": ["fc1"]}, "layers must be a dict from layer names"),
    ({"layers": {"fc1": {"c_rate": float("nan")}}}, r"layers\['fc1'\]: c_rate must be a finite number"),
    ({"layers": {"fc1": {"iter_stop": None}}}, r"layers\['fc1'\]: iter_stop"),
    ({"layers": {"fc1": {"crate": 4}}}, "unknown surgery setting"),
    ({"layers": {1: None}}, "layers keys must be layer names"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_SURGERY_ARGUMENTS)
def test_dynamic_surgery_refuses_a_wrong_argument_when_built(kwargs, message):
    with pytest.raises(zoo.OptionError, match=message):
        DynamicSurgery(_masked(), **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), BAD_SURGERY_ARGUMENTS)
def test_the_callback_refuses_it_when_built_not_at_the_first_batch(kwargs, message):
    with pytest.raises(zoo.OptionError, match=message):
        DynamicNetworkSurgery(**kwargs)


def test_a_typo_in_a_left_out_layer_is_an_error_with_the_close_match():
    # A None entry used to be matched against the excluded patterns themselves, so it matched itself.
    with pytest.raises(zoo.OptionError, match=r"'fc_1' match no masked layer.*'fc1', 'fc2', 'fc3'.*'fc1'\?"):
        DynamicSurgery(_masked(), layers={"fc_1": None})
    with pytest.raises(zoo.OptionError, match="'fc_1'"):
        DynamicSurgery(_masked(), layers={"fc_1": {"c_rate": 4}})
    with pytest.raises(zoo.OptionError, match="leaves every masked layer out"):
        DynamicSurgery(_masked(), layers={"fc*": None})


def test_right_arguments_still_work_as_meant():
    surgery = DynamicSurgery(
        _masked(),
        c_rate=np.float32(2.5),
        iter_stop=1.4e4,  # a float that is a whole number
        seed=np.int64(7),
        splice=np.bool_(False),
        layers={"fc1": None, "fc[23]": {"c_rate": 1, "iter_stop": 10.0}},
    )
    assert [s.name for s in surgery.layers] == ["fc2", "fc3"]
    assert surgery.splice is False
    iter_stop = surgery.layers[0].settings.iter_stop
    assert iter_stop == 10 and isinstance(iter_stop, int)
    assert DynamicSurgery(_masked(), iter_stop=1.4e4).layers[0].settings.iter_stop == 14000
    assert DynamicSurgery(_masked(), seed=-1).generator.initial_seed() == 2**64 - 1  # torch's own wrap-around


def test_surgery_refuses_what_is_not_a_model_or_an_iteration():
    with pytest.raises(zoo.ArgumentError, match="expects a torch.nn.Module, got str"):
        DynamicSurgery("str")
    surgery = DynamicSurgery(_masked())
    for iteration in ("3", -1, 1.5, None):
        with pytest.raises(zoo.OptionError, match="iteration must be a whole number >= 0"):
            surgery.step(iteration)


def test_nan_c_rate_no_longer_runs_with_nothing_pruned():
    """What the NaN guard is for: with it any finite c_rate prunes, while theta NaN pruned nothing."""
    torch.manual_seed(0)
    surgery = DynamicSurgery(_masked(), c_rate=0.0, gamma=0.0, seed=0)
    surgery.step(0)
    assert surgery.prune_events > 0
    with pytest.raises(zoo.OptionError):
        DynamicSurgery(_masked(), c_rate=float("nan"))


def test_callback_flags_and_patterns():
    with pytest.raises(zoo.OptionError, match="convert must be True or False, got 'no'"):
        DynamicNetworkSurgery(convert="no")
    callback = DynamicNetworkSurgery(include="fc1", exclude="fc2")
    assert callback.include == ("fc1",) and callback.exclude == ("fc2",)  # one pattern each, not characters
    with pytest.raises(zoo.OptionError, match="layer names or fnmatch patterns"):
        DynamicNetworkSurgery(include=[1])
    callback = DynamicNetworkSurgery(include=["fc9"])
    callback.set_model(lenet_300_100(input_shape=(1, 8, 8)))
    with pytest.raises(zoo.OptionError, match=r"'fc9' match no nn.Linear/nn.Conv2d layer"):
        callback.on_train_begin()


# -- to_masked, the LeNets, bake and report ----------------------------------------------------------------
def test_to_masked_takes_a_string_as_one_pattern():
    model = to_masked(lenet_300_100(input_shape=(1, 8, 8)), include="fc1")
    assert [name for name, _ in masked_layers(model)] == ["fc1"]
    model = to_masked(lenet_300_100(input_shape=(1, 8, 8)), exclude="fc1")
    assert [name for name, _ in masked_layers(model)] == ["fc2", "fc3"]
    seq = to_masked(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)), include="0")
    assert isinstance(seq[0], MaskedLinear) and not isinstance(seq[2], MaskedLinear)


@pytest.mark.parametrize("option", ["include", "exclude"])
def test_to_masked_refuses_a_pattern_that_matches_no_layer(option):
    model = lenet_300_100(input_shape=(1, 8, 8))
    with pytest.raises(zoo.OptionError, match=r"'fc_1' match no .*'fc1', 'fc2', 'fc3'. Did you mean 'fc1'\?"):
        to_masked(model, **{option: ["fc_1"]})
    assert not any(True for _ in masked_layers(model))  # nothing half-done
    to_masked(model)
    to_masked(model, include=["fc1"])  # already masked layers still count as matches: a rerun is fine


def test_lenet_masked_must_be_a_bool():
    with pytest.raises(zoo.OptionError, match="masked must be True or False, got 'yes'.*pass True"):
        zoo.load("lenet_300_100", masked="yes")
    with pytest.raises(zoo.OptionError, match="masked must be True or False"):
        zoo.load("lenet5", masked="no")
    assert isinstance(zoo.load("lenet_300_100", masked=False).fc1, nn.Linear)
    assert not isinstance(zoo.load("lenet_300_100", masked=False).fc1, MaskedLinear)


def test_bake_and_report_refuse_what_is_not_a_model():
    with pytest.raises(zoo.ArgumentError, match="bake expects a torch.nn.Module, got str"):
        bake("x")
    with pytest.raises(zoo.ArgumentError, match="report expects a torch.nn.Module, got int"):
        report(5)
    with pytest.raises(zoo.OptionError, match="inplace must be True or False"):
        bake(_masked(), inplace="no")
    assert "0.00%" in report(nn.ReLU()).table()  # no parameters at all: a table, not a ZeroDivisionError


# -- the sparse file -----------------------------------------------------------------------------------
def _state():
    g = torch.Generator().manual_seed(0)
    bitmap = torch.randn(300, generator=g) * (torch.rand(300, generator=g) < 0.05)
    relative = torch.zeros(2000)
    relative[[3, 700, 1999]] = 1.5
    return {"dense": torch.randn(6, 5, generator=g), "bitmap": bitmap, "relative": relative,
            "half": torch.ones(3, dtype=torch.bfloat16)}  # fmt: skip


def test_a_flipped_value_byte_is_caught_by_the_digest(tmp_path):
    state = _state()
    path = tmp_path / "model.zspr"
    sparse.save(state, path)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01  # inside the last payload: a plausible, wrong value without the digest
    path.write_bytes(bytes(data))
    with pytest.raises(zoo.DataError, match="damaged: its SHA-256 does not match"):
        sparse.load(path)
    # The same flip in a version-1 file (no digest) decodes to a wrong value: what the digest is for.
    v1 = bytes(data[:4]) + struct.pack("<B", 1) + bytes(data[37:])
    decoded = sparse.decode(v1)
    assert any(not torch.equal(decoded[k], state[k]) for k in state)


def test_every_single_bit_flip_and_truncation_is_a_data_error():
    data = sparse.encode(_state())
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            damaged = bytearray(data)
            damaged[i] ^= bit
            with pytest.raises(zoo.DataError):
                sparse.decode(bytes(damaged))
    for end in range(len(data)):
        with pytest.raises(zoo.DataError):
            sparse.decode(data[:end])


def test_version_1_files_still_load():
    state = _state()
    data = sparse.encode(state)
    assert data[4] == sparse.VERSION == 2
    v1 = data[:4] + struct.pack("<B", 1) + data[37:]  # the same file as written before the digest
    for name, tensor in sparse.decode(v1).items():
        assert torch.equal(tensor, state[name])
    for name, tensor in sparse.decode(bytearray(data)).items():
        assert torch.equal(tensor, state[name])


def test_sparse_paths_and_arguments(tmp_path):
    with pytest.raises(zoo.ArgumentError, match="expected a state dict"):
        sparse.save([1, 2], tmp_path / "x.zspr")
    with pytest.raises(zoo.ArgumentError, match="keys must be strings"):
        sparse.encode({1: torch.ones(1)})
    with pytest.raises(zoo.OptionError, match="it is a folder; give a file path such as"):
        sparse.save({"w": torch.ones(1)}, tmp_path)
    with pytest.raises(zoo.MissingFileError, match="does not exist; create it first") as info:
        sparse.save({"w": torch.ones(1)}, tmp_path / "no" / "x.zspr")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(zoo.ArgumentError, match="takes a file path"):
        sparse.save({"w": torch.ones(1)}, 5)
    with pytest.raises(zoo.MissingFileError, match="no sparse file at"):
        sparse.load(tmp_path / "missing.zspr")
    with pytest.raises(zoo.OptionError, match="it is a folder, not a sparse file"):
        sparse.load(tmp_path)
    with pytest.raises(zoo.ArgumentError, match="sparse.load"):
        sparse.decode("model.zspr")
    assert list(tmp_path.iterdir()) == []  # nothing written by any of them


# -- the example script: one line, exit status 1 ---------------------------------------------------------
def _script(monkeypatch):
    spec = importlib.util.spec_from_file_location("surgery_lenet_arguments", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--gamma", "-1"], "argument --gamma: expected a finite number >= 0, got '-1'"),
        (["--gamma", "nan"], "argument --gamma: expected a finite number >= 0"),
        (["--iter-stop", "-1"], "argument --iter-stop: expected a whole number >= 0"),
        (["--lr", "-1"], "argument --lr: expected a finite number > 0"),
        (["--lr", "0"], "argument --lr: expected a finite number > 0"),
        (["--batch-size", "0"], "argument --batch-size: expected a whole number >= 1"),
        (["--threads", "0"], "argument --threads: expected a whole number >= 1"),
        (["--dense-iters", "0"], "argument --dense-iters: expected a whole number >= 1"),
        (["--surgery-iters", "0"], "argument --surgery-iters: expected a whole number >= 1"),
        (["--seeds", "0"], "argument --seeds: expected a whole number >= 1"),
        (["--mnist-dir", "X"], "--mnist-dir is read with --dataset mnist only"),
        (["--variants", "surgry"], "invalid choice: 'surgry'"),
        (["--variants", "surgry"], "Did you mean 'surgery'?"),
        (["--variantz", "surgery"], "Did you mean '--variants'?"),
        (["--seeds", "2", "--seed", "5"], "--seeds 2 runs seeds 0..1 and --seed picks single seeds"),  # --seed won
        (["--no-matched", "--prune-rounds", "3"], "--prune-rounds sets the torch-prune runs"),  # was unused
        (["--variants", "surgery", "--prune-rounds", "3"], "--prune-rounds sets the torch-prune runs"),
        (["--model", "lenet5"], "LeNet-5 needs at least 16x16 inputs"),
        (["--c-rate", "fc1=abc"], "--c-rate expects LAYER=VALUE with VALUE a finite number, got 'fc1=abc'"),
        (["--c-rate", "fc1=nan"], "VALUE a finite number, got 'fc1=nan'"),
        (["--c-rate", "fc9=3"], "LAYER one of"),
        (["--no-matched", "--variants", "torch-prune"], "--no-matched leaves out: nothing would run"),  # ran nothing, exit 0
        (["--work", str(SCRIPT)], "is a file; give a folder"),  # was NotADirectoryError with --out
    ],
)
def test_example_refuses_a_wrong_option_in_one_line(monkeypatch, argv, message):
    script = _script(monkeypatch)
    monkeypatch.setattr(script, "load_data", lambda *a: pytest.fail("ran past a wrong option"))
    with pytest.raises(SystemExit) as info:
        script.main(argv)
    text = str(info.value.code)
    assert text.startswith("surgery_lenet.py: error: ") and "\n" not in text
    assert message in text


def test_example_reports_a_missing_mnist_folder_in_one_line(monkeypatch, tmp_path):
    script = _script(monkeypatch)
    with pytest.raises(SystemExit) as info:
        script.main(["--dataset", "mnist", "--mnist-dir", str(tmp_path)])
    assert str(info.value.code).startswith("surgery_lenet.py: error: no mnist files in ")


def test_example_uses_the_iterations_given(monkeypatch):
    script = _script(monkeypatch)
    args = script.parse_args(["--dense-iters", "1", "--surgery-iters", "2"])
    assert (args.dense_iters, args.surgery_iters, args.iter_stop) == (1, 2, 2)  # not the defaults
    args = script.parse_args(["--surgery-iters", "16e3", "--iter-stop", "14000.0"])
    assert (args.surgery_iters, args.iter_stop) == (16000, 14000) and isinstance(args.surgery_iters, int)


def test_example_seeds_and_prune_rounds_as_given(monkeypatch):
    script = _script(monkeypatch)
    assert script.parse_args([]).seed_list == [0, 1, 2]
    assert script.parse_args(["--seeds", "2"]).seed_list == [0, 1]
    assert script.parse_args(["--seed", "4", "--seed", "1"]).seed_list == [4, 1]
    assert script.parse_args([]).prune_rounds == 5
    assert script.parse_args(["--variants", "torch-prune", "--prune-rounds", "2"]).prune_rounds == 2


def test_example_as_a_program_prints_one_line_and_exits_1(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dataset", "mnist", "--mnist-dir", str(tmp_path), "--threads", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("surgery_lenet.py: error: no mnist files in ")
