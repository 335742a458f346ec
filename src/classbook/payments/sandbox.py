"""Run the localstripe gateway sandbox on 127.0.0.1 (it binds every interface by itself).

localstripe (GPL-3) is only ever started as this separate process, never imported by the
application.
"""

import argparse
import logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m classbook.payments.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument(
        "--from-scratch", action="store_true", help="ignore the state saved by an earlier run"
    )
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe.server import app, store

    if not args.from_scratch:
        store.try_load_from_disk()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
