"""Accuracy of the built-in enricher against plain VADER (the anchor), on external data.

    .venv/bin/python -m bench.enrichment.evaluate [--evaldata ../shared/evaldata] [--limit N]

Systems, all in the same run:
  builtin   the whole `BuiltinEnricher` with its default (trained) scorer, run through
            `enrich()` exactly as the pipeline runs it (sentiment, topics, urgency rules)
  lexicon   the same enricher with the previous default `LexiconSentimentScorer`
  vader     plain VADER 3.3.2, standard thresholds (compound >= 0.05 positive, <= -0.05
            negative). VADER labels nothing but sentiment, so its urgency row is the old
            built-in rule on VADER's compound (<= -0.5 and a request word: medium) followed by
            the shared `apply_urgency_rules`, and its action-needed row is that request-word
            pattern alone. It has no topic rows.

Tasks:
  sentiment  3-class accuracy / macro-F1 on TweetEval test (12,284), the airline tweets
             (14,640), the HELD-OUT 20% of each VADER ground-truth set (never trained on;
             gold: mean rating > 0.5 positive, < -0.5 negative), and the iMIS sandbox's 166
             topic sentences with the sentiment their authors wrote them for (association
             feedback, the product's own register; the spike evaluation's incidents are made
             of them). None of these is trained on.
  urgency    forum_urgency (3,503 MOOC posts): gold 1-2 low, 3-4 medium, 5-7 high.
  action     enron_intent held-out 20%: does the sentence ask for an action or a reply.
  topics     the enricher's FIRST topic against a documented mapping (AIRLINE_TOPICS,
             BANKING_TOPICS below): airline negative tweets with a complaint reason (not
             "Can't Tell"), BANKING77 test queries of the mapped intents. Unmapped items are
             left out; an item with no topic counts as wrong.

items/s is wall clock over the whole set for that system (for builtin: the whole enricher).
Prints progress to stderr, a Markdown table to stdout, and writes the table to
`bench/results/enrichment/RESULTS.md` with a PNG chart `results.png` beside it (generated,
not committed; bench/RESULTS.md holds the recorded run). Reads ../shared only here.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from orchestration.lib.config import DEFAULT_TAXONOMY  # noqa: E402
from orchestration.lib.enrichment.base import apply_urgency_rules  # noqa: E402
from orchestration.lib.enrichment.builtin import (  # noqa: E402
    _ACTION_RE,
    BuiltinEnricher,
    LexiconSentimentScorer,
    TrainedSentimentScorer,
)
from orchestration.lib.enrichment.schema import EnrichmentInput, ItemLabels  # noqa: E402
from orchestration.lib.enrichment.trained import macro_f1  # noqa: E402
from orchestration.lib.enrichment.training import (  # noqa: E402
    VADER_SETS,
    enron_split,
    held_out,
    load_banking,
    load_enron,
    load_vader,
    vader_class,
)
from orchestration.lib.taxonomy import Taxonomy  # noqa: E402

OUT_DIR = REPO / "bench" / "results" / "enrichment"
SENTIMENT = ("negative", "neutral", "positive")
SYSTEMS = ("builtin", "lexicon", "vader")
GOAL_DELTA = 0.08  # the goal: builtin beats VADER by this macro-F1 on these sets
GOAL_SETS = ("tweeteval_test", "airline")

# Airline complaint reasons -> our taxonomy (a flight is the closest analogue of attending an
# event; "Can't Tell" is left out).
AIRLINE_TOPICS = {
    "Customer Service Issue": "customer_service",
    "Flight Attendant Complaints": "customer_service",
    "Late Flight": "event_logistics",
    "Lost Luggage": "event_logistics",
    "Damaged Luggage": "event_logistics",
    "Bad Flight": "event_logistics",
    "longlines": "event_logistics",
    "Cancelled Flight": "event_cancellation",
    "Flight Booking Problems": "event_registration",
}
# BANKING77 intents with a clear association analogue (the other 58 are left out: cards,
# top-ups, ATMs, exchange rates have none).
BANKING_TOPICS = {
    **dict.fromkeys(
        (
            "extra_charge_on_statement", "transaction_charged_twice", "request_refund",
            "Refund_not_showing_up", "card_payment_not_recognised",
            "direct_debit_payment_not_recognised", "declined_card_payment",
            "pending_card_payment", "reverted_card_payment?",
        ),
        "renewal_billing",
    ),
    **dict.fromkeys(
        (
            "card_payment_fee_charged", "transfer_fee_charged", "exchange_charge",
            "top_up_by_card_charge", "top_up_by_bank_transfer_charge", "cash_withdrawal_charge",
        ),
        "dues_pricing",
    ),
    "passcode_forgotten": "website_login",
    "compromised_card": "data_privacy",
    "edit_personal_details": "customer_service",
}  # fmt: skip


# ------------------------------------------------------------------------------------ data
def load_tweeteval(evaldata: Path) -> list[tuple[str, str]]:
    folder = evaldata / "tweeteval_sentiment"
    texts = (folder / "test_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / "test_labels.txt").read_text(encoding="utf-8").split()
    return [(t, SENTIMENT[int(y)]) for t, y in zip(texts, labels, strict=True)]


class _RedactedSlots(dict):
    """Slot values for the sandbox's templates: personal-data slots read as the redactor's
    placeholders (what the enricher sees in the pipeline), the rest as the generator's own."""

    def __missing__(self, slot: str) -> str:
        return "<PERSON>"


