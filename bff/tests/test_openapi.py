"""The OpenAPI document is generated from the route table: it lists exactly what is served, and it is valid."""
from openapi_spec_validator import validate

from bff.app.openapi import openapi_path
from bff.app.routes import ROUTES

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def served(app):
    return {(openapi_path(rule.rule), method.lower())
            for rule in app.url_map.iter_rules() for method in rule.methods - IGNORED_METHODS}


def documented(document):
    return {(path, method) for path, operations in document["paths"].items() for method in operations}


def test_the_document_is_valid_openapi(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_served_route_is_documented_and_every_documented_route_is_served(app, client):
    assert served(app) == documented(client.get("/openapi.json").get_json())


def test_each_operation_says_whether_it_needs_a_token_and_what_it_takes(client):
    document = client.get("/openapi.json").get_json()
    for route in ROUTES:
        operation = document["paths"][openapi_path(route.path)][route.method.lower()]
        assert bool(operation["security"]) == route.auth, route
        assert ("requestBody" in operation) == (route.body is not None), route
        assert str(route.status) in operation["responses"], route
        if route.query is not None:
            names = {parameter["name"] for parameter in operation["parameters"]}
            assert set(route.query.model_fields) <= names, route
    costs = document["paths"]["/bff/costs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert costs == {"$ref": "#/components/schemas/CostsForm"}
    assert "CostCategoryForm" in document["components"]["schemas"]


def test_the_docs_page_loads_the_document(client):
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "swagger-ui" in response.get_data(as_text=True)
    assert "http" not in response.get_data(as_text=True), "Swagger UI comes from the BFF, not a CDN"
    assert "openapi.json" in client.get("/docs/docs.js").get_data(as_text=True)


def test_every_route_with_a_body_documents_the_413_for_a_body_over_64_kb(client):
    document = client.get("/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert operation["responses"]["413"]["description"] == "The body is larger than 64 KB", (method, path)
