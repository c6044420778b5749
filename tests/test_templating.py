"""The template environment (`blueprints.templating`): its templates' globals, `_()`, and
the escaping of the board's cards and the table's rows."""

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import DictLoader
from markupsafe import escape

from blueprints.templating import Environment, escape_all


def _environment(**templates) -> Environment:
    return Environment(app=None, loader=DictLoader(templates))


def test_an_import_without_context_reuses_the_imported_module():
    env = _environment(
        macros="{% macro hello(name) %}Hello {{ name }}{% endmacro %}",
        page="{% from 'macros' import hello %}{{ hello('Ada') }}",
    )
    page, macros = env.get_template("page"), env.get_template("macros")
    assert page.render() == "Hello Ada"
    context = page.new_context()
    # The importing context has no global the module lacks: the module rendered once.
    assert macros._get_default_module(context) is macros._get_default_module(context)


def test_template_globals_follow_the_environment_and_keep_their_own():
    env = _environment(page="{{ greeting }}, {{ name }}")
    own = env.get_template("page", globals={"name": "Ada"})
    env.globals["greeting"] = "Hello"  # added after the template was loaded
    assert own.render() == "Hello, Ada"
    assert set(own.globals.keys()) == {*env.globals, "name"}
    plain = env.from_string("{{ greeting }}")
    assert plain.globals.keys() == env.globals.keys()
    assert plain.render() == "Hello"


def test_an_import_sees_a_global_only_the_importer_has():
    env = _environment(
        macros="{% macro who() %}{{ name }}{% endmacro %}",
        page="{% from 'macros' import who %}{{ who() }}",
    )
    page = env.get_template("page", globals={"name": "Ada"})
    assert page.render() == "Ada"


def test_template_strings_are_formatted_as_jinjas_gettext_formats_them(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        app.update_template_context(context := {})
        render = app.jinja_env.from_string(
            "{{ _('Amount') }}|{{ _('%(n)s%%', n=5) }}|{{ _('100%%') }}|{{ _('<b>') }}"
        ).render
        assert render(context) == "Amount|5%|100%|<b>"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), max_size=12))
def test_escape_all_escapes_each_text_as_escape_does(texts):
    # NUL, the separator escape_all joins by, included: text() draws it.
    escaped = escape_all(tuple(texts))
    assert escaped == [str(escape(text or "")) for text in texts]
    assert all(type(text) is str for text in escaped)  # plain, not Markup


def test_escape_all_keeps_each_text_apart_when_one_holds_the_separator():
    assert escape_all(("a\0<b", None, "&")) == ["a\0&lt;b", "", "&amp;"]


def test_the_table_knows_how_to_write_every_column():
    # A column the deals table cannot write would fail every index showing it.
    from blueprints.templating import _TABLE_COLUMN_TEXTS
    from services.deal_index.columns import COLUMNS

    assert set(_TABLE_COLUMN_TEXTS) == set(COLUMNS)


def test_a_board_frame_holds_the_cards_words_and_the_boards_addresses_as_html(app):
    from services.deal_index.state import IndexState

    state = IndexState(search="R&D <b>", layout="board")
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        app.update_template_context(context := {"state": state})
        frame = app.jinja_env.from_string("{{ board_frame(state)|join('|') }}").render(context)
    query = str(escape(state.query()))
    assert "&amp;" in query  # "q=R%26D+%3Cb%3E&amp;layout=board": escaped once
    assert frame.split("|") == [
        "Montant",
        "Date de fermeture",
        "Propriétaire de la transaction",
        "Partagée avec",
        "Déplacer vers la phase",
        "Afficher plus",
        f"?{query}",
        "/deals",
        f"/deals/board/more?{query}&amp;",
    ]


def test_a_board_frame_without_a_query_links_to_the_bare_board(app):
    from services.deal_index.state import IndexState

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        app.update_template_context(context := {"state": IndexState()})
        frame = app.jinja_env.from_string("{{ board_frame(state)|join('|') }}").render(context)
    assert frame.split("|")[-3:] == ["", "/deals", "/deals/board/more?"]


def test_the_app_hands_plain_functions_and_methods_back_and_the_rest_to_flask(app):
    import functools

    def view():
        return "plain"

    async def coroutine_view():
        return "async"

    assert app.ensure_sync(view) is view
    assert app.ensure_sync(app.make_response) == app.make_response  # a bound method
    partial = functools.partial(view)
    assert app.ensure_sync(partial) is partial  # Flask's answer for a partial
    try:
        wrapped = app.ensure_sync(coroutine_view)
    except RuntimeError:  # Flask's own: asgiref (flask[async]) is not installed
        return
    assert wrapped is not coroutine_view and wrapped() == "async"
