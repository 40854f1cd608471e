"""Fits the model behind `dga_score` and writes it into the engine.

1. A character trigram model of legitimate names, from the corpus that make_dataset.py
   wrote (registrable labels of popular domains and English words, none of them in
   train.tsv or test.tsv): interpolated Witten-Bell smoothing down to an add-one
   unigram, stored as the cost -log2 P(c | two previous characters) in 1/16 bit, one
   byte per (previous, previous, next) triple.
2. A logistic regression over features of the registrable label (the trigram cost per
   character among them), fitted on train.tsv only (labels of 6 characters or more).

Writes engine/src/functions/dga_model.bin (the trigram table) and
engine/src/functions/dga_model.rs (the coefficients), and expected-scores.tsv (scores of
some names, which a Rust test compares with the engine's). test.tsv is never read here.

    python3 fit_model.py --corpus /tmp/corpus.txt
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

from make_dataset import PublicSuffixList, judgeable

HERE = Path(__file__).resolve().parent
ENGINE_FUNCTIONS = HERE.parent.parent / "src" / "functions"

# Symbols: a-z 0-25, 0-9 26-35, '-' 36, anything else 37, the label's boundary 38.
SYMBOLS = 39
BOUNDARY = 38
OTHER = 37
COST_SCALE = 16  # table entries are -log2 P in 1/16 bit
MAX_COST = 255
RARE_COST = 10 * COST_SCALE  # a transition rarer than 1 in 1024
MIN_LENGTH = 6
VOWELS = set("aeiou")

FEATURES = [
    "bits_per_char",  # mean trigram cost, bits
    "rare_fraction",  # share of transitions costing more than 10 bits
    "log_length",  # ln(characters)
    "vowel_ratio",  # vowels among letters
    "digit_ratio",  # digits among characters
    "consonant_run",  # longest run of consonants (letters other than aeiouy), characters
    "entropy",  # Shannon entropy of the characters, bits
    "digit_letter_switches",  # changes between digit and letter, per character
]


def symbol(c: str) -> int:
    if "a" <= c <= "z":
        return ord(c) - ord("a")
    if "0" <= c <= "9":
        return 26 + ord(c) - ord("0")
    if c == "-":
        return 36
    return OTHER


def fit_trigrams(labels: list[str]) -> bytes:
    uni = [0] * SYMBOLS
    bi = [0] * (SYMBOLS * SYMBOLS)
    tri = [0] * (SYMBOLS**3)
    for label in labels:
        seq = [BOUNDARY, BOUNDARY] + [symbol(c) for c in label] + [BOUNDARY]
        for i in range(2, len(seq)):
            a, b, c = seq[i - 2], seq[i - 1], seq[i]
            uni[c] += 1
            bi[b * SYMBOLS + c] += 1
            tri[(a * SYMBOLS + b) * SYMBOLS + c] += 1
    total = sum(uni)
    p1 = [(uni[c] + 1) / (total + SYMBOLS) for c in range(SYMBOLS)]
    p2 = [0.0] * (SYMBOLS * SYMBOLS)
    for b in range(SYMBOLS):
        row = bi[b * SYMBOLS : (b + 1) * SYMBOLS]
        n, types = sum(row), sum(1 for x in row if x)
        for c in range(SYMBOLS):
            p2[b * SYMBOLS + c] = (row[c] + types * p1[c]) / (n + types) if n else p1[c]
    table = bytearray(SYMBOLS**3)
    for a in range(SYMBOLS):
        for b in range(SYMBOLS):
            base = (a * SYMBOLS + b) * SYMBOLS
            row = tri[base : base + SYMBOLS]
            n, types = sum(row), sum(1 for x in row if x)
            for c in range(SYMBOLS):
                lower = p2[b * SYMBOLS + c]
                p = (row[c] + types * lower) / (n + types) if n else lower
                table[base + c] = min(MAX_COST, round(-math.log2(p) * COST_SCALE))
    return bytes(table)


def features(label: str, table: bytes) -> list[float]:
    """The features of a registrable label, computed exactly as dga_score.rs does."""
    n = len(label)
    seq = [BOUNDARY, BOUNDARY] + [symbol(c) for c in label] + [BOUNDARY]
    cost = 0
    rare = 0
    for i in range(2, len(seq)):
        c = table[(seq[i - 2] * SYMBOLS + seq[i - 1]) * SYMBOLS + seq[i]]
        cost += c
        rare += c > RARE_COST
    steps = n + 1
    letters = vowels = digits = run = longest = switches = 0
    counts: dict[str, int] = {}
    previous_digit = None
    for ch in label:
        counts[ch] = counts.get(ch, 0) + 1
        is_digit = "0" <= ch <= "9"
        if "a" <= ch <= "z":
            letters += 1
            if ch in VOWELS:
                vowels += 1
        if is_digit:
            digits += 1
        if "a" <= ch <= "z" and ch not in "aeiouy":
            run += 1
            longest = max(longest, run)
        else:
            run = 0
        if ch != "-":
            if previous_digit is not None and previous_digit != is_digit:
                switches += 1
            previous_digit = is_digit
    # Shannon entropy as log2(n) - sum(c log2 c) / n, summed in character order.
    weighted = 0.0
    for ch in sorted(counts):
        c = counts[ch]
        weighted += c * math.log2(c)
    entropy = math.log2(n) - weighted / n
    return [
        cost / (COST_SCALE * steps),
        rare / steps,
        math.log(n),
        vowels / letters if letters else 0.0,
        digits / n,
        float(longest),
        entropy,
        switches / n,
    ]


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                for k in range(col, n + 1):
                    m[r][k] -= f * m[col][k]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit_logistic(xs: list[list[float]], ys: list[int], l2: float = 1e-3) -> list[float]:
    """Newton's method on standardized features; returns [bias, w1..wd] in raw units."""
    d = len(xs[0])
    mean = [sum(x[j] for x in xs) / len(xs) for j in range(d)]
    std = [
        math.sqrt(sum((x[j] - mean[j]) ** 2 for x in xs) / len(xs)) or 1.0 for j in range(d)
    ]
    zs = [[1.0] + [(x[j] - mean[j]) / std[j] for j in range(d)] for x in xs]
    w = [0.0] * (d + 1)
    for _ in range(50):
        grad = [0.0] * (d + 1)
        hess = [[0.0] * (d + 1) for _ in range(d + 1)]
        for z, y in zip(zs, ys):
            p = sigmoid(sum(wi * zi for wi, zi in zip(w, z)))
            r = p - y
            s = p * (1 - p)
            for i in range(d + 1):
                grad[i] += r * z[i]
                for k in range(i, d + 1):
                    hess[i][k] += s * z[i] * z[k]
        for i in range(d + 1):
            for k in range(i):
                hess[i][k] = hess[k][i]
            if i:
                grad[i] += l2 * len(zs) * w[i]
                hess[i][i] += l2 * len(zs)
        step = solve(hess, grad)
        w = [wi - si for wi, si in zip(w, step)]
        if max(abs(s) for s in step) < 1e-10:
            break
    raw = [w[j + 1] / std[j] for j in range(d)]
    bias = w[0] - sum(raw[j] * mean[j] for j in range(d))
    return [bias] + raw