def load_sandbox_templates() -> list[tuple[str, str]]:
    """(sentence, intended sentiment) for every topic sentence the iMIS sandbox writes from:
    association feedback in the product's own register, labelled by the people who wrote it
    (in the repository, not ../shared). The spike evaluation's incidents are made of them.
    TOPIC_SENTENCES holds (positive, neutral, negative) variants per topic."""
    from connectors.imis_sandbox.textgen import COURSES, EVENTS, MONTHS, TOPIC_SENTENCES

    slots = _RedactedSlots(event=EVENTS[0], course=COURSES[0], month=MONTHS[0], amount="$365",
                           pct="15", tier="Student", chapter="New England", state="MA")  # fmt: skip
    return [
        (template.format_map(slots), sentiment)
        for variants in TOPIC_SENTENCES.values()
        for sentiment, group in zip(("positive", "neutral", "negative"), variants, strict=True)
        for template in group
    ]


def load_airline(evaldata: Path) -> list[dict[str, str]]:
    path = evaldata / "airline_tweets" / "airline_tweets.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_forum_urgency(evaldata: Path) -> list[tuple[str, str]]:
    path = evaldata / "forum_urgency" / "All_Courses_REDACTED_CODED.csv"
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["Urgency_1_7"] or not (row["post_text"] or "").strip():
                continue  # the file ends with one blank row
            level = float(row["Urgency_1_7"])
            out.append(
                (row["post_text"], "low" if level < 3 else "medium" if level < 5 else "high")
            )
    return out


# ---------------------------------------------------------------------------------- systems
def progress(message: str) -> None:
    print(f"[evaluate] {message}", file=sys.stderr, flush=True)


@dataclass
class Run:
    labels: list[ItemLabels | None]
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.labels) / self.seconds if self.seconds > 0 else 0.0


def run_enricher(enricher: BuiltinEnricher, texts: Sequence[str], what: str) -> Run:
    items = [
        EnrichmentInput.from_text(f"e:{i}", t or " ", "community") for i, t in enumerate(texts)
    ]
    out: list[ItemLabels | None] = []
    started = time.perf_counter()
    step = 2000
    for lo in range(0, len(items), step):
        out += [r.labels for r in enricher.enrich(items[lo : lo + step])]
        progress(f"  {what}: {min(lo + step, len(items))}/{len(items)}")
    return Run(out, time.perf_counter() - started)


