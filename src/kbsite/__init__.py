"""kbsite: a plaintext knowledge-base archive as a cross-linked static site."""

__version__ = "0.1.0"
