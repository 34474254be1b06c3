"""Command line 命令行: ``flask --app app <command>``."""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

# One demo account per role, and a clerk of the second bank window (username, display name,
# groups, organisation, office: a ServicePoint code of app.cards.demo).
DEMO_USERS = [
    ("window", "窗口经办 陈敏", ["window_clerk"], "工商银行石狮支行制卡窗口", "ICBC-SS"),
    ("window_abc", "窗口经办 郑华", ["window_clerk"], "农业银行石狮支行制卡窗口", "ABC-SS"),
    ("outlet", "网点经办 黄丽", ["outlet_clerk"], "宝盖镇代办网点", "BAOGAI"),
    ("centre", "中心经办 王强", ["centre_clerk"], "石狮市社保卡中心", "SS-CENTRE"),
    ("reviewer", "复核 林芳", ["reviewer"], "石狮市社保卡中心", "SS-CENTRE"),
    ("manager", "科长 张伟", ["manager"], "石狮市人社局", "SS-CENTRE"),
    ("analyst", "流程分析 李娜", ["process_analyst"], "石狮市人社局", "SS-CENTRE"),
    ("admin", "系统管理员", ["administrator"], "石狮市人社局", "SS-CENTRE"),
]
DEMO_PASSWORD = "demo1234"


def _session():
    return current_app.extensions["sscard"].session


def seed_demo_users(session) -> list[tuple[str, str]]:
    from app.auth.models import User
    from app.auth.service import create_user, ensure_groups
    ensure_groups(session)
    created = []
    for username, name, groups, org, office in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            create_user(session, username, DEMO_PASSWORD, groups, name, org, office)
        elif user.office is None:  # accounts made before offices existed
            user.office = office
        created.append((username, name))
    return created


def _recompute() -> int:
    from app.engine.recompute import process_calendar_changes
    return process_calendar_changes(current_app.extensions["sscard"].session_factory)


