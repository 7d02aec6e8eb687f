"""The zoo-videoqa package is an ordinary installed plugin: found by entry point, torch-free to list."""

from __future__ import annotations

import subprocess
import sys

import zoo


def test_registered_through_its_entry_point():
    assert {"toy_video_qa", "video_qa_folder"} <= set(zoo.list("datasets"))
    assert {"video_qa", "toy_cnn"} <= set(zoo.list("applications"))
    assert zoo.info("toy_cnn", "applications")["plugin"] == "videoqa"
    assert "toy_shapes" in zoo.info("toy_cnn", "applications")["weights"]
    assert "toy_cnn" in zoo.list("applications", pretrained=True)


def test_listing_does_not_import_torch():
    code = (
        "import sys, zoo; zoo.list('datasets'); zoo.list('applications'); zoo.info('toy_cnn'); "
        "assert 'torch' not in sys.modules, 'torch imported'; assert 'zoo_videoqa.plugin' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
