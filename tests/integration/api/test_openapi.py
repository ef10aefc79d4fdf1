"""The OpenAPI document is the contract: every route is in it, every operation needs a token, and
Schemathesis (property-based requests generated from the served document) finds no 5xx and no
response that breaks its documented schema. The docs page and its assets are served by the app."""
from __future__ import annotations

import re

import pytest
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, settings

from tests.conftest import dispose, make_settings, migrate_app

pytestmark = pytest.mark.integration
SPEC = "/api/v1/openapi.json"
FEWER_EXAMPLES = ("/api/v1/alerts", "/api/v1/portfolio", "/api/v1/admin")
UNDOCUMENTED = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/<name>"}


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory):
    """A seeded server (demo market, one analysed symbol) and a read+trade token, shared by this module."""
    from app.analysis.analyze import analyze_symbol
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import query
    from app.market.seed import seed_demo
    from app.server import create_server

    server = create_server(make_settings(tmp_path_factory.mktemp("contract"), api_rate_limit="100000 per minute"))
    migrate_app(server)
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        cat = query.catalog(db.session)
        analyze_symbol(db.session.connection(), cat.exchange["BTC/USDT"], "BTC/USDT")
        db.session.commit()
        user = create_user("contract@example.com", "correct-horse-battery")
        _row, token = create_token(db.session, user, "contract", ["read", "trade"], 1)
    server.config["TEST_API_TOKEN"] = token
    yield server
    dispose(server)


@pytest.fixture(scope="module")
def spec(contract_app):
    return contract_app.test_client().get(SPEC).get_json()


@pytest.fixture(scope="module")
def api_schema(contract_app):
    return schemathesis.openapi.from_wsgi(SPEC, contract_app)


def _flask_rule_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def test_document_is_openapi_31_with_bearer_security(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]


def test_every_api_route_is_documented(contract_app, spec):
    routes = {(r.rule, m) for r in contract_app.url_map.iter_rules() if r.rule.startswith("/api/v1")
              for m in r.methods - {"HEAD", "OPTIONS"} if r.rule not in UNDOCUMENTED}
    documented = {(p, m.upper()) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
    assert {(_flask_rule_to_openapi(r), m) for r, m in routes} == documented
    assert len(documented) >= 11


def test_json_answers_are_documented_where_another_format_or_a_header_is(spec):
    """``blp.doc`` replaces a response it names: the JSON body must still be in the document (a generated
    request once got an undocumented application/json 200 from /candles)."""
    for path in ("/api/v1/candles", "/api/v1/signals", "/api/v1/signals/history"):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert content["application/json"]["schema"]["$ref"].startswith("#/components/schemas/"), path
    assert "text/csv" in spec["paths"]["/api/v1/candles"]["get"]["responses"]["200"]["content"]


def test_no_operation_is_reachable_without_a_token(contract_app, spec):
    client = contract_app.test_client()
    for path, ops in spec["paths"].items():
        url = re.sub(r"\{[a-z_]*id\}", "1", path).replace("{name}", "trades.csv")
        for method in (m for m in ops if m != "parameters"):
            resp = client.open(url, method=method.upper(), json={} if method == "post" else None)
            assert resp.status_code == 401, (method, path, resp.status_code)
            assert resp.mimetype == "application/problem+json"


def test_docs_page_and_assets_are_local(contract_app):
    client = contract_app.test_client()
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "swagger-ui" in html
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/api/v1/docs/assets/") for s in srcs)  # nothing from another host
    for src in srcs:
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.data) > 20, src
    assert "SwaggerUIBundle" in client.get("/api/v1/docs/assets/swagger-ui-bundle.js").get_data(as_text=True)
    assert client.get("/api/v1/docs/assets/../../settings.py").status_code == 404
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]  # no inline script needed


def _operations(schema):
    out = []
    for result in schema.get_all_operations():
        out.append(result.ok())
    return out


def test_schemathesis_finds_no_5xx_and_no_schema_violation(contract_app, api_schema):
    """Up to 25 generated requests per operation (8 for alerts, portfolio and admin), each with the token; every response checked against the document.

    (Driven through Hypothesis directly: Schemathesis' pytest plugin does not run under this pytest.)"""
    from hypothesis import given

    token = contract_app.config["TEST_API_TOKEN"]

    @api_schema.auth()
    class Bearer:  # Schemathesis' auth provider: it knows this is the valid credential
        def get(self, case, context):
            return token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    operations = _operations(api_schema)
    assert len(operations) >= 11
    calls: dict[str, int] = {}
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        # the read and backtest operations get 25 examples; the alerts, portfolio and admin ones 8 (bounded time)
        examples = 8 if operation.path.startswith(FEWER_EXAMPLES) else 25

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def check(case):
            response = case.call()
            assert response.status_code < 500, (label, response.status_code, response.text[:300])
            # positive_data_acceptance is left out: a schema-valid request may still be refused by the
            # domain (an unknown symbol, a foreign cursor, a grid over the caps) with a 4xx problem.
            case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])
            calls[label] = calls.get(label, 0) + 1

        check()
    huge = contract_app.test_client().get("/api/v1/backtests/9223372036854775808",
                                          headers={"Authorization": f"Bearer {token}"})
    assert huge.status_code == 404 and huge.mimetype == "application/problem+json"  # found by Schemathesis: was a 500
    assert set(calls) == {f"{op.method.upper()} {op.path}" for op in operations}


def test_schemathesis_admin_operations_with_an_admin_token(contract_app):
    """The admin operations again with an ``admin`` token, so their answers (not only the 403) are checked
    against the document: 5 generated requests each (bounded time). The contract user is restored after."""
    from hypothesis import given

    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db
    from app.models.user import User

    with contract_app.app_context():
        admin = create_user("contract-admin@example.com", "correct-horse-battery", role="admin")
        _row, token = create_token(db.session, admin, "contract-admin", ["read", "admin"], 1)
    api_schema = schemathesis.openapi.from_wsgi(SPEC, contract_app)  # its own auth provider (not the module's)

    @api_schema.auth()
    class Bearer:
        def get(self, case, context):
            return token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    operations = [op for op in _operations(api_schema) if op.path.startswith("/api/v1/admin")]
    assert len(operations) >= 13
    statuses: dict[str, set] = {}
    try:
        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"

            @given(case=operation.as_strategy())
            @settings(max_examples=5, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
            def check(case):
                response = case.call()
                assert response.status_code < 500, (label, response.status_code, response.text[:300])
                case.validate_response(response, excluded_checks=[checks.positive_data_acceptance])
                statuses.setdefault(label, set()).add(response.status_code)

            check()
    finally:
        with contract_app.app_context():
            user = db.session.scalar(db.select(User).filter_by(email="contract@example.com"))
            user.role, user.active = "trader", True
            db.session.commit()
    assert set(statuses) == {f"{op.method.upper()} {op.path}" for op in operations}
    assert 403 not in set().union(*statuses.values())  # the admin token got past the scope check everywhere
    client, auth = contract_app.test_client(), {"Authorization": f"Bearer {token}"}  # embedded: no Redis registry
    for method, url, body in (("POST", "/api/v1/admin/cache/clear", {"area": "signals"}),
                              ("POST", "/api/v1/admin/jobs/failed/alerts/x1/requeue", None),
                              ("DELETE", "/api/v1/admin/jobs/failed/alerts/x1", None)):
        resp = client.open(url, method=method, json=body, headers=auth)
        assert resp.status_code == 409 and "embedded mode" in resp.get_json()["detail"], (url, resp.status_code)
