"""CI: the catalogs are complete. Run from the repository root: `python tools/check_catalogs.py`.

Extracts the messages of the code and templates afresh (babel.cfg) and fails when
a message is missing from translations/messages.pot or from a language's catalog,
or when the French catalog has an untranslated or fuzzy entry.
"""

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
COMPLETE = ("fr",)  # languages that must be 100 % translated (English is the source)
EXTRACT = [
    "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location",
    "--sort-output", "--ignore-dirs=.venv bench tests migrations tools",
]  # fmt: skip


def ids(path: Path) -> set:
    with open(path, "rb") as file:
        return {message.id for message in read_po(file) if message.id}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "messages.pot"
        os.chdir(ROOT)
        CommandLineInterface().run(["pybabel", "-q", *EXTRACT, "-o", str(fresh), "."])
        wanted = ids(fresh)
    problems = []
    for catalog in [TRANSLATIONS / "messages.pot", *TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")]:
        for missing in sorted(wanted - ids(catalog), key=str):
            problems.append(f"{catalog.relative_to(ROOT)}: missing {missing!r}")
    for language in COMPLETE:
        path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        with open(path, "rb") as file:
            for message in read_po(file):
                if not message.id:
                    continue
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if message.fuzzy:
                    problems.append(f"{path.relative_to(ROOT)}: fuzzy {message.id!r}")
                elif not all(strings):
                    problems.append(f"{path.relative_to(ROOT)}: untranslated {message.id!r}")
    for problem in problems:
        print(problem)
    print(f"catalogs: {len(wanted)} messages, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
