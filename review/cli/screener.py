"""The full-screen terminal screener (``casepool screen --stage ta --reviewer NAME``), on
Textual: one record at a time, the protocol's include and exclude terms in two colours,
single keys for include / exclude (with a numbered reason) / maybe / note / undo / skip.

Every key that decides calls the library API at once, and each call is its own committed
transaction, so killing the process loses nothing already decided. The queue is read once
at the start; each record after that is one ``item(cluster)`` read, so the next record
shows as quickly on 20,000 records as on 20 (``benchmarks/screener.py``).

With ``order="relevance"`` the session also keeps the reviewer's training set (read once,
``review.screening.relevance``) and adds each decision to it in memory; after each decision
a thread worker asks the model, which lives in a child process (``ranking_process``), for a
new ranking, and the records still to come are reordered when it is ready. The record on
screen never changes under the reviewer, and a key never waits for the model: it commits,
and the next record shows from the order known so far.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from review.errors import ReviewError

if TYPE_CHECKING:
    from review.api import Review, Screening
    from review.protocol.model import ExclusionReason, Protocol
    from review.records import Record
    from review.screening.events import Decision, ScreeningEvent, Stage, Via
    from review.screening.highlight import Highlighter
    from review.screening.relevance import Ranks, RelevanceQueue, TrainingSet
    from review.screening.workflow import ScreenItem

INCLUDE_STYLE = "bold green"
EXCLUDE_STYLE = "bold red"
"""How the protocol's include and exclude terms are shown (two colours, never one)."""

VIA: Via = "terminal"
KEYS = (
    ("i", "include"),
    ("e", "exclude (then the reason's number)"),
    ("m", "maybe"),
    ("n", "add a note to this record"),
    ("u", "undo your last decision (its record comes back)"),
    ("s", "skip: put this record at the end of this session's queue"),
    ("↑ ↓ PgUp PgDn", "scroll a long abstract"),
    ("c", "the protocol's eligibility criteria"),
    ("?", "these keys"),
    ("q", "quit (every decision is already saved)"),
)

RETRAIN_AFTER = 0.25
"""Seconds a reviewer stays on a record before the relevance model retrains."""

FOOTER = "i include  e exclude  m maybe  n note  u undo  s skip  c criteria  ? keys  q quit"
"""The keys, always on screen (one line of text: Textual's Footer redraws a widget per key)."""

# --- the work, without a terminal -------------------------------------------------------


@dataclass
class Tally:
    """The reviewer's own progress at the stage: records done out of their total, and
    their include / exclude / maybe counts."""

    total: int
    done: int
    counts: dict[str, int] = field(default_factory=dict)


class Relevance:
    """The relevance model of a session: the training set as decisions arrive, the ranker
    (built on first use, in whichever thread asks first) and the latest ranking applied."""

    def __init__(
        self, training: TrainingSet, make: Callable[[TrainingSet], Ranks] | None = None
    ) -> None:
        self.training = training
        self._make = make or _process_ranker
        self._ranker: Ranks | None = None
        if make is None:
            # the child is started here, before the app runs: starting a process from a
            # worker thread of a running Textual app is refused (its file descriptors)
            self._ranker = _process_ranker(training)
        self._lock = threading.Lock()
        self.latest: RelevanceQueue | None = None
        self.closed = False

    def rank(self, training: TrainingSet) -> RelevanceQueue:
        """Train on ``training`` and rank (slow: run it off the main thread)."""
        from review.screening.relevance import rank

        with self._lock:
            if self.closed:
                raise RuntimeError("the screener has closed")
            if self._ranker is None:
                self._ranker = self._make(training)
            ranker = self._ranker
        return rank(training, ranker)

    def close(self) -> None:
        """End the model's process, if it has one."""
        with self._lock:
            self.closed = True
            ranker, self._ranker = self._ranker, None
        close = getattr(ranker, "close", None)
        if close is not None:
            close()


def _process_ranker(training: TrainingSet) -> Ranks:
    from review.cli.ranking_process import RankingProcess

    return RankingProcess(training.texts)


