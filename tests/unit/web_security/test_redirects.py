import pytest

from dealbridge.web.security.redirects import login_url, safe_next


@pytest.mark.parametrize(
    "target",
    ["/", "/errors", "/errors?class=auth&state=open", "/runs/abc#steps", "/a/b/c?next=/x"],
)
def test_same_site_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "errors",
        "/errors\nLocation: https://evil.example",
        "/\tevil",
        "/ok\x7f",
        "/" + "a" * 3000,
        "///evil.example",
    ],
)
def test_anything_else_becomes_the_home_page(target: str | None) -> None:
    assert safe_next(target) == "/"


def test_login_url_carries_the_page_and_query() -> None:
    assert login_url("/errors", "class=auth") == "/login?next=%2Ferrors%3Fclass%3Dauth"
    assert login_url("//evil.example", "") == "/login?next=%2F"