class Vader:
    """Plain VADER with the standard thresholds (the anchor)."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()

    def run(self, texts: Sequence[str]) -> tuple[list[float], float]:
        started = time.perf_counter()
        scores = [self.analyzer.polarity_scores(t)["compound"] for t in texts]
        return scores, time.perf_counter() - started

    @staticmethod
    def label(compound: float) -> str:
        return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"

    @staticmethod
    def urgency(text: str, compound: float) -> str:
        level = "medium" if compound <= -0.5 and _ACTION_RE.search(text) else "low"
        base = ItemLabels(
            sentiment={"label": "neutral", "score": 0.0, "confidence": 0.5},
            urgency={"level": level},
            language="en",
            summary="x",
        )
        return apply_urgency_rules(text, base).urgency.level


# ---------------------------------------------------------------------------------- scoring
@dataclass
class Row:
    task: str
    dataset: str
    n: int
    scores: dict[str, tuple[float, float, float] | None]  # system -> (accuracy, macro-F1, items/s)


def _acc(gold: Sequence, pred: Sequence) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, len(gold))


def _score(gold: Sequence, pred: Sequence, labels: Sequence, per_second: float):
    return (_acc(gold, pred), macro_f1(gold, pred, labels), per_second)


def _sent(labels: ItemLabels | None) -> str:
    return labels.sentiment.label if labels else "neutral"


def _urg(labels: ItemLabels | None) -> str:
    return labels.urgency.level if labels else "low"


def _topic(labels: ItemLabels | None) -> str:
    return labels.topics[0].key or "none" if labels and labels.topics else "none"


def evaluate(evaldata: Path, limit: int | None) -> list[Row]:
    taxonomy = Taxonomy.load(DEFAULT_TAXONOMY)
    enrichers = {
        # one process each, so the items/s columns compare with VADER's (labels are the same
        # with worker processes: see test_worker_processes_give_exactly_the_in_process_results)
        "builtin": BuiltinEnricher(taxonomy, sentiment=TrainedSentimentScorer(), processes=1),
        "lexicon": BuiltinEnricher(taxonomy, sentiment=LexiconSentimentScorer(), processes=1),
    }
    vader = Vader()
    rows: list[Row] = []

    def cut(seq: list) -> list:
        return seq[:limit] if limit else seq

    def sentiment_and_more(
        dataset: str, texts: list[str], gold: list[str], extra: Callable[[str, Run], None] | None
    ) -> None:
        progress(f"{dataset}: {len(texts)} texts")
        scores: dict[str, tuple[float, float, float] | None] = {}
        for name, enricher in enrichers.items():
            run = run_enricher(enricher, texts, f"{dataset} {name}")
            scores[name] = _score(gold, [_sent(x) for x in run.labels], SENTIMENT, run.per_second)
            if extra:
                extra(name, run)
        compounds, seconds = vader.run(texts)
        scores["vader"] = _score(
            gold, [vader.label(c) for c in compounds], SENTIMENT, len(texts) / seconds
        )
        rows.append(Row("sentiment", dataset, len(texts), scores))

    # sentiment: TweetEval test
    tweets = cut(load_tweeteval(evaldata))
    sentiment_and_more("tweeteval_test", [t for t, _ in tweets], [g for _, g in tweets], None)

    # sentiment: the sandbox's hand-labelled association sentences
    templates = cut(load_sandbox_templates())
    sentiment_and_more(
        "sandbox_templates", [t for t, _ in templates], [g for _, g in templates], None
    )

    # sentiment + topics: airline
    airline = cut(load_airline(evaldata))
    a_texts = [r["text"] for r in airline]
    topic_idx = [i for i, r in enumerate(airline) if r["negativereason"] in AIRLINE_TOPICS]
    topic_gold = [AIRLINE_TOPICS[airline[i]["negativereason"]] for i in topic_idx]
    topic_scores: dict[str, tuple[float, float, float] | None] = {"vader": None}

    def airline_topics(name: str, run: Run) -> None:
        pred = [_topic(run.labels[i]) for i in topic_idx]
        topic_scores[name] = _score(topic_gold, pred, sorted(set(topic_gold)), run.per_second)

    sentiment_and_more(
        "airline", a_texts, [r["airline_sentiment"] for r in airline], airline_topics
    )
    rows.append(Row("topic", "airline negativereason (9 mapped)", len(topic_idx), topic_scores))

    # sentiment: VADER ground truth held-out splits
    for name in VADER_SETS:
        rows_v = cut([r for r in load_vader(evaldata, name) if held_out("vader", name, r[0])])
        sentiment_and_more(
            f"vader_{name}_holdout",
            [t for _, t, _ in rows_v],
            [SENTIMENT[vader_class(m)] for _, _, m in rows_v],
            None,
        )

    # urgency: forum posts
    forum = cut(load_forum_urgency(evaldata))
    f_texts, f_gold = [t for t, _ in forum], [g for _, g in forum]
    progress(f"forum_urgency: {len(forum)} posts")
    urgency_scores: dict[str, tuple[float, float, float] | None] = {}
    levels = ("low", "medium", "high")
    for name, enricher in enrichers.items():
        run = run_enricher(enricher, f_texts, f"forum_urgency {name}")
        urgency_scores[name] = _score(f_gold, [_urg(x) for x in run.labels], levels, run.per_second)
    started = time.perf_counter()
    compounds, _ = vader.run(f_texts)
    pred = [vader.urgency(t, c) for t, c in zip(f_texts, compounds, strict=True)]
    urgency_scores["vader"] = _score(
        f_gold, pred, levels, len(forum) / (time.perf_counter() - started)
    )
    rows.append(Row("urgency", "forum_urgency (1-2/3-4/5-7)", len(forum), urgency_scores))

    # action-needed: Enron held-out sentences
    _, enron_test = enron_split(load_enron(evaldata))
    enron_test = cut(enron_test)
    progress(f"enron_intent holdout: {len(enron_test)} sentences")
    e_texts, e_gold = [t for t, _ in enron_test], [y for _, y in enron_test]
    scorer = enrichers["builtin"].sentiment
    assert isinstance(scorer, TrainedSentimentScorer)
    started = time.perf_counter()
    probs = scorer.action(e_texts)
    b_rate = len(e_texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    regex = [int(bool(_ACTION_RE.search(t))) for t in e_texts]
    r_rate = len(e_texts) / (time.perf_counter() - started)
    rows.append(
        Row(
            "action-needed",
            "enron_intent_holdout",
            len(enron_test),
            {
                "builtin": _score(e_gold, [int(p >= 0.5) for p in probs], (0, 1), b_rate),
                "lexicon": None,
                "vader": _score(e_gold, regex, (0, 1), r_rate),
            },
        )
    )

    # topics: BANKING77 test, mapped intents
    banking = [
        (t, BANKING_TOPICS[c]) for t, c in load_banking(evaldata, "test") if c in BANKING_TOPICS
    ]
    banking = cut(banking)
    progress(f"banking77 test (mapped intents): {len(banking)} queries")
    b_gold = [g for _, g in banking]
    b_scores: dict[str, tuple[float, float, float] | None] = {"vader": None}
    for name, enricher in enrichers.items():
        run = run_enricher(enricher, [t for t, _ in banking], f"banking77 {name}")
        b_scores[name] = _score(
            b_gold, [_topic(x) for x in run.labels], sorted(set(b_gold)), run.per_second
        )
    rows.append(
        Row(
            "topic",
            f"banking77 test ({len(BANKING_TOPICS)} mapped intents)",
            len(banking),
            b_scores,
        )
    )
    return rows


# ---------------------------------------------------------------------------------- output
def _cell(value: tuple[float, float, float] | None) -> str:
    return "-" if value is None else f"{value[0]:.3f} / {value[1]:.3f}"


def _rate(value: tuple[float, float, float] | None) -> str:
    return "-" if value is None else f"{value[2]:,.0f}"


def markdown(rows: list[Row], command: str) -> str:
    lines = [
        "Cells are accuracy / macro-F1; items/s is wall clock (builtin and lexicon: the whole",
        "enricher, one process).",
        "",
        "| task | data set | n | builtin (trained) | lexicon-v1 | VADER | builtin - VADER (F1) "
        "| items/s builtin | items/s lexicon | items/s VADER |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b, v = r.scores.get("builtin"), r.scores.get("vader")
        delta = f"{b[1] - v[1]:+.3f}" if b and v else "-"
        lines.append(
            f"| {r.task} | {r.dataset} | {r.n:,} | {_cell(b)} | {_cell(r.scores.get('lexicon'))} "
            f"| {_cell(v)} | {delta} | {_rate(b)} | {_rate(r.scores.get('lexicon'))} | {_rate(v)} |"
        )
    lines.append("")
    for dataset in GOAL_SETS:
        row = next((r for r in rows if r.dataset == dataset), None)
        if row and row.scores.get("builtin") and row.scores.get("vader"):
            delta = row.scores["builtin"][1] - row.scores["vader"][1]  # type: ignore[index]
            verdict = "MET" if delta >= GOAL_DELTA else "NOT MET"
            lines.append(f"- goal builtin >= VADER + {GOAL_DELTA} macro-F1 on {dataset}: "
                         f"{delta:+.3f}, {verdict}")  # fmt: skip
    lines += ["", f"Command: `{command}`", ""]
    return "\n".join(lines)


def chart(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{r.task}\n{r.dataset.split(' (')[0]}" for r in rows]
    fig, ax = plt.subplots(figsize=(max(8, 1.2 * len(rows)), 4.5))
    width = 0.27
    for k, (system, colour) in enumerate(
        (("builtin", "#2b6cb0"), ("lexicon", "#9ac1e6"), ("vader", "#dd8452"))
    ):
        xs = [i + (k - 1) * width for i in range(len(rows))]
        ys = [r.scores[system][1] if r.scores.get(system) else 0.0 for r in rows]  # type: ignore[index]
        ax.bar(xs, ys, width, label=system, color=colour)
    ax.set_xticks(range(len(rows)), names, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("macro-F1")
    ax.set_ylim(0, 1)
    ax.set_title("Built-in enricher vs VADER (macro-F1; topics: first topic vs mapping)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaldata", default=REPO.parent / "shared" / "evaldata", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="first N items per set (smoke)")
    args = parser.parse_args(argv)
    if not (args.evaldata / "tweeteval_sentiment").is_dir():
        print(f"no evaluation data at {args.evaldata}", file=sys.stderr)
        return 2
    command = "python -m bench.enrichment.evaluate" + (
        f" --limit {args.limit}" if args.limit else ""
    )
    rows = evaluate(args.evaldata, args.limit)
    table = markdown(rows, command)
    print(table)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "RESULTS.md").write_text("# Enrichment accuracy\n\n" + table, encoding="utf-8")
    chart(rows, OUT_DIR / "results.png")
    progress(f"wrote {OUT_DIR / 'RESULTS.md'} and {OUT_DIR / 'results.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
