"""The core's timings and bounds, declared once. Settings (``bridge.app.settings``) fill
in what operators may change; the rest are the bridge's own choices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bridge.backoff import Backoff
from bridge.files import FilePolicy
from bridge.poller import PollSchedule


@dataclass(frozen=True)
class HandoverConfig:
    """HANDOFF_* settings and the desk's own timings (seconds)."""

    watch: float = 24 * 3600.0  # HANDOFF_WATCH: a taken-over conversation idle this long is no longer watched
    button: bool = False  # HANDOFF_BUTTON: "Talk to a person" under answers
    scan_every: float = 30.0  # one listing of recently updated conversations this often
    scan_page: int = 100  # conversations per page of a listing
    scan_pages: int = 10  # pages per listing at most: a busier minute is left to the next question's look
    look_first: float = 1.0  # a watched conversation is looked at after this ...
    look_cap: float = 8.0  # ... growing up to this
    check_waiting: float = 5.0  # a question waiting for its answer looks at the mode this often
    lease: float = 30.0  # one process watches a conversation; another takes over after this
    keep: float = 7 * 24 * 3600.0  # delivered posts are forgotten after this


@dataclass(frozen=True)
class ServiceConfig:
    poll: PollSchedule  # RAIA_POLL_INTERVAL is its first wait
    poll_timeout: float  # RAIA_POLL_TIMEOUT
    send_settle: float  # RAIA_SEND_SETTLE: after a send of unknown outcome, look this long before resending
    dedupe_ttl: float = 3 * 24 * 3600.0  # how long an event key marks a duplicate
    # CONVERSATION_SCOPE: "user" = one agent conversation per person across chats; "thread" =
    # one per Slack thread / DM, Telegram chat or forum topic, shared by whoever writes there.
    scope: Literal["user", "thread"] = "user"
    # FEEDBACK / FEEDBACK_DAYS: answers carry 👍/👎 and are kept this long (seconds) to be
    # rated; None = no buttons (also when the agent API records no feedback).
    feedback_keep: float | None = None
    # FILES: files sent with questions go to the agent within these limits; None = off.
    files: FilePolicy | None = None
    album_settle: float = 1.5  # a Telegram album's messages join one question within this
    delivery_attempts: int = 8  # then the reply is given up and logged
    delivery_backoff: Backoff = field(default_factory=lambda: Backoff(2.0, 60.0))
    reach_backoff: Backoff = field(default_factory=lambda: Backoff(1.0, 30.0))  # the agent unreachable
    unreachable_after: float = 120.0  # ... and a question it never got is given up after this
    lane_backoff: Backoff = field(default_factory=lambda: Backoff(2.0, 30.0))  # unexpected errors
    keep_finished: float = 7 * 24 * 3600.0
    # PEOPLE_DAYS: conversations and people not active for this long are forgotten (their
    # next question opens a new conversation); None = kept for ever.
    keep_people: float | None = 365 * 24 * 3600.0
    answer_times_every: float = 60.0  # the agent's recent answer times are saved this often (if new)
    housekeeping_every: float = 3600.0
    # With a shared database (several replicas): a lane's lease on its conversation lasts
    # this long and is renewed every fifth of it, each renewal given that long to be
    # confirmed; every ``lane_scan`` seconds each replica takes over conversations whose
    # lease expired (a replica died). Worst case a dead replica's questions resume after
    # lane_lease + lane_scan.
    lane_lease: float = 15.0
    lane_scan: float = 5.0
    # HANDOFF: a person (staff) may take a conversation over, with an agent API that
    # allows it; None = takeovers are ignored.
    handover: HandoverConfig | None = None

    @property
    def settle(self) -> float:
        """How long a send (or call) of unknown outcome is looked for before it is made
        again: ``RAIA_SEND_SETTLE``, but never more than a quarter of ``RAIA_POLL_TIMEOUT``,
        so a cut send is still made again in time to be answered (at the risk of the agent
        seeing the question twice, which a person prefers to no answer)."""
        return min(self.send_settle, self.poll_timeout / 4)

    @property
    def lane_renew(self) -> float:
        """How often a replica renews its leases, and how long a renewal may take."""
        return self.lane_lease / 5

    @property
    def lane_proof(self) -> float:
        """How long a confirmed claim or renewal proves the lease, counted from when it was
        sent: a lane not proven again by then stops, a fifth of the lease before another
        replica may take it over (room for the stop itself and for clocks' rates)."""
        return self.lane_lease - self.lane_renew
