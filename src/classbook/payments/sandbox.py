"""Run the localstripe gateway sandbox on 127.0.0.1.

localstripe (GPL-3) is only ever started as this separate process, never imported by the
application. Two things differ from its own ``localstripe`` command: it binds 127.0.0.1
only (its command binds every interface), and its state file is ours to choose — its own
is a fixed ``/tmp/localstripe.pickle`` shared by every sandbox on the machine, written on
every request. ``--state-file`` keeps the demo's state in var/; ``--no-persistence``
(tests, benchmarks) keeps it in memory only.
"""

import argparse
import logging
import pickle
from pathlib import Path


def _persist_to(store_class, path: Path | None) -> None:
    if path is None:
        store_class.try_load_from_disk = lambda self: None
        store_class.dump_to_disk = lambda self: None
        return

    def load(self):
        try:
            with path.open("rb") as f:
                self.update(pickle.load(f))
        except FileNotFoundError:
            pass

    def dump(self):
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    store_class.try_load_from_disk = load
    store_class.dump_to_disk = dump


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m classbook.payments.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, help="where to keep the sandbox's state")
    parser.add_argument("--no-persistence", action="store_true", help="keep state in memory")
    parser.add_argument(
        "--from-scratch", action="store_true", help="ignore the state saved by an earlier run"
    )
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import resources
    from localstripe.server import app, store

    _persist_to(resources.Store, None if args.no_persistence else args.state_file)
    if args.state_file and not args.no_persistence:
        args.state_file.parent.mkdir(parents=True, exist_ok=True)
        if args.from_scratch:
            args.state_file.unlink(missing_ok=True)
        store.try_load_from_disk()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
