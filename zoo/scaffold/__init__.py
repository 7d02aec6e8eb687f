"""``zoo new-plugin NAME``: a ready plugin package, pip-installable, that passes zoo's plugin kit.

``--kinds applications,losses,callbacks`` writes one working example entry per kind (its hook in
``plugin.py``, its code in a module of its own), a ``pyproject.toml`` with the ``zoo`` entry point and the
dependency on zoo's distribution, a test calling the kit (``check_plugin``) and a README. ``--from DIR``
(a folder ``zoo.save_pretrained`` wrote) makes a package registering that saved model as an application
with its weights: the ``model.safetensors`` inside the package when it is small (``--embed-max-mb``), or a
URL with its sha256 (``--weights-url``, ``--weights-sha256``) from which zoo's cache fetches and verifies it.

Writing the package imports no torch.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo.errors import OptionError, ZooError
from zoo.scaffold import templates

#: After the optional ``zoo-`` prefix: a letter first and a letter or digit last, so that ``zoo-NAME`` is a
#: distribution name pip takes (PEP 508) and ``NAME`` an identifier inside ``zoo_NAME``.
_NAME = re.compile(r"^[a-z](?:[a-z0-9_]*[a-z0-9])?\Z")
DEFAULT_KINDS = ("applications", "losses", "callbacks")


def kinds_supported() -> list[str]:
    return list(templates.KINDS)


def new_plugin(
    name: str,
    *,
    kinds: Iterable[str] | None = None,
    from_dir: str | Path | None = None,
    output: str | Path = ".",
    weights_url: str | None = None,
    weights_sha256: str | None = None,
    embed_max_mb: float | None = None,
    force: bool = False,
) -> Path:
    """Write the package ``OUTPUT/zoo-NAME`` and return its folder."""
    name = _check_name(name)
    dist, package = f"zoo-{name.replace('_', '-')}", f"zoo_{name}"
    parent = Path(output).expanduser()
    if parent.exists() and not parent.is_dir():
        raise ZooError(f"the output folder {parent} is a file, not a folder; pass another -o.")
    if not parent.exists() and not parent.absolute().parent.is_dir():
        raise ZooError(
            f"the output folder {parent} cannot be made: its parent {parent.absolute().parent} does not exist; "
            f"create it first (mkdir -p {parent}) or pass another -o."
        )
    root = parent / dist
    if root.exists() and not force:
        raise ZooError(f"{root} exists; pick another name or output folder, or pass --force to overwrite it.")
    embed_max_mb = _check_embed_limit(embed_max_mb, from_dir, weights_url)
    if from_dir is not None:
        if kinds is not None:
            raise ZooError("--from DIR writes a package for the saved model; give --kinds or --from, not both.")
        files = _from_saved(name, package, dist, Path(from_dir), weights_url, weights_sha256, embed_max_mb)
        description = f"The saved model {name}, as a zoo application with its weights."
    else:
        if weights_url is not None or weights_sha256 is not None:
            raise ZooError("--weights-url and --weights-sha256 go with --from DIR.")
        files = _from_kinds(name, package, dist, _check_kinds(kinds))
        description = f"The zoo plugin {name}."
    requires = [_zoo_distribution(), *files.pop("requires", [])]
    common = {"name": name, "package": package, "dist": dist, "zoo_dist": requires[0],
              "dependencies": json.dumps(requires), "description": description}  # fmt: skip
    files.setdefault("pyproject.toml", templates.PYPROJECT.substitute(common))
    files.setdefault(f"{package}/__init__.py", templates.INIT.substitute(common))
    if "README.md" not in files:
        usage = "\n".join(line for kind in _kinds_in(files, package) for line in [templates.KINDS[kind][3]])
        modules = "".join(f"    {templates.KINDS[k][1]:<20}{k}\n" for k in _kinds_in(files, package))
        files["README.md"] = templates.README.substitute(common, usage=usage, modules=modules)
    if root.exists():
        shutil.rmtree(root)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def _check_name(name: str) -> str:
    normal = name.strip().lower().replace("-", "_")
    if normal.startswith("zoo_"):  # "zoo-myplug" means the plugin myplug, not zoo-zoo-myplug
        normal = normal[4:]
    if not _NAME.match(normal):
        raise ZooError(
            f"plugin name {name!r}: use lower-case letters, digits and '_' or '-', starting with a letter and "
            "ending with a letter or digit, after an optional 'zoo-' prefix (it becomes the entry-point name, the "
            "package zoo_NAME and the distribution zoo-NAME, which pip installs only so: PEP 508)."
        )
    from zoo.plugins import BUILTIN_PLUGINS

    if normal in BUILTIN_PLUGINS:
        raise ZooError(
            f"plugin name {name!r} is a built-in plugin's ({', '.join(BUILTIN_PLUGINS)}; plugin names ignore "
            f"case): zoo would not load an installed plugin of that name. Pick another, e.g. my_{normal}."
        )
    return normal


def _check_kinds(kinds: Iterable[str] | None) -> list[str]:
    from zoo.registry import canonical_kind

    chosen = []
    for kind in DEFAULT_KINDS if kinds is None else kinds:
        kind = canonical_kind(kind)  # an unknown kind is an error suggesting the closest
        if kind not in templates.KINDS:
            raise ZooError(
                f"new-plugin has no template for {kind}; it writes {', '.join(templates.KINDS)}. Add the "
                f"{kind} hook by hand (zoo/hookspecs.py documents it)."
            )
        if kind not in chosen:
            chosen.append(kind)
    if not chosen:
        raise ZooError(f"--kinds names no kind; choose from {', '.join(templates.KINDS)}.")
    return chosen


def _zoo_distribution() -> str:
    from zoo._version import DISTRIBUTION

    return DISTRIBUTION


def _kinds_in(files: dict[str, Any], package: str) -> list[str]:
    return [k for k, (_, module, _, _) in templates.KINDS.items() if f"{package}/{module}" in files]


def _from_kinds(name: str, package: str, dist: str, kinds: list[str]) -> dict[str, Any]:
    plugin = templates.PLUGIN_HEAD.substitute(name=name)
    files: dict[str, Any] = {}
    for kind in kinds:
        hook, module, code, _ = templates.KINDS[kind]
        plugin += templates.Template(hook).substitute(package=package)
        files[f"{package}/{module}"] = code
    files[f"{package}/plugin.py"] = plugin
    files["tests/test_plugin.py"] = templates.TEST.substitute(name=name)
    return files


# -- --from DIR ------------------------------------------------------------------------------------------
EMBED_MAX_MB = 20.0


def _check_embed_limit(embed_max_mb: Any, from_dir: Any, weights_url: str | None) -> float:
    """The size limit of shipped weights, in MB. Given where it would not be used (no ``--from``, or weights
    that are downloaded from ``--weights-url``), it is refused rather than ignored; NaN would ship any size."""
    if embed_max_mb is None:
        return EMBED_MAX_MB
    if isinstance(embed_max_mb, bool) or not isinstance(embed_max_mb, (int, float)) or not (
        0 <= embed_max_mb < float("inf")
    ):
        raise OptionError(f"--embed-max-mb must be a finite number of MB >= 0, got {embed_max_mb!r}.")
    if from_dir is None:
        raise OptionError("--embed-max-mb limits the weights --from DIR ships inside the package: give --from DIR.")
    if weights_url is not None:
        raise OptionError(
            "--embed-max-mb limits shipped weights, and with --weights-url they are downloaded: give one of them."
        )
    return float(embed_max_mb)


def _from_saved(
    name: str, package: str, dist: str, folder: Path, url: str | None, sha256: str | None, embed_max_mb: float
) -> dict[str, Any]:
    from zoo import saving
    from zoo.hub.hashes import hash_file
    from zoo.hub.store import is_hex

    if not saving.is_saved_model(str(folder)) or not folder.is_dir():
        raise ZooError(f"--from {folder}: not a folder zoo.save_pretrained wrote (it holds config.json).")
    saved = saving.read_folder(folder)
    config = saved.config
    _check_free(name)
    if saved.kind != "application":
        raise ZooError(
            f"--from {folder} holds a {saved.kind} model; new-plugin --from packages zoo.save_pretrained's "
            "applications (a zoo.Sequential/Model is shared with model.save and zoo.load_model)."
        )
    weights_path = Path(saved.weights)
    digest, size = hash_file(weights_path), weights_path.stat().st_size
    if sha256 is not None and not (isinstance(sha256, str) and len(sha256) == 64 and is_hex(sha256.lower())):
        raise OptionError(
            f"--weights-sha256 {sha256!r} is not a sha256: give all 64 hex digits of the weights file's "
            f"(sha256sum {weights_path} prints them: {digest})."
        )
    if sha256 is not None and sha256.lower() != digest:
        raise ZooError(f"--weights-sha256 {sha256} is not the sha256 of {weights_path} ({digest}); is it the same file?")
    variant: dict[str, Any] = {"filename": f"{name}.safetensors", "sha256": digest, "size": size}
    files: dict[str, Any] = {}
    if url is None:
        if size > embed_max_mb * 1e6:
            raise ZooError(
                f"{weights_path} is {size / 1e6:.1f} MB, more than --embed-max-mb {embed_max_mb:g} to ship inside "
                f"the package: upload it and pass --weights-url URL (its sha256 is {digest})."
            )
        files[f"{package}/weights/{variant['filename']}"] = weights_path
    else:
        if not url.startswith(("https://", "http://", "file://", "hf://")):
            raise ZooError(f"--weights-url {url!r} must be an http(s)://, file:// or hf:// URL.")
        variant["url"] = url
    if config.get("categories"):
        variant["categories"] = list(config["categories"])
    if config.get("preprocessing"):
        variant["preprocessing"] = dict(config["preprocessing"])
    base, options = config["application"], dict(config.get("options") or {})
    facts, base_dist = _base_facts(base, options)
    if base_dist:
        files["requires"] = [base_dist]  # the plugin that builds the architecture
    fact_lines = "".join(f"\n        {key}={value!r}," for key, value in facts.items())
    function = "build"
    description = f"{name}: {base} saved with zoo.save_pretrained"
    files[f"{package}/plugin.py"] = templates.PLUGIN_HEAD.substitute(name=name) + templates.FROM_HOOK.substitute(
        weights=_literal(variant), model=name, package=package, function=function, description=repr(description),
        base=repr(base), facts=fact_lines,
    )  # fmt: skip
    files[f"{package}/models.py"] = templates.FROM_MODELS.substitute(
        model=name, package=package, function=function, base=repr(base), options=_literal(options), dist=dist
    )
    shape = facts.get("input_size")
    files["tests/test_plugin.py"] = templates.FROM_TEST.substitute(
        name=name, model=name, input_shape=repr(tuple(shape) if isinstance(shape, (list, tuple)) else (3, 224, 224))
    )
    card = folder / "README.md"
    if card.is_file():
        files["README.md"] = card.read_text(encoding="utf-8").replace(
            f'zoo.load("{folder.name}")', f'zoo.load("{name}")'
        ) + (f"\n## Install\n\n```\npip install {dist}\n```\n\n`zoo.load(\"{name}\")` then gives this model.\n")
    return files


def _check_free(name: str) -> None:
    """The new application's name must not be one already registered: its bare name would be ambiguous."""
    from zoo.errors import UnknownNameError
    from zoo.plugins import get_registry

    try:
        taken = get_registry().lookup("applications", name)
    except UnknownNameError:
        return
    raise ZooError(
        f"an application {name!r} is already registered ({taken.qualified_name}); name the new plugin "
        f"otherwise (e.g. my_{name}), so that zoo.load({name!r}) stays unambiguous."
    )


def _base_facts(base: str, options: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Facts of the saved model taken from its base application (when installed here): input size, classes;
    and the distribution of the plugin that serves it (None for zoo's built-ins)."""
    from zoo.errors import UnknownNameError
    from zoo.plugins import get_plugin_manager, get_registry

    try:
        entry = get_registry().lookup("applications", base)
    except UnknownNameError:
        return {}, None
    meta, info = entry.meta, get_plugin_manager().info.get(entry.plugin)
    dist = None if info is None or info.builtin else info.distribution
    facts: dict[str, Any] = {}
    shape = options.get("input_shape") or meta.input_size
    if shape is not None:
        facts["input_size"] = tuple(shape) if isinstance(shape, (list, tuple)) else shape
    if meta.min_size:
        facts["min_size"] = tuple(meta.min_size)
    classes = options.get("num_classes") or meta.num_classes
    if classes:
        facts["num_classes"] = classes
    return facts, dist


def _literal(value: Any) -> str:
    """A Python literal of plain JSON data (True/False/None spelled as Python)."""
    return repr(json.loads(json.dumps(value)))
