"""Benchmark of enticement analysis: streaming messages per second on one core, and one 1,000-message conversation.

Run: .venv/bin/python benchmarks/enticement.py   (targets: >= 5,000 messages/s; < 0.3 s for 1,000 messages)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from tipline.enticement import (
    Conversation,
    Message,
    Participant,
    StreamingAnalyzer,
    analyze,
)
from tipline.enticement.model import default_model

CORPUS = Path(__file__).resolve().parents[1] / "data" / "enticement"


def corpus_messages() -> list[tuple[str, str]]:
    """(role, text) of every message in the corpus, roles A/B by order of first appearance in each conversation."""
    messages = []
    for split in ("train", "dev", "test"):
        for line in (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            conversation = json.loads(line)
            roles: dict[str, str] = {}
            for message in conversation["messages"]:
                role = roles.setdefault(message["author"], "AB"[len(roles) % 2])
                messages.append((role, message["text"]))
    return messages


CLOCK = time.perf_counter


def streaming_rate(messages: list[tuple[str, str]], total: int) -> float:
    """Messages per second fed one at a time, in two-person conversations of the corpus's lengths (60 messages)."""
    started = CLOCK()
    fed = 0
    while fed < total:
        analyzer = StreamingAnalyzer([Participant("A"), Participant("B")])
        for role, text in messages[fed % len(messages) : fed % len(messages) + 60]:
            analyzer.feed(Message(str(fed), role, text))
            fed += 1
        analyzer.result()
    return fed / (CLOCK() - started)


def long_conversation_seconds(messages: list[tuple[str, str]], length: int = 1000) -> float:
    conversation = Conversation("long", [Message(str(i), role, text) for i, (role, text) in enumerate(messages[:length])],
                                [Participant("A"), Participant("B")])
    started = CLOCK()
    analyze(conversation)
    return CLOCK() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="messages to stream")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with this process's CPU time instead of the wall clock: on a shared machine whose "
                             "other work leaves this process a fraction of its core, the work one core does")
    args = parser.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    default_model()  # load once, outside the timings
    messages = corpus_messages()
    streaming_rate(messages, 500)  # warm up
    rate = streaming_rate(messages, args.messages)
    seconds = min(long_conversation_seconds(messages) for _ in range(3))
    clock = "CPU time" if args.cpu_time else "wall clock"
    print(f"[{clock}] streaming: {rate:,.0f} messages/s on one core (target >= 5,000): {'ok' if rate >= 5000 else 'MISSED'}")
    print(f"[{clock}] whole conversation of 1,000 messages: {seconds:.3f} s (target < 0.3 s): {'ok' if seconds < 0.3 else 'MISSED'}")


if __name__ == "__main__":
    main()
