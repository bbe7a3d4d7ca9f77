"""Finding the abuse desk of every web address on a report page: the report page's takedown section
matches each looked-up host against the whole abuse-contact directory (domain suffixes first, then
ASNs). This measures that matching for --urls hosts against a synthetic directory of --contacts
providers (each with 2 domains and 2 ASNs), the directory read once per page as the page does.

Usage:
    .venv/bin/python benchmarks/takedown_contacts.py                    # 200 addresses, 10,000 contacts
    .venv/bin/python benchmarks/takedown_contacts.py --urls 50 --contacts 1000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from tipline.takedown.contacts import AbuseContact, ContactIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=200, help="hosts on one report page (200: the most looked up)")
    parser.add_argument("--contacts", type=int, default=10_000, help="contacts in the directory (10,000: the CSV limit)")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    contacts = [AbuseContact(code=f"p{n}", name=f"Provider {n}", asns=(64512 + 2 * n, 64513 + 2 * n),
                             domain_suffixes=(f"host{n}.example", f"cdn{n}.example"), email=f"abuse@p{n}.example")
                for n in range(args.contacts)]
    hosts = [(f"www.host{rng.randrange(args.contacts * 2)}.example", 64512 + rng.randrange(args.contacts * 3))
             for _ in range(args.urls)]
    timings, found = [], 0
    for _ in range(args.runs):
        start = time.perf_counter()
        index = ContactIndex(contacts)  # built per page view, as the page does
        found = sum(1 for host, asn in hosts if index.find(host, asn) is not None)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(f"{args.urls} hosts against {args.contacts:,} contacts: {found} found")
    print(f"per page: mean {statistics.mean(timings):.2f} ms, p50 {timings[len(timings) // 2]:.2f} ms, "
          f"max {timings[-1]:.2f} ms; per host {statistics.mean(timings) / args.urls:.3f} ms")


if __name__ == "__main__":
    main()
