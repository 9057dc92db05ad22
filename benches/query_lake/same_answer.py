"""Whether two CSV answers (header and rows, in order) are the same: text equal, numbers
equal within a relative 1e-9 (the engines sum floats in different orders).

Usage: python3 same_answer.py A.csv B.csv   (exit code 1 and the first difference if not)
"""

import csv
import math
import sys


def number(cell: str):
    try:
        return float(cell)
    except ValueError:
        return None


def same(a: str, b: str) -> bool:
    x, y = number(a), number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def main() -> None:
    with open(sys.argv[1], newline="") as f:
        left = list(csv.reader(f))
    with open(sys.argv[2], newline="") as f:
        right = list(csv.reader(f))
    if len(left) != len(right):
        sys.exit(f"{len(left) - 1} rows against {len(right) - 1}")
    for i, (l, r) in enumerate(zip(left, right)):
        if len(l) != len(r) or not all(same(a, b) for a, b in zip(l, r)):
            sys.exit(f"line {i + 1} differs:\n  {l}\n  {r}")
    print(f"same answer: {len(left) - 1} rows of {len(left[0])} columns")


if __name__ == "__main__":
    main()
