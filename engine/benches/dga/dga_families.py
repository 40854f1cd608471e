"""Generators of algorithmically generated domain names (DGA), one per malware family.

Each generator follows the published description of its family's algorithm: the kind of
pseudo-random generator and how it is seeded (date, hard-coded seed, sequence number),
the character set, the length range and the top-level domains. They are written for
this evaluation set, not taken from the malware, and are not guaranteed to reproduce a
family's real domain list name for name; what they do reproduce is what a detector
sees: the distribution of characters, lengths and suffixes.

Everything is deterministic: the same (family, date, seed, count) gives the same names.

    python3 dga_families.py necurs 2024-07-01 10
"""

from __future__ import annotations

import hashlib
import random
import string
import sys
import zlib
from datetime import date, timedelta
from typing import Callable, Iterator

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


def _letter(n: int, alphabet_size: int = 26) -> str:
    return chr(ord("a") + n % alphabet_size)


# --- Conficker ---------------------------------------------------------------------------
# Conficker.A/B: 250 names a day, 8 to 11 random letters, a handful of generic and
# country TLDs. Conficker.C: 50,000 names a day, 4 to 9 random letters, over 110 TLDs.
# Both seed their generator with the current date.

CONFICKER_B_TLDS = ["com", "net", "org", "info", "biz", "ws", "cn", "cc"]
CONFICKER_C_TLDS = (
    "ac ae ag am as at be bo bz ca cd ch cl cn co.cr co.id co.il co.ke co.kr co.nz "
    "co.ug co.uk co.vi co.za com.ag com.ai com.ar com.bo com.br com.bs com.co com.do "
    "com.fj com.gh com.gl com.gt com.hn com.jm com.ki com.lc com.mt com.mx com.ng "
    "com.ni com.pa com.pe com.pr com.pt com.py com.sv com.tr com.tt com.tw com.ua "
    "com.uy com.ve cx cz dj dk dm ec es fm fr gd gr gs gy hk hn ht hu ie im in ir is "
    "kn kz la lc li lu lv ly md me mn ms mu mw my nf nl no pe pk pl ps ro ru sc sg sh "
    "sk su tc tj tl tn to tw us vc vn"
).split()


def conficker_b(day: date, seed: int, count: int) -> Iterator[str]:
    rng = random.Random(f"conficker-b/{day.isoformat()}/{seed}")
    for _ in range(count):
        length = rng.randint(8, 11)
        label = "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
        yield f"{label}.{rng.choice(CONFICKER_B_TLDS)}"


def conficker_c(day: date, seed: int, count: int) -> Iterator[str]:
    rng = random.Random(f"conficker-c/{day.isoformat()}/{seed}")
    for _ in range(count):
        length = rng.randint(4, 9)
        label = "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
        yield f"{label}.{rng.choice(CONFICKER_C_TLDS)}"


# --- CryptoLocker ------------------------------------------------------------------------
# A three-component combined Tausworthe generator (L'Ecuyer's taus88) seeded with the
# day, month and year; 12 to 15 letters from a..y; seven TLDs.

CRYPTOLOCKER_TLDS = ["com", "net", "biz", "ru", "org", "co.uk", "info"]


class Taus88:
    def __init__(self, s1: int, s2: int, s3: int) -> None:
        # Each component needs a seed above a small minimum to stay full-period.
        self.s1 = (s1 | 0x10) & MASK32
        self.s2 = (s2 | 0x100) & MASK32
        self.s3 = (s3 | 0x1000) & MASK32

    def next(self) -> int:
        self.s1 = (((self.s1 & 0xFFFFFFFE) << 12) & MASK32) ^ (
            (((self.s1 << 13) & MASK32) ^ self.s1) >> 19
        )
        self.s2 = (((self.s2 & 0xFFFFFFF8) << 4) & MASK32) ^ (
            (((self.s2 << 2) & MASK32) ^ self.s2) >> 25
        )
        self.s3 = (((self.s3 & 0xFFFFFFF0) << 17) & MASK32) ^ (
            (((self.s3 << 3) & MASK32) ^ self.s3) >> 11
        )
        return self.s1 ^ self.s2 ^ self.s3


