"""The command-line tools."""

import sqlalchemy as sa

from models import Account, Deal, DealRegistration, SharedDeal, User
from services.passwords import verify_password
from tests.test_shared_with_column import by_column, by_shared_deals


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_create_account_with_a_default_pipeline(app, db_session):
    result = run(app, "create-account", "Lakeside Partners", "--kind", "partner")
    assert result.exit_code == 0, result.output
    account = db_session.scalar(sa.select(Account).where(Account.name == "Lakeside Partners"))
    from services import settings

    assert settings.referred_pipeline_for(account).name == "Sales pipeline"


def test_create_account_refuses_a_duplicate_name(app):
    result = run(app, "create-account", "Harbor Digital", "--kind", "partner")
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_create_user(app, db_session):
    result = run(
        app,
        "create-user",
        "--account",
        "Harbor Digital",
        "--email",
        "Ken@Harbor.example",
        "--name",
        "Ken Ito",
        "--password",
        "a long enough password",
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalar(sa.select(User).where(User.email == "ken@harbor.example"))
    assert user.role == "member" and user.account.name == "Harbor Digital"
    assert verify_password(user.password_hash, "a long enough password")


def test_create_user_prompts_for_the_password(app, db_session):
    result = run(
        app,
        "create-user",
        "--account",
        "Harbor Digital",
        "--email",
        "lea@harbor.example",
        "--name",
        "Lea Berg",
        "--role",
        "admin",
        input="typed at the prompt\ntyped at the prompt\n",
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalar(sa.select(User).where(User.email == "lea@harbor.example"))
    assert user.is_admin and verify_password(user.password_hash, "typed at the prompt")


def test_create_user_rejects_bad_input(app, db_session):
    cases = [
        ("--account", "Nope Inc", "--email", "a@b.example", "--name", "A", "--password", "x" * 12),
        (
            "--account",
            "Harbor Digital",
            "--email",
            "hana@harbor.example",
            "--name",
            "H",
            "--password",
            "x" * 12,
        ),
        (
            "--account",
            "Harbor Digital",
            "--email",
            "short@harbor.example",
            "--name",
            "S",
            "--password",
            "short",
        ),
    ]
    before = db_session.scalar(sa.select(sa.func.count(User.id)))
    for args in cases:
        result = run(app, "create-user", *args)
        assert result.exit_code != 0 and "Error" in result.output, args
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == before


def test_seed_demo_refuses_a_non_empty_database(app):
    result = run(app, "seed-demo")
    assert result.exit_code != 0
    assert "--reset" in result.output


def test_seed_demo_reset_reloads_and_prints_the_logins(app, db_session):
    db_session.execute(sa.delete(DealRegistration))
    result = run(app, "seed-demo", "--reset")
    assert result.exit_code == 0, result.output
    assert "alice@brightside.example" in result.output and "shared-deals-demo" in result.output
    assert db_session.scalar(sa.select(sa.func.count(DealRegistration.id))) > 0


def test_seed_demo_adds_generated_deals_per_partner(app, db_session):
    partners = db_session.scalar(
        sa.select(sa.func.count(Account.id)).where(Account.kind == "partner")
    )
    before = db_session.scalar(sa.select(sa.func.count(Deal.id)))
    shared_before = db_session.scalar(sa.select(sa.func.count(SharedDeal.id)))
    result = run(app, "seed-demo", "--deals", "250")
    assert result.exit_code == 0, result.output
    after = db_session.scalar(sa.select(sa.func.count(Deal.id)))
    new_shared = db_session.scalar(sa.select(sa.func.count(SharedDeal.id))) - shared_before
    # 250 partner deals each, plus one vendor deal for each newly shared one.
    assert new_shared == partners * 3
    assert after - before == partners * 250 + new_shared
    # The generated rows read back through the ORM like any other deal.
    newest = db_session.scalar(sa.select(Deal).order_by(Deal.id.desc()).limit(1))
    assert newest.created_at.year >= 2020 and newest.close_date is not None
    # Each shared deal's two deals hold the party they are shared with.
    assert by_column() == by_shared_deals()


def test_set_password_ends_the_users_sessions(app, db_session):
    user = db_session.scalar(sa.select(User).where(User.email == "carol@brightside.example"))
    token = user.session_token
    result = run(
        app, "set-password", "--email", "Carol@Brightside.example", "--password", "new and long"
    )
    assert result.exit_code == 0, result.output
    assert verify_password(user.password_hash, "new and long")
    assert user.session_token != token


def test_set_password_prompts_and_refuses_bad_input(app, db_session):
    user = db_session.scalar(sa.select(User).where(User.email == "carol@brightside.example"))
    before = (user.password_hash, user.session_token)
    result = run(app, "set-password", "--email", "carol@brightside.example", input="short\nshort\n")
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    result = run(app, "set-password", "--email", "nobody@example.com", "--password", "x" * 12)
    assert result.exit_code != 0 and "No user with the email" in result.output
    assert (user.password_hash, user.session_token) == before


def test_deactivate_user(app, db_session):
    user = db_session.scalar(sa.select(User).where(User.email == "carol@brightside.example"))
    token = user.session_token
    result = run(app, "deactivate-user", "--email", "carol@brightside.example")
    assert result.exit_code == 0, result.output
    assert not user.active and user.session_token != token
    assert run(app, "deactivate-user", "--email", "nobody@example.com").exit_code != 0
