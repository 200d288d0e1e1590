"""API fuzzing benchmark: schemathesis against a real `paperwire serve` on loopback, driven by
the OpenAPI document (every operation, valid and invalid requests), each case sent without
and with a personal API token. The short, in-process version of the same run is
tests/web/test_openapi_contract.py; this one is long (>= 20,000 requests by default).

    python bench/fuzz.py [--requests 20000] [--time-limit 1800] [--workdir /tmp/pwfuzz]

The server gets a fresh data directory with the demo papers (PAPERWIRE_LOAD_DEMO_DATA), one
account with a token (made by `paperwire user create` / `user token`), rate limits raised so
writes are exercised rather than refused, and arXiv replaced by the tests' local replay
server (tests/support/arxiv_replay.py: an unrecorded id is "not on arXiv", nothing leaves
the machine). ``--models-from DIR`` links
``DIR/models`` into the data directory so the embedding model is not exported again.

Bounded in count (``--requests``) and time (``--time-limit``: cases left when it runs out
are skipped and counted). Reports the requests sent, the status mix, 5xx and contract
violations (schemathesis' checks, with 400 accepted for schema-valid requests that break a
rule the schema cannot state, as in the test), writes bench/results/fuzz.json and prints a
Markdown table for docs/benchmarks.md. Exits 1 if any 5xx or violation was seen.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# As in tests/web/test_openapi_contract.py: 400 is the documented refusal of a request the
# schema allows but a rule the schema cannot express forbids.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
"""


def log(msg: str) -> None:
    print(f"[fuzz {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def server_env(data: Path, arxiv: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(data),
        "PAPERWIRE_LOAD_DEMO_DATA": "true",
        "PAPERWIRE_LOG_LEVEL": "WARNING",
        "PAPERWIRE_SECRET_KEY": "fuzz-secret",
        "PAPERWIRE_DATABASE_URL": os.environ.get("PAPERWIRE_FUZZ_DATABASE_URL", ""),
        "PAPERWIRE_RATE_LIMIT_PER_MINUTE": "1000000",
        "PAPERWIRE_ARXIV_API_URL": arxiv["arxiv_api_url"],
        "PAPERWIRE_ARXIV_OAI_URL": arxiv["arxiv_oai_url"],
        "PAPERWIRE_ARXIV_MAX_RETRIES": "0",
        "PAPERWIRE_ARXIV_DELAY_SECONDS": "0",
    }


