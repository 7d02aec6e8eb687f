"""Video question answering by transfer learning: zoo's flagship example.

    python examples/video_qa.py                      # train on the embedded toy data, offline, a few minutes
    python examples/video_qa.py ask --clip 3 "what colour is the object?"
    python examples/video_qa.py --data my_videos/    # a video_qa_folder (qa.jsonl with a split column)

Training follows the Keras reference: a frozen pretrained CNN encodes every frame, an LSTM the frame
sequence, another LSTM the question; a small dense head picks the answer. Because the CNN is frozen its
features are computed once and cached on disk (zoo.utils.FeatureCache), so each epoch runs only the
recurrent head. The same architecture is trained twice on the same data -- with the packaged pretrained
toy_cnn and with the same CNN frozen at random initialisation -- to show what transfer buys. Outputs
(checkpoints, CSV logs, the training-curve PNG, the config ``ask`` needs) go to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

import zoo
from zoo.cli import ZooArgumentParser, finite_number, whole_number
from zoo.utils.feature_cache import FeatureCache

try:
    from zoo_videoqa.data import Vocabulary, encode, majority_baseline, tokenize
    from zoo_videoqa.model import HEAD_SIZES, default_head, video_tensor
except ImportError:  # pragma: no cover - a hint for running the script outside scripts/video_qa.sh
    sys.exit("this example needs the zoo-videoqa plugin: pip install -e plugins/zoo-videoqa (or bash scripts/video_qa.sh)")

DEFAULT_OUT = Path("runs/video_qa")
SPLITS = ("train", "validation", "test")
#: Clips per split of the synthetic data; a --data folder has its own.
TOY_CLIPS = {"train_clips": 1000, "val_clips": 150, "test_clips": 300}


# -- data --------------------------------------------------------------------------------------------
def load_splits(args: argparse.Namespace) -> dict:
    if args.data:
        return {
            s: zoo.get("datasets", "video_qa_folder", args.data, s, frames=args.frames, size=args.size)
            for s in SPLITS
        }
    clips = dict(zip(SPLITS, (args.train_clips, args.val_clips, args.test_clips), strict=True))
    return {
        s: zoo.get("datasets", "toy_video_qa", s, clips=clips[s], frames=args.frames, size=args.size, seed=args.seed)
        for s in SPLITS
    }


def one_hot(ids: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((len(ids), n), np.float32)
    out[np.arange(len(ids)), ids] = 1.0
    return out


def batches(features: np.ndarray, clip_ids, questions, answers, num_answers: int, batch_size: int, seed: int):
    """A fresh shuffled epoch each call, read batch by batch from the memory-mapped features.

    Only one batch of frame features is in memory at a time, so this streams a dataset of any size
    (the Keras ``fit_generator`` pattern).
    """
    epoch = [0]

    def one_epoch():
        order = np.random.default_rng([seed, epoch[0]]).permutation(len(answers))
        epoch[0] += 1
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            video = torch.from_numpy(np.ascontiguousarray(features[clip_ids[idx]]))
            yield (video, torch.from_numpy(questions[idx])), torch.from_numpy(one_hot(answers[idx], num_answers))

    return one_epoch


# -- one training run ----------------------------------------------------------------------------------
def run_variant(label: str, backbone_weights, data: dict, encoded: dict, vocab: tuple, args, out: Path) -> dict:
    questions, answers = vocab
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    # Transfer learning: a pretrained image model, without its classifier, one feature vector per frame, frozen.
    cnn = zoo.load(args.backbone, weights=backbone_weights, include_top=False, pooling="avg", trainable=False)
    # The Keras reference head around it, made of registered layers: TimeDistributed(cnn) -> LSTM(256);
    # Embedding(vocab, 256, mask_zero=True) -> LSTM(128); Concatenate -> Dense(128, relu) -> Dense(softmax)
    # (--head small, toy_cnn's default: the same layers at 64, 64 -> 32 and 64 units).
    model = zoo.load("video_qa", backbone=cnn, question_vocab_size=len(questions), num_answers=len(answers),
                     frame_size=args.size, **HEAD_SIZES[args.head].options())  # fmt: skip
    cache = FeatureCache(
        model.encoder,
        identity={"backbone": args.backbone, "weights": str(backbone_weights), "size": args.size},
        transform=video_tensor,
        progress=False if args.quiet else None,  # a bar on a terminal, none in a log file
    )
    features = {
        s: cache.features(lambda d=data[s]: d.clip_batches(16), fingerprint=data[s].fingerprint, count=data[s].num_clips)
        for s in SPLITS
    }
    model.head.adapt(features["train"])  # centre and scale the frame features (Keras Normalization.adapt)
    t_features = time.perf_counter() - t0
    c, q, a = encoded["train"]
    cv, qv, av = encoded["validation"]
    ct, qt, at = encoded["test"]
    callbacks = [
        # Motion questions plateau for ~10 epochs while colour and shape are learnt: judge after that.
        zoo.get("callbacks", "EarlyStopping", monitor="val_accuracy", patience=args.patience, restore_best_weights=True,
                start_from_epoch=args.warmup),
        zoo.get("callbacks", "ModelCheckpoint", out / f"{label}.pt", monitor="val_accuracy", save_best_only=True,
                save_weights_only=True),
        zoo.get("callbacks", "CSVLogger", out / f"{label}.csv"),
    ]  # fmt: skip
    history = zoo.fit(
        model.head,
        batches(features["train"], c, q, a, len(answers), args.batch_size, args.seed),
        optimizer={"name": "adam", "learning_rate": args.lr},
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        epochs=args.epochs,
        validation_data=((np.asarray(features["validation"][cv]), qv), one_hot(av, len(answers))),
        callbacks=callbacks,
        verbose=0 if args.quiet else 2,
    )
    t_train = time.perf_counter() - t0 - t_features
    probs = zoo.predict(model.head, (np.asarray(features["test"][ct]), qt), batch_size=256, verbose=0)
    correct = probs.argmax(1).numpy() == at
    kinds = np.array([row.kind for row in data["test"].qa])
    accuracy = {k: float(correct[kinds == k].mean()) for k in sorted(set(kinds))}
    accuracy["overall"] = float(correct.mean())
    print(
        f"[{label}] features {t_features:.1f}s (cache hits {cache.hits}, misses {cache.misses}), "
        f"training {t_train:.1f}s, {len(history.history['loss'])} epochs, test accuracy {accuracy['overall']:.3f}",
        flush=True,
    )
    return {"accuracy": accuracy, "history": history.history, "seconds": t_features + t_train}


def train(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    torch.manual_seed(args.seed)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise zoo.OptionError(f"--out {out} is a file; give the folder the run writes into (default {DEFAULT_OUT}).")
    out.mkdir(parents=True, exist_ok=True)
    data = load_splits(args)
    questions = Vocabulary.for_questions(row.question for row in data["train"].qa)
    answers = Vocabulary.for_answers(row.answer for row in data["train"].qa)
    encoded = {s: encode(data[s], questions, answers, args.question_length) for s in SPLITS}
    print(
        f"data: {', '.join(f'{s} {data[s].num_clips} clips/{len(data[s])} questions' for s in SPLITS)}; "
        f"{len(questions)} question words, {len(answers)} answers; frames {args.frames}x{args.size}x{args.size}",
        flush=True,
    )
    if args.backbone_weights is None:
        args.backbone_weights = "toy_shapes" if args.backbone.replace("-", "_").lower() == "toy_cnn" else "imagenet"
    variants = {"pretrained": args.backbone_weights}
    if not args.no_random:
        variants["random"] = None
    results = {}
    for label, weights in variants.items():
        results[label] = run_variant(label, weights, data, encoded, (questions, answers), args, out)
    baseline = majority_baseline(data["train"].qa, data["test"].qa)

    kinds = [k for k in baseline if k != "overall"] + ["overall"]
    header = f"{'question type':<14}{'questions':>10}{'majority':>10}" + "".join(f"{v:>12}" for v in results)
    print(f"\nheld-out test accuracy ({args.backbone} frozen; 'random' = same CNN, untrained weights)")
    print(header)
    print("-" * len(header))
    for kind in kinds:
        n = len(data["test"].qa) if kind == "overall" else sum(r.kind == kind for r in data["test"].qa)
        row = f"{kind:<14}{n:>10}{baseline[kind]:>10.3f}" + "".join(f"{r['accuracy'][kind]:>12.3f}" for r in results.values())
        print(row)
    zoo.plot_history(results["pretrained"]["history"], out / "training_curves.png",
                     title=f"video QA, {args.backbone} frozen pretrained: loss and accuracy per epoch")  # fmt: skip
    for label in results:
        if label != "pretrained":
            zoo.plot_history(results[label]["history"], out / f"training_curves_{label}.png",
                             title=f"video QA, {args.backbone} frozen at random initialisation")  # fmt: skip
    config = {
        "dataset": "video_qa_folder" if args.data else "toy_video_qa",
        "data": str(args.data.resolve()) if args.data else None,  # ask may run from another directory
        "frames": args.frames,
        "size": args.size,
        "seed": args.seed,
        "clips": None if args.data else {"train": args.train_clips, "validation": args.val_clips, "test": args.test_clips},
        "backbone": args.backbone,
        "backbone_weights": args.backbone_weights,
        "head": args.head,
        "question_length": args.question_length,
        "questions": questions.to_dict(),
        "answers": answers.to_dict(),
        "checkpoint": "pretrained.pt",
        "accuracy": {label: r["accuracy"] for label, r in results.items()},
        "majority_baseline": baseline,
    }
    (out / "video_qa.json").write_text(json.dumps(config, indent=2))
    print(f"\nwrote {out}/training_curves*.png, pretrained.pt, *.csv, video_qa.json in {time.perf_counter() - start:.0f}s")
    return 0


# -- ask -------------------------------------------------------------------------------------------------
SETTINGS = {"dataset": str, "frames": int, "size": int, "backbone": str, "backbone_weights": (str, type(None)),
            "question_length": int, "questions": dict, "answers": dict, "checkpoint": str, "head": str}  # fmt: skip
DATA_SETTINGS = {"toy_video_qa": {"clips": dict, "seed": int}, "video_qa_folder": {"data": str}}


def run_settings(config_file: Path) -> dict:
    """video_qa.json as ``train`` wrote it. A file that is not JSON, lacks a setting, holds one of another
    type or names an unknown dataset or head is a DataError naming the file (a run from before ``head`` was
    recorded used the reference head)."""
    retrain = f"train again to rewrite it: python examples/video_qa.py --out {config_file.parent}"
    try:
        config = json.loads(config_file.read_text())
    except ValueError as bad:
        raise zoo.DataError(f"{config_file} is not the JSON a training run writes ({bad}); {retrain}") from None
    if not isinstance(config, dict):
        raise zoo.DataError(f"{config_file} holds a {type(config).__name__}, not a training run's settings; {retrain}")
    config.setdefault("head", "reference")
    if config.get("dataset") not in DATA_SETTINGS:
        raise zoo.DataError(
            f"{config_file} names the dataset {config.get('dataset')!r}; a run uses {' or '.join(DATA_SETTINGS)}. {retrain}"
        )
    needed = {**SETTINGS, **DATA_SETTINGS[config["dataset"]]}
    missing = [key for key in needed if key not in config]
    if missing:
        raise zoo.DataError(f"{config_file} lacks {', '.join(missing)}; {retrain}")
    wrong = [key for key, kind in needed.items() if not isinstance(config[key], kind) or isinstance(config[key], bool)]
    if config["dataset"] == "toy_video_qa" and not wrong and set(config["clips"]) != set(SPLITS):
        wrong.append("clips")
    if wrong:
        raise zoo.DataError(f"{config_file} holds {', '.join(wrong)} of another form than training writes; {retrain}")
    if config["head"] not in HEAD_SIZES:
        raise zoo.DataError(
            f"{config_file} names the head {config['head']!r}; zoo_videoqa knows {', '.join(sorted(HEAD_SIZES))}. "
            f"Fix it, or {retrain}"
        )
    try:
        config["questions"], config["answers"] = (Vocabulary.from_dict(config[k]) for k in ("questions", "answers"))
    except (KeyError, TypeError, ValueError):
        raise zoo.DataError(f"{config_file} holds vocabularies training did not write; {retrain}") from None
    return config


def ask(args: argparse.Namespace) -> int:
    out = Path(args.out)
    config_file = out / "video_qa.json"
    if not config_file.is_file():
        raise zoo.MissingFileError(f"{config_file} not found; train first: python examples/video_qa.py --out {out}")
    config = run_settings(config_file)
    if not tokenize(args.question):
        raise zoo.OptionError(f"the question {args.question!r} is empty; ask e.g. \"what colour is the object?\"")
    questions, answers = config["questions"], config["answers"]
    if config["dataset"] == "toy_video_qa":
        dataset = zoo.get(
            "datasets", "toy_video_qa", args.split, clips=config["clips"][args.split], frames=config["frames"],
            size=config["size"], seed=config["seed"],
        )  # fmt: skip
    else:
        dataset = zoo.get("datasets", "video_qa_folder", config["data"], args.split, frames=config["frames"], size=config["size"])
    if not 0 <= args.clip < dataset.num_clips:
        raise zoo.OptionError(f"--clip must be in 0..{dataset.num_clips - 1} for the {args.split} split.")
    model = zoo.load(
        "video_qa", backbone=config["backbone"], backbone_weights=config["backbone_weights"],
        question_vocab_size=len(questions), num_answers=len(answers), frame_size=config["size"],
        weights=out / config["checkpoint"], **HEAD_SIZES[config["head"]].options(),
    )  # fmt: skip
    model.eval()
    video = video_tensor(dataset.clip(args.clip)[None])
    question = torch.from_numpy(questions.encode_question(args.question, config["question_length"]))[None]
    with torch.no_grad():
        probs = model(video, question)[0]
    top = probs.topk(min(3, len(answers)))
    unknown = [w for w in tokenize(args.question) if w not in questions]
    print(f"clip {args.clip} ({args.split}): {args.question}")
    print(f"answer: {answers.words[int(top.indices[0])]}  ({float(top.values[0]):.1%})")
    print("top 3: " + ", ".join(f"{answers.words[int(i)]} {float(p):.1%}" for p, i in zip(top.values, top.indices, strict=True)))
    if unknown:
        print(f"note: words never seen in training questions: {', '.join(unknown)}")
    if hasattr(dataset, "describe"):
        spec = dataset.describe(args.clip)
        print(f"truth: a {spec.colour} {spec.shape}, {spec.action}")
    return 0


# -- command line ------------------------------------------------------------------------------------------
def parse(argv: list[str]) -> argparse.Namespace:
    """The arguments, or a ``zoo.ArgumentError`` (ZooArgumentParser): main prints one line, exit status 1."""
    if argv and argv[0] == "ask":
        p = ZooArgumentParser(prog="video_qa.py ask", description="Answer a question about one clip.")
        p.add_argument("question", help='e.g. "what colour is the object?"')
        p.add_argument("--clip", type=whole_number(0), required=True, help="clip index in --split")
        p.add_argument("--split", default="test", choices=SPLITS)
        p.add_argument("--out", default=str(DEFAULT_OUT), help="the training run's output folder")
        args = p.parse_args(argv[1:])
        args.command = "ask"
        return args
    if argv and argv[0] == "train":
        argv = argv[1:]
    p = ZooArgumentParser(prog="video_qa.py", description=__doc__.splitlines()[0],
                          epilog="Sub-command: ask --clip N QUESTION")  # fmt: skip
    p.add_argument("--data", type=Path, help="a video_qa_folder (default: the synthetic toy_video_qa)")
    for flag, default in TOY_CLIPS.items():  # None: not given, so --data can refuse what it would ignore
        p.add_argument(f"--{flag.replace('_', '-')}", type=whole_number(1), help=f"toy_video_qa clips (default {default})")
    p.add_argument("--frames", type=whole_number(1), default=8, help="frames per clip")
    p.add_argument("--size", type=whole_number(1), default=32, help="frame height and width")
    p.add_argument("--backbone", default="toy_cnn", help="any zoo application (e.g. inception_v3)")
    p.add_argument("--backbone-weights", help="weights of the backbone (default: toy_shapes for toy_cnn, else imagenet)")
    p.add_argument("--head", choices=sorted(HEAD_SIZES),
                   help="the head's widths: reference (Keras') or small (default: small for toy_cnn, else reference)")
    p.add_argument("--no-random", action="store_true", help="skip the frozen random-backbone comparison")
    p.add_argument("--epochs", type=whole_number(1), default=40)
    p.add_argument("--patience", type=whole_number(0), default=6, help="EarlyStopping patience on val_accuracy")
    p.add_argument("--warmup", type=whole_number(0), default=12, help="epochs before EarlyStopping starts watching")
    p.add_argument("--batch-size", type=whole_number(1), default=64)
    p.add_argument("--lr", type=finite_number(0, strict=True), default=3e-3, help="Adam learning rate")
    p.add_argument("--question-length", type=whole_number(1), default=12, help="question words kept (front-padded)")
    p.add_argument("--seed", type=whole_number(0), default=0,
                   help="seeds the weight initialisation and the batch order (and the toy data's drawing)")  # fmt: skip
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bars")
    args = p.parse_args(argv)
    given = [f"--{flag.replace('_', '-')}" for flag in TOY_CLIPS if getattr(args, flag) is not None]
    if args.data and given:
        p.error(
            f"{', '.join(given)} only size the synthetic toy_video_qa splits; --data {args.data} uses every clip "
            "of each split of its qa table: leave them out (or edit the table's split column)"
        )
    for flag, default in TOY_CLIPS.items():
        if getattr(args, flag) is None and not args.data:
            setattr(args, flag, default)
    if args.head is None:
        args.head = default_head(args.backbone)
    args.command = "train"
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
        return ask(args) if args.command == "ask" else train(args)
    except (zoo.ZooError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
