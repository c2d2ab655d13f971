"""Token-bucket rate limiting of secret-key requests, as Novu does it."""
