"""The `invex` command: run the service, manage it, and extract without servers.

invex up [--dev]              the whole service (embedded servers when no URLs are set;
                              --dev: webhooks may go to receivers on this machine)
invex migrate                 apply pending migrations
invex orgs create NAME        create an organisation
invex orgs list               the organisations: ID, name, plan, created
invex keys create --org ID    create an API key (the secret is printed once)
invex keys list --org ID      an organisation's keys: prefix, name, scopes, mode, dates
                              (never a secret: only its hash is stored)
invex keys revoke KEY_ID      revoke a key at once, whichever organisation holds it
invex orgs set-plan ORG PLAN  move an organisation to another plan (common/plans.py)
invex credits top-up ORG N    add N top-up page credits to an organisation
invex credits show ORG        an organisation's plan and credits this month
invex export --org ID --format FMT [filters] -o FILE
                              write an export here, with a progress bar (the worker's
                              writer, in this process, against the running stack's database)
invex watch DIR --org ID      upload each file dropped in DIR, then move it to DIR/done
                              or DIR/failed (with a .error.txt note)
invex smtpd --route ADDR=ORG  receive mail for these addresses (behind your MTA) and
                              make invoices of its attachments
invex extract FILE...         extract invoice fields, no servers needed
invex settings                every setting with its default
invex status                  the running stack's processes, queues and oldest waiting job
invex demo-invoice FILE       write a sample invoice PDF
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from common.config import ConfigError, Settings, get_settings, settings_markdown
from common.plans import PLANS

STATE_FILE = "servers.json"


def _state_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / STATE_FILE


def resolve_server_urls(settings: Settings) -> tuple[str, str]:
    """The configured URLs, else those of the embedded servers `invex up` is running: the
    one under INVEX_DATA_DIR, else (that variable unset) the only one this user runs."""
    if settings.database_url and settings.redis_url:
        return settings.database_url, settings.redis_url
    state = _state_path(settings)
    urls = json.loads(state.read_text()) if state.exists() else _only_running_stack(state)
    return settings.database_url or urls["database_url"], settings.redis_url or urls["redis_url"]


def _only_running_stack(state: Path) -> dict[str, str]:
    from common.running_stacks import running_stacks

    stacks = running_stacks()
    where = " or ".join(f"INVEX_DATA_DIR={stack.data_dir}" for stack in stacks)
    if len(stacks) == 1 and "INVEX_DATA_DIR" not in os.environ:
        return {"database_url": stacks[0].database_url, "redis_url": stacks[0].redis_url}
    if stacks:
        raise ConfigError(
            f"no `invex up` uses {state.parent.absolute()}; "
            f"set {where}, or set INVEX_DATABASE_URL and "
            "INVEX_REDIS_URL."
        )
    raise ConfigError(
        f"no `invex up` is running (no {state}). Start `make up` first, or set "
        "INVEX_DATABASE_URL and INVEX_REDIS_URL."
    )


def _use_servers(settings: Settings) -> None:
    database_url, redis_url = resolve_server_urls(settings)
    os.environ["INVEX_DATABASE_URL"] = database_url
    os.environ["INVEX_REDIS_URL"] = redis_url
    get_settings.cache_clear()
    from common import db

    db.configure(database_url)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from common.migrations import apply_migrations

    database_url, _ = resolve_server_urls(settings)
    applied = apply_migrations(database_url)
    print("applied: " + ", ".join(applied) if applied else "nothing to apply")
    return 0


def cmd_orgs_create(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.accounts.service import create_org

    org = create_org(args.name)
    if args.json:
        print(json.dumps({"id": org.id, "name": org.name, "plan": org.plan}))
    else:
        print(f"created organisation {org.id} ({org.name})")
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.accounts.service import create_api_key

    created = create_api_key(
        args.org,
        livemode=args.mode == "live",
        scopes=args.scope,
        name=args.name,
        member_id=args.member,
    )
    if args.json:
        print(json.dumps({"id": created.key.id, "secret": created.secret}))
    else:
        print(f"created key {created.key.id}; its secret, shown only now:\n{created.secret}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """From a prompt on a terminal (asked twice), else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            raise ConfigError("the two passwords differ; nothing changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_members_set_password(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.sessions.service import set_password

    member_id = set_password(args.org, args.email, _read_password(args), create_role=args.create_as)
    print(f"password set for {args.email} ({member_id}); its web sessions were ended")
    return 0


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def cmd_orgs_list(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.accounts.service import list_orgs

    orgs = list_orgs(args.limit)
    if args.json:
        print(
            json.dumps(
                [
                    {"id": o.id, "name": o.name, "plan": o.plan, "created": _unix(o.created_at)}
                    for o in orgs
                ]
            )
        )
    else:
        rows = [(o.id, o.name, o.plan, _when(o.created_at)) for o in orgs]
        _print_table(("ID", "NAME", "PLAN", "CREATED (UTC)"), rows)
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.accounts.service import api_key_resource, list_org_api_keys

    keys = list_org_api_keys(args.org)
    if args.json:
        print(json.dumps([api_key_resource(key) for key in keys]))
        return 0
    rows = [
        (
            key.id,
            key.prefix,
            key.name or "-",
            ",".join(key.scopes) or "all",
            "live" if key.livemode else "test",
            _when(key.created_at),
            _when(key.last_used_at),
            _when(key.revoked_at),
        )
        for key in keys
    ]
    header = ("ID", "PREFIX", "NAME", "SCOPES", "MODE", "CREATED", "LAST USED", "REVOKED")
    _print_table(header, rows)
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.accounts.service import api_key_resource, revoke_any_api_key

    key = revoke_any_api_key(args.key_id)
    if args.json:
        print(json.dumps(api_key_resource(key)))
    else:
        print(f"revoked key {key.id} ({key.prefix}...) of {key.org_id} at {_when(key.revoked_at)}")
    return 0


def _print_credits(credits: dict, as_json: bool, done: str) -> None:
    if as_json:
        print(json.dumps(credits))
    else:
        print(
            f"{done}{credits['org']}: plan {credits['plan']}"
            f" ({credits['plan_monthly_allotment']} pages a month), {credits['used']} used"
            f" this month; remaining {credits['remaining']}"
            f" ({credits['subscription']} of the allotment + {credits['top_up']} top-up)"
        )


def cmd_orgs_set_plan(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.credits.service import set_plan

    _print_credits(set_plan(args.org, args.plan), args.json, "plan set; ")
    return 0


def cmd_orgs_set_split(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.invoices.service import set_split_default

    set_split_default(args.org, args.split == "on")
    print(f"{args.org}: files of several documents are {'' if args.split == 'on' else 'not '}split")
    return 0


def cmd_credits_top_up(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.credits.service import add_top_up

    _print_credits(add_top_up(args.org, args.pages), args.json, f"added {args.pages} pages; ")
    return 0


def cmd_credits_show(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.credits.service import org_credits

    _print_credits(org_credits(args.org), args.json, "")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from tqdm import tqdm

    from common.exports import service

    filters = {name: getattr(args, name) for name in service.FILTER_NAMES}
    for name in ("date_from", "date_to"):
        filters[name] = filters[name].isoformat() if filters[name] else None
    datev = {
        name: getattr(args, f"datev_{name}")
        for name in ("consultant_number", "client_number", "fiscal_year_start_month")
        if getattr(args, f"datev_{name}") is not None
    }
    export = service.unsaved_export(
        args.org,
        livemode=args.mode == "live",
        format=args.format,
        filters=filters,
        include_files=args.include_files,
        bom=args.bom,
        datev=datev or None,
    )
    total = service.count_export_invoices(export)
    target = Path(args.output)
    partial = target.with_name(target.name + ".partial")
    # disable=None: a bar only on a terminal, so piped or scripted runs stay quiet
    with tqdm(total=total, unit="inv", disable=None, file=sys.stderr) as bar:

        def on_progress(done: int) -> None:
            bar.update(done - bar.n)

        with partial.open("wb") as out:
            count, _, extension = service.write_export(export, out, on_progress=on_progress)
        on_progress(count)
    partial.replace(target)  # a file at -o is always a whole export
    if args.json:
        print(
            json.dumps({"invoice_count": count, "path": str(target), "size": target.stat().st_size})
        )
    else:
        print(f"wrote {count} invoices to {target} ({args.format}, a {extension} file)")
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    from common.accounts.service import principal_for_org
    from common.logs import configure_logging
    from common.watched_folder import FolderWatcher

    configure_logging(settings.log_level, settings.log_format)
    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"invex: {directory} is not a directory", file=sys.stderr)
        return 2
    principal = principal_for_org(args.org, livemode=args.mode == "live", acting_as="folder")
    watcher = FolderWatcher(directory, principal, settle=args.settle)
    try:
        watcher.run(interval=args.interval)
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_smtpd(args: argparse.Namespace, settings: Settings) -> int:
    _use_servers(settings)
    import threading

    from aiosmtpd.controller import Controller

    from common.accounts.service import principal_for_org
    from common.logs import configure_logging
    from common.mail.smtp_receiver import (
        BadRoute,
        InvoiceHandler,
        max_message_bytes,
        parse_route,
    )

    configure_logging(settings.log_level, settings.log_format)
    try:
        routes = dict(parse_route(value) for value in args.route)
    except BadRoute as exc:
        print(f"invex: {exc}", file=sys.stderr)
        return 2
    principals = {
        address: principal_for_org(org_id, livemode=args.mode == "live", acting_as="smtp")
        for address, org_id in routes.items()
    }
    controller = Controller(
        InvoiceHandler(principals),
        hostname=args.host,
        port=args.port,
        data_size_limit=max_message_bytes(),
        ident="Invex",
    )
    controller.start()
    print(f"invex: SMTP on {args.host}:{args.port} for {', '.join(routes)}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


def _stack_state(settings: Settings) -> dict | None:
    """servers.json of the `invex up` these commands use (see resolve_server_urls), or None
    when the servers are configured by URL (a deployment `invex up` did not start)."""
    state = _state_path(settings)
    if not state.exists() and not (settings.database_url and settings.redis_url):
        from common.running_stacks import running_stacks

        stacks = running_stacks()
        if len(stacks) == 1 and "INVEX_DATA_DIR" not in os.environ:
            state = Path(stacks[0].data_dir) / STATE_FILE
    try:
        return {"data_dir": str(state.parent.absolute()), **json.loads(state.read_text())}
    except (OSError, ValueError):
        return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stack_status(settings: Settings) -> dict:
    """What `invex status` shows, as data: processes (when `invex up` runs them), broker
    queues, and the jobs waiting in PostgreSQL with the oldest one's age in seconds."""
    from datetime import UTC, datetime

    from common import backlog
    from common.health import redis_client

    state = _stack_state(settings)
    _use_servers(settings)
    now = datetime.now(UTC)
    processes = None
    if state is not None:
        processes = [
            {"name": name, "pid": pid, "running": _process_alive(pid)}
            for name, pid in state.get("processes", {}).items()
        ]
    redis_client.cache_clear()  # made for the URLs _use_servers has just set
    return {
        "data_dir": state["data_dir"] if state else None,
        "supervisor": state.get("supervisor") if state else None,
        "processes": processes,
        "queues": backlog.queue_lengths(redis_client()),
        "waiting": [
            {
                "kind": row.kind,
                "jobs": row.waiting,
                "oldest_seconds": round((now - row.oldest).total_seconds(), 1)
                if row.oldest
                else None,
            }
            for row in backlog.waiting_jobs()
        ],
    }


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    status = stack_status(settings)
    if args.json:
        print(json.dumps(status))
        return 0
    if status["processes"] is None:
        print("processes: not started by `invex up` (servers configured by URL)")
    else:
        print(f"stack under {status['data_dir']} (invex up: pid {status['supervisor']})")
        for process in status["processes"]:
            state = "running" if process["running"] else "NOT RUNNING"
            print(f"  {process['name']:<10} pid {process['pid']:<8} {state}")
    queues = ", ".join(f"{name} {length}" for name, length in status["queues"].items())
    print(f"broker queues: {queues}")
    print("waiting jobs:")
    for row in status["waiting"]:
        oldest = (
            f", oldest {row['oldest_seconds']:g} s" if row["oldest_seconds"] is not None else ""
        )
        print(f"  {row['kind']:<17} {row['jobs']}{oldest}")
    return 0


def cmd_extract(argv: list[str]) -> int:
    from workers.extraction.batch import main as extract_main

    return extract_main(argv)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from common.supervisor import run_service

    return run_service(settings, dev=args.dev)


def cmd_demo_invoice(args: argparse.Namespace, settings: Settings) -> int:
    from common.demo import demo_invoice_pdf

    Path(args.path).write_bytes(demo_invoice_pdf())
    print(f"wrote a sample invoice to {args.path}")
    return 0


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    print(settings_markdown())
    return 0


def cmd_secret_key(args: argparse.Namespace, settings: Settings) -> int:
    from common.secretbox import generate_key

    print(generate_key())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invex", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run API, workers and beat (embedded servers by default)")
    up.add_argument(
        "--dev",
        action="store_true",
        help="let webhooks reach loopback and private addresses over http (development only:"
        " sets INVEX_WEBHOOK_ALLOW_PRIVATE=1 and INVEX_WEBHOOK_ALLOW_HTTP=1 unless set)",
    )
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("settings", help="print every setting as a Markdown table")
    sub.add_parser("secret-key", help="print a new random INVEX_SECRET_KEY")
    status = sub.add_parser(
        "status", help="the running stack's processes, queue depths and oldest waiting job"
    )
    status.add_argument("--json", action="store_true")
    demo = sub.add_parser("demo-invoice", help="write a sample invoice PDF (for trying it out)")
    demo.add_argument("path")
    sub.add_parser("extract", help="extract invoice fields from files (no servers)", add_help=False)

    orgs = sub.add_parser("orgs", help="organisations").add_subparsers(dest="action", required=True)
    org_create = orgs.add_parser("create", help="create an organisation")
    org_create.add_argument("name")
    org_create.add_argument("--json", action="store_true")
    org_list = orgs.add_parser("list", help="the organisations, oldest first")
    org_list.add_argument("--limit", type=int, default=100, help="at most this many (1-1000)")
    org_list.add_argument("--json", action="store_true")
    org_plan = orgs.add_parser("set-plan", help="move an organisation to another plan")
    org_plan.add_argument("org")
    org_plan.add_argument("plan", choices=sorted(PLANS))
    org_plan.add_argument("--json", action="store_true")
    org_split = orgs.add_parser(
        "set-split",
        help="whether uploads holding several documents become one invoice each (default on)",
    )
    org_split.add_argument("org")
    org_split.add_argument("split", choices=("on", "off"))

    credits = sub.add_parser("credits", help="page credits").add_subparsers(
        dest="action", required=True
    )
    top_up = credits.add_parser("top-up", help="add top-up page credits (they never expire)")
    top_up.add_argument("org")
    top_up.add_argument("pages", type=int)
    top_up.add_argument("--json", action="store_true")
    show = credits.add_parser("show", help="an organisation's plan and credits this month")
    show.add_argument("org")
    show.add_argument("--json", action="store_true")

    export = sub.add_parser(
        "export", help="write an export to a file here, with a progress bar (as POST /v1/exports)"
    )
    export.add_argument("--org", required=True)
    export.add_argument(
        "--format", required=True, help="csv, csv_lines, json, ubl, facturx, datev, ..."
    )
    export.add_argument("-o", "--output", required=True, help="the file to write")
    export.add_argument("--mode", choices=("live", "test"), default="live")
    export.add_argument("--status")
    export.add_argument("--review-status", dest="review_status")
    export.add_argument("--document-type", dest="document_type")
    export.add_argument("--vendor", help="case-insensitive substring of the vendor's name")
    export.add_argument("--currency")
    export.add_argument("--date-from", dest="date_from", type=date.fromisoformat)
    export.add_argument("--date-to", dest="date_to", type=date.fromisoformat)
    export.add_argument("--created-after", dest="created_after", type=int, help="Unix seconds")
    export.add_argument("--created-before", dest="created_before", type=int, help="Unix seconds")
    export.add_argument("--include-files", action="store_true", help="a ZIP with the originals")
    export.add_argument("--bom", action="store_true", help="CSV starts with a UTF-8 BOM")
    export.add_argument("--datev-consultant-number", dest="datev_consultant_number", type=int)
    export.add_argument("--datev-client-number", dest="datev_client_number", type=int)
    export.add_argument(
        "--datev-fiscal-year-start-month", dest="datev_fiscal_year_start_month", type=int
    )
    export.add_argument("--json", action="store_true")

    watch = sub.add_parser(
        "watch", help="upload each file dropped in a folder, then move it to done/ or failed/"
    )
    watch.add_argument("directory")
    watch.add_argument("--org", required=True)
    watch.add_argument("--mode", choices=("live", "test"), default="live")
    watch.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds a file's size and time must stay the same before it is taken",
    )
    watch.add_argument("--interval", type=float, default=0.5, help="seconds between looks")

    members = sub.add_parser("members", help="members of an organisation").add_subparsers(
        dest="action", required=True
    )
    set_password = members.add_parser(
        "set-password", help="set a member's web app password (prompted, or read from stdin)"
    )
    set_password.add_argument("--org", required=True)
    set_password.add_argument("--email", required=True)
    set_password.add_argument(
        "--create-as",
        choices=("owner", "admin", "member", "viewer"),
        default=None,
        help="create the member with this role if the organisation has none with the email",
    )
    smtpd = sub.add_parser(
        "smtpd", help="receive mail for organisations' addresses (behind your mail server)"
    )
    smtpd.add_argument(
        "--route",
        action="append",
        required=True,
        help="ADDRESS=org_...: mail to ADDRESS becomes that organisation's invoices (repeat)",
    )
    smtpd.add_argument("--host", default="127.0.0.1", help="listen address (loopback: safe)")
    smtpd.add_argument("--port", type=int, default=2525)
    smtpd.add_argument("--mode", choices=("live", "test"), default="live")

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    key_create = keys.add_parser("create", help="create an API key")
    key_create.add_argument("--org", required=True)
    key_create.add_argument("--mode", choices=("live", "test"), default="live")
    key_create.add_argument(
        "--scope", action="append", default=[], help="repeat for several; none means full access"
    )
    key_create.add_argument("--name", default="")
    key_create.add_argument(
        "--member", default=None, help="tie the key to a member (mem_...): its role caps it"
    )
    key_create.add_argument("--json", action="store_true")
    key_list = keys.add_parser("list", help="an organisation's keys (never their secrets)")
    key_list.add_argument("--org", required=True)
    key_list.add_argument("--json", action="store_true")
    key_revoke = keys.add_parser("revoke", help="revoke a key at once")
    key_revoke.add_argument("key_id")
    key_revoke.add_argument("--json", action="store_true")
    return parser


COMMANDS = {
    ("up", None): cmd_up,
    ("migrate", None): cmd_migrate,
    ("settings", None): cmd_settings,
    ("secret-key", None): cmd_secret_key,
    ("status", None): cmd_status,
    ("demo-invoice", None): cmd_demo_invoice,
    ("export", None): cmd_export,
    ("watch", None): cmd_watch,
    ("smtpd", None): cmd_smtpd,
    ("orgs", "create"): cmd_orgs_create,
    ("keys", "create"): cmd_keys_create,
    ("members", "set-password"): cmd_members_set_password,
    ("orgs", "list"): cmd_orgs_list,
    ("keys", "list"): cmd_keys_list,
    ("keys", "revoke"): cmd_keys_revoke,
    ("orgs", "set-plan"): cmd_orgs_set_plan,
    ("orgs", "set-split"): cmd_orgs_set_split,
    ("credits", "top-up"): cmd_credits_top_up,
    ("credits", "show"): cmd_credits_show,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["extract"]:  # its own parser, shared with `python -m`
        return cmd_extract(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        handler = COMMANDS[(args.command, getattr(args, "action", None))]
        return handler(args, settings)
    except ConfigError as exc:
        print(f"invex: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from common.errors import InvexError

        if isinstance(exc, InvexError):
            print(f"invex: {exc.code}: {exc.message}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
