"""The operation table is generated from the registry (never kept by hand): every operation
lists its parameters, results and the error codes it raises, and the listing tells the truth
about the codes each operation raises itself."""
import ast
import inspect
import textwrap

from app.engine.services import ServiceError, registry
from app.procedures import load_families
from tests.api import app  # noqa: F401  (fixture)
from tests.fixtures_app import Browser

load_families()


def raised_codes(fn) -> set[str]:
    """Codes of the ``ServiceError("code", ...)`` the operation's own body raises."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == ServiceError.__name__
            and node.args and isinstance(node.args[0], ast.Constant)}


def test_every_operation_is_described_truthfully():
    infos = {i.name: i for i in registry.describe()}
    assert {"application.record", "police.verify", "card.allocate", "sms.notify_pickup",
            "calendar.enter_notice"} <= set(infos)
    for name, info in infos.items():
        if not info.module.startswith("app."):
            continue  # a test's own operation
        assert info.results, f"{name} lists no results"
        assert info.summary, f"{name} has no docstring"
        undeclared = raised_codes(registry.get(name)) - set(info.errors)
        assert not undeclared, f"{name} raises {undeclared} without declaring them"
    police = infos["police.verify"]
    assert police.params == (("application_id", "int", None),)
    assert "police_unavailable" in police.errors


def test_the_analysts_page_and_the_command_list_them(app):
    web = Browser(app.test_client())
    web.login("analyst")
    html = web.get("/processes/operations").get_data(as_text=True)
    assert 'id="operations"' in html and "police.verify" in html and "police_unavailable" in html
    runner = app.test_cli_runner()
    out = runner.invoke(args=["operations"]).output
    assert "card.allocate" in out and "live_card_exists" in out and "application_id: int" in out
