"""Delphos: open, self-hostable progressive SOAP notes."""

__version__ = "0.1.0"
