"""Fuzzing the import pipeline's reader and validator, for a given time (default 10 minutes).

Every input must either give checked rows or be refused with one clear FileProblem (a code,
a message, a fix); anything else (an exception, a hang, a row without a line number) is a
finding. Inputs come from two sources, taking turns:

  * mutations of the real-world corpus (tests/fixtures/corpus.py: Excel, Numbers, LibreOffice,
    Windows-1252, Mac Roman, UTF-16, comma files, workbooks): bytes flipped, inserted,
    deleted, repeated, separators and quotes thrown in, files cut short or spliced together;
  * hypothesis, generating CSV-like text and bytes, with its shrinking to a small example.

Findings are written to --out as files, each with the traceback, to become regression tests.

    .venv/bin/python bench/fuzz_pipeline.py [--minutes 10] [--out fuzz-findings] [--seed N]
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import hypothesis  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from huddle.pipeline.duplicates import mark_duplicates  # noqa: E402
from huddle.pipeline.problems import FileProblem  # noqa: E402
from huddle.pipeline.reading import open_table, read_choices  # noqa: E402
from huddle.pipeline.streaming import check_rows  # noqa: E402
from tests.fixtures.corpus import CASES  # noqa: E402

KNOWN_LEVELS = {"basis": "Basis", "trainers": "Trainers"}
PIECES = [b";", b",", b"\t", b'"', b"\r\n", b"\n", b"\r", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe",
          b"sep=,\r\n", b"=cmd|' /C calc'!A0", b"@x.nl", b"\xc3", b"\xe9", b"PK\x03\x04",
          b"email;voornaam;achternaam\r\n", b"a@x.nl;A;B\r\n"]  # fmt: skip
SECONDS_PER_INPUT = 10  # longer than this is a hang
HYPOTHESIS_EXAMPLES = 300


class Hang(Exception):
    pass


def pipeline(data: bytes) -> int:
    """Read and check ``data`` as an import would; the number of rows. Raises FileProblem
    for a file it refuses, anything else for a finding."""
    try:
        read_choices(data)
        table = open_table(data)
        table.described()
        rows = 0
        for row in mark_duplicates(check_rows(table, {}, KNOWN_LEVELS)):
            assert row.line >= 2, f"row without a real line number: {row.line}"
            assert isinstance(row.user["email"], str)
            for problem in row.problems:
                assert problem.message, "a problem without a message"
            rows += 1
        return rows
    except FileProblem as problem:
        assert problem.code and problem.message and problem.fix, "an unclear FileProblem"
        raise


def mutate(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.randrange(7)
        at = rng.randrange(len(buffer) + 1)
        if choice == 0 and buffer:  # flip a byte
            buffer[min(at, len(buffer) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1:  # insert a meaningful piece
            buffer[at:at] = rng.choice(PIECES)
        elif choice == 2:  # delete a stretch
            del buffer[at : at + rng.randint(1, 64)]
        elif choice == 3:  # repeat a stretch
            buffer[at:at] = buffer[at : at + rng.randint(1, 256)] * rng.randint(2, 50)
        elif choice == 4:  # cut short
            del buffer[at:]
        elif choice == 5:  # a random byte
            buffer[at:at] = bytes([rng.randrange(256)])
        else:  # splice in part of another file
            other = rng.choice(CASES).data
            start = rng.randrange(len(other) + 1)
            buffer[at:at] = other[start : start + rng.randint(1, 512)]
    return bytes(buffer)


class Fuzzer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.inputs = self.refused = self.rows = 0
        self.findings: dict[str, Path] = {}

    def run_one(self, data: bytes) -> None:
        self.inputs += 1
        signal.alarm(SECONDS_PER_INPUT)
        try:
            self.rows += pipeline(data)
        except FileProblem:
            self.refused += 1
        except Exception as exc:
            self.record(data, exc)
        finally:
            signal.alarm(0)

    def record(self, data: bytes, exc: Exception) -> None:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        key = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
        if key in self.findings:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / f"finding-{len(self.findings) + 1}.bin"
        path.write_bytes(data)
        path.with_suffix(".txt").write_text("".join(traceback.format_exception(exc)))
        self.findings[key] = path
        print(f"  finding: {key} ({len(data)} bytes) -> {path}", flush=True)


def hypothesis_round(fuzzer: Fuzzer, seed: int) -> None:
    """One round of generated inputs (hypothesis shrinks a failure before we record it)."""
    text_rows = st.lists(
        st.lists(st.text(max_size=15), min_size=1, max_size=12).map(";".join), max_size=30
    ).map(lambda rows: "\r\n".join(["email;first_name;last_name;levels", *rows]))
    inputs = (
        st.binary(max_size=3000)
        | text_rows.map(lambda text: text.encode("utf-8"))
        | st.lists(st.sampled_from(PIECES) | st.binary(max_size=20), max_size=60).map(b"".join)
    )

    failing = []

    @hypothesis.seed(seed)
    @settings(
        max_examples=HYPOTHESIS_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def round_(data):
        try:
            pipeline(data)
        except FileProblem:
            pass
        except Exception:
            failing.append(data)  # the last one is the example shrunk the most
            raise

    try:
        round_()
    except Exception as exc:
        fuzzer.record(failing[-1] if failing else b"", exc)
    fuzzer.inputs += HYPOTHESIS_EXAMPLES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()

    def hang(signum, frame):
        raise Hang(f"no answer within {SECONDS_PER_INPUT} s")

    signal.signal(signal.SIGALRM, hang)
    rng, fuzzer = random.Random(args.seed), Fuzzer(args.out)
    end = time.monotonic() + args.minutes * 60
    started, rounds, next_report = time.monotonic(), 0, time.monotonic() + 60
    print(f"Fuzzing for {args.minutes:g} min (seed {args.seed}); corpus of {len(CASES)} files")
    for case in CASES:  # the corpus as it is must pass
        fuzzer.run_one(case.data)
    while time.monotonic() < end:
        rounds += 1
        if rounds % 50 == 0:
            hypothesis_round(fuzzer, rng.randrange(2**32))
        else:
            fuzzer.run_one(mutate(rng.choice(CASES).data, rng))
        if time.monotonic() > next_report:
            next_report += 60
            print(f"  {time.monotonic() - started:5.0f} s: {fuzzer.inputs:,} inputs, "
                  f"{fuzzer.refused:,} refused with a FileProblem, {fuzzer.rows:,} rows checked, "
                  f"{len(fuzzer.findings)} findings", flush=True)  # fmt: skip
    print(f"Done: {fuzzer.inputs:,} inputs in {time.monotonic() - started:.0f} s, "
          f"{fuzzer.refused:,} refused with a FileProblem, {fuzzer.rows:,} rows checked, "
          f"{len(fuzzer.findings)} findings")  # fmt: skip
    for key, path in fuzzer.findings.items():
        print(f"  {key}: {path}")


if __name__ == "__main__":
    main()