def paperwire(env: dict, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "paperwire", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


class Tally:
    """What the run saw: requests by status, 5xx, violations by check, skipped cases."""

    def __init__(self, deadline: float, budget: int) -> None:
        self.deadline, self.budget = deadline, budget
        self.requests = 0
        self.statuses: Counter[int] = Counter()
        self.by_token: Counter[str] = Counter()
        self.violations: Counter[str] = Counter()
        self.examples: list[dict] = []
        self.skipped = 0

    def exhausted(self) -> bool:
        return self.requests >= self.budget or time.monotonic() >= self.deadline

    def record(self, operation: str, case, response, with_token: bool) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        self.by_token["token" if with_token else "anonymous"] += 1
        from tests.support.contract import token_exclusions

        try:
            case.validate_response(response, excluded_checks=token_exclusions(case, with_token))
        # FailureGroup is a BaseExceptionGroup: caught as Exception alone, the first
        # violation ended the whole run instead of being counted.
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - any check failure
            failures = getattr(exc, "exceptions", None) or [exc]
            for failure in failures:
                title = getattr(failure, "title", None) or type(failure).__name__
                self.violations[title] += 1
                if len(self.examples) < 20:
                    self.examples.append(
                        {
                            "operation": operation,
                            "check": title,
                            "status": response.status_code,
                            "token": with_token,
                            "detail": str(failure)[:500],
                        }
                    )


def fuzz(base_url: str, token: str, tally: Tally, seed: int) -> list[str]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis.config import SchemathesisConfig
    from schemathesis.generation.modes import GenerationMode

    schema = schemathesis.openapi.from_url(
        base_url + "/openapi.json", config=SchemathesisConfig.from_str(CONFIG)
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    # Each case is sent twice (anonymous, then with the token).
    per_operation = math.ceil(tally.budget / (2 * len(operations)))
    auth = {"Authorization": f"Bearer {token}"}

    def runner(operation, seed):
        label = f"{operation.method.upper()} {operation.path}"
        cases = operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE
        ) | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)

        @hypothesis_seed(seed)
        @settings(
            max_examples=per_operation,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def run(case):
            if tally.exhausted():
                tally.skipped += 1
                return
            for with_token in (False, True):
                response = case.call(
                    base_url=base_url, headers=auth if with_token else None, timeout=60
                )
                tally.record(label, case, response, with_token)

        return label, run

    # Operations with few distinct inputs (GET /api/me) run out of new cases early: further
    # rounds, each with its own seed, until the budget or the time is spent.
    for round_ in range(100):
        before = tally.requests
        for operation in operations:
            label, run = runner(operation, seed + round_)
            log(f"round {round_ + 1}, {label}: up to {per_operation} cases")
            run()
        if tally.exhausted() or tally.requests == before:
            break
    return [f"{o.method.upper()} {o.path}" for o in operations]


def markdown(result: dict) -> str:
    mix = ", ".join(f"{status}: {n:,}" for status, n in sorted(result["statuses"].items()))
    return "\n".join(
        [
            "| requests | anonymous / token | status mix | 5xx | contract violations |",
            "|---:|---|---|---:|---:|",
            f"| {result['requests']:,} | {result['by_token'].get('anonymous', 0):,} / "
            f"{result['by_token'].get('token', 0):,} | {mix} | {result['server_errors']} | "
            f"{sum(result['violations'].values())} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20000, help="requests to send (total)")
    ap.add_argument("--time-limit", type=float, default=1800.0, help="seconds at most")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--workdir", type=Path, default=None, help="kept if given, else a temp dir")
    ap.add_argument(
        "--models-from",
        type=Path,
        default=None,
        help="a data dir whose models/ export to link (no second export)",
    )
    ap.add_argument("--workers", type=int, default=1, help="server workers")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fuzz.json")
    args = ap.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pwfuzz-"))
    data = workdir / "data"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    if args.models_from:
        (data / "models").symlink_to((args.models_from / "models").resolve())
    from tests.support.arxiv_replay import arxiv_replay_server

    with arxiv_replay_server() as replay:
        return serve_and_fuzz(args, workdir, server_env(data, replay.settings_overrides()))


def serve_and_fuzz(args, workdir: Path, env: dict[str, str]) -> int:
    paperwire(env, "migrate")
    paperwire(
        env, "user", "create", "fuzzer", "--password-file", "-", stdin="fuzzer-password-123\n"
    )
    token = paperwire(env, "user", "token", "fuzzer", "--name", "fuzz").strip().split()[-1]

    from tests.support.live_server import serve_process

    started = time.monotonic()
    log(f"starting paperwire serve --workers {args.workers} --no-embedder")
    server_log = workdir / "serve.log"
    with serve_process(
        env,
        workers=args.workers,
        extra_args=["--no-embedder"],
        timeout=300,
        log_path=str(server_log),
    ) as (url, _proc):
        log(f"answering after {time.monotonic() - started:.1f} s")
        tally = Tally(deadline=time.monotonic() + args.time_limit, budget=args.requests)
        operations = fuzz(url, token, tally, args.seed)
    result = {
        "requests": tally.requests,
        "requested": args.requests,
        "seed": args.seed,
        "seconds": round(time.monotonic() - started, 1),
        "time_limit": args.time_limit,
        "skipped_cases": tally.skipped,
        "operations": operations,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "by_token": dict(tally.by_token),
        "server_errors": sum(v for k, v in tally.statuses.items() if k >= 500),
        "violations": dict(tally.violations),
        "examples": tally.examples,
        "server_log_tail": server_log.read_text(errors="replace")[-4000:],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    log(f"wrote {args.out}")
    return 1 if result["server_errors"] or result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
