"""Which questionnaire a QR code opens: its own, else the most specific one open for the branch.

``choose_questionnaire`` is the one rule, read by the survey on every scan; ``switches`` runs the
same rule twice, on the questionnaires as they are and as a proposed change would leave them, to
say which QR codes would open another questionnaire (or version, or none) after publishing,
retargeting or moving a window.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QuestionnaireWindow:
    """A questionnaire's active window and targeting, as the survey entry needs them."""

    id: int
    version_id: int
    starts_at: datetime | None
    ends_at: datetime | None
    branch_ids: frozenset[int]
    regions: frozenset[str]

    def is_open_at(self, moment: datetime) -> bool:
        if self.starts_at is not None and moment < self.starts_at:
            return False
        return self.ends_at is None or moment < self.ends_at

    def specificity(self, branch_id: int, region: str) -> int | None:
        """2 targeted at the branch, 1 at its region, 0 at every branch, None not at this one."""
        if branch_id in self.branch_ids:
            return 2
        if region in self.regions:
            return 1
        return 0 if not self.branch_ids and not self.regions else None


def choose_questionnaire(
    windows: Iterable[QuestionnaireWindow], branch_id: int, region: str, pinned_id: int | None, now: datetime
) -> QuestionnaireWindow | None:
    """A pinned questionnaire wins (if open); otherwise the most specific, then the newest."""
    open_now = [w for w in windows if w.is_open_at(now)]
    if pinned_id is not None:
        return next((w for w in open_now if w.id == pinned_id), None)
    ranked = [(w.specificity(branch_id, region), w.id, w) for w in open_now]
    eligible = [(rank, wid, w) for rank, wid, w in ranked if rank is not None]
    return max(eligible, key=lambda item: (item[0], item[1]))[2] if eligible else None


@dataclass(frozen=True)
class CodeTarget:
    """A QR code as the choice reads it: where it hangs, and the questionnaire it is pinned to, if any."""

    qr_id: int
    branch_id: int
    region: str
    pinned_id: int | None


@dataclass(frozen=True)
class Switch:
    """A QR code that would open another questionnaire or version after a change (None: nothing open)."""

    code: CodeTarget
    before: QuestionnaireWindow | None
    after: QuestionnaireWindow | None


def serving(windows: Iterable[QuestionnaireWindow], code: CodeTarget, now: datetime) -> QuestionnaireWindow | None:
    """What a scan of this code opens at ``now``."""
    return choose_questionnaire(windows, code.branch_id, code.region, code.pinned_id, now)


def switches(
    codes: Iterable[CodeTarget],
    before: Iterable[QuestionnaireWindow],
    after: Iterable[QuestionnaireWindow],
    now: datetime,
) -> list[Switch]:
    """The codes whose questionnaire or version differs between ``before`` and ``after``, in the codes' order."""
    before, after = tuple(before), tuple(after)
    found = []
    for code in codes:
        was, will = serving(before, code, now), serving(after, code, now)
        if _served(was) != _served(will):
            found.append(Switch(code, was, will))
    return found


def moments_to_check(windows: Iterable[QuestionnaireWindow | None], now: datetime) -> list[datetime]:
    """Now, then each later moment one of these windows (before or after a change) opens or closes: what a
    code opens changes only at those moments, so a change that switches a code does so at one of them."""
    later = {m for w in windows if w is not None for m in (w.starts_at, w.ends_at) if m is not None and m > now}
    return [now, *sorted(later)]


def with_window(windows: Iterable[QuestionnaireWindow], changed: QuestionnaireWindow | None,
                questionnaire_id: int) -> tuple[QuestionnaireWindow, ...]:
    """``windows`` with questionnaire ``questionnaire_id``'s replaced by ``changed`` (None: offered nowhere)."""
    kept = tuple(w for w in windows if w.id != questionnaire_id)
    return kept + ((changed,) if changed is not None else ())


def _served(window: QuestionnaireWindow | None) -> tuple[int, int] | None:
    return (window.id, window.version_id) if window is not None else None
