"""Artifacts up and down through the proxied artifact API, with the server's memory.

The upload body is generated block by block and the download is hashed as it streams,
so the client holds 1 MiB at a time. ``RSS growth`` is the server tree's peak during the
transfer minus its RSS just before: flat memory means it does not grow with file size.
"""

from __future__ import annotations

import time

from bench.client import MB, BenchError, Client, pattern_chunks, pattern_digest
from bench.scenarios.base import Context, Result, ServerState

_digests: dict[int, str] = {}


def artifact(size: int):
    def scenario(ctx: Context, state: ServerState) -> Result:
        digest = _digests.get(size) or _digests.setdefault(size, pattern_digest(size))
        server = state.server
        client = Client(server.url)
        path = f"bench/{server.label}/blob-{size // MB}mb.bin"
        before, _ = server.memory()
        ctx.sampler.reset_window()
        t0 = time.perf_counter()
        client.upload(path, pattern_chunks(size), size)
        up = time.perf_counter() - t0
        t0 = time.perf_counter()
        got_size, got_digest = client.download(path)
        down = time.perf_counter() - t0
        client.close()
        if (got_size, got_digest) != (size, digest):
            raise BenchError(f"artifact {path}: downloaded {got_size} bytes, digest mismatch")
        peak = ctx.sampler.window_peak(server.label)
        return Result(
            {
                "up MB/s": size / MB / up,
                "down MB/s": size / MB / down,
                "RSS growth MB": max(peak - before, 0) / MB,
            },
            {"up s": up, "down s": down},
        )

    scenario.__name__ = f"artifact_{size // MB}mb"
    return scenario
