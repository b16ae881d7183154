"""``casepool serve`` (the team's screening pages in a browser) and ``casepool user`` (the
accounts that may log in to them)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from review.cli.common import db_option, fail, json_option, open_review, print_json, review_option

user_app = typer.Typer(
    help="Accounts for the screening web pages (casepool serve): add, list, new password.",
    no_args_is_help=True,
)


def _password(confirm: bool = True) -> str:
    """The password typed twice at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))
    line = sys.stdin.readline()
    if not line:
        fail("no password on stdin; type it at the prompt, or pipe one line")
    return line.rstrip("\r\n")


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="The person's name, as they screen (reviewer name)."),
    role: str = typer.Option(
        "reviewer", "--role", help="lead (sees conflicts, agreement, PRISMA) or reviewer."
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Add an account; the password is asked for (or read as one line from stdin) and
    stored hashed with argon2."""
    from review.errors import TeamError
    from review.team.accounts import parse_role

    try:
        chosen = parse_role(role)
    except TeamError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--role'") from None
    with open_review(review, db, uses=()) as rv:
        user = rv.team.add_user(name, password=_password(), role=chosen)
    typer.echo(f"Added {user.role} {user.name}; they can log in at casepool serve's page.")


@user_app.command("password")
def user_password(
    name: str = typer.Argument(..., help="The account's name."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Give an account a new password (asked for, or one line of stdin); its sessions end."""
    with open_review(review, db, uses=()) as rv:
        rv.team.set_password(name, password=_password())
    typer.echo(f"New password for {name.strip()}; their open sessions were ended.")


@user_app.command("list")
def user_list(
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """List the accounts: name, role (lead also when the protocol names them), added when."""
    with open_review(review, db, uses=()) as rv:
        users = rv.team.users()
        rows = [{**u.as_dict(), "lead": rv.team.is_lead(u)} for u in users]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No accounts yet; add one with 'casepool user add NAME'.")
        return
    for row in rows:
        lead = " (lead)" if row["lead"] and row["role"] != "lead" else ""
        typer.echo(f"{row['name']}\t{row['role']}{lead}\tadded {row['added_at']}")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="The port (0: any free one)."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Serve the screening pages for the team (uvicorn): each reviewer logs in and screens
    by keyboard, the lead sees conflicts, agreement and PRISMA. Listens on 127.0.0.1 only
    unless --host says otherwise."""
    from review.web.serve import bind, run

    rv = open_review(review, db, uses=("screening", "exclusion_reasons"))
    try:
        sock, loopback = bind(host, port)
        bound_port = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        typer.echo(f"Serving {rv.store.display_url} at http://{shown}:{bound_port}/", err=False)
        if loopback:
            typer.echo(
                "Loopback only: other machines cannot reach it (--host 0.0.0.0 serves the "
                "network, behind a TLS proxy)."
            )
        else:
            typer.echo(
                "Listening beyond this machine: session cookies are Secure, so browsers log "
                "in only over https; put a TLS proxy in front of this port."
            )
        sys.stdout.flush()
        run(rv, sock, loopback=loopback)
    finally:
        rv.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
