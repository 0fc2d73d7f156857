"""Train the built-in model's classifiers, reproducibly, from shippable data only.

    python -m orchestration.lib.enrichment.training --evaldata ../shared/evaldata

Data (licences allow shipping a derived model):
- VADER ground truth (MIT, Hutto & Gilbert 2014): tweets, Amazon, movie and NYT sentences with
  mean human ratings; mean > 0.5 positive, < -0.5 negative, otherwise neutral. Each row falls
  in a bucket, sha256(set, id) % 100: 0-19 HELD OUT (never trained on, never used to choose
  anything; bench/enrichment reports it), 20-29 DEV (hyperparameter selection), 30-99 TRAIN.
- BANKING77 train split (CC BY 4.0): customer questions, as neutral examples (a sample).
- Enron intent (MIT): email sentences that need action or a reply (pos) or not (neg), for the
  action-needed head; the same buckets on sha256(label, text): 20% held out, 10% dev.
- `model/association_dev.tsv`: 90 association-style sentences HAND-WRITTEN for this project
  (labelled by their authors), dev data for the domain prior only; never trained on.

Never used for training or for choosing anything: TweetEval, airline, forum urgency,
suggestion mining, complaints (evaluation only; research or non-commercial terms), and the
held-out 20% splits.

Hyperparameter selection (`select`), decided before any run and run by the command above:
the candidate models are fitted on TRAIN only (vocabularies too) and scored on DEV only.
  objective  mean macro-F1 over the four VADER DEV slices (tweets, amazon, movie, nyt)
  stage 1    c_sentiment x source weights: C in SELECTION_GRID["c_sentiment"], weights in
             SELECTION_GRID["source_weights"] (uniform; each VADER set the same total weight;
             short informal texts up, movie reviews down)
  stage 2    dense_scale in SELECTION_GRID["dense_scale"] at the stage-1 winner
  stage 3    banking_neutral in SELECTION_GRID["banking_neutral"] at the winner so far
  stage 4    c_action in SELECTION_GRID["c_action"]: macro-F1 on the Enron DEV slice
  stage 5    domain_prior in SELECTION_GRID["domain_prior"] with the selected sentiment model:
             objective mean(macro-F1 on association_dev.tsv, the VADER DEV objective)
Ties go to the earlier candidate in grid order. Fixed a priori, not selected on any score:
vocabulary sizes and min_df (artifact size), the neutral band 0.5 (the label definition the
evaluation uses), balanced class weights, the seed. The final model is then refitted on
TRAIN + DEV with the selected values; the manifest records every candidate's dev scores.

The artifact is `model/builtin-v2.npz` (numpy arrays: vocabularies as unicode arrays, idf,
weights, the domain prior; loaded with allow_pickle=False) plus `model/manifest.json` (data,
licences, parameters, the selection, scores, the artifact's sha256). The final fit is
deterministic: `--skip-selection` (refit with the TrainParams defaults, which are the recorded
selection) gives the same bytes every time. After a selection run in the same process the
lbfgs weights can differ in the fifth decimal (same parameters, same labels but for rare ties).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from orchestration.lib.enrichment.features import (
    DENSE_NAMES,
    FEATURES_VERSION,
    char_ngrams,
    dense_features,
    word_ngrams,
)

MODEL_DIR = Path(__file__).parent / "model"
ARTIFACT_NAME = "builtin-v2.npz"
MANIFEST_VERSION = 2
ASSOCIATION_DEV = MODEL_DIR / "association_dev.tsv"
SENTIMENT_CLASSES = ("negative", "neutral", "positive")
VADER_SETS = {
    "tweets": "tweets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "movie": "movieReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
}
HOLDOUT_PERCENT = 20  # buckets 0-19: held out (reported, never used to choose anything)
DEV_PERCENT = 10  # buckets 20-29: development split (hyperparameter selection only)
NEVER_TRAINED_ON = [
    "tweeteval_sentiment", "airline_tweets", "forum_urgency", "suggestion_mining",
    "complaints_twitter", "banking77 test", "vader_groundtruth held-out 20%",
    "enron_intent held-out 20%", "association_dev.tsv (hand-written dev sentences)",
]  # fmt: skip
SELECTION_GRID: dict[str, tuple] = {
    "c_sentiment": (0.15, 0.5, 2.0),
    "source_weights": ("uniform", "per_set_equal", "short_informal"),
    "dense_scale": (0.75, 1.5, 3.0),
    "banking_neutral": (1500, 3000, 6000),
    "c_action": (0.5, 2.0, 8.0),
    "domain_prior": (0.0, 0.3, 0.6, 0.9, 1.2, 1.6, 2.0),
}
VADER_SOURCES = tuple(f"vader_{name}" for name in VADER_SETS)


@dataclass(frozen=True)
class TrainParams:
    """The model's hyperparameters. The defaults are what `select` chose on the dev split
    (see the module docstring and the manifest's `selection`); `main` re-runs the selection."""

    word_min_df: int = 2  # fixed a priori (vocabulary and artifact size), not selected
    char_min_df: int = 5  # fixed a priori
    word_max_features: int = 40_000  # fixed a priori
    char_max_features: int = 60_000  # fixed a priori
    dense_scale: float = 0.75  # selected (stage 2)
    c_sentiment: float = 0.5  # selected (stage 1)
    c_action: float = 8.0  # selected (stage 4; the largest value of its grid)
    banking_neutral: int = 3000  # BANKING77 questions added as neutral examples (stage 3)
    vader_neutral_band: float = 0.5  # the label definition the evaluation uses: fixed
    # Per-source sample weights for the sentiment head, a name from WEIGHT_SCHEMES (stage 1).
    source_weights: str = "short_informal"
    # Added to the sentiment logits: domain_prior x 4 x the association-domain phrase valence
    # features (see TrainedSentimentScorer); selected on dev (stage 5), shipped in the artifact.
    domain_prior: float = 1.6
    seed: int = 13


# Per-source sample weights (banking77_train_neutral is 1.0 in every scheme).
# per_set_equal: every VADER set gets the total weight of the largest one's rows divided by
# its own row count (computed from the rows, see `source_weight_map`).
WEIGHT_SCHEMES: dict[str, dict[str, float]] = {
    "uniform": {},
    "per_set_equal": {},
    "short_informal": {"vader_tweets": 3.0, "vader_movie": 0.3},
}


def source_weight_map(scheme: str, counts: dict[str, int]) -> dict[str, float]:
    weights = {name: 1.0 for name in counts}
    if scheme == "per_set_equal":
        largest = max(counts[name] for name in VADER_SOURCES)
        weights.update({name: largest / counts[name] for name in VADER_SOURCES})
    else:
        weights.update(WEIGHT_SCHEMES[scheme])
    return weights


def bucket(*key: str) -> int:
    """Deterministic bucket 0..99 of a key (sha256)."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def held_out(*key: str) -> bool:
    """True for about HOLDOUT_PERCENT% of keys: never trained on, never used to select."""
    return bucket(*key) < HOLDOUT_PERCENT


def split_of(*key: str) -> str:
    """ "holdout" (20%), "dev" (10%) or "train" (70%)."""
    b = bucket(*key)
    return (
        "holdout"
        if b < HOLDOUT_PERCENT
        else "dev"
        if b < HOLDOUT_PERCENT + DEV_PERCENT
        else "train"
    )


def vader_class(mean: float, band: float = 0.5) -> int:
    return 2 if mean > band else 0 if mean < -band else 1


# ----------------------------------------------------------------------------------- loaders
def load_vader(evaldata: Path, name: str) -> list[tuple[str, str, float]]:
    """(id, text, mean rating) rows of one VADER ground-truth set."""
    rows = []
    with open(evaldata / "vader_groundtruth" / VADER_SETS[name], encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3 and parts[2].strip():
                rows.append((parts[0], parts[2], float(parts[1])))
    return rows


def load_banking(evaldata: Path, split: str) -> list[tuple[str, str]]:
    with open(evaldata / "banking77" / f"{split}.csv", encoding="utf-8", newline="") as fh:
        return [(r["text"], r["category"]) for r in csv.DictReader(fh)]


def load_enron(evaldata: Path) -> list[tuple[str, int]]:
    """(sentence, 1 if action needed) for every Enron intent sentence, in file order."""
    rows = []
    for name, label in (("intent_pos.txt", 1), ("intent_neg.txt", 0)):
        with open(evaldata / "enron_intent" / name, encoding="utf-8", errors="replace") as fh:
            rows += [(line.strip(), label) for line in fh if line.strip()]
    return rows


def enron_split(rows: list[tuple[str, int]]) -> tuple[list, list]:
    """(rows not held out: TRAIN + DEV, the held-out 20%)."""
    train = [r for r in rows if not held_out("enron", str(r[1]), r[0])]
    test = [r for r in rows if held_out("enron", str(r[1]), r[0])]
    return train, test


def enron_part(rows: list[tuple[str, int]], part: str) -> list[tuple[str, int]]:
    """`part` in "train", "dev", "holdout", or "fit" (train + dev)."""
    parts = ("train", "dev") if part == "fit" else (part,)
    return [r for r in rows if split_of("enron", str(r[1]), r[0]) in parts]


def vader_part(evaldata: Path, name: str, part: str) -> list[tuple[str, str, float]]:
    """Rows of one VADER set in `part` ("train", "dev", "holdout", or "fit" = train + dev)."""
    parts = ("train", "dev") if part == "fit" else (part,)
    return [r for r in load_vader(evaldata, name) if split_of("vader", name, r[0]) in parts]


def load_association_dev(path: Path = ASSOCIATION_DEV) -> list[tuple[str, int]]:
    """(text, class 0/1/2) of the hand-written association dev sentences."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((text, SENTIMENT_CLASSES.index(label)))
    return rows


@dataclass
class SentimentData:
    texts: list[str]
    labels: list[int]
    sources: list[str]
    counts: dict[str, int]


def sentiment_data(evaldata: Path, params: TrainParams, part: str = "fit") -> SentimentData:
    """Sentiment rows of `part` ("train" or "fit"), in a fixed order: the VADER sets, then
    the BANKING77 neutral sample (train split of BANKING77: it has no dev role)."""
    data = SentimentData([], [], [], {})
    for name in VADER_SETS:
        rows = vader_part(evaldata, name, part)
        data.texts += [t for _, t, _ in rows]
        data.labels += [vader_class(m, params.vader_neutral_band) for _, _, m in rows]
        data.sources += [f"vader_{name}"] * len(rows)
        data.counts[f"vader_{name}"] = len(rows)
    banking = banking_sample(evaldata, params.seed)[: params.banking_neutral]
    data.texts += banking
    data.labels += [1] * len(banking)
    data.sources += ["banking77_train_neutral"] * len(banking)
    data.counts["banking77_train_neutral"] = len(banking)
    return data


def banking_sample(evaldata: Path, seed: int) -> list[str]:
    """BANKING77 train questions in a seeded order (a prefix is a sample)."""
    rows = load_banking(evaldata, "train")
    return [
        t
        for t, _ in sorted(
            rows, key=lambda r: hashlib.sha256(f"{seed}:{r[0]}".encode()).hexdigest()
        )
    ]


def sample_weights(data: SentimentData, scheme: str) -> np.ndarray:
    weights = source_weight_map(scheme, data.counts)
    return np.asarray([weights[s] for s in data.sources], dtype=np.float64)


def _progress(message: str) -> None:
    print(f"[training] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------- training
def _fit_vocab(analyzer, texts: list[str], min_df: int, max_features: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        analyzer=analyzer, min_df=min_df, max_features=max_features, sublinear_tf=True,
        dtype=np.float64,
    )  # fmt: skip
    vec.fit(texts)
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    return vec, vocab


def featurise(vecs, texts: list[str], dense_scale: float, dense: np.ndarray | None = None):
    from scipy import sparse

    blocks = [vec.transform(texts) for vec in vecs]
    dense = dense_features(texts) if dense is None else dense
    blocks.append(sparse.csr_matrix(dense * dense_scale))
    return sparse.hstack(blocks, format="csr")


def _logreg(c: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)


def train(evaldata: Path, params: TrainParams | None = None) -> tuple[dict, dict]:
    """Fit the final model on TRAIN + DEV. Returns (arrays for the npz, info for the manifest)."""
    params = params or TrainParams()
    data = sentiment_data(evaldata, params, "fit")
    enron = enron_part(load_enron(evaldata), "fit")
    counts = {**data.counts, "enron_intent_train": len(enron)}
    _progress(f"final training rows (train + dev): {counts}")
    arrays = fit_arrays(
        data.texts,
        data.labels,
        sample_weights(data, params.source_weights).tolist(),
        [t for t, _ in enron],
        [y for _, y in enron],
        params,
    )
    return arrays, {"counts": counts}


def fit_arrays(
    s_texts: list[str],
    s_labels: list[int],
    s_weights: list[float],
    a_texts: list[str],
    a_labels: list[int],
    params: TrainParams,
) -> dict[str, np.ndarray]:
    """Fit the shared vocabularies and both heads.

    Deterministic: lbfgs from zero, fixed data order, one BLAS thread (which also keeps the
    training light on a shared machine).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        all_texts = s_texts + a_texts
        _progress("fitting word and character vocabularies")
        wvec, wvocab = _fit_vocab(
            word_ngrams, all_texts, params.word_min_df, params.word_max_features
        )
        cvec, cvocab = _fit_vocab(
            char_ngrams, all_texts, params.char_min_df, params.char_max_features
        )
        vecs = (wvec, cvec)
        _progress(f"featurising {len(s_texts)} sentiment rows")
        xs = featurise(vecs, s_texts, params.dense_scale)
        _progress("fitting the sentiment head (about a minute)")
        sent = _logreg(params.c_sentiment, params.seed).fit(
            xs, np.asarray(s_labels), sample_weight=np.asarray(s_weights, dtype=np.float64)
        )
        _progress(f"featurising {len(a_texts)} action-needed rows and fitting that head")
        xa = featurise(vecs, a_texts, params.dense_scale)
        act = _logreg(params.c_action, params.seed).fit(xa, np.asarray(a_labels))
    return {
        "word_vocab": np.asarray(wvocab, dtype=str),
        "word_idf": wvec.idf_.astype(np.float32),
        "char_vocab": np.asarray(cvocab, dtype=str),
        "char_idf": cvec.idf_.astype(np.float32),
        "dense_scale": np.asarray([params.dense_scale], dtype=np.float64),
        "domain_prior": np.asarray([params.domain_prior], dtype=np.float64),
        "sentiment_coef": sent.coef_.astype(np.float32),
        "sentiment_intercept": sent.intercept_.astype(np.float64),
        "action_coef": act.coef_.astype(np.float32),
        "action_intercept": act.intercept_.astype(np.float64),
    }


# ------------------------------------------------------------------------------- selection
def domain_shift(dense: np.ndarray, prior: float) -> np.ndarray:
    """The domain prior's (n, 3) logit shift (the same as TrainedSentimentScorer's)."""
    shift = np.zeros((len(dense), 3))
    shift[:, 0] = prior * 4.0 * dense[:, DENSE_NAMES.index("domain_neg")]
    shift[:, 2] = prior * 4.0 * dense[:, DENSE_NAMES.index("domain_pos")]
    return shift


def select(evaldata: Path, base: TrainParams | None = None) -> tuple[TrainParams, dict]:
    """Choose the hyperparameters on the DEV split (see the module docstring).

    Returns the selected parameters and a record of every candidate's dev scores.
    """
    from scipy import sparse
    from threadpoolctl import threadpool_limits

    from orchestration.lib.enrichment.trained import macro_f1

    base = base or TrainParams()
    grid = SELECTION_GRID
    most = replace(base, banking_neutral=max(grid["banking_neutral"]))
    data = sentiment_data(evaldata, most, "train")  # banking rows: the largest sample
    enron_rows = load_enron(evaldata)
    enron_train, enron_dev = enron_part(enron_rows, "train"), enron_part(enron_rows, "dev")
    dev = {name: vader_part(evaldata, name, "dev") for name in VADER_SETS}
    assoc = load_association_dev()
    n_vader = sum(data.counts[s] for s in VADER_SOURCES)
    record: dict = {"objective": "mean macro-F1 over the VADER dev slices", "grid": {
        k: list(v) for k, v in grid.items()}, "dev_rows": {
        **{f"vader_{n}": len(r) for n, r in dev.items()}, "enron_intent": len(enron_dev),
        "association_dev": len(assoc)}, "stages": {}}  # fmt: skip

    with threadpool_limits(limits=1):
        # Vocabularies from TRAIN only (the base sample of BANKING77), like the final fit.
        vocab_texts = data.texts[: n_vader + base.banking_neutral] + [t for t, _ in enron_train]
        _progress(f"selection: vocabularies from {len(vocab_texts)} TRAIN texts")
        wvec, _ = _fit_vocab(word_ngrams, vocab_texts, base.word_min_df, base.word_max_features)
        cvec, _ = _fit_vocab(char_ngrams, vocab_texts, base.char_min_df, base.char_max_features)
        vecs = (wvec, cvec)

        def features(texts: list[str]) -> tuple:
            dense = dense_features(texts)
            return sparse.hstack([v.transform(texts) for v in vecs], format="csr"), dense

        def stack(xs_dense: tuple, scale: float):
            return sparse.hstack([xs_dense[0], sparse.csr_matrix(xs_dense[1] * scale)], "csr")

        _progress("selection: featurising TRAIN and DEV")
        x_train = features(data.texts)
        x_dev = {name: features([t for _, t, _ in rows]) for name, rows in dev.items()}
        y_dev = {name: [vader_class(m) for _, _, m in rows] for name, rows in dev.items()}
        x_assoc = features([t for t, _ in assoc])
        y_train = np.asarray(data.labels)

        def fit(params: TrainParams):
            keep = n_vader + params.banking_neutral
            rows = slice(0, keep)
            sub = SentimentData(data.texts[rows], data.labels[rows], data.sources[rows],
                                {**data.counts, "banking77_train_neutral": params.banking_neutral})  # fmt: skip
            x = stack(x_train, params.dense_scale)[:keep]
            return _logreg(params.c_sentiment, params.seed).fit(
                x, y_train[:keep], sample_weight=sample_weights(sub, params.source_weights)
            )

        def dev_scores(model, params: TrainParams, prior: float = 0.0) -> dict[str, float]:
            out = {}
            for name in VADER_SETS:
                z = model.decision_function(stack(x_dev[name], params.dense_scale))
                z = z + domain_shift(x_dev[name][1], prior)
                out[f"vader_{name}_dev"] = round(
                    macro_f1(y_dev[name], z.argmax(1).tolist(), (0, 1, 2)), 4
                )
            out["objective"] = round(float(np.mean(list(out.values()))), 4)
            return out

        fits: dict[TrainParams, tuple] = {}  # a candidate repeated in a later stage

        def run_stage(stage: str, candidates: list[TrainParams], keys: tuple[str, ...]):
            rows, best, best_score, best_model = [], None, -1.0, None
            for params in candidates:
                started = time.perf_counter()
                if params not in fits:
                    fitted = fit(params)
                    fits[params] = (fitted, dev_scores(fitted, params))
                model, scores = fits[params]
                rows.append({**{k: getattr(params, k) for k in keys}, **scores})
                _progress(f"selection {stage}: {rows[-1]} ({time.perf_counter() - started:.0f} s)")
                if scores["objective"] > best_score:
                    best, best_score, best_model = params, scores["objective"], model
            record["stages"][stage] = {"candidates": rows,
                                       "chosen": {k: getattr(best, k) for k in keys}}  # fmt: skip
            return best, best_model

        stage1 = [
            replace(base, c_sentiment=c, source_weights=w)
            for w in grid["source_weights"]
            for c in grid["c_sentiment"]
        ]
        best, model = run_stage(
            "1 c_sentiment x source_weights", stage1, ("c_sentiment", "source_weights")
        )
        stage2 = [replace(best, dense_scale=d) for d in grid["dense_scale"]]
        best, model = run_stage("2 dense_scale", stage2, ("dense_scale",))
        stage3 = [replace(best, banking_neutral=b) for b in grid["banking_neutral"]]
        best, model = run_stage("3 banking_neutral", stage3, ("banking_neutral",))
        fits.clear()

        # stage 4: the action-needed head on the Enron dev slice
        xa = features([t for t, _ in enron_train])
        xa_dev = features([t for t, _ in enron_dev])
        rows_a, best_c, best_f1 = [], None, -1.0
        for c in grid["c_action"]:
            act = _logreg(c, best.seed).fit(
                stack(xa, best.dense_scale), [y for _, y in enron_train]
            )
            pred = act.predict(stack(xa_dev, best.dense_scale))
            f1 = round(macro_f1([y for _, y in enron_dev], pred.tolist(), (0, 1)), 4)
            rows_a.append({"c_action": c, "enron_intent_dev": f1})
            _progress(f"selection 4 c_action: {rows_a[-1]}")
            if f1 > best_f1:
                best_c, best_f1 = c, f1
        record["stages"]["4 c_action"] = {"candidates": rows_a, "chosen": {"c_action": best_c}}
        best = replace(best, c_action=best_c)

        # stage 5: the domain prior, with the selected sentiment model
        assoc_y = [y for _, y in assoc]
        rows_p, best_p, best_obj = [], None, -1.0
        for prior in grid["domain_prior"]:
            vader_dev = dev_scores(model, best, prior)
            z = model.decision_function(stack(x_assoc, best.dense_scale))
            z = z + domain_shift(x_assoc[1], prior)
            assoc_f1 = round(macro_f1(assoc_y, z.argmax(1).tolist(), (0, 1, 2)), 4)
            objective = round((assoc_f1 + vader_dev["objective"]) / 2, 4)
            rows_p.append({"domain_prior": prior, "association_dev": assoc_f1,
                           "vader_dev_mean": vader_dev["objective"], "objective": objective})  # fmt: skip
            _progress(f"selection 5 domain_prior: {rows_p[-1]}")
            if objective > best_obj:
                best_p, best_obj = prior, objective
        record["stages"]["5 domain_prior"] = {
            "objective": "mean(macro-F1 on association_dev.tsv, mean VADER dev macro-F1)",
            "candidates": rows_p, "chosen": {"domain_prior": best_p}}  # fmt: skip
        best = replace(best, domain_prior=best_p)
    record["selected"] = asdict(best)
    return best, record


def save_artifact(arrays: dict[str, np.ndarray], path: Path) -> str:
    """Write the npz deterministically: fixed zip timestamps, sorted names, no pickle."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def score_holdouts(evaldata: Path, artifact: Path) -> dict[str, dict[str, float]]:
    """Accuracy / macro-F1 on the held-out splits of the training sets (never trained on),
    with the domain prior applied as the built-in scorer applies it."""
    from orchestration.lib.enrichment.trained import TrainedModel, macro_f1

    model = TrainedModel.load(artifact, verify=False)
    scores: dict[str, dict[str, float]] = {}
    for name in VADER_SETS:
        rows = vader_part(evaldata, name, "holdout")
        texts = [t for _, t, _ in rows]
        dense = dense_features(texts)
        proba = model.sentiment_proba(
            texts, dense=dense, shift=domain_shift(dense, model.domain_prior)
        )
        gold = [vader_class(m) for _, _, m in rows]
        scores[f"vader_{name}_holdout"] = _acc_f1(
            gold, [int(np.argmax(p)) for p in proba], macro_f1
        )
    enron_test = enron_part(load_enron(evaldata), "holdout")
    pa = model.action_proba([t for t, _ in enron_test])
    scores["enron_intent_holdout"] = _acc_f1(
        [y for _, y in enron_test], [int(p >= 0.5) for p in pa], macro_f1
    )
    return scores


def _acc_f1(gold, pred, macro_f1) -> dict[str, float]:
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, len(gold))
    return {"n": len(gold), "accuracy": round(acc, 4), "macro_f1": round(macro_f1(gold, pred), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaldata", default="../shared/evaldata", type=Path)
    parser.add_argument("--out", default=MODEL_DIR, type=Path)
    parser.add_argument("--skip-selection", action="store_true",
                        help="train with the TrainParams defaults (the last selection's result) "
                        "and keep the manifest's selection record")  # fmt: skip
    args = parser.parse_args(argv)
    if not (args.evaldata / "vader_groundtruth").is_dir():
        print(f"no evaluation data at {args.evaldata}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    manifest_path = args.out / "manifest.json"
    if args.skip_selection:
        params = TrainParams()
        selection = json.loads(manifest_path.read_text()).get("selection", {})
    else:
        params, selection = select(args.evaldata)
        if params != TrainParams():
            _progress(f"NOTE: the selection differs from the TrainParams defaults: {params}")
    arrays, info = train(args.evaldata, params)
    artifact = args.out / ARTIFACT_NAME
    sha = save_artifact(arrays, artifact)
    seconds = time.perf_counter() - started
    _progress(f"wrote {artifact} ({artifact.stat().st_size} bytes, sha256 {sha[:12]}); "
              "scoring the held-out splits")  # fmt: skip
    scores = score_holdouts(args.evaldata, artifact)
    manifest = {
        "name": "member-pulse builtin sentiment + action-needed",
        "manifest_version": MANIFEST_VERSION,
        "artifact": ARTIFACT_NAME,
        "sha256": sha,
        "bytes": artifact.stat().st_size,
        "format": "numpy .npz (no pickle): shared word/char tf-idf vocabularies, idf, "
        "logistic-regression weights for sentiment (3 classes) and action-needed (binary), "
        "dense feature scale, domain prior",
        "features_version": FEATURES_VERSION,
        "dense_features": list(DENSE_NAMES),
        "sentiment_classes": list(SENTIMENT_CLASSES),
        "parameters": asdict(params),
        "source_weights": source_weight_map(params.source_weights, info["counts"]),
        "licences": {
            "vader_groundtruth": "MIT",
            "banking77": "CC BY 4.0",
            "enron_intent": "MIT",
        },
        "training_data": {
            "vader_groundtruth": "MIT (Hutto & Gilbert 2014); 80% of each set (train 70% + dev "
            "10%), split by sha256('vader', set, id) % 100 >= 20; mean > 0.5 positive, < -0.5 "
            "negative",
            "banking77": "CC BY 4.0 (PolyAI); train split only, a seeded sample as neutral",
            "enron_intent": "MIT (Charlie9/enron_intent_dataset_verified); 80% (train 70% + dev "
            "10%), split by sha256('enron', label, text) % 100 >= 20",
        },
        "dev_data": {
            "vader_groundtruth": "buckets 20-29 of sha256('vader', set, id) % 100: selection "
            "only, then part of the final fit",
            "enron_intent": "buckets 20-29 of sha256('enron', label, text) % 100: the same",
            "association_dev.tsv": "90 association-style sentences HAND-WRITTEN for this "
            "project and labelled by their authors; selects the domain prior only; never "
            "trained on",
        },
        "selection_procedure": "candidates fitted on TRAIN (70%) only, scored on DEV only; "
        "stages and grid in `selection`; ties to the earlier candidate; the final model "
        "refitted on TRAIN + DEV with the chosen values. TweetEval, airline and the held-out "
        "20% splits were never looked at during selection. builtin-v1 was partly tuned while "
        "looking at TweetEval/airline scores; here every selected value is chosen on dev "
        "only. Caveats: the candidate grid includes builtin-v1's values (e.g. the "
        "short_informal weights, C 0.5, prior 1.2), so the candidate SET was not drawn up "
        "blind; association_dev.tsv was written by the developers, who knew the domain "
        "phrases, so it favours a larger domain prior; a value chosen at the edge of its "
        "grid (see `selection`) may be better outside it.",
        "selection": selection,
        "never_trained_on": NEVER_TRAINED_ON,
        "counts": info["counts"],
        "holdout_scores": scores,
        "retrain": "python -m orchestration.lib.enrichment.training --evaldata "
        "../shared/evaldata (selection + final fit, about 15 minutes; gives these parameters "
        "and weights equal to about 1e-4, not the same bytes); add --skip-selection to refit "
        "with the recorded parameters, which reproduces this artifact byte for byte",
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    _progress(f"done in {seconds:.0f} s")
    print(json.dumps({"sha256": sha, "bytes": manifest["bytes"], "holdout": scores}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
