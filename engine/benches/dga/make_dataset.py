"""Builds the labelled DGA evaluation set (train.tsv, test.tsv) and the character
n-gram corpus that `fit_model.py` learns from.

Sources (see README.md for versions and licences):
  --warninglists  the `lists/` folder of the MISP warning lists, as shipped in the PyPI
                  package pymispwarninglists 1.7.0 (Tranco, Majestic, Cisco Umbrella,
                  Chrome UX Report top lists)
  --words         /usr/share/dict/american-english from Debian's wamerican package
  --psl           /usr/share/publicsuffix/public_suffix_list.dat (Debian's publicsuffix)
  DGA names come from dga_families.py.

Every benign name is assigned by the SHA-256 of its registrable label (the label left
of the public suffix) to one of three parts, so that a label, and every domain sharing
it (google.com, google.de), is in exactly one:
  buckets  0-19  test.tsv   held out: never used to fit anything
  buckets 20-29  train.tsv  fits the logistic coefficients
  buckets 30-99  corpus     fits the character n-gram model (not committed: rebuilt)
English words are split the same way (only the corpus part is used). DGA names for
train.tsv are generated for dates in 2023 with one set of seeds, those for test.tsv for
dates in 2024 with other seeds.

    python3 make_dataset.py --warninglists DIR --words FILE --out . --corpus /tmp/corpus.txt
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import random
from datetime import date
from pathlib import Path

import dga_families

TEST_BUCKETS = range(0, 20)
FIT_BUCKETS = range(20, 30)


class PublicSuffixList:
    """The public suffix list algorithm (https://publicsuffix.org/list/): the longest
    matching rule wins, exceptions (!) beat wildcards (*), the default rule is `*`."""

    def __init__(self, path: Path) -> None:
        self.rules: set[str] = set()
        self.exceptions: set[str] = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            rule = line.split()[0]
            if rule.startswith("!"):
                self.exceptions.add(rule[1:])
            else:
                self.rules.add(rule)

    def suffix_labels(self, labels: list[str]) -> int:
        """How many trailing labels of `labels` form the public suffix."""
        best = 1
        for n in range(1, len(labels) + 1):
            tail = ".".join(labels[-n:])
            if tail in self.exceptions:
                return n - 1
            wildcard = ".".join(["*"] + labels[-n + 1 :]) if n > 1 else "*"
            if tail in self.rules or (n > 1 and wildcard in self.rules):
                best = n
        return best

    def registrable(self, name: str) -> tuple[str, str] | None:
        """(registrable label, registrable domain), or None when there is none."""
        name = name.strip().lower().rstrip(".")
        if not name or name.startswith("*"):
            return None
        labels = name.split(".")
        if any(not label for label in labels):
            return None
        try:
            ipaddress.ip_address(name)
            return None
        except ValueError:
            pass
        n = self.suffix_labels(labels)
        if n >= len(labels):
            return None
        return labels[-n - 1], ".".join(labels[-n - 1 :])


def bucket(label: str) -> int:
    return int(hashlib.sha256(label.encode("utf-8")).hexdigest()[:8], 16) % 100


def judgeable(label: str) -> bool:
    """Labels the scorer judges: ASCII letters, digits and hyphens, not punycode."""
    return (
        label.isascii()
        and not label.startswith("xn--")
        and all(c.isalnum() or c == "-" for c in label)
    )


def load_list(folder: Path, name: str) -> list[str]:
    return json.loads((folder / name / "list.json").read_text(encoding="utf-8"))["list"]


def registrable_domains(psl: PublicSuffixList, names: list[str]) -> dict[str, str]:
    """Registrable label -> the first (sorted) registrable domain that has it."""
    out: dict[str, str] = {}
    for name in sorted(set(names)):
        r = psl.registrable(name)
        if r and judgeable(r[0]):
            out.setdefault(r[0], r[1])
    return out


def dga_part(
    first_day: date, days: int, seed_base: int, per_family: int, exclude: set[str]
) -> list[tuple]:
    rows = []
    per_day = per_family
    for i, family in enumerate(sorted(dga_families.FAMILIES)):
        names = dga_families.sample(family, first_day, days, seed_base + 101 * i, per_day)
        rng = random.Random(f"{family}/{seed_base}")
        unique = sorted(set(names) - exclude)
        assert len(unique) >= per_family, (family, len(unique))
        rng.shuffle(unique)
        rows.extend(("dga", family, n) for n in unique[:per_family])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warninglists", type=Path, required=True)
    ap.add_argument("--words", type=Path, default=Path("/usr/share/dict/american-english"))
    ap.add_argument("--psl", type=Path, default=Path("/usr/share/publicsuffix/public_suffix_list.dat"))
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--top-per-part", type=int, default=1500)
    ap.add_argument("--tail-per-part", type=int, default=1000)
    ap.add_argument("--dga-per-family", type=int, default=150)
    args = ap.parse_args()

    psl = PublicSuffixList(args.psl)
    top = registrable_domains(
        psl,
        load_list(args.warninglists, "tranco10k")
        + load_list(args.warninglists, "majestic_million")
        + load_list(args.warninglists, "cisco_top20k"),
    )
    tail = registrable_domains(
        psl,
        load_list(args.warninglists, "tranco")
        + load_list(args.warninglists, "google-chrome-crux-1million"),
    )
    tail_only = {label: d for label, d in tail.items() if label not in top}

    def pick(pool: dict[str, str], buckets: range, n: int, kind: str, seed: str) -> list[tuple]:
        labels = sorted(label for label in pool if bucket(label) in buckets)
        random.Random(seed).shuffle(labels)
        return [("benign", kind, pool[label]) for label in sorted(labels[:n])]

    train = (
        pick(top, FIT_BUCKETS, args.top_per_part, "top", "fit-top")
        + pick(tail_only, FIT_BUCKETS, args.tail_per_part, "tail", "fit-tail")
        + dga_part(date(2023, 1, 1), 30, 0x5EED_2023, args.dga_per_family, set())
    )
    # A family whose state cycles can give a name on a 2024 date that it also gave in
    # 2023: such names stay in train.tsv only.
    trained = {row[2] for row in train}
    test = (
        pick(top, TEST_BUCKETS, args.top_per_part, "top", "test-top")
        + pick(tail_only, TEST_BUCKETS, args.tail_per_part, "tail", "test-tail")
        + dga_part(date(2024, 7, 1), 30, 0x5EED_2024, args.dga_per_family, trained)
    )
    header = "# class\tfamily\tname\n"
    for name, rows in (("test.tsv", test), ("train.tsv", train)):
        (args.out / name).write_text(
            header + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8"
        )
        print(f"{name}: {len(rows)} names")

    corpus = {label for label in tail if bucket(label) >= 30}
    corpus |= {label for label in top if bucket(label) >= 30}
    words = set()
    for w in args.words.read_text(encoding="utf-8", errors="replace").splitlines():
        w = w.strip().lower()
        if w.isascii() and w.isalpha() and bucket(w) >= 30:
            words.add(w)
    args.corpus.write_text(
        "".join(f"domain\t{label}\n" for label in sorted(corpus))
        + "".join(f"word\t{w}\n" for w in sorted(words)),
        encoding="utf-8",
    )
    print(f"corpus: {len(corpus)} domain labels, {len(words)} words")


if __name__ == "__main__":
    main()
