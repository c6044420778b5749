"""Demo data: the accounts, users and deals DESIGN.md names, and bulk deals for benchmarks."""

import random
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from extensions import db
from models import (
    Account,
    AccountSettings,
    Deal,
    DealRegistration,
    DealTeamMember,
    Product,
    ProductInterest,
    RegistrationRequest,
    SharedDeal,
    Stage,
    User,
    utcnow,
)
from services import activity
from services.accounts import add_pipeline
from services.passwords import hash_password

DEMO_PASSWORD = "shared-deals-demo"  # noqa: S105 - documented demo login, not a secret

VENDOR = "Northwind Cloud"
PARTNERS = ("Brightside Agency", "Harbor Digital")
USERS = (
    # account, full name, email, role
    (VENDOR, "Rita Okafor", "rita@northwind.example", "admin"),
    (VENDOR, "Victor Lindqvist", "victor@northwind.example", "member"),
    ("Brightside Agency", "Alice Martin", "alice@brightside.example", "admin"),
    ("Brightside Agency", "Bob Nguyen", "bob@brightside.example", "member"),
    ("Brightside Agency", "Carol Diaz", "carol@brightside.example", "member"),
    ("Harbor Digital", "Hana Sato", "hana@harbor.example", "admin"),
)
PRODUCTS = ("Marketing Suite", "Sales Suite", "Service Suite", "Content Suite", "Operations Suite")
PIPELINES = {
    VENDOR: (
        (
            "Sales pipeline",
            ("Discovery", "Demo", "Proposal", "Negotiation", "Closed won", "Closed lost"),
        ),
        (
            "Partner deals",
            ("Registered", "Qualified", "Proposal", "Negotiation", "Closed won", "Closed lost"),
        ),
    ),
    "Brightside Agency": (
        (
            "Sales pipeline",
            ("Discovery", "Qualified", "Proposal sent", "Negotiation", "Closed won", "Closed lost"),
        ),
        (
            "Partner referrals",
            ("New referral", "Contacted", "Qualified", "Closed won", "Closed lost"),
        ),
    ),
    "Harbor Digital": (
        ("Sales pipeline", ("Lead", "Qualified", "Proposal", "Closed won", "Closed lost")),
        ("Partner referrals", ("New referral", "Working", "Closed won", "Closed lost")),
    ),
}
REFERRED_PIPELINE = {
    VENDOR: "Partner deals",
    "Brightside Agency": "Sales pipeline",
    "Harbor Digital": "Partner referrals",
}

COMPANIES = (
    "Acme Corp",
    "Initech",
    "Globex",
    "Umbrella",
    "Stark Industries",
    "Wayne Enterprises",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Pied Piper",
    "Vandelay Industries",
    "Wonka Foods",
    "Tyrell",
    "Massive Dynamic",
    "Oscorp",
    "Gringotts",
    "Dunder Mifflin",
    "Aperture Labs",
    "Blue Sun",
    "Monarch Solutions",
    "Nakatomi Trading",
    "Sterling Cooper",
    "Virtucon",
    "Zorg Industries",
    "Prestige Worldwide",
    "Bluth Company",
    "Krusty Krab",
    "Gekko & Co",
)
PROJECTS = (
    "website relaunch",
    "SEO audit",
    "CRM migration",
    "marketing automation",
    "service desk rollout",
    "content hub",
    "analytics rollout",
    "email nurture program",
    "sales enablement",
    "customer portal",
    "ABM campaign",
    "onboarding redesign",
    "chatbot pilot",
    "data cleanup",
    "inbound strategy",
    "renewal",
)

