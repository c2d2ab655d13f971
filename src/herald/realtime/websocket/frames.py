"""RFC 6455 pieces: opcodes, close codes, unmasking a client frame, reading the upgrade request."""

from __future__ import annotations

import sys
from typing import Any

ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR = 1000, 1002
CLOSE_INVALID_DATA, CLOSE_TOO_BIG, CLOSE_RESTART = 1007, 1009, 1012


def parse_request(request: bytes) -> tuple[str, dict[str, str]]:
    """Target and headers (names lowercased, repeats joined) of the upgrade request uvicorn re-serialized."""
    head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    request_line, *lines = head.split("\r\n")
    parts = request_line.split(" ")
    target = parts[1] if len(parts) == 3 else ""
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return target, headers


def wsgi_environ(path: str, query_string: str, headers: dict[str, str]) -> dict[str, Any]:
    """The WSGI-style environ engineio's ASGI driver builds, which socket.io's connect handler receives."""
    environ: dict[str, Any] = {
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "asgi",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query_string,
        "RAW_URI": f"{path}?{query_string}" if query_string else path,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ


def unmask(payload: bytes, mask: bytes) -> bytes:
    length = len(payload)
    if not length:
        return b""
    key = (mask * (length // 4 + 1))[:length]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(length, "little")
