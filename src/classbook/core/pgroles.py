"""``classbook pg-roles``: create the owner and app roles and the database (idempotent).

The owner role owns the tables and runs migrations; the app role is what the web server
and worker connect as: no superuser, no BYPASSRLS, not the owner, so row-level security
policies bind it.
"""

import argparse
import sys

import psycopg
from psycopg import sql


def ensure_role(cursor, name: str, password: str | None, *, createdb: bool) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    options = sql.SQL("LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE {createdb}").format(
        createdb=sql.SQL("CREATEDB" if createdb else "NOCREATEDB")
    )
    statement = sql.SQL("{verb} ROLE {name} WITH {options}").format(
        verb=sql.SQL(verb), name=sql.Identifier(name), options=options
    )
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    cursor.execute(statement)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="classbook pg-roles", description=__doc__)
    parser.add_argument(
        "--admin-url",
        required=True,
        help="a superuser connection, e.g. postgres://postgres@127.0.0.1/postgres",
    )
    parser.add_argument("--owner", default="classbook_owner")
    parser.add_argument("--owner-password")
    parser.add_argument("--app", default="classbook_app")
    parser.add_argument("--app-password")
    parser.add_argument("--database", help="also create this database, owned by the owner")
    args = parser.parse_args(argv)
    if args.owner == args.app:
        print("classbook pg-roles: --owner and --app must be different roles", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(args.admin_url, autocommit=True) as conn, conn.cursor() as cur:
            ensure_role(cur, args.owner, args.owner_password, createdb=True)
            ensure_role(cur, args.app, args.app_password, createdb=False)
            if args.database:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
                if not cur.fetchone():
                    cur.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(args.database), sql.Identifier(args.owner)
                        )
                    )
    except psycopg.Error as exc:
        print(f"classbook pg-roles: {exc}".strip(), file=sys.stderr)
        return 1
    print(
        f"roles ready: owner={args.owner} app={args.app}"
        + (f" database={args.database}" if args.database else "")
    )
    return 0