# Shared deals of the demo: (partner, deal name, registration, team, products).
# registration: "active", "active-no-expiry", "expired", "deregistered" or None.
SHARED = (
    (
        "Brightside Agency",
        "Acme Corp website relaunch",
        "active",
        ("alice@brightside.example", "rita@northwind.example"),
        ("Marketing Suite",),
    ),
    (
        "Brightside Agency",
        "Globex CRM migration",
        "expired",
        ("bob@brightside.example", "victor@northwind.example"),
        ("Sales Suite",),
    ),
    (
        "Brightside Agency",
        "Umbrella marketing automation",
        "deregistered",
        ("carol@brightside.example", "rita@northwind.example"),
        ("Marketing Suite", "Content Suite"),
    ),
    (
        "Brightside Agency",
        "Stark Industries service desk rollout",
        "active-no-expiry",
        ("alice@brightside.example", "bob@brightside.example", "victor@northwind.example"),
        ("Service Suite",),
    ),
    (
        "Brightside Agency",
        "Hooli customer portal",
        "requested",
        ("carol@brightside.example", "rita@northwind.example"),
        (),
    ),
    (
        "Harbor Digital",
        "Wayne Enterprises content hub",
        "active",
        ("hana@harbor.example", "rita@northwind.example"),
        ("Content Suite",),
    ),
    (
        "Harbor Digital",
        "Cyberdyne analytics rollout",
        "declined",
        ("hana@harbor.example", "victor@northwind.example"),
        ("Operations Suite",),
    ),
)
UNSHARED_NAMED = {"Brightside Agency": ("Initech SEO audit",)}
DEALS_PER_ACCOUNT = {"Brightside Agency": 64, "Harbor Digital": 18, VENDOR: 24}


def logins_text() -> str:
    """The demo logins, as printed on first start and by `flask seed-demo`."""
    lines = [f"Demo data loaded. Log in with any of these (password: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<28} {name} ({role}, {account})" for account, name, email, role in USERS]
    return "\n".join(lines)


def is_empty() -> bool:
    """True when the database holds no account yet."""
    return db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


