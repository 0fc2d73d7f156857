"""Build `orchestration/lib/pii/english_words.txt`: common lowercase English words that the person
recognizer treats as ordinary (a capitalised one needs a context before it counts as a name).

    .venv/bin/python -m bench.redaction.build_wordlist [--evaldata ../shared/evaldata]

Sources (training / development splits only, never a set the evaluation reports on):
  wnut17_entities  wnut17train.conll + emerging.dev.conll, tokens tagged O (CC BY 4.0)
  banking77        train.csv (CC BY 4.0)
  enron_intent     intent_pos.txt + intent_neg.txt (MIT)
(suggestion_mining is left out: its CC BY-NC-SA licence does not suit a shipped list.)

A word is kept when it is alphabetic, written in lowercase at least `--min-count` times, and
seen in lowercase more often than capitalised in the middle of a sentence (a proper-noun
signal: names are written capitalised even in informal text). Only single words are written.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "orchestration" / "lib" / "pii" / "english_words.txt"
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


def _sentences(evaldata: Path) -> Iterator[str]:
    for name in ("wnut17train.conll", "emerging.dev.conll"):
        tokens: list[str] = []
        for line in (evaldata / "wnut17_entities" / name).read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                if parts[-1].strip() == "O":
                    tokens.append(parts[0])
                else:
                    tokens.append("|")  # an entity: breaks the sentence, counts as nothing
            elif tokens:
                yield " ".join(tokens)
                tokens = []
        if tokens:
            yield " ".join(tokens)
    with (evaldata / "banking77" / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield row["text"]
    for name in ("intent_pos.txt", "intent_neg.txt"):
        yield from (evaldata / "enron_intent" / name).read_text(encoding="utf-8").splitlines()


def count(sentences: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for sentence in sentences:
        for i, m in enumerate(_WORD.finditer(sentence)):
            word = m.group()
            before = sentence[max(0, m.start() - 2) : m.start()]
            if word.islower():
                lower[word] += 1
            elif (
                i > 0
                and word[0].isupper()
                and word[1:].islower()
                and not re.search(r"[.!?:\"|]", before)
            ):
                capital[word.lower()] += 1
    return lower, capital


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=REPO.parent / "shared" / "evaldata")
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(list(argv) if argv is not None else None)
    lower, capital = count(_sentences(args.evaldata))
    words = sorted(
        w
        for w, n in lower.items()
        if n >= args.min_count and len(w) >= 2 and "'" not in w and n > capital[w]
    )
    header = (
        "# Common lowercase English words (bench/redaction/build_wordlist.py; from the training\n"
        "# split of wnut17 (CC BY 4.0, Derczynski et al. 2017), banking77 (CC BY 4.0) and\n"
        "# enron_intent (MIT)). One word a line.\n"
    )
    args.out.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
