"""Command line of the batch family 批量制卡命令 (operators and acceptance checks):
``city-config``, ``police-import``, ``batch-import``, ``batch-roster``."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app


def _factory():
    return current_app.extensions["sscard"].session_factory


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise click.ClickException(f"无法读取文件 {path}：{e.strerror}")


def register(app: Flask) -> None:
    @app.cli.command("city-config")
    @click.argument("path", required=False)
    def city_config(path):
        """Set the city's insured regions and partner banks from a JSON file (no file: print them)."""
        from app.procedures.batch import city
        with _factory()() as s, s.begin():
            if path:
                try:
                    city.apply(s, city.load_file(path))
                except city.CityConfigError as e:
                    raise click.ClickException(e.message_zh)
            click.echo(json.dumps(city.as_dict(city.current(s)), ensure_ascii=False, indent=1))

    @app.cli.command("police-import")
    @click.argument("path")
    def police_import(path):
        """Load a household-register extract (CSV) into the embedded police register."""
        from app.procedures.batch.importing.police_extract import load_extract
        from app.procedures.batch.importing.reader import ImportFileError
        try:
            result = load_extract(_factory(), _read(path))
        except ImportFileError as e:
            raise click.ClickException(e.message_zh)
        for line, reason in result.rejected[:50]:
            click.echo(f"第 {line} 行：{reason}", err=True)
        click.echo(f"{result.loaded} 人已载入公安户籍库；{len(result.rejected)} 行无法读取（共 {result.rows} 行）")

    @app.cli.command("batch-import")
    @click.argument("path")
    @click.option("--name", required=True, help="批次名称")
    @click.option("--cutoff", required=True, help="数据截止日期 YYYY-MM-DD")
    @click.option("--regions", required=True, help="参保区域代码，逗号分隔")
    @click.option("--json", "as_json", is_flag=True, help="print the figures as one JSON object")
    def batch_import(path, name, cutoff, regions, as_json):
        """Create a batch, import the contribution export, check and build the rosters."""
        from app.common.errors import BilingualError
        from app.engine import jobs
        from app.procedures.batch.importing import service
        try:
            cutoff_day = date.fromisoformat(cutoff)
        except ValueError:
            raise click.ClickException(f"截止日期“{cutoff}”不是 YYYY-MM-DD 格式的日期")
        content = _read(path)
        factory = _factory()
        try:
            with factory() as s, s.begin():
                batch = service.create_batch(s, name, cutoff_day, regions.split(","), "cli")
                upload = service.store_upload(s, batch, Path(path).name, content, "cli")
                job = service.enqueue_import(s, batch, upload, "cli")
                batch_id, job_id = batch.id, job.id
        except BilingualError as e:
            raise click.ClickException(e.message_zh)
        del content, upload  # stored: the job reads it back a piece at a time
        state = jobs.run_now(factory, job_id)
        with factory() as s:
            job = s.get(jobs.BackgroundJob, job_id)
            if state != "done":
                raise click.ClickException(f"批次 {batch_id} 导入失败：{job.error_zh or state}")
            result = job.result
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            for key, value in result.items():
                click.echo(f"{key:24s} {value}")

    @app.cli.command("batch-roster")
    @click.argument("batch_id", type=int)
    @click.argument("employer_code")
    @click.option("--json", "as_json", is_flag=True)
    def batch_roster(batch_id, employer_code, as_json):
        """An employer's comparison roster 花名册 in order (ID numbers masked)."""
        from app.procedures.batch.rosters import roster
        with _factory()() as s:
            rows = roster(s, batch_id, employer_code)
        if rows is None:
            raise click.ClickException(f"批次 {batch_id} 中没有单位社保编码为 {employer_code} 的单位")
        if as_json:
            click.echo(json.dumps(rows, ensure_ascii=False))
        else:
            for r in rows:
                click.echo(f"{r['seq']:>5} {r['name']:<8} {r['sex']} {r['id_number']}")
