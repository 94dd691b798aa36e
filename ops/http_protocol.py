"""uvicorn's httptools protocol with a deadline for the request line and headers.

uvicorn bounds the body (api.app's BODY_READ_TIMEOUT_S sees it) and idle keep-alive connections, but not a client
that sends its headers a byte at a time: each such connection would hold a slot of LIMIT_CONCURRENCY for as long
as it likes. Here a request's headers must be complete HEADER_READ_TIMEOUT_S after its connection opens or its
first byte arrives; past that the connection is closed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderDeadlineProtocol(HttpToolsProtocol):
    header_timeout_s = 10.0  # set from Settings.header_read_timeout_s by the process that serves

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        deadline = getattr(self, "_header_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