class ScreenerSession:
    """One reviewer's screening session at one stage: the queue (read once), the record on
    screen, and each key's call to the library API (committed before it returns)."""

    def __init__(
        self,
        screening: Screening,
        *,
        stage: Stage,
        reviewer: str,
        order: Literal["default", "relevance"] = "default",
        ranker: Callable[[TrainingSet], Ranks] | None = None,
    ) -> None:
        from review.screening.events import check_name

        self.screening = screening
        self.stage: Stage = stage
        self.reviewer = check_name(reviewer)
        self.relevance: Relevance | None = None
        if order == "relevance":
            training = screening.training_set(stage, self.reviewer)
            self.relevance = Relevance(training, ranker)
            self.queue: deque[int] = deque(training.queue)
        else:
            self.queue = deque(screening.queue(stage, self.reviewer))
        self.skipped: set[int] = set()
        self.tally = self._tally()
        self.reasons: tuple[ExclusionReason, ...] = tuple(screening.settings.reasons[stage])
        self.current: ScreenItem | None = None
        self.decided: dict[int, ScreeningEvent] = {}
        """This session's decisions by event id (to say what an undo took back)."""
        self.standing: dict[int, Decision] = {}
        """Clusters back in the queue by an undo that restored an earlier decision."""

    def _tally(self) -> Tally:
        (mine,) = [s for s in self.screening.status(viewer=self.reviewer) if s.stage == self.stage]
        own = mine.reviewers.get(self.reviewer, {})
        total = own.get("assigned") or mine.eligible
        counts = {d: own.get(d, 0) for d in ("include", "exclude", "maybe")}
        return Tally(total=total, done=own.get("done", 0), counts=counts)

    @property
    def reason_required(self) -> bool:
        return self.stage == "ft"

    def load(self) -> ScreenItem | None:
        """The record at the head of the queue (None when the queue is empty); a cluster
        that no longer exists (dedup was run again meanwhile) is dropped from the queue."""
        while self.queue:
            try:
                self.current = self.screening.item(self.queue[0])
            except ReviewError:
                self.queue.popleft()
                continue
            return self.current
        self.current = None
        return None

    def decide(self, decision: Decision, reason: str | None = None) -> ScreeningEvent:
        """Record the decision on the record on screen, then move on to the next one."""
        assert self.current is not None
        event = self.screening.decide(
            self.current.cluster_id,
            stage=self.stage,
            reviewer=self.reviewer,
            decision=decision,
            reason=reason,
            via=VIA,
        )
        self.decided[event.id] = event
        self.queue.popleft()
        if self.relevance is not None:
            label = None if decision == "maybe" else decision == "include"
            self.relevance.training = self.relevance.training.with_label(
                self.current.cluster_id, label
            )
        earlier = self.standing.pop(self.current.cluster_id, None)
        if earlier is None:
            self.tally.done += 1
        else:
            self.tally.counts[earlier] -= 1
        self.tally.counts[decision] += 1
        return event

    def note(self, text: str) -> ScreeningEvent:
        """Attach a note to the record on screen (it stays on screen)."""
        assert self.current is not None
        return self.screening.note(
            self.current.cluster_id, stage=self.stage, reviewer=self.reviewer, text=text, via=VIA
        )

    def undo(self) -> tuple[ScreeningEvent, ScreeningEvent | None] | None:
        """Take back the reviewer's latest decision; its record goes to the head of the queue
        (to decide again). Returns the undo event and the decision undone, when it was made in
        this session; None when there is nothing to undo."""
        event = self.screening.undo(stage=self.stage, reviewer=self.reviewer, via=VIA)
        if event is None:
            return None
        undone_id = int((event.source or "0").rsplit(" ", 1)[-1])
        undone = self.decided.pop(undone_id, None)
        cluster = event.paper.cluster_id
        if cluster in self.queue:
            self.queue.remove(cluster)
        self.queue.appendleft(cluster)
        if self.relevance is not None:
            self.relevance.training = self.relevance.training.requeued(cluster)
        if undone is None or undone.decision is None:
            self.tally = self._tally()  # a decision from before this session: count afresh
            if event.decision is not None:
                self.standing[cluster] = event.decision
            return event, None
        self.tally.counts[undone.decision] -= 1
        if event.decision is None:
            self.tally.done -= 1
            self.standing.pop(cluster, None)
        else:
            self.tally.counts[event.decision] += 1
            self.standing[cluster] = event.decision
        return event, undone

    def skip(self) -> None:
        """Put the record on screen at the end of this session's queue."""
        if len(self.queue) > 1:
            self.skipped.add(self.queue[0])
            self.queue.rotate(-1)

    def reorder(self, ranked: RelevanceQueue) -> None:
        """Apply a ranking to the records still to come: the one on screen stays first, the
        rest follow in relevance order, skipped ones (and any the ranking does not know,
        such as one an undo brought back) keep their place around them."""
        assert self.relevance is not None
        self.relevance.latest = ranked
        if not ranked.ranked or len(self.queue) < 2:
            return
        head = self.queue[0] if self.current is not None else None
        left = set(self.queue)
        known = [c for c in ranked.clusters if c in left and c != head and c not in self.skipped]
        chosen = set(known)
        rest = [c for c in self.queue if c not in chosen and c != head]
        fresh = [c for c in rest if c not in self.skipped]
        later = [c for c in rest if c in self.skipped]
        self.queue = deque([*([head] if head is not None else []), *fresh, *known, *later])

    def score(self, cluster: int) -> float | None:
        """The latest predicted relevance of a cluster (None before any ranking)."""
        latest = None if self.relevance is None else self.relevance.latest
        return None if latest is None else latest.scores.get(cluster)