def raw_score(coef: list[float], x: list[float]) -> float:
    z = coef[0]
    for w, v in zip(coef[1:], x):
        z += w * v
    return sigmoid(z)


def read_rows(path: Path, psl: PublicSuffixList) -> list[tuple[int, str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cls, family, name = line.split("\t")
        r = psl.registrable(name)
        if r and judgeable(r[0]):
            rows.append((1 if cls == "dga" else 0, family, name, r[0]))
    return rows


def metrics(scores: list[float], ys: list[int], threshold: float) -> tuple[float, float, float]:
    tp = sum(1 for s, y in zip(scores, ys) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, ys) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, ys) if s < threshold and y)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def write_rust(coef: list[float], table: bytes, corpus_size: int, train_size: int) -> None:
    (ENGINE_FUNCTIONS / "dga_model.bin").write_bytes(table)
    lines = [
        "//! The fitted model behind `dga_score`: generated by",
        "//! `engine/benches/dga/fit_model.py`; do not edit by hand.",
        "//!",
        f"//! Trigram table: fitted on {corpus_size} legitimate labels and English words;",
        f"//! coefficients: fitted on {train_size} labelled names of",
        "//! `engine/benches/dga/train.tsv`.",
        "",
        "/// Symbols of the trigram table: a-z, 0-9, `-`, any other character, the boundary.",
        f"pub const SYMBOLS: usize = {SYMBOLS};",
        "/// Table entries are -log2 P(next | two previous) in 1/16 bit.",
        f"pub const COST_SCALE: f64 = {COST_SCALE}.0;",
        "/// A transition costing more than this (1 in 1024) counts as rare.",
        f"pub const RARE_COST: u8 = {RARE_COST};",
        "/// `SYMBOLS`³ costs, indexed by (previous-previous, previous, next).",
        'pub static TRIGRAM_COSTS: &[u8; SYMBOLS * SYMBOLS * SYMBOLS] = include_bytes!("dga_model.bin");',
        "/// Logistic intercept.",
        f"pub const BIAS: f64 = {coef[0]!r};",
        "/// Logistic weights, in the order of `features` in dga_score.rs:",
        "/// " + ", ".join(FEATURES) + ".",
        f"pub const WEIGHTS: [f64; {len(FEATURES)}] = [",
    ]
    values = [f"{w!r}," for w in coef[1:]]
    width = max(len(v) for v in values)  # comments aligned, as rustfmt does
    lines += [f"    {v:<{width}} // {name}" for v, name in zip(values, FEATURES)]
    lines += ["];", ""]
    (ENGINE_FUNCTIONS / "dga_model.rs").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--psl", type=Path, default=Path("/usr/share/publicsuffix/public_suffix_list.dat"))
    ap.add_argument("--no-write", action="store_true", help="only report cross-validation")
    args = ap.parse_args()

    corpus = [line.split("\t", 1)[1] for line in args.corpus.read_text().splitlines()]
    table = fit_trigrams(corpus)
    psl = PublicSuffixList(args.psl)
    rows = read_rows(HERE / "train.tsv", psl)
    fit_rows = [r for r in rows if len(r[3]) >= MIN_LENGTH]
    xs = [features(r[3], table) for r in fit_rows]
    ys = [r[0] for r in fit_rows]

    # 5-fold cross-validation on train.tsv, to choose features without test.tsv.
    order = list(range(len(xs)))
    random.Random(7).shuffle(order)
    scores = [0.0] * len(xs)
    for fold in range(5):
        held = set(order[fold::5])
        coef = fit_logistic([xs[i] for i in order if i not in held], [ys[i] for i in order if i not in held])
        for i in held:
            scores[i] = raw_score(coef, xs[i])
    for t in (0.5, 0.7, 0.8, 0.9):
        p, r, f = metrics(scores, ys, t)
        print(f"cross-validation (labels >= {MIN_LENGTH} chars) at {t}: precision {p:.4f} recall {r:.4f} F1 {f:.4f}")

    coef = fit_logistic(xs, ys)
    for name, w in zip(["bias"] + FEATURES, coef):
        print(f"  {name:>22} {w:+.4f}")
    if args.no_write:
        return
    write_rust(coef, table, len(corpus), len(fit_rows))
    sample = [r for r in rows if len(r[3]) >= MIN_LENGTH][:: max(1, len(fit_rows) // 60)]
    with open(HERE / "expected-scores.tsv", "w", encoding="utf-8") as out:
        out.write("# name\tregistrable label\tscore before rounding (labels of 6+ characters)\n")
        for r in sample:
            out.write(f"{r[2]}\t{r[3]}\t{raw_score(coef, features(r[3], table))!r}\n")
    print(f"wrote dga_model.bin ({len(table)} bytes), dga_model.rs, expected-scores.tsv")


if __name__ == "__main__":
    main()
