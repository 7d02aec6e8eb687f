"""An example zoo plugin; see README.md beside pyproject.toml for the plugin author's guide."""
