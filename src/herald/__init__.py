"""Herald: self-hostable notification infrastructure that speaks Novu's REST API."""

__version__ = "0.1.0"
