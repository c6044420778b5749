"""Free-text search: literal, case-insensitive, and served by the trigram indexes."""

import pytest
import sqlalchemy as sa

from extensions import db
from models import Deal
from services.search import matching

NAMES = (
    ("50% off_season", "Percent & Co"),
    ("100 percent offseason", "Plain Ltd"),
    ("Back\\slash deal", "Slash Inc"),
    ('The "quoted" deal', "O'Brien & Sons"),
    ("Café Zürich expansion", "Zürcher Kantonalbank"),
    ("Renewal", "Åsa Öberg AB"),
)


@pytest.fixture
def found(demo, db_session):
    """Add the NAMES deals to Brightside; return a function: term -> names found."""
    for name, company in NAMES:
        db_session.add(
            Deal(
                account_id=demo.brightside.id,
                name=name,
                company_name=company,
                pipeline_id=demo.acme.pipeline_id,
                stage_id=demo.acme.stage_id,
                owner_id=demo.acme.owner_id,
            )
        )
    db_session.flush()

    def search(term):
        return set(
            db_session.scalars(
                sa.select(Deal.name).where(Deal.account_id == demo.brightside.id, matching(term))
            )
        )

    return search


def test_wildcards_and_quotes_are_literal(found):
    assert found("50%") == {"50% off_season"}
    assert found("% o") == {"50% off_season"}
    assert found("off_season") == {"50% off_season"}
    assert found("_") == {"50% off_season"}
    assert found("%") == {"50% off_season"}
    assert found("k\\s") == {"Back\\slash deal"}
    assert found("\\") == {"Back\\slash deal"}
    assert found('"quoted"') == {'The "quoted" deal'}
    assert found('"') == {'The "quoted" deal'}
    assert found("O'Brien") == {'The "quoted" deal'}
    assert found("' OR 1=1 --") == set()
    assert found("NEAR(a b)") == set()


def test_case_insensitive_in_name_and_company(found, demo):
    assert "Acme Corp website relaunch" in found("ACME CORP")
    assert "Acme Corp website relaunch" in found("acme")
    assert found("PERCENT &") == {"50% off_season"}  # company only
    assert found("plain ltd") == {"100 percent offseason"}


def test_unicode(found):
    assert found("Zürich") == {"Café Zürich expansion"}
    assert found("CAFé ZüRICH") == {"Café Zürich expansion"}  # ASCII letters in any case
    assert found("Zürcher") == {"Café Zürich expansion"}
    assert found("é") == {"Café Zürich expansion"}  # one character: no trigram
    assert found("Öb") == {"Renewal"}
    assert found("Åsa Öberg") == {"Renewal"}
    assert found("Zürichs") == set()


def test_short_terms(found):
    assert found("50") == {"50% off_season"}
    assert "Back\\slash deal" in found("sl")


def test_renamed_and_deleted_deals_are_found_by_their_new_name(found, demo, db_session):
    assert found("Zürich expansion") == {"Café Zürich expansion"}
    deal = db_session.scalar(sa.select(Deal).where(Deal.name == "Café Zürich expansion"))
    deal.name = "Bern relocation"
    deal.company_name = "Berner Bau"
    db_session.flush()
    assert found("Zürich expansion") == set()
    assert found("Zürcher") == set()
    assert found("relocation") == {"Bern relocation"}
    assert found("BERNER BAU") == {"Bern relocation"}
    db_session.delete(deal)
    db_session.flush()
    assert found("relocation") == set()


def test_another_accounts_deals_are_not_found(found, demo, db_session):
    names = set(
        db_session.scalars(
            sa.select(Deal.name).where(Deal.account_id == demo.harbor.id, matching("Zürich"))
        )
    )
    assert names == set()


def _compiled(term):
    return sa.select(Deal.id).where(matching(term)).compile(db.session.get_bind())


def test_the_trigram_index_serves_terms_of_three_characters_or_more(app, db_session):
    if db.session.get_bind().dialect.name == "sqlite":
        assert "deals_fts MATCH" in str(_compiled("abc"))
        assert "deals_fts" not in str(_compiled("ab"))
        compiled = _compiled("abc")
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        plan = db_session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), params
        )
        assert "deals_fts VIRTUAL TABLE INDEX" in " ".join(row[-1] for row in plan)
        triggers = set(
            db_session.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        )
        assert {"deals_fts_insert", "deals_fts_update", "deals_fts_delete"} <= triggers
    else:
        indexes = set(
            db_session.scalars(
                sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'deals'")
            )
        )
        assert {"ix_deals_name_trgm", "ix_deals_company_name_trgm"} <= indexes


def test_sqlite_is_not_given_a_bare_parameter_to_like(app, db_session):
    """A LIKE against a bare parameter makes SQLite prepare the statement again at every
    run (to see whether the pattern's start could use an index): the pattern is an
    expression, and every LIKE of a search or a text filter says so."""
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's LIKE optimisation")
    for term in ("ab", "abc", "relaunch"):
        sql = str(_compiled(term))
        assert sql.count(" LIKE (? || ?)") == 2 and " LIKE ?" not in sql, sql


def _schema_of_deals():
    """Names of the indexes, triggers and foreign keys on deals."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE tbl_name = 'deals' AND type <> 'table'"
    else:
        sql = (
            "SELECT indexname FROM pg_indexes WHERE tablename = 'deals' UNION "
            "SELECT conname FROM pg_constraint WHERE conrelid = 'deals'::regclass"
        )
    return set(connection.exec_driver_sql(sql).scalars())


def test_a_bulk_load_rebuilds_what_it_dropped_and_search_finds_its_deals(fresh_app, monkeypatch):
    from services import bulk_seed

    monkeypatch.setattr(bulk_seed, "REBUILD_INDEXES_FROM", 1)  # the large-load path
    with fresh_app.app_context():
        before = _schema_of_deals()
        assert bulk_seed.add_generated_deals(300) == 2 * (300 + 3)
        assert _schema_of_deals() == before
        names = db.session.scalars(sa.select(Deal.name).where(matching("Zorg Industries"))).all()
        assert names and all("Zorg Industries" in name for name in names)
        assert len(db.session.scalars(sa.select(Deal.id).where(matching("#299"))).all()) == 2
        deal = db.session.scalar(sa.select(Deal).where(Deal.name.like("% #150")).limit(1))
        deal.name = "Xyzzy rollout"
        db.session.commit()
        assert db.session.scalars(sa.select(Deal.name).where(matching("xyzzy"))).all() == [
            "Xyzzy rollout"
        ]
        db.session.remove()
