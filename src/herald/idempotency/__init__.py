"""`Idempotency-Key` on POST and PATCH: one execution per key and environment, replayed after."""
