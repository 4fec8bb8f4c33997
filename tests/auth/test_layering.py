"""The sign-in pages belong to the HTTP layer and their HTML to the UI (issue #18, section 4)."""

from __future__ import annotations


def test_the_sign_in_page_lives_with_the_http_layer_and_its_html_with_the_ui() -> None:
    from pathlib import Path

    import service.http.signin as signin

    assert not (Path(__file__).parents[2] / "service/auth/signin.py").exists()
    assert "Sign in to Stratus" in signin.PAGE.template
