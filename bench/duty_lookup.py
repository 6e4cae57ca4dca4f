"""How the on-duty lookup scales with the number of operators.

    .venv/bin/python bench/duty_lookup.py [--lookups 200000]

Builds rosters of 10 to 10,000 operators with random weekly shifts (some overnight) and
absences, then times "who is on duty at T" for random moments in the coming two weeks, as a
call does. Prints the cost per lookup and its ratio to the 10-operator roster, measured in the
same run (these machines are shared: compare ratios, not absolute times).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from ivr.clock import zone
from ivr.library.roster import read_roster
from ivr.library.yamlfile import parse
from ivr.routing.duty import DutyIndex

SIZES = (10, 100, 1_000, 10_000)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def roster_yaml(operators: int, rng: random.Random) -> str:
    lines = ["timezone: Asia/Almaty", "operators:"]
    for n in range(operators):
        langs = rng.choice(["[kk]", "[ru]", "[kk, ru]"])
        lines.append(f'  op{n}: {{phone: "+7701{n:07d}", languages: {langs}}}')
    lines.append("weekly:")
    for n in range(operators):
        start = rng.randrange(0, 24)
        hours = rng.choice([4, 8, 12])
        days = ", ".join(sorted(rng.sample(DAYS, rng.randrange(1, 6)), key=DAYS.index))
        lines.append(f'  - {{who: op{n}, days: [{days}], from: "{start:02d}:00", '
                     f'to: "{(start + hours) % 24:02d}:00"}}')
    lines.append("away:")
    for n in rng.sample(range(operators), max(1, operators // 20)):
        day = 14 + rng.randrange(0, 14)
        lines.append(f"  - {{who: op{n}, from: 2026-12-{day:02d}, to: 2026-12-{day:02d}}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(150)
    tz = zone("Asia/Almaty")
    start = dt.datetime(2026, 12, 14, tzinfo=tz)
    moments = [start + dt.timedelta(minutes=rng.randrange(0, 14 * 24 * 60))
               for _ in range(args.lookups)]
    baseline = None
    print(f"{'operators':>10} {'build (ms)':>12} {'lookup (ns)':>12} {'ratio to 10':>12} "
          f"{'on duty (avg)':>14}")
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            path = Path(folder) / f"roster{size}.yaml"
            path.write_text(roster_yaml(size, rng))
            roster = read_roster(parse(path.read_bytes(), "roster.yaml"), "roster.yaml", str(size))
            began = time.perf_counter()
            index = DutyIndex(roster, start.date())
            index.prepare(start.date(), 15)  # what a router does ahead of the calls
            built = (time.perf_counter() - began) * 1000
            found = 0
            began = time.perf_counter_ns()
            for moment in moments:
                found += len(index.on_duty(moment).by_language.get("kk", ()))
            per_lookup = (time.perf_counter_ns() - began) / len(moments)
            baseline = baseline or per_lookup
            print(f"{size:>10} {built:>12.1f} {per_lookup:>12.0f} {per_lookup / baseline:>12.2f} "
                  f"{found / len(moments):>14.1f}")


if __name__ == "__main__":
    main()
