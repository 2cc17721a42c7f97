"""A small mutation run: break one module one change at a time, rerun the tests that are
meant to guard it, and list the changes no test noticed ("survivors").

mutmut runs the covering tests of each function per mutant, which takes hours on this
machine for web/; this script runs one pytest selection per mutant and is meant for the
security checks of small modules, where that selection is known:

    .venv/bin/python bench/mutate.py reminder/importers/safety.py \
        tests/importers/test_importers_hostile.py tests/importers/test_importers_bad.py

Mutations: a comparison turned around (< to <=, == to !=, in to not in, is to is not),
and/or swapped, a `not` dropped, an integer constant plus one, a `raise` turned into
`pass`, a returned True/False flipped. Calls to the logger are left alone (what they say
is not behaviour). The module file is rewritten in place for each mutant and restored
after, also on Ctrl-C; run it in a clean worktree, and only it at a time.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}


@dataclass(frozen=True)
class Mutant:
    index: int  # the node's position in ast.walk order
    line: int
    what: str


def _logging_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside a call to log.*/logger.* (left unmutated)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"log", "logger", "logging"}):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def mutants(tree: ast.AST) -> Iterator[Mutant]:
    skip = _logging_nodes(tree) | _docstrings(tree)
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    yield Mutant(index * 10 + k, line, f"`{SYMBOLS[type(op)]}` → "
                                                       f"`{SYMBOLS[SWAPS[type(op)]]}`")
        elif isinstance(node, ast.BoolOp):
            yield Mutant(index * 10, line, "`and` ↔ `or`")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield Mutant(index * 10, line, "`not` dropped")
        elif (isinstance(node, ast.Constant) and type(node.value) is int):
            yield Mutant(index * 10, line, f"`{node.value}` → `{node.value + 1}`")
        elif isinstance(node, ast.Raise):
            yield Mutant(index * 10, line, "`raise` → `pass`")
        elif (isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
              and isinstance(node.value.value, bool)):
            yield Mutant(index * 10, line, f"`return {node.value.value}` → "
                                           f"`return {not node.value.value}`")


def apply(tree: ast.AST, mutant: Mutant) -> str:
    tree = copy.deepcopy(tree)
    index, k = divmod(mutant.index, 10)
    node = list(ast.walk(tree))[index]

    class Swap(ast.NodeTransformer):
        def visit(self, current: ast.AST) -> ast.AST:
            if current is not node:
                return self.generic_visit(current)
            if isinstance(current, ast.Compare):
                current.ops[k] = SWAPS[type(current.ops[k])]()
                return current
            if isinstance(current, ast.BoolOp):
                current.op = ast.Or() if isinstance(current.op, ast.And) else ast.And()
                return current
            if isinstance(current, ast.UnaryOp):
                return current.operand
            if isinstance(current, ast.Constant):
                return ast.Constant(current.value + 1)
            if isinstance(current, ast.Raise):
                return ast.Pass()
            if isinstance(current, ast.Return):
                assert isinstance(current.value, ast.Constant)
                return ast.Return(ast.Constant(not current.value.value))
            raise AssertionError(current)

    return ast.unparse(ast.fix_missing_locations(Swap().visit(tree)))


def run_tests(tests: list[str], timeout: float) -> bool:
    """True when the selection passes (the mutant survived)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly",
                               "-p", "no:cacheprovider", *tests], capture_output=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False  # a mutant that hangs the tests is noticed
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", type=Path)
    parser.add_argument("tests", nargs="+")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--lines", help="only mutants on these lines, e.g. 40-80")
    args = parser.parse_args()
    original = args.module.read_bytes()
    tree = ast.parse(original)
    todo = list(mutants(tree))
    if args.lines:
        first, last = (int(x) for x in args.lines.split("-"))
        todo = [m for m in todo if first <= m.line <= last]
    lines = original.decode("utf-8").splitlines()
    survivors: list[Mutant] = []
    started = time.monotonic()
    try:
        args.module.write_text(ast.unparse(tree), "utf-8")  # the baseline, as unparsed
        if not run_tests(args.tests, args.timeout):
            print("the tests fail on the unmutated (unparsed) module: fix that first")
            return 2
        for number, mutant in enumerate(todo, 1):
            args.module.write_text(apply(tree, mutant), "utf-8")
            survived = run_tests(args.tests, args.timeout)
            print(f"[{number}/{len(todo)}] line {mutant.line}: {mutant.what}: "
                  f"{'SURVIVED' if survived else 'killed'}", flush=True)
            if survived:
                survivors.append(mutant)
    finally:
        args.module.write_bytes(original)
    took = time.monotonic() - started
    print(f"\n{args.module}: {len(todo)} mutants, {len(todo) - len(survivors)} killed, "
          f"{len(survivors)} survived ({took / 60:.1f} min)")
    for mutant in survivors:
        print(f"- line {mutant.line}: {mutant.what} in `{lines[mutant.line - 1].strip()}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