def reset() -> None:
    """Delete every row of every table (schema kept), children first."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def seed(today: date | None = None) -> dict[str, Account]:
    """Load the demo accounts, users, products, pipelines and deals. Commits once."""
    today = today or date.today()
    rng = random.Random(20230628)  # noqa: S311 - reproducible demo data, not security
    accounts: dict[str, Account] = {}
    for name in (VENDOR, *PARTNERS):
        account = Account(name=name, kind="vendor" if name == VENDOR else "partner")
        db.session.add(account)
        accounts[name] = account
    db.session.flush()

    stages: dict[str, dict[str, list[Stage]]] = {}
    for name, account in accounts.items():
        stages[name] = {}
        for position, (pipeline_name, stage_names) in enumerate(PIPELINES[name]):
            pipeline = add_pipeline(account, pipeline_name, stage_names, position)
            stages[name][pipeline_name] = list(
                db.session.scalars(
                    sa.select(Stage)
                    .where(Stage.pipeline_id == pipeline.id)
                    .order_by(Stage.position)
                )
            )
        referred = stages[name][REFERRED_PIPELINE[name]][0].pipeline_id
        db.session.add(AccountSettings(account_id=account.id, referred_pipeline_id=referred))

    users: dict[str, User] = {}
    for account_name, full_name, email, role in USERS:
        user = User(
            account_id=accounts[account_name].id,
            email=email,
            full_name=full_name,
            password_hash=hash_password(DEMO_PASSWORD),
            role=role,
        )
        db.session.add(user)
        users[email] = user
    products = {}
    for position, product_name in enumerate(PRODUCTS):
        product = Product(
            vendor_account_id=accounts[VENDOR].id, name=product_name, position=position
        )
        db.session.add(product)
        products[product_name] = product
    db.session.flush()

    owners = {
        name: [u for u in users.values() if u.account_id == account.id]
        for name, account in accounts.items()
    }

    def make_deal(account_name, deal_name, pipeline_name=None, stage_index=None, owner=None):
        pipeline_name = pipeline_name or rng.choice(list(stages[account_name]))
        pipeline_stages = stages[account_name][pipeline_name]
        stage = pipeline_stages[
            stage_index if stage_index is not None else rng.randrange(len(pipeline_stages))
        ]
        created = utcnow() - timedelta(days=rng.randrange(1, 400), minutes=rng.randrange(1440))
        deal = Deal(
            account_id=accounts[account_name].id,
            name=deal_name,
            company_name=_company(deal_name),
            amount=Decimal(rng.randrange(20, 2000) * 250),
            close_date=today + timedelta(days=rng.randrange(-120, 240)),
            pipeline_id=stage.pipeline_id,
            stage_id=stage.id,
            owner_id=(owner or rng.choice(owners[account_name])).id,
            created_at=created,
            updated_at=created,
        )
        db.session.add(deal)
        return deal

    # Named deals first, then generated ones up to each account's count.
    for account_name, deal_name, registration, team, interest in SHARED:
        owner = users[team[0]]
        partner_deal = make_deal(account_name, deal_name, "Sales pipeline", 1, owner)
        vendor_deal = make_deal(
            VENDOR, deal_name, REFERRED_PIPELINE[VENDOR], 0, users["rita@northwind.example"]
        )
        # Shared properties: both parties' deals say the same.
        vendor_deal.amount, vendor_deal.close_date = partner_deal.amount, partner_deal.close_date
        db.session.flush()
        shared = SharedDeal(
            partner_account_id=accounts[account_name].id,
            vendor_account_id=accounts[VENDOR].id,
            partner_deal_id=partner_deal.id,
            vendor_deal_id=vendor_deal.id,
            created_by_id=owner.id,
            intro_note=(
                f"{_company(deal_name)} asked us for help with their "
                f"{deal_name.removeprefix(_company(deal_name)).strip()}."
            ),
            pain_or_opportunity="Their current tools do not talk to each other.",
            next_steps="Book a joint discovery call.",
            created_at=partner_deal.created_at,
        )
        db.session.add(shared)
        db.session.flush()
        _demo_history(
            shared, registration, [users[e] for e in team], users, products, interest, today
        )

    for account_name, names in UNSHARED_NAMED.items():
        for deal_name in names:
            make_deal(account_name, deal_name, "Sales pipeline")
    db.session.flush()
    for account_name, account in accounts.items():
        have = db.session.scalar(
            sa.select(sa.func.count(Deal.id)).where(Deal.account_id == account.id)
        )
        for _ in range(DEALS_PER_ACCOUNT[account_name] - have):
            make_deal(account_name, f"{rng.choice(COMPANIES)} {rng.choice(PROJECTS)}")
    db.session.commit()
    return accounts


def _company(deal_name: str) -> str:
    for company in COMPANIES:
        if deal_name.startswith(company):
            return company
    return deal_name.split(" ")[0]


def _demo_history(shared, registration, team, users, products, interest, today):
    """Team, product interest, registration and the activity that records them."""
    creator = team[0]
    rita = users["rita@northwind.example"]
    events = [(creator, "created", "created the shared deal", None, None)]
    for member in team:
        db.session.add(
            DealTeamMember(shared_deal_id=shared.id, user_id=member.id, added_by_id=creator.id)
        )
    if len(team) > 1:
        names = ", ".join(m.full_name for m in team)
        events.append((creator, "team", "changed the deal team", team[0].full_name, names))
    for product_name in interest:
        db.session.add(
            ProductInterest(shared_deal_id=shared.id, product_id=products[product_name].id)
        )
    if interest:
        events.append((rita, "products", "changed the product interest", "", ", ".join(interest)))
    if registration in ("requested", "declined"):
        asker = team[0]
        made = RegistrationRequest(
            shared_deal_id=shared.id,
            requested_by_id=asker.id,
            message="They sign next quarter; please register us.",
            status=registration,
        )
        events.append(
            (asker, "registration_requested", "requested a registration", None, made.message)
        )
        if registration == "declined":
            made.decided_by_id, made.decided_at = rita.id, utcnow()
            made.decline_reason = "Our direct team already works this account."
            events.append(
                (
                    rita,
                    "registration_declined",
                    "declined the registration request",
                    "requested",
                    made.decline_reason,
                )
            )
        db.session.add(made)
    elif registration:
        expires = {
            "active": today + timedelta(days=90),
            "expired": today - timedelta(days=10),
            "deregistered": today + timedelta(days=30),
            "active-no-expiry": None,
        }[registration]
        db.session.add(
            DealRegistration(
                shared_deal_id=shared.id,
                registered_by_id=rita.id,
                expires_on=expires,
                deregistered_at=utcnow() if registration == "deregistered" else None,
                deregistered_by_id=rita.id if registration == "deregistered" else None,
            )
        )
        events.append(
            (
                rita,
                "registration_added",
                "registered the deal",
                None,
                f"expires {expires.isoformat()}" if expires else "no expiry",
            )
        )
        if registration == "deregistered":
            events.append(
                (
                    rita,
                    "registration_deregistered",
                    "deregistered the deal",
                    "active",
                    "deregistered",
                )
            )
    db.session.flush()  # the team is in place, so record() notifies it
    for actor, action, summary, before, after in events:
        activity.record(shared, actor, action, summary, before, after)
