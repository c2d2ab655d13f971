"""Engine.IO websockets served straight from uvicorn's connection, without an ASGI call per socket.

Through ASGI, every open websocket is a task awaiting `receive()` at the bottom of a chain of
coroutine frames for as long as it stays open, and python-engineio adds four more tasks of its
own (writer, reader, ping, a `wait_for` each) with their timers, beside uvicorn's queue, events
and parsed handshake: about 50 KB per idle Inbox socket (bench/sockets.py). This module is a
uvicorn websocket protocol (`uvicorn.run(ws=...)`): for a new Engine.IO session opened over
websocket at the socket.io path (`?EIO=4&transport=websocket`, as @novu/js connects) it
completes the handshake itself, frames RFC 6455 messages in `data_received` and hands Engine.IO
packets to python-engineio's server through its own socket object (`DirectSocket`), so an idle
socket is a protocol object, a socket object and a ping timer, with no task: about 8 KB.
Pings, ping timeouts (engineio's service task) and the socket.io layer above (connect handler,
rooms, emits, Redis fan-out) are python-engineio's and python-socketio's, unchanged.

Anything else (a websocket to another path, a long-polling session upgrading to websocket, a
request engineio would refuse: bad origin, version or handshake) goes to uvicorn's own
websocket protocol and the ASGI app, exactly as before.
"""

from herald.realtime.websocket.protocol import EngineIoWebSocket, websocket_protocol

__all__ = ["EngineIoWebSocket", "websocket_protocol"]
