"""Command line 命令行: ``flask --app app <command>``."""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

# One demo account per role (username, display name, groups, organisation).
DEMO_USERS = [
    ("window", "窗口经办 陈敏", ["window_clerk"], "工商银行石狮支行制卡窗口"),
    ("outlet", "网点经办 黄丽", ["outlet_clerk"], "宝盖镇代办网点"),
    ("centre", "中心经办 王强", ["centre_clerk"], "石狮市社保卡中心"),
    ("reviewer", "复核 林芳", ["reviewer"], "石狮市社保卡中心"),
    ("manager", "科长 张伟", ["manager"], "石狮市人社局"),
    ("analyst", "流程分析 李娜", ["process_analyst"], "石狮市人社局"),
    ("admin", "系统管理员", ["administrator"], "石狮市人社局"),
]
DEMO_PASSWORD = "demo1234"


def _session():
    return current_app.extensions["sscard"].session


def seed_demo_users(session) -> list[tuple[str, str]]:
    from app.auth.models import User
    from app.auth.service import create_user, ensure_groups
    ensure_groups(session)
    created = []
    for username, name, groups, org in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            create_user(session, username, DEMO_PASSWORD, groups, name, org)
        created.append((username, name))
    return created


def register_cli(app: Flask) -> None:
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

    @app.cli.command("calendar-import")
    @click.argument("path")
    def calendar_import(path):
        """Enter holidays / make-up days (and whole years) from a JSON file."""
        from app.sla.importer import CalendarFileError, import_overrides
        session = _session()
        try:
            n = import_overrides(session, path, "cli")
        except CalendarFileError as e:
            session.rollback()
            raise click.ClickException(str(e))
        session.commit()
        click.echo(f"{n} days entered")

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
        from app.auth.models import ApiToken, utcnow
        session = _session()
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id}")
        token.revoked_at = utcnow()
        session.commit()
        click.echo(f"token {token_id} revoked")
