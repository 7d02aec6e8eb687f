"""``zoo.load("hf-hub:ORG/REPO[@REVISION]")``: a model kept in a Hugging Face Hub repository in timm's layout.

timm's Hub repositories (``timm/resnet50.a1_in1k`` ...) hold a ``config.json`` naming the architecture and a
``model.safetensors``; ``timm.create_model("hf-hub:...")`` reads them so. Here the config is fetched
through zoo's cache like any file, and the model is then the application ``LIBRARY:ARCHITECTURE`` (the
config's ``library_name``, timm's when it names none) loaded with ``weights="hf://ORG/REPO/model.safetensors@REV"``,
so the weights come through zoo's cache, verified by the sha256 the Hub states, pinned to one commit. Every
option of ``zoo.load`` passes on. A repository name ``ARCH.TAG`` whose tag the application knows
(``resnet50.a1_in1k``) gets that variant's preprocessing.
"""

from __future__ import annotations

import json
from typing import Any

from zoo.errors import UnknownNameError, ZooError

PREFIX = "hf-hub:"
WEIGHTS_FILE = "model.safetensors"


def load(name: str, **kwargs: Any) -> Any:
    import zoo
    from zoo import hub

    repo, _, revision = name[len(PREFIX) :].strip().partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ZooError(
            f"{name!r}: a Hub model reads hf-hub:ORG/REPO[@REVISION], e.g. hf-hub:timm/resnet50.a1_in1k."
        )
    revision = revision or "main"
    if "weights" in kwargs:
        raise ZooError(
            f"{name} takes its weights from the repository; drop weights= (or load the architecture by name)."
        )
    config_path = hub.fetch(f"hf://{repo}/config.json@{revision}", entry=name)
    try:
        config = json.loads(config_path.read_text())
        architecture = config["architecture"]
    except (ValueError, KeyError, TypeError):
        raise ZooError(
            f"{name}: config.json of {repo} names no 'architecture'; it is not a timm-style model repository."
        ) from None
    library = config.get("library_name") or "timm"
    application = f"{library}:{architecture}"
    try:
        entry = zoo.plugins.get_registry().lookup("applications", application)
    except UnknownNameError as exc:
        raise ZooError(
            f"{name} is the {library} architecture {architecture!r}, which no installed plugin serves: {exc}"
        ) from None
    tag = repo.split("/")[1].partition(".")[2]
    options = dict(kwargs)
    if tag and "preprocessing" not in options and tag in (entry.describe().get("weights") or {}):
        options["preprocessing"] = tag
    return zoo.load(application, weights=f"hf://{repo}/{WEIGHTS_FILE}@{revision}", **options)
