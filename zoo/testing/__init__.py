"""The kit for plugin authors: ``check_plugin(name)`` runs the checks zoo promises its users about every
entry of an installed plugin, for the plugin's own CI.

It is also a pytest plugin (entry point ``pytest11``), so any test of an environment where zoo is installed
gets the ``check_plugin`` fixture::

    def test_my_plugin(check_plugin):
        report = check_plugin("myplugin")
        assert "applications" in report.checked

What is checked (nothing is downloaded: ``ZOO_OFFLINE=1`` holds while the checks run):

* the plugin is loaded (not FAILED or disabled) and registers something;
* every entry's lazy target imports, and its metadata reads (a lazy weights table too);
* every application builds on the meta device (no memory, no init cost) with its defaults and with each
  option it declares in ``options`` (``include_top``, ``pooling``, ``num_classes``, ``trainable``,
  ``input_shape``, ``features_only``; the weights are not fetched), returns an ``nn.Module`` in eval mode
  with ``model.zoo``, and, where the input size is known, runs a forward pass whose output has the classes
  asked for; every declared option is one the core knows or one the builder takes; every weights variant's
  file spec is well-formed (URL scheme, sha256 of 64 hex digits, a filename without folders, mirrors);
* every loss and metric runs on a small batch (regression, class indices, one-hot, binary: the first
  that fits) and gives a finite value, a loss also a finite gradient;
* every callback is built by ``zoo.get`` (which checks its hooks) and survives one tiny ``zoo.fit``;
* every dataset's file specs are well-formed.

``check_plugin`` raises :class:`PluginCheckError` listing every problem at once, or returns a
:class:`PluginReport` of what was checked. Importing this module does not import torch.
"""

from __future__ import annotations

from zoo._lazy import lazy_exports

_LAZY = {
    "check_plugin": "zoo.testing.checks:check_plugin",
    "PluginReport": "zoo.testing.checks:PluginReport",
    "PluginCheckError": "zoo.testing.checks:PluginCheckError",
    "check_file_spec": "zoo.testing.checks:check_file_spec",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
