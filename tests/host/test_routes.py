"""Route templates: parameters, constraints, optionals, catch-alls, precedence (pure)."""

import pytest

from local.host.routes import RouteError, parse_route, split_path


def match(template: str, path: str, prefix: str = "api"):
    return parse_route(prefix, template).match(split_path(path))


def test_route_prefix_and_parameters():
    assert match("hello/{name}", "/api/hello/bob") == {"name": "bob"}
    assert match("hello/{name}", "/hello/bob") is None
    assert match("hello/{name}", "/hello/bob", prefix="") == {"name": "bob"}
    assert match("hello/{name}", "/api/hello") is None
    assert match("hello/{name}", "/api/hello/bob/more") is None


def test_literals_match_case_insensitively_and_values_are_url_decoded():
    assert match("Hello/{name}", "/API/hello/b%20b") == {"name": "b b"}


def test_int_constraint():
    assert match("items/{id:int}", "/api/items/42") == {"id": "42"}
    assert match("items/{id:int}", "/api/items/forty-two") is None


def test_optional_and_catch_all():
    assert match("opt/{name?}", "/api/opt") == {}
    assert match("opt/{name?}", "/api/opt/x") == {"name": "x"}
    assert match("files/{*path}", "/api/files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert match("files/{*path}", "/api/files") == {"path": ""}


def test_more_specific_templates_sort_first():
    literal = parse_route("api", "files/readme")
    constrained = parse_route("api", "files/{id:int}")
    plain = parse_route("api", "files/{name}")
    catch_all = parse_route("api", "files/{*path}")
    ordered = sorted([catch_all, plain, constrained, literal], key=lambda route: route.precedence)
    assert ordered == [literal, constrained, plain, catch_all]


@pytest.mark.parametrize(
    "template", ["a/{x:regex(^a$)}", "file.{ext}", "{a}/{a}", "{*rest}/tail", "{a?}/b", "a/{x=default}"]
)
def test_unsupported_templates_fail_loudly(template):
    with pytest.raises(RouteError):
        parse_route("api", template)
