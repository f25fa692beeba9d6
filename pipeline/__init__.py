"""csi: exports of a centre de santé infirmier → DuckDB warehouse → annexe 3 activity report."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("csi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
