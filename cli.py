"""Command-line tools: accounts and users (`flask create-account`, `create-user`,
`set-password`, `deactivate-user`) and demo data (`flask seed-demo`)."""

import time

import click
from flask import Flask

from services import accounts, bulk_seed, demo, vendor_seed
from services.errors import Invalid


def register(app: Flask) -> None:
    """Attach the commands to `app`."""

    @app.cli.command("create-account")
    @click.argument("name")
    @click.option("--kind", type=click.Choice(["partner", "vendor"]), required=True)
    def create_account(name, kind):
        """Create a partner or vendor account with a default pipeline."""
        try:
            account = accounts.create_account(name, kind)
        except Invalid as error:
            raise click.ClickException(error.message) from error
        click.echo(f"Created {kind} account {account.name!r} (id {account.id}).")

    @app.cli.command("create-user")
    @click.option("--account", "account_name", required=True, help="Account name.")
    @click.option("--email", required=True)
    @click.option("--name", "full_name", required=True, help="Full name.")
    @click.option("--role", type=click.Choice(["admin", "member"]), default="member")
    @click.password_option(help="Prompted for when not given.")
    def create_user(account_name, email, full_name, role, password):
        """Create a user in an existing account."""
        account = accounts.account_by_name(account_name)
        if account is None:
            raise click.ClickException(f"No account named {account_name!r}.")
        try:
            user = accounts.create_user(account, email, full_name, password, role)
        except Invalid as error:
            raise click.ClickException(error.message) from error
        click.echo(f"Created {role} {user.email} in {account.name}.")

    def existing_user(email):
        user = accounts.user_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with the email {email!r}.")
        return user

    @app.cli.command("set-password")
    @click.option("--email", required=True)
    @click.password_option(help="Prompted for when not given.")
    def set_password(email, password):
        """Give a user a new password; every session they have ends."""
        user = existing_user(email)
        try:
            accounts.set_password(user, password)
        except Invalid as error:
            raise click.ClickException(error.message) from error
        click.echo(f"New password set for {user.email}; their sessions have ended.")

    @app.cli.command("deactivate-user")
    @click.option("--email", required=True)
    def deactivate_user(email):
        """Stop a user from logging in; every session they have ends."""
        user = existing_user(email)
        accounts.deactivate(user)
        click.echo(f"Deactivated {user.email}; their sessions have ended.")

    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Delete all data first.")
    @click.option(
        "--deals",
        "extra_deals",
        type=click.IntRange(min=0),
        default=0,
        help="Also add N generated deals per partner (for benchmarks).",
    )
    @click.option(
        "--partners",
        type=click.IntRange(min=1),
        help="Also add N partner accounts sharing deals with the vendor (with --shared-deals).",
    )
    @click.option(
        "--shared-deals",
        type=click.IntRange(min=0),
        help="The number of shared deals spread over the --partners (for benchmarks).",
    )
    def seed_demo(reset, extra_deals, partners, shared_deals):
        """Load the demo accounts, users and deals (refuses a non-empty database)."""
        if (partners is None) != (shared_deals is None):
            raise click.UsageError("Give --partners and --shared-deals together.")
        adding = bool(extra_deals) or partners is not None
        if not demo.is_empty():
            if not reset and not adding:
                raise click.ClickException(
                    "The database is not empty. Use --reset to delete everything and reload."
                )
            if reset:
                demo.reset()
        if demo.is_empty():
            demo.seed()
            click.echo(demo.logins_text())
        if extra_deals:
            started = time.perf_counter()
            added = bulk_seed.add_generated_deals(extra_deals)
            click.echo(f"Added {added:,} generated deals in {time.perf_counter() - started:.1f} s.")
        if partners is not None:
            started = time.perf_counter()
            try:
                counts = vendor_seed.add_vendor_scale(partners, shared_deals)
            except ValueError as error:
                raise click.ClickException(str(error)) from error
            made = ", ".join(f"{number:,} {what}" for what, number in counts.items())
            click.echo(f"Added {made} in {time.perf_counter() - started:.1f} s.")
