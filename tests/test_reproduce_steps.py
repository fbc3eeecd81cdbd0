"""Every `benchmarks/reproduce.sh OUT STEP ...` the docs name is a step the script knows (an unknown step exits 2)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "reproduce.sh"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def script_steps() -> set[str]:
    return set(re.findall(r"^  ([a-z0-9-]+)\)", SCRIPT.read_text(), flags=re.M))


def documented_steps() -> dict[str, set[str]]:
    """step -> the files that name it, from every `reproduce.sh OUT STEP [STEP ...]` in the docs."""
    found: dict[str, set[str]] = {}
    for doc in DOCS:
        for match in re.finditer(r"reproduce\.sh +(\S+)((?: +[a-z][a-z0-9-]*)*)", doc.read_text()):
            out_dir, steps = match.group(1), match.group(2).split()
            assert "/" in out_dir or out_dir.isupper(), f"{doc.name}: '{match.group(0)}' names no output folder first"
            for step in steps:
                found.setdefault(step, set()).add(doc.name)
    return found


def test_every_documented_step_exists():
    steps = script_steps()
    assert {"toolchain", "gate-ship", "gate16", "chooser"} <= steps  # the parser reads the case labels
    missing = {step: sorted(docs) for step, docs in documented_steps().items() if step not in steps}
    assert not missing, f"steps the docs name but reproduce.sh does not know: {missing}"
