"""The version and the distribution's name, each said once (pyproject.toml reads the version from here).

The import name is ``zoo``; the distribution is ``zoo-platform``, because ``zoo`` on PyPI is an unrelated RPC
framework: a plugin that declared ``dependencies = ["zoo"]`` would get that one installed.
"""

__version__ = "0.1.0"

#: What to ``pip install`` and what a plugin's ``pyproject.toml`` depends on.
DISTRIBUTION = "zoo-platform"
