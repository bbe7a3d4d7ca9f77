"""Copy a writer's working file into data/enticement/writers/, keeping only complete, valid lines.

    .venv/bin/python data/enticement/import_writer.py /work/writers_out/writer_i.jsonl data/enticement/writers/writer_i.jsonl

Every line is parsed and validated as data/enticement/writers/README.md describes: tipline conversation JSON that the
detector reads, known tactic ids in `tactics` and `signals`, authors among the participants, message ids unique in a
conversation, conversation ids unique across every writer's file already in the folder, a suspect among the
participants with gold tactics in enticement, no gold tactics in negatives, a discloser among the participants in
disclosures. One systematic repair, as for writer_g: a disclosure whose `label.discloser` is a role ("child",
"parent") and whose `label.suspect` is a participant gets the id moved to `label.discloser`, the role kept in
`label.discloser_role`, and `label.suspect` set to null. Rejected lines are listed with their reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tipline.enticement.formats import InputLimits, parse_tipline_json
from tipline.enticement.tactics import TACTICS

KINDS = ("enticement", "sextortion", "hard_negative", "benign")


def repair(raw: dict) -> dict:
    """Move a disclosure's discloser id from label.suspect to label.discloser (the writer_g mistake)."""
    label = raw.get("label") or {}
    ids = {str(p.get("id")) for p in raw.get("participants") or [] if isinstance(p, dict)}
    if label.get("disclosure") and label.get("discloser") not in ids and label.get("suspect") in ids:
        label["discloser_role"] = label.get("discloser")
        label["discloser"] = label["suspect"]
        label["suspect"] = None
    return raw


def problem(raw: object, seen_ids: set[str]) -> str | None:
    """Why a parsed line is not a valid training conversation, or None."""
    if not isinstance(raw, dict):
        return "not a JSON object"
    try:
        parse_tipline_json(json.dumps(raw), InputLimits())
    except Exception as error:  # the detector's own reader says what is wrong
        return f"not a readable conversation: {error}"
    cid = str(raw.get("id"))
    if cid in seen_ids:
        return f"conversation id {cid} already used"
    label = raw.get("label")
    if not isinstance(label, dict) or not isinstance(label.get("enticement"), bool):
        return "no label.enticement"
    if label.get("kind") not in KINDS:
        return f"unknown kind {label.get('kind')!r}"
    if label["enticement"] != (label["kind"] in ("enticement", "sextortion")):
        return "label.enticement disagrees with label.kind"
    participants = {str(p.get("id")) for p in raw.get("participants") or [] if isinstance(p, dict)}
    messages = raw.get("messages") or []
    message_ids = [str(m.get("id")) for m in messages]
    if len(set(message_ids)) != len(message_ids):
        return "message ids repeat"
    gold_authors = set()
    for m in messages:
        if str(m.get("author")) not in participants:
            return f"message {m.get('id')}: author {m.get('author')!r} is not a participant"
        for key in ("tactics", "signals"):
            values = m.get(key) or []
            if not isinstance(values, list) or set(values) - set(TACTICS):
                return f"message {m.get('id')}: unknown {key} {sorted(set(values) - set(TACTICS))}"
        if m.get("tactics"):
            gold_authors.add(str(m["author"]))
    if label["enticement"]:
        if label.get("suspect") not in participants:
            return f"suspect {label.get('suspect')!r} is not a participant"
        if gold_authors != {label["suspect"]}:
            return "gold tactics missing or on someone other than the suspect"
    elif gold_authors:
        return "gold tactics in a negative conversation"
    if label.get("disclosure") and label.get("discloser") not in participants:
        return f"discloser {label.get('discloser')!r} is not a participant"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    seen: set[str] = set()
    for other in sorted(args.target.parent.glob("*.jsonl")):
        if other.resolve() != args.target.resolve():
            seen |= {str(json.loads(line)["id"]) for line in other.read_text(encoding="utf-8").splitlines() if line.strip()}
    kept: list[str] = []
    rejected = repaired = 0
    for number, line in enumerate(args.source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            print(f"{args.source}: line {number}: not JSON ({error.msg}); left out", file=sys.stderr)
            rejected += 1
            continue
        before = json.dumps(raw, sort_keys=True)
        raw = repair(raw) if isinstance(raw, dict) else raw
        reason = problem(raw, seen)
        if reason:
            print(f"{args.source}: line {number}: {reason}; left out", file=sys.stderr)
            rejected += 1
            continue
        repaired += json.dumps(raw, sort_keys=True) != before
        seen.add(str(raw["id"]))
        kept.append(json.dumps(raw, ensure_ascii=False))
    args.target.write_text("".join(k + "\n" for k in kept), encoding="utf-8")
    print(f"{args.target}: {len(kept)} conversations kept ({repaired} repaired), {rejected} left out", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