# --- what is shown (pure text) ----------------------------------------------------------


def highlighted(text: str, highlighter: Highlighter) -> Content:
    """``text`` with the include terms in one colour and the exclude terms in another."""
    styles = {"include": INCLUDE_STYLE, "exclude": EXCLUDE_STYLE, None: ""}
    return Content.assemble(*((piece, styles[kind]) for piece, kind in highlighter.pieces(text)))


def progress_line(session: ScreenerSession) -> str:
    tally = session.tally
    counts = "  ".join(f"{k} {v:,}" for k, v in tally.counts.items())
    left = len(session.queue)
    return (
        f"{session.stage} · {session.reviewer} · {tally.done:,}/{tally.total:,} done · {counts}"
        f" · {left:,} left in this session"
    )


def relevance_line(session: ScreenerSession, item: ScreenItem | None) -> str:
    """The predicted relevance of the record on screen, or why there is none yet."""
    if session.relevance is None or item is None:
        return ""
    latest = session.relevance.latest
    if latest is None:
        return "Predicted relevance: the model is training..."
    if not latest.ranked:
        return f"Predicted relevance: none yet ({latest.why_unranked})"
    score = session.score(item.cluster_id)
    if score is None:
        return "Predicted relevance: not ranked yet (back in the queue since the last ranking)"
    return (
        f"Predicted relevance: {score:.2f} (model {latest.model}, trained on "
        f"{latest.includes:,} includes and {latest.excludes:,} excludes)"
    )


def meta_line(item: ScreenItem) -> str:
    record = item.record
    where = " · ".join(x for x in (record.journal, str(record.year or "")) if x) or "no journal"
    others = ", ".join(str(m) for m in item.members)
    also = f" (records {others})" if len(item.members) > 1 else ""
    return f"{where}   cluster {item.cluster_id}, record {item.record_id}{also}"


def authors_line(record: Record) -> str:
    names = [a.display for a in record.authors if a.display]
    if len(names) > 12:
        names = [*names[:10], f"... and {len(names) - 10} more"]
    return "; ".join(names) or "(no authors)"


