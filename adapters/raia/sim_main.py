"""``python -m adapters.raia.simulator``: serve the raia simulator on loopback, or act as
the staff of a running one (a person taking a conversation over, writing, handing back)::

    python -m adapters.raia.simulator --port 8099 [--delay S] [--auto-staff 2]
    python -m adapters.raia.simulator --take latest --staff Dana     # switch to manual mode
    python -m adapters.raia.simulator --write latest "Hi, I'm Dana."  # a staff message
    python -m adapters.raia.simulator --hand-back latest               # back to the agent

``latest`` names the most recently updated conversation; any conversation id works too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

import httpx

from adapters.raia.demo_agent import delay_from_text, demo_delay


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adapters.raia.simulator", description="raia simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--delay", type=float, default=None, help="fixed answer delay in seconds")
    parser.add_argument("--delay-from-text", action="store_true", help="answer 'delay=N' questions after N s")
    parser.add_argument(
        "--api-key", default=None, help="accept only this Agent-Secret-Key (rehearse a refused key); default: any"
    )
    parser.add_argument(
        "--during-manual",
        choices=("pending", "failed", "empty", "answers"),
        default="pending",
        help="what response-on says while a person has the conversation (raia does not document it); "
        "answers: the agent answers anyway",
    )
    parser.add_argument(
        "--auto-staff",
        type=float,
        default=None,
        help="a request for a person (PUT mode manual) is answered by a simulated staff member after S seconds",
    )
    staff = parser.add_argument_group("acting as staff on a running simulator (at --host/--port)")
    staff.add_argument("--take", metavar="CONVERSATION", help="take the conversation over (manual mode)")
    staff.add_argument("--staff", default="Dana", help="the staff member's first name, with --take")
    staff.add_argument("--write", nargs=2, metavar=("CONVERSATION", "TEXT"), help="write as the staff member")
    staff.add_argument("--hand-back", metavar="CONVERSATION", help="hand the conversation back to the agent")
    return parser


def operate(base: str, args: argparse.Namespace) -> int:
    """One operator action on the simulator at ``base``; the exit status."""
    if args.take:
        cid, action, body = args.take, "takeover", {"staff": args.staff}
    elif args.write:
        (cid, text), action = args.write, "staff"
        body = {"message": text}
    else:
        cid, action, body = args.hand_back, "handback", {}
    response = httpx.post(f"{base}/_simulator/conversations/{cid}/{action}", json=body, timeout=10)
    result: dict[str, Any] = response.json()
    if response.status_code >= 300:
        print(f"refused ({response.status_code}): {result.get('message')}", file=sys.stderr)
        return 1
    staff = (result.get("assignedUser") or {}).get("firstName")
    print(f"conversation {result['id']}: mode {result['mode']}" + (f", with {staff}" if staff else ""))
    return 0


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from adapters.raia.simulator import RaiaSimulator

    args = _parser().parse_args(argv)
    base = f"http://{args.host}:{args.port}"
    if args.take or args.write or args.hand_back:
        raise SystemExit(operate(base, args))
    fixed = args.delay
    delay: Callable[[str], float] = demo_delay
    if args.delay_from_text:
        delay = delay_from_text
    elif fixed is not None:
        delay = lambda _: fixed  # noqa: E731
    sim = RaiaSimulator(delay=delay, api_key=args.api_key)
    sim.takeover.during_manual, sim.takeover.auto_staff = args.during_manual, args.auto_staff
    key = "only the key given with --api-key" if args.api_key else "any non-empty key"
    print(f"raia simulator on {base} (accepts {key}); point the bridge at it: RAIA_BASE_URL={base}", flush=True)
    asyncio.run(uvicorn.Server(uvicorn.Config(sim, host=args.host, port=args.port, log_level="warning")).serve())
