"""Built-in plugin: every torchvision image classifier with all its weight variants, from the weights
table, plus the ``zoo predict`` command. Importing it does not import torch."""

from __future__ import annotations

from typing import Any

from zoo.applications import papers, table
from zoo.plugin import hookimpl

#: The zoo.load options the torchvision builder serves (zoo.applications.contract checks them).
OPTIONS = ("weights", "include_top", "pooling", "num_classes", "trainable", "progress", "sha256", "preprocessing")


@hookimpl
def zoo_register_applications(register: Any) -> None:
    for arch, facts in table.architectures().items():
        default = facts["weights"][facts["default_weights"]]
        register(
            arch,
            f"zoo.applications.models:{arch}",
            aliases=facts["aliases"],
            architecture=arch,
            family=facts["family"],
            pretrained=bool(facts["weights"]),
            default_weights=facts["default_weights"],
            weights=facts["weights"],
            num_params=facts["num_params"],
            min_size=facts["min_size"],
            input_size=default["preprocessing"]["crop"],
            categories=default["categories"],
            top1=default["metrics"].get("ImageNet-1K", {}).get("acc@1"),
            file_size_mb=default["file_size_mb"],
            options=OPTIONS,
            extra={"paper": papers.paper(arch)},
        )


@hookimpl
def zoo_register_commands(subparsers: Any) -> None:
    from zoo.applications import benchmark_cli, predict_cli

    predict_cli.add_parser(subparsers)
    benchmark_cli.add_parser(subparsers)
