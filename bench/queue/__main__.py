"""`python -m bench.queue {drain,latency,enqueue}`: the "Queue", "Pickup latency" and "Enqueue overhead"
sections of docs/BENCHMARKS.md. Add --write to replace the section, --quick for a smoke run."""

from __future__ import annotations

import sys

from bench import common


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("drain", "latency", "enqueue"):
        print("usage: python -m bench.queue {drain,latency,enqueue} [--quick] [--write] [--rounds N]",
              file=sys.stderr)
        return 2
    which, rest = argv[0], argv[1:]
    common.quiet_logs()
    if which == "drain":
        from bench.queue.drain_main import main as run
    elif which == "latency":
        from bench.queue.latency import main as run
    else:
        from bench.queue.enqueue import main as run
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