def reasons_text(reasons: Sequence[ExclusionReason], *, required: bool) -> str:
    lines = ["Exclude: why? Press the reason's number."]
    lines += [f"  {n}  {r.label} ({r.code})" for n, r in enumerate(reasons, 1)]
    if len(reasons) > 9:
        lines.append("  (type two digits, then Enter, for reasons above 9)")
    lines.append("A reason is required at full text." if required else "  0 or Enter  no reason")
    lines.append("  Esc  cancel (nothing is recorded)")
    return "\n".join(lines)


def keys_text() -> str:
    return "Keys\n\n" + "\n".join(f"  {k}  {what}" for k, what in KEYS) + "\n\nEsc closes this."


def criteria_text(protocol: Protocol) -> str:
    question = protocol.review.question
    lines = ["Eligibility criteria", "", "Include when:"]
    lines += [f"  + {c}" for c in protocol.eligibility.include]
    if protocol.eligibility.exclude:
        lines += ["", "Exclude when:"]
        lines += [f"  - {c}" for c in protocol.eligibility.exclude]
    lines += ["", "The question:", f"  Population: {question.population}"]
    lines.append(f"  Intervention: {question.intervention}")
    if question.comparator:
        lines.append(f"  Comparator: {question.comparator}")
    lines += [f"  Outcome: {question.outcome}", "", "Esc closes this."]
    return "\n".join(lines)


# --- the terminal -----------------------------------------------------------------------


