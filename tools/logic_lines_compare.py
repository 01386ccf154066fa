"""Logic lines (tools/logic_lines.py) of two revisions of tinygrad_nn, per module, honestly split.

    python tools/logic_lines_compare.py BEFORE AFTER [--own COMMIT ...] [--by-file]

A. the modules BEFORE had, with their successors under a new name (SUCCESSORS below), so that a
   moved module is compared with where it went; B. the modules that are new in AFTER (other
   features); C. with --own, the net change of the given commits, each against its first parent
   (what one issue's own commits did, whatever landed around them).

``--by-file``: a module still present in AFTER is compared with itself; SUCCESSORS apply only
to modules that are gone (for two revisions close together, where SUCCESSORS' older moves have
already happened).
"""

from __future__ import annotations

import argparse
import subprocess

from logic_lines import logic_lines

# Today's modules that moved: {old path: the paths that hold it now} (#10, #13, #16)
SUCCESSORS = {
    "tinygrad_nn/check.py": ["tinygrad_nn/gradcheck.py"],
    "tinygrad_nn/io.py": ["tinygrad_nn/io.py", "tinygrad_nn/checkpoint/"],
    "tinygrad_nn/train.py": ["tinygrad_nn/train.py", "tinygrad_nn/search.py"],
    "tinygrad_nn/functional.py": [],
    "tinygrad_nn/optim/schedulers.py": ["tinygrad_nn/optim/lr_scheduler.py"],
    "tinygrad_nn/cli.py": ["tinygrad_nn/cli.py", "tinygrad_nn/config.py", "tinygrad_nn/version.py",
                           "tinygrad_nn/data/datasets.py", "tinygrad_nn/optim/factories.py"],
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def counts(rev: str) -> dict[str, int]:
    files = git("ls-tree", "-r", "--name-only", rev, "tinygrad_nn").split()
    return {f: logic_lines(git("show", f"{rev}:{f}")) for f in files if f.endswith(".py")}


def short(path: str) -> str:
    return path.removeprefix("tinygrad_nn/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--own", nargs="*", default=[], metavar="COMMIT")
    parser.add_argument("--by-file", action="store_true",
                        help="successors only for modules that are gone")
    args = parser.parse_args()
    before, after = counts(args.before), counts(args.after)
    print(f"# logic lines per module: before = {args.before}, after = {args.after}")
    print("# A. the modules of before (and their successors); 'after' includes what other issues "
          "added to them")
    claimed: set[str] = set()
    total_b = total_a = 0
    for path, b in sorted(before.items()):
        targets = ([path] if args.by_file and path in after
                   else SUCCESSORS.get(path, [path]))
        now = [f for f in after if any(f == t or (t.endswith("/") and f.startswith(t))
                                       for t in targets)
               and not (args.by_file and f != path and f in before)]  # it has its own row
        claimed.update(now)
        a = sum(after[f] for f in now)
        merged = [short(t) + " (its own row)" for t in targets if args.by_file and t in before]
        moved = "" if now == [path] else "  -> " + (", ".join(map(short, now)) or
                                                    ", ".join(merged) or "(gone)")
        print(f"{b:7d} {a:7d}  {short(path)}{moved}")
        total_b, total_a = total_b + b, total_a + a
    print(f"{total_b:7d} {total_a:7d}  subtotal A")
    print("# B. modules new since before (new features)")
    new = sorted(set(after) - claimed)
    for path in new:
        print(f"{'':7s} {after[path]:7d}  {short(path)}")
    print(f"{'':7s} {sum(after[f] for f in new):7d}  subtotal B")
    print(f"{total_b:7d} {sum(after.values()):7d}  total")
    if args.own:
        print("# C. the --own commits' net change, each against its first parent")
        delta: dict[str, int] = {}
        for commit in args.own:
            a, b = counts(f"{commit}^1"), counts(commit)
            for f in set(a) | set(b):
                delta[f] = delta.get(f, 0) + b.get(f, 0) - a.get(f, 0)
        for f, d in sorted(delta.items()):
            if d:
                print(f"{d:+7d}  {short(f)}")
        print(f"{sum(delta.values()):+7d}  total")


if __name__ == "__main__":
    main()
