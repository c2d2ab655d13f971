"""The delivery engine and the pure pieces it uses: rendering, step conditions, payload schemas."""