def register_cli(app: Flask) -> None:
    from app.cli_batch import register as register_batch
    register_batch(app)

    @app.cli.command("init-db")
    def init_db():
        """Apply the Alembic migrations (create or upgrade the schema)."""
        from app.migrate import upgrade
        upgrade(current_app.config["DATABASE_URL"])
        click.echo("schema up to date")

    @app.cli.command("deploy")
    @click.argument("directory", required=False)
    def deploy(directory):
        """Validate and deploy processes/*.bpmn (a new version when a file changed)."""
        from app.engine.repository import ModelInvalid, deploy_directory
        from app.engine.services import Actor
        session = _session()
        try:
            models = deploy_directory(session, directory or current_app.config["PROCESSES_DIR"], Actor.system("cli"))
        except ModelInvalid as e:
            session.rollback()
            raise click.ClickException(str(e))
        session.commit()
        for m in models:
            click.echo(f"{m.key} v{m.version}")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Demo accounts (one per role), demo register/archive/stock data, deployed processes."""
        session = _session()
        users = seed_demo_users(session)
        try:
            from app.cards.demo import seed_demo as seed_domain
            seed_domain(session)
        except ModuleNotFoundError:
            pass
        session.commit()
        click.echo("演示账号 Demo accounts (password %s):" % DEMO_PASSWORD)
        for username, name in users:
            click.echo(f"  {username:10s} {name}")

    @app.cli.command("operations")
    def operations_cmd():
        """The service operations BPMN may call: parameters, results, error codes."""
        from app.engine.services import registry
        for op in registry.describe():
            params = ", ".join(f"{n}: {t}" + (f" = {d}" if d is not None else "") for n, t, d in op.params)
            click.echo(f"{op.name}({params})  [{op.module}]")
            click.echo(f"    {op.summary}")
            click.echo(f"    → {', '.join(op.results) or '-'}")
            if op.errors:
                click.echo(f"    errors: {', '.join(op.errors)}")

    @app.cli.command("seed-demo-cases")
    def seed_demo_cases_cmd():
        """Each procedure family's demo cases (after deploy), as its manifest declares."""
        session = _session()()  # the Session itself: steps need it
        for family in current_app.extensions["sscard"].families:
            if family.demo_seed is not None:
                started = family.demo_seed(session) or []
                click.echo(f"{family.name}: {len(started)} demo case(s) started")

    @app.cli.command("calendar-import")
    @click.argument("path")
    def calendar_import(path):
        """Enter holidays / make-up days (and whole years) from a JSON file; recomputes."""
        from app.sla.importer import CalendarFileError, import_overrides
        session = _session()
        try:
            n = import_overrides(session, path, "cli")
        except CalendarFileError as e:
            session.rollback()
            raise click.ClickException(str(e))
        session.commit()
        click.echo(f"{n} days entered; {_recompute()} case(s) recomputed")

    @app.cli.command("calendar-notice")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--json", "as_json", is_flag=True, help="print the days read; change nothing")
    @click.option("--apply", "apply", is_flag=True, help="enter the year and recompute deadlines")
    def calendar_notice(path, as_json, apply):
        """Read the State Council's holiday notice (国务院办公厅关于XXXX年部分节假日安排的通知)."""
        import json as jsonlib
        import sys
        from pathlib import Path

        from app.sla.entry import enter_notice
        from app.sla.notice import NoticeError, parse_notice
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
            notice = parse_notice(text)
        except (OSError, UnicodeDecodeError) as e:
            click.echo(f"无法读取文件 / cannot read the file: {e}", err=True)
            sys.exit(2)
        except NoticeError as e:
            click.echo(str(e), err=True)
            sys.exit(2)
        if as_json:
            click.echo(jsonlib.dumps(notice.as_json(), ensure_ascii=False))
        if apply:
            session = _session()
            enter_notice(session, notice, "cli")
            session.commit()
            click.echo(f"{notice.year}: {len(notice.days)} days entered; "
                       f"{_recompute()} case(s) recomputed", err=as_json)
        elif not as_json:
            off = sum(1 for w in notice.days.values() if not w)
            click.echo(f"{notice.year}: {off} days off, {len(notice.days) - off} make-up working "
                       f"days (nothing entered; --apply enters, --json prints them)")

    @app.cli.command("calendar-status")
    def calendar_status():
        """Which years the working-day calendar covers, and from where."""
        from datetime import datetime

        from app.common.clock import CHINA_TZ
        from app.sla.coverage import status_years, year_sources, years_to_enter
        session = _session()
        today = datetime.now(CHINA_TZ).date()
        for year, source in year_sources(session, status_years(today)).items():
            click.echo(f"{year} {source}")
        for year in years_to_enter(session, today):
            click.echo(f"warning: {year} is missing: enter it before 1 January "
                       f"(flask --app app calendar-notice FILE --apply)", err=True)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.argument("groups", nargs=-1, required=True)
    @click.password_option()
    def create_user_cmd(username, groups, password):
        from app.auth.service import create_user
        session = _session()
        create_user(session, username, password, list(groups))
        session.commit()
        click.echo(f"user {username} created")

    @app.cli.command("create-token")
    @click.argument("username")
    @click.option("--name", default="cli")
    def create_token_cmd(username, name):
        """Create an API token for USERNAME; prints the secret once."""
        from app.auth.models import User
        from app.auth.service import create_token
        session = _session()
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username}")
        token, secret = create_token(session, user, name)
        session.commit()
        click.echo(f"token {token.id}: {secret}")

    @app.cli.command("revoke-token")
    @click.argument("token_id", type=int)
    def revoke_token_cmd(token_id):
        from app.auth.models import ApiToken
        from app.common.clock import utcnow
        session = _session()
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id}")
        token.revoked_at = utcnow()
        session.commit()
        click.echo(f"token {token_id} revoked")

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user_cmd(username):
        """Deactivate USERNAME 停用账号: their open sessions end at once, their API tokens stop."""
        from app.auth.models import User
        from app.auth.service import deactivate_user
        session = _session()
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username}")
        ended = deactivate_user(session, user)
        session.commit()
        click.echo(f"user {username} deactivated; {ended} session(s) ended")

    @app.cli.command("unlock-user")
    @click.argument("username")
    def unlock_user_cmd(username):
        """End the sign-in lockout of USERNAME 解除登录锁定 (after too many wrong passwords)."""
        from app.auth.throttle import unlock
        session = _session()
        n = unlock(session, username)
        session.commit()
        click.echo(f"{username}: {'unlocked' if n else 'was not locked'}")
