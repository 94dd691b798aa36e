"""The anchor: a bare Litestar app with one `/health` handler, served exactly like ours (uvicorn, uvloop, httptools)."""

from __future__ import annotations

from litestar import Litestar, get


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


app = Litestar([health], logging_config=None, debug=False)
