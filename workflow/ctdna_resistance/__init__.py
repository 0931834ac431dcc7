"""ctdna-resistance: serial liquid-biopsy resistance reports for anti-EGFR therapy."""

# The one place the version is written (pyproject.toml reads it from here). A literal rather than
# importlib.metadata.version(): that lookup scans site-packages (~45 ms) in every patient job.
__version__ = "0.1.0"
