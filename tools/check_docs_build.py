"""Check that the built documentation shows the figures it promises.

Run after ``sphinx-build`` by ``tools/test.sh``: every gallery example page
must show at least one figure drawn by its script, and the user guide must
show the architecture figure.
"""

import re
import sys
from pathlib import Path

HTML = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"


def images(page):
    return re.findall(r'<img[^>]*src="([^"]+)"', page.read_text(encoding="utf-8"))


def main():
    problems = []
    examples = sorted((HTML / "auto_examples").glob("plot_*.html"))
    if not examples:
        problems.append("no gallery example pages were built")
    for page in examples:
        drawn = [src for src in images(page) if f"sphx_glr_{page.stem}_" in src]
        if not drawn:
            problems.append(f"{page.name} shows no figure drawn by its example")
    method = HTML / "user_guide" / "method.html"
    if not any("architecture" in src for src in images(method)):
        problems.append("user_guide/method.html lacks the architecture figure")
    for problem in problems:
        print(f"docs check: {problem}", file=sys.stderr)
    print(f"docs check: {len(examples)} gallery pages with figures")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