class Panel(ModalScreen[None]):
    """A page of text over the record (the keys, the criteria); Esc or its key closes it."""

    DEFAULT_CSS = """
    Panel { align: center middle; }
    Panel > VerticalScroll { width: 90%; height: auto; max-height: 90%; border: round $accent;
        background: $panel; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "close")]

    def __init__(self, text: str, *, closes_with: str, name: str) -> None:
        super().__init__(name=name)
        self.text = text
        self.closes_with = closes_with

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.text, id="panel-text", markup=False)

    def on_key(self, event: Key) -> None:
        if event.character == self.closes_with:
            event.stop()
            self.dismiss()

    def action_close(self) -> None:
        self.dismiss()


class ReasonPicker(Vertical):
    """After ``e``, under the record: a number picks the exclusion reason; 0 or Enter means
    none (where the stage allows it); Esc cancels. A panel of the record's own screen, not a
    screen of its own, so the next record shows without redrawing the whole window."""

    DEFAULT_CSS = """
    ReasonPicker { display: none; height: auto; border: round $error; padding: 0 1; }
    """

    def __init__(self, reasons: Sequence[ExclusionReason], *, required: bool) -> None:
        super().__init__(id="reasons")
        self.reasons = tuple(reasons)
        self.required = required
        self.typed = ""

    def compose(self) -> ComposeResult:
        yield Static(reasons_text(self.reasons, required=self.required), id="reasons-text")
        yield Static("", id="reasons-message", markup=False)

    @property
    def open(self) -> bool:
        return bool(self.display)

    def show(self) -> None:
        self.typed = ""
        self.query_one("#reasons-message", Static).update("")
        self.display = True

    def hide(self) -> None:
        self.display = False

    def key(self, event: Key) -> str | Literal[False] | None:
        """The reason a key picks: its code, "" for none, None to cancel, False for no
        choice yet (a first digit of two, a refused key)."""
        if event.key == "escape":
            return None
        if event.character is not None and event.character.isdigit():
            self.typed += event.character
            if len(self.reasons) <= 9 or len(self.typed) == 2:
                return self._pick()
        elif event.key == "enter":
            return self._pick()
        return False

    def _pick(self) -> str | Literal[False]:
        typed, self.typed = self.typed, ""
        number = int(typed) if typed else 0
        message = self.query_one("#reasons-message", Static)
        if number == 0:
            if self.required:
                message.update("A reason is required at full text: press its number.")
                return False
            return ""
        if number <= len(self.reasons):
            return self.reasons[number - 1].code
        message.update(f"There is no reason {number}: press 1 to {len(self.reasons)}.")
        return False


class NoteInput(ModalScreen[str | None]):
    """After ``n``: a line for the note; Enter saves it, Esc cancels."""

    DEFAULT_CSS = """
    NoteInput { align: center bottom; }
    NoteInput > Input { width: 100%; margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="A note on this record (Enter saves, Esc cancels)", id="note")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ScreenerApp(App[None]):
    """The screener's window: progress, the record, a message line, the keys."""

    TITLE = "casepool screener"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #progress { background: $primary; color: $text; padding: 0 1; }
    #record { padding: 1 2; }
    #title { text-style: bold; margin-bottom: 1; }
    #meta, #authors { color: $text-muted; }
    #abstract { margin-top: 1; }
    #message { color: $warning; padding: 0 1; height: 1; }
    #keys { background: $panel; color: $text-muted; padding: 0 1; height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "decide('include')", "include"),
        Binding("e", "exclude", "exclude"),
        Binding("m", "decide('maybe')", "maybe"),
        Binding("n", "note", "note"),
        Binding("u", "undo", "undo"),
        Binding("s", "skip", "skip"),
        Binding("c", "criteria", "criteria"),
        Binding("question_mark", "keys", "keys"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, review: Review, session: ScreenerSession) -> None:
        super().__init__()
        self.review = review
        self.session = session
        self.highlighter = review.screening.highlighter()
        self.picker = ReasonPicker(session.reasons, required=session.reason_required)
        self._retrain_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="progress", markup=False)
        with VerticalScroll(id="record"):
            yield Static("", id="title", markup=False)
            yield Static("", id="meta", markup=False)
            yield Static("", id="authors", markup=False)
            if self.session.relevance is not None:
                yield Static("", id="relevance", markup=False)
            yield Static("", id="abstract", markup=False)
        yield self.picker
        yield Static("", id="message", markup=False)
        yield Static(FOOTER, id="keys", markup=False)

    def on_mount(self) -> None:
        self.show(self.session.load())
        self.retrain()

    # the relevance model, off the main thread

    def retrain(self) -> None:
        """Rank again on the decisions so far once the reviewer has paused on a record for
        ``RETRAIN_AFTER`` seconds (the model then trains while they read, not while the
        next record is drawn); the newest run wins."""
        if self.session.relevance is None:
            return
        if self._retrain_timer is not None:
            self._retrain_timer.stop()
        self._retrain_timer = self.set_timer(RETRAIN_AFTER, self._start_retrain)

    def _start_retrain(self) -> None:
        self._retrain_timer = None
        relevance = self.session.relevance
        if relevance is None:
            return
        training = relevance.training
        self.run_worker(lambda: relevance.rank(training), group="rank", exclusive=True, thread=True)

    def on_unmount(self) -> None:
        if self.session.relevance is not None:
            self.session.relevance.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "rank" or event.state != WorkerState.SUCCESS:
            return
        if worker.is_cancelled or worker.result is None:
            return
        self.session.reorder(worker.result)
        self._show_relevance(self.session.current)

    # what is on screen

    def show(self, item: ScreenItem | None) -> None:
        """Draw ``item`` (or, with the queue empty, say there is nothing left)."""
        session = self.session
        self.query_one("#progress", Static).update(progress_line(session), layout=False)
        title = self.query_one("#title", Static)
        meta = self.query_one("#meta", Static)
        authors = self.query_one("#authors", Static)
        abstract = self.query_one("#abstract", Static)
        if item is None:
            title.update(f"Nothing left to screen at {session.stage} for {session.reviewer}.")
            meta.update("Press u to take back your last decision, or q to quit.")
            authors.update("")
            abstract.update("")
            return
        self._show_relevance(item)
        record = item.record
        title.update(highlighted(record.title or "(no title)", self.highlighter))
        meta.update(meta_line(item))
        authors.update(authors_line(record))
        abstract.update(highlighted(record.abstract or "(no abstract)", self.highlighter))
        scroll = self.query_one("#record", VerticalScroll)
        if scroll.scroll_y:
            scroll.scroll_home(animate=False)

    def _show_relevance(self, item: ScreenItem | None) -> None:
        if self.session.relevance is not None:
            line = self.query_one("#relevance", Static)
            line.update(relevance_line(self.session, item), layout=False)

    def say(self, message: str) -> None:
        self.query_one("#message", Static).update(message, layout=False)

    def _attempt(self, call: Callable[[], object]) -> bool:
        """Run an API call; an error the user can cause becomes the message line (the store
        is as it was: each call is one transaction)."""
        try:
            call()
        except ReviewError as exc:
            self.say(f"Not recorded: {exc}")
            return False
        return True

    # the keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.picker.is_mounted and self.picker.open:
            return False  # the reason's number comes next (on_key)
        needs_record = {"decide", "exclude", "note", "skip"}
        return not (action in needs_record and self.session.current is None)

    def action_decide(self, decision: Decision, reason: str | None = None) -> None:
        if self.session.current is None:
            return
        cluster = self.session.current.cluster_id
        if self._attempt(lambda: self.session.decide(decision, reason)):
            because = f" ({reason})" if reason else ""
            self.say(f"Saved: {decision}{because} on cluster {cluster}.")
            self.show(self.session.load())
            self.retrain()

    def action_exclude(self) -> None:
        self.picker.show()

    def on_key(self, event: Key) -> None:
        picker = self.picker
        if not picker.open:
            return
        event.stop()
        event.prevent_default()
        code = picker.key(event)
        if code is False:
            return
        picker.hide()
        if code is None:
            self.say("Exclusion cancelled; nothing recorded.")
        else:
            self.action_decide("exclude", code or None)

    def action_note(self) -> None:
        def written(text: str | None) -> None:
            if text is None or not text.strip():
                self.say("No note saved.")
            elif self._attempt(lambda: self.session.note(text)):
                self.say("Note saved.")

        self.push_screen(NoteInput(name="note"), written)

    def action_undo(self) -> None:
        outcome: list[tuple[ScreeningEvent, ScreeningEvent | None] | None] = []
        if not self._attempt(lambda: outcome.append(self.session.undo())):
            return
        if outcome[0] is None:
            self.say(f"Nothing to undo: you have no decision at {self.session.stage}.")
            return
        event, undone = outcome[0]
        what = f"your {undone.decision}" if undone is not None else "your last decision"
        now = f"back to your earlier {event.decision}" if event.kind == "decide" else "unscreened"
        self.say(f"Undid {what} on cluster {event.paper.cluster_id} ({now}); decide it again.")
        self.show(self.session.load())
        self.retrain()

    def action_skip(self) -> None:
        if len(self.session.queue) < 2:
            self.say("This is the last record left in this session; nothing to skip to.")
            return
        self.session.skip()
        self.say("Skipped: it comes back at the end of this session.")
        self.show(self.session.load())

    def action_keys(self) -> None:
        self.push_screen(Panel(keys_text(), closes_with="?", name="keys"))

    def action_criteria(self) -> None:
        text = criteria_text(self.review.protocol)
        self.push_screen(Panel(text, closes_with="c", name="criteria"))


def freeze_heap() -> None:
    """Exempt what is loaded so far (the training set's texts above all) from the garbage
    collector's full passes, which otherwise walk it every few hundred allocations and
    stall a key for tens of milliseconds on 10,000 records (``gc.freeze``; the screener
    owns its process, so this is its own business)."""
    import gc

    gc.collect()
    gc.freeze()


def run_screener(
    review: Review,
    *,
    stage: str,
    reviewer: str,
    order: Literal["default", "relevance"] = "default",
) -> None:
    """Open the full-screen screener on ``review`` for ``reviewer`` at ``stage`` (``ta`` or
    ``ft``), in cluster order or most relevant first; what is wrong before it opens (a
    stage the protocol lacks, a bad name) is raised as the library raises it, for the CLI
    to print as one line."""
    from review.screening.events import parse_stage

    session = ScreenerSession(
        review.screening, stage=parse_stage(stage), reviewer=reviewer, order=order
    )
    freeze_heap()
    ScreenerApp(review, session).run()
