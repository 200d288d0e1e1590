"""The settings table: env vars, *_FILE secrets, typed parsing, masking, README kept true."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from paperwire.cli import main
from paperwire.config import Settings, SettingsError, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize(
    "env, field, expected",
    [
        ({"PAPERWIRE_PORT": "9000"}, "port", 9000),
        ({"PAPERWIRE_LOAD_DEMO_DATA": "false"}, "load_demo_data", False),
        ({"PAPERWIRE_LOAD_DEMO_DATA": "YES"}, "load_demo_data", True),
        ({"PAPERWIRE_ARXIV_DELAY_SECONDS": "0.5"}, "arxiv_delay_seconds", 0.5),
        ({"PAPERWIRE_DATA_DIR": "/srv/pw"}, "data_dir", Path("/srv/pw")),
        ({}, "port", 8000),
    ],
)
def test_env_values_are_parsed_to_the_setting_type(env, field, expected):
    assert getattr(load_settings(env), field) == expected


@pytest.mark.parametrize(
    "env, names",
    [
        ({"PAPERWIRE_PORT": "eighty"}, "PAPERWIRE_PORT"),
        ({"PAPERWIRE_SECURE_COOKIES": "maybe"}, "PAPERWIRE_SECURE_COOKIES"),
        ({"PAPERWIRE_SMTP_PASSWORD_FILE": "/nonexistent/pw"}, "PAPERWIRE_SMTP_PASSWORD_FILE"),
    ],
)
def test_bad_value_error_names_the_variable(env, names):
    with pytest.raises(SettingsError, match=names):
        load_settings(env)


def test_secret_is_read_from_file(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    assert load_settings({"PAPERWIRE_SMTP_PASSWORD_FILE": str(secret)}).smtp_password == "hunter2"


def test_env_var_wins_over_file(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-file")
    env = {"PAPERWIRE_SMTP_PASSWORD": "from-env", "PAPERWIRE_SMTP_PASSWORD_FILE": str(secret)}
    assert load_settings(env).smtp_password == "from-env"


def test_default_database_is_sqlite_in_data_dir(tmp_path):
    settings = load_settings({"PAPERWIRE_DATA_DIR": str(tmp_path)})
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'paperwire.db'}"


def test_describe_masks_secrets():
    settings = load_settings(
        {"PAPERWIRE_SMTP_PASSWORD": "hunter2", "PAPERWIRE_DATABASE_URL": "postgresql://u:pw@db/pw"}
    )
    shown = {name: value for name, value, _, _ in settings.describe()}
    assert shown["PAPERWIRE_SMTP_PASSWORD"] == "****"
    assert shown["PAPERWIRE_DATABASE_URL"] == "postgresql://****"


def test_generated_secret_key_is_stable(tmp_path):
    settings = load_settings({"PAPERWIRE_DATA_DIR": str(tmp_path)})
    assert settings.effective_secret_key() == settings.effective_secret_key()
    assert len(settings.effective_secret_key()) >= 32


def test_config_command_prints_masked_settings():
    result = CliRunner().invoke(main, ["config"], env={"PAPERWIRE_SMTP_PASSWORD": "hunter2"})
    assert result.exit_code == 0
    assert "PAPERWIRE_SMTP_PASSWORD" in result.output
    assert "hunter2" not in result.output


def test_config_command_reports_bad_setting_in_one_line():
    result = CliRunner().invoke(main, ["config"], env={"PAPERWIRE_PORT": "eighty"})
    assert result.exit_code != 0
    assert "PAPERWIRE_PORT" in result.output


def test_readme_documents_every_setting():
    readme = README.read_text()
    missing = [
        f"PAPERWIRE_{name.upper()}"
        for name in Settings.__dataclass_fields__
        if f"PAPERWIRE_{name.upper()}" not in readme
    ]
    assert missing == []


def test_readme_settings_table_is_the_generated_one():
    # Regenerate with: paperwire config --markdown (between the settings-table markers).
    from paperwire.cli.core import settings_markdown

    readme = README.read_text()
    start = readme.index("<!-- settings-table")
    end = readme.index("<!-- /settings-table -->")
    assert settings_markdown() in readme[start:end]
