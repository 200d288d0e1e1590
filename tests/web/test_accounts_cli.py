"""`paperwire user ...` against the test database (SQLite and PostgreSQL)."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from paperwire.cli import main
from paperwire.store.models import ApiToken, User
from paperwire.web import auth
from paperwire.web.errors import Unauthorized
from tests.web.accountkit import fast_hashing  # noqa: F401


def _run(settings, *args, input=None):
    env = {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_LOAD_DEMO_DATA": "0",
    }
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_create_admin_then_token_that_authenticates(settings, db, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("a long passphrase\n")
    r = _run(
        settings,
        "user",
        "create",
        "--admin",
        "admin",
        "--email",
        "Ops@Example.org",
        "--password-file",
        str(pw),
    )
    assert r.exit_code == 0, r.output
    assert "created administrator admin" in r.output
    with db.session() as s:
        user = s.scalar(select(User))
        assert (user.username, user.is_admin, user.email) == ("admin", True, "ops@example.org")
        assert user.password_hash.startswith("$argon2id$")
        # The trailing newline of the file is not part of the password.
        assert auth.authenticate(s, "admin", "a long passphrase") is not None
    r = _run(settings, "user", "token", "admin", "--name", "deploy bot")
    assert r.exit_code == 0
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("pw_")
    assert auth.user_from_bearer(db, f"Bearer {token}").username == "admin"
    with db.session() as s:
        assert s.scalar(select(ApiToken.name)) == "deploy bot"


def test_password_prompt_and_refusals(settings, db):
    r = _run(settings, "user", "create", "bob", input="a long passphrase\na long passphrase\n")
    assert r.exit_code == 0 and "created user bob" in r.output
    r = _run(settings, "user", "create", "BOB", input="a long passphrase\na long passphrase\n")
    assert r.exit_code != 0 and "error: the username 'BOB' is taken" in r.output
    r = _run(settings, "user", "create", "carol", input="short\nshort\n")
    assert r.exit_code != 0 and "at least 8 characters" in r.output
    r = _run(settings, "user", "token", "nobody")
    assert r.exit_code != 0 and "no user named 'nobody'" in r.output


def test_admin_and_disable(settings, db):
    _run(settings, "user", "create", "dora", input="a long passphrase\na long passphrase\n")
    assert _run(settings, "user", "admin", "dora").exit_code == 0
    with db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "dora"))
    token = auth.new_api_token(db, uid, "t").token
    assert _run(settings, "user", "disable", "dora").exit_code == 0
    with db.session() as s:
        user = s.scalar(select(User))
        assert user.is_admin and user.disabled
    assert "dora" in _run(settings, "user", "list").output
    with pytest.raises(Unauthorized):
        auth.user_from_bearer(db, f"Bearer {token}")
