"""Train tiny_digits on scikit-learn's digits and write the weights the package ships (run once, by hand):
``python plugins/zoo-example/make_weights.py``. Deterministic (seed 0, one thread)."""

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from zoo_example.network import TinyDigits

import zoo

OUT = Path(__file__).parent / "zoo_example" / "weights"


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).div(16).unsqueeze(1).expand(-1, 3, -1, -1)
    y = torch.tensor(digits.target)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=360, random_state=0, stratify=y)
    model = TinyDigits()
    zoo.fit(model, x_train, y_train, loss={"name": "sparse_categorical_crossentropy", "from_logits": True},
            optimizer={"name": "adam", "learning_rate": 3e-3}, epochs=30, batch_size=32, verbose=0)  # fmt: skip
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    path = OUT / "tiny_digits-v1.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    data = path.read_bytes()
    facts = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "test_accuracy": round(accuracy * 100, 2)}
    (OUT / "tiny_digits-v1.json").write_text(json.dumps(facts, indent=2) + "\n")
    print(facts)


if __name__ == "__main__":
    main()