def _splitmix32(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return (x ^ (x >> 31)) & MASK32


def cryptolocker(day: date, seed: int, count: int) -> Iterator[str]:
    for n in range(count):
        key = (seed << 20) ^ (n << 8)
        gen = Taus88(
            _splitmix32(key ^ day.day), _splitmix32(key ^ (day.month << 5)), _splitmix32(key ^ (day.year << 9))
        )
        length = 12 + gen.next() % 4
        label = "".join(_letter(gen.next(), 25) for _ in range(length))
        yield f"{label}.{CRYPTOLOCKER_TLDS[gen.next() % len(CRYPTOLOCKER_TLDS)]}"


# --- Necurs ------------------------------------------------------------------------------
# A 64-bit add/xor/shift mixing function, applied a data-dependent number of times to the
# year, month, day / 4, a sequence number and a per-sample magic number; 7 to 21
# letters from a..y; 43 TLDs.

NECURS_TLDS = (
    "tj in jp tw ac cm la mn so sh sc nu nf mu ms mx ki im cx cc tv bz me eu de ru co "
    "su pw kz sx us ug ir to ga com net org biz xxx pro bit"
).split()


def _necurs_mix(value: int) -> int:
    rounds = (value & 0x7F) + 21
    for k in range(rounds):
        value = (value + (((value * 7) ^ (value << 15)) + 8 * k - (value >> 5))) & MASK64
    return value


def necurs(day: date, seed: int, count: int) -> Iterator[str]:
    for sequence in range(count):
        n = _necurs_mix(day.year)
        n = _necurs_mix(n + day.month + 0xAAAA)
        n = _necurs_mix(n + (day.day >> 2))
        n = _necurs_mix(n + sequence)
        n = _necurs_mix(n + seed)
        length = n % 15 + 7
        label = ""
        for k in range(length):
            n = _necurs_mix(n + k)
            label += _letter(n, 25)
            n = _necurs_mix(n + 0xABBEDF)
        yield f"{label}.{NECURS_TLDS[n % len(NECURS_TLDS)]}"


# --- Ramnit ------------------------------------------------------------------------------
# The Park-Miller "minimal standard" generator (multiplier 16807, Schrage's method) from
# a hard-coded seed; 8 to 19 letters from a..y; .com (some builds use other TLDs).


def ramnit(day: date, seed: int, count: int) -> Iterator[str]:
    del day  # Ramnit's list depends on its seed only.
    state = seed & MASK32

    def draw(modulus: int) -> int:
        nonlocal state
        state = (16807 * (state % 127773) - 2836 * (state // 127773)) & MASK32
        return state % modulus

    for _ in range(count):
        before_length = state
        length = draw(12) + 8
        before_label = state
        label = "".join(_letter(draw(25), 25) for _ in range(length))
        mixed = before_length * before_label
        state = (mixed + (mixed >> 32)) & MASK32
        yield f"{label}.com"


# --- Pykspa ------------------------------------------------------------------------------
# The precursor variant: the seed (days since the epoch / 2) is squared and stepped per
# name; each letter comes from a polynomial of the state, index and length; 6 to 15
# letters; six TLDs.

PYKSPA_TLDS = ["biz", "com", "net", "org", "info", "cc"]


def pykspa(day: date, seed: int, count: int) -> Iterator[str]:
    r = ((day - date(1970, 1, 1)).days // 2 + seed) & MASK32
    for n in range(count):
        r = ((r * r) + n) & MASK32
        length = r % 10 + 6
        a = length * length
        s = r
        label = ""
        for i in range(length):
            x = (i * (s % 4567 + s % 19)) & MASK32
            p = (s * (s % 5 + s % 123456 + x)) & MASK32
            label += _letter((a + p) & MASK32)
            s = ((s + i) & MASK32) >> ((i * i) & 31)
            if s == 0:
                s = (r ^ (i * 2654435761)) & MASK32
            a = (a + length) & MASK32
        yield f"{label}.{PYKSPA_TLDS[r % 6]}"


# --- Qakbot ------------------------------------------------------------------------------
# A Mersenne Twister seeded with the CRC-32 of "<third of month>.<mon>.<year>.<seed>";
# 8 to 25 letters; five TLDs.

QAKBOT_TLDS = ["com", "net", "org", "info", "biz"]


def qakbot(day: date, seed: int, count: int) -> Iterator[str]:
    third = min((day.day - 1) // 10, 2)
    text = f"{third}.{day.strftime('%b').lower()}.{day.year}.{seed:08x}"
    rng = random.Random(zlib.crc32(text.encode("ascii")))
    for _ in range(count):
        tld = rng.choice(QAKBOT_TLDS)
        length = rng.randint(8, 25)
        label = "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
        yield f"{label}.{tld}"


# --- Locky -------------------------------------------------------------------------------
# Version 2: 32-bit multiply/rotate rounds over the year, day / 2, month, a per-sample seed
# and the name's number; 7 to 17 letters from a..y; ten TLDs.

LOCKY_TLDS = ["ru", "info", "biz", "click", "su", "work", "pl", "org", "pw", "xyz"]


def _rotr32(v: int, s: int) -> int:
    v &= MASK32
    return ((v >> s) | (v << (32 - s))) & MASK32


def _rotl32(v: int, s: int) -> int:
    v &= MASK32
    s %= 32
    return ((v << s) | (v >> (32 - s))) & MASK32 if s else v


def locky(day: date, seed: int, count: int) -> Iterator[str]:
    mult, add = 0xB11924E1, 0x27100001
    for number in range(count):
        k = 0
        for step in range(7):
            t = _rotr32(mult * (day.year + step + k + 0x1BF5), 7)
            t = ((t + add) ^ k) & MASK32
            u = _rotr32(mult * (t + seed), 7)
            u = ((u + add) ^ t) & MASK32
            v = _rotr32(mult * (day.day // 2 + u), 7)
            v = (0xD8EFFFFF - v + u) & MASK32
            w = _rotr32(mult * (day.month + v - 0x65CAD), 7)
            w = (v + w + add) & MASK32
            x = _rotr32(mult * (w + _rotl32(seed, 17) + _rotl32(number, 21)), 7)
            k = ((x + add) ^ w) & MASK32
        length = k % 11 + 7
        label = ""
        for i in range(length):
            k = (_rotr32(mult * _rotl32(k, i), 7) + add) & MASK32
            label += _letter(k, 25)
        k = _rotr32(k * mult, 7)
        yield f"{label}.{LOCKY_TLDS[(k + add) % len(LOCKY_TLDS)]}"


# --- Corebot -----------------------------------------------------------------------------
# A linear congruential generator (1664525, 1013904223) seeded from the date; 12 to 23
# characters from a..y and 0..8 (the family's character set is one short at both ends);
# names under the dynamic DNS zone ddns.net.


def corebot(day: date, seed: int, count: int) -> Iterator[str]:
    charset = [chr(c) for c in range(ord("a"), ord("z"))] + [
        chr(c) for c in range(ord("0"), ord("9"))
    ]
    r = (seed + day.year + ((1 << 16) + (day.month << 8) | day.day)) & MASK32
    for _ in range(count):
        r = (1664525 * r + 1013904223) & MASK32
        length = 12 + r % 12
        label = ""
        for _ in range(length):
            r = (1664525 * r + 1013904223) & MASK32
            label += charset[r % len(charset)]
        yield f"{label}.ddns.net"


# --- Dyre --------------------------------------------------------------------------------
# SHA-256 of the date and the name's number: one letter, then 33 hex digits; eight TLDs.

DYRE_TLDS = ["cc", "ws", "to", "in", "hk", "cn", "tk", "so"]


def dyre(day: date, seed: int, count: int) -> Iterator[str]:
    for n in range(count):
        digest = hashlib.sha256(f"{day.isoformat()}/{seed}/{n}".encode()).hexdigest()
        label = _letter(int(digest[:2], 16)) + digest[2:35]
        yield f"{label}.{DYRE_TLDS[n % len(DYRE_TLDS)]}"


# --- Bamital -----------------------------------------------------------------------------
# The MD5 of a per-bot string, the date and the name's number, as 32 hex digits. The
# family also used names under co.cc and cz.cc, which are not public suffixes (their
# registrable domain is co.cc itself): those are left out.

BAMITAL_TLDS = ["info", "org"]


def bamital(day: date, seed: int, count: int) -> Iterator[str]:
    for n in range(count):
        digest = hashlib.md5(f"{seed:x}{day.strftime('%Y%m%d')}{n}".encode()).hexdigest()
        yield f"{digest}.{BAMITAL_TLDS[n % len(BAMITAL_TLDS)]}"


# --- GameOver Zeus -----------------------------------------------------------------------
# "newGOZ": an MD5 of the date and the name's number, its words folded into base-36
# characters; 20 to 28 letters and digits; four TLDs.

GOZ_TLDS = ["com", "net", "org", "biz"]


def gameover(day: date, seed: int, count: int) -> Iterator[str]:
    alphabet = string.ascii_lowercase + string.digits
    for n in range(count):
        digest = hashlib.md5(f"{n}{day.isoformat()}{seed}".encode()).digest()
        value = int.from_bytes(digest, "little")
        length = 20 + value % 9
        value //= 9
        label = ""
        while len(label) < length:
            if value == 0:
                digest = hashlib.md5(digest).digest()
                value = int.from_bytes(digest, "little")
            label += alphabet[value % 36]
            value //= 36
        yield f"{label}.{GOZ_TLDS[n % 4]}"


# --- Encoded identifiers -----------------------------------------------------------------
# Not one family: the random base32 and hex labels that many bots and implants use for
# rendezvous names (bot ids, hashes of the date).


def base32_names(day: date, seed: int, count: int) -> Iterator[str]:
    rng = random.Random(f"base32/{day.isoformat()}/{seed}")
    alphabet = string.ascii_lowercase + "234567"
    for _ in range(count):
        length = rng.randint(16, 32)
        label = "".join(rng.choice(alphabet) for _ in range(length))
        yield f"{label}.{rng.choice(['com', 'net', 'org', 'info', 'top', 'xyz'])}"


def hex_names(day: date, seed: int, count: int) -> Iterator[str]:
    rng = random.Random(f"hex/{day.isoformat()}/{seed}")
    for _ in range(count):
        length = rng.randint(12, 40)
        label = "".join(rng.choice("0123456789abcdef") for _ in range(length))
        yield f"{label}.{rng.choice(['com', 'net', 'org', 'info', 'top', 'xyz'])}"


FAMILIES: dict[str, Callable[[date, int, int], Iterator[str]]] = {
    "bamital": bamital,
    "base32": base32_names,
    "conficker-b": conficker_b,
    "conficker-c": conficker_c,
    "corebot": corebot,
    "cryptolocker": cryptolocker,
    "dyre": dyre,
    "gameover": gameover,
    "hex": hex_names,
    "locky": locky,
    "necurs": necurs,
    "pykspa": pykspa,
    "qakbot": qakbot,
    "ramnit": ramnit,
}


def sample(family: str, first_day: date, days: int, seed: int, per_day: int) -> list[str]:
    """`per_day` names of `family` for each of `days` days from `first_day`."""
    out: list[str] = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        # Ramnit's list does not depend on the date: vary its seed instead.
        day_seed = seed + d * 0x9E3779B1 if family == "ramnit" else seed
        out.extend(FAMILIES[family](day, day_seed & MASK32, per_day))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in FAMILIES:
        sys.exit(f"usage: dga_families.py {{{','.join(FAMILIES)}}} YYYY-MM-DD COUNT")
    for name in FAMILIES[sys.argv[1]](date.fromisoformat(sys.argv[2]), 9, int(sys.argv[3])):
        print(name)
