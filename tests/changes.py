"""Generated sequences of card changes, for the Hypothesis tests of the team and products."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def sequences_of_changes(item):
    """A test over up to four changes, each (who: "alice" or "rita", what they add, what
    they remove), `item` drawing one element of either set; the test takes `changes`.

    Every example runs on the same demo data (the fixture is the test's, not the
    example's): each change is checked against the state it found."""
    change = st.tuples(st.sampled_from(["alice", "rita"]), st.sets(item), st.sets(item))
    checks = settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )

    def decorate(test):
        return checks(given(changes=st.lists(change, max_size=4))(test))

    return decorate
