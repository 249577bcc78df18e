"""kdocs-viewer: a desktop viewer for the pictures inside KDocs spreadsheets."""

__version__ = "0.1.0"
