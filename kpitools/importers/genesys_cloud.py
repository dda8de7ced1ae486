"""Genesys Cloud analytics conversation details -> canonical interactions (SPEC §8).

Input: conversation-detail records as the analytics conversation details query or job
returns them (pages ``{"conversations": [...]}`` or one conversation per line; JSON Lines,
JSON arrays, gzipped or not, folder trees). One conversation is one contact; the rules are
documented in ``docs/importers.md`` (## Genesys Cloud) and in :func:`conversation_contact`.

The mapping is a set of pure functions over parsed records (:func:`conversation_contact`,
:func:`pick_latest`, :func:`contacts_frame`); :func:`read` only adds the file reading.

Optional ``--mapping`` YAML keys (all optional)::

    queues: {<queueId>: <queue name>}          # names for queue ids
    wrapup_codes: {<wrapUpCode id>: <issue type>}
    resolved: {<wrapUpCode id or mapped issue type>: true|false}
    callbacks: contact | skip                  # default: contact
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from .common import (
    ImportOptions,
    ImportResult,
    ImportSummary,
    RecordError,
    iter_json_records,
    parse_timestamp,
    pseudonym,
    pseudonym_key,
    read_mapping,
)

SOURCE = "genesys-cloud"

AGENT_PURPOSES = ("agent", "user")
CUSTOMER_PURPOSES = ("customer", "external")
# Agent segments that end this way mean the agent handed the customer on.
TRANSFER_DISCONNECTS = ("transfer", "consultTransfer", "forwardTransfer", "conferenceTransfer")
# Customer-side media types -> canonical channel; "message" is decided by messageType.
CHANNELS = {"voice": "voice", "callback": "voice", "chat": "chat", "message": "chat",
            "email": "email"}
SOCIAL_MESSAGE_TYPES = ("facebook", "twitter", "instagram", "line", "whatsapp", "telegram",
                        "kakao", "apple", "wechat", "viber")
# The system's code for "the agent did not pick one before ACW timed out": not an issue type.
SYSTEM_WRAPUP_CODES = ("ININ-WRAP-UP-TIMEOUT",)
MAPPING_KEYS = ("queues", "wrapup_codes", "resolved", "callbacks")

# Skip reasons (summary lines)
SKIP_SELF_SERVICE = "self-service (IVR/bot only, never queued or connected to an agent)"
SKIP_FLOW_OUT = "flowed out of the queue without agent or abandon (voicemail, external transfer)"
SKIP_INTERNAL = "internal conversation (no customer or external participant)"
SKIP_IN_PROGRESS = "conversation in progress (no conversationEnd)"
SKIP_NO_AGENT_OUTBOUND = "outbound attempt never connected to an agent (dialer)"
SKIP_MEDIA = "media type without a canonical channel (video, cobrowse, screenshare, unknown)"
SKIP_CALLBACK = "callback (mapping callbacks: skip)"


@dataclass(frozen=True)
class GenesysMapping:
    """The optional ``--mapping`` settings of this importer."""

    queues: dict = field(default_factory=dict)
    wrapup_codes: dict = field(default_factory=dict)
    resolved: dict | None = None
    callbacks: str = "contact"

    @classmethod
    def from_options(cls, mapping, where: str = "--mapping") -> GenesysMapping:
        """Check and read the mapping (a parsed dict, or the YAML file's path, which errors
        then name); ConfigError naming the key and what is allowed."""
        if isinstance(mapping, str | Path):
            where, mapping = str(mapping), read_mapping(mapping)
        if not mapping:
            return cls()
        if not isinstance(mapping, dict):
            raise ConfigError(f"{where}: expected a mapping of keys {', '.join(MAPPING_KEYS)}")
        unknown = [k for k in mapping if k not in MAPPING_KEYS]
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(MAPPING_KEYS)}")
        for key in ("queues", "wrapup_codes", "resolved"):
            value = mapping.get(key)
            if value is not None and not isinstance(value, dict):
                raise ConfigError(f"{where}: {key} must map ids to names, got {type(value).__name__}")
        for code, flag in (mapping.get("resolved") or {}).items():
            if not isinstance(flag, bool):
                raise ConfigError(f"{where}: resolved.{code} must be true or false, got {flag!r}")
        callbacks = mapping.get("callbacks", "contact")
        if callbacks not in ("contact", "skip"):
            raise ConfigError(f"{where}: callbacks must be 'contact' or 'skip', got {callbacks!r}")
        return cls(
            queues={str(k): str(v) for k, v in (mapping.get("queues") or {}).items()},
            wrapup_codes={str(k): str(v) for k, v in (mapping.get("wrapup_codes") or {}).items()},
            resolved={str(k): v for k, v in mapping["resolved"].items()}
            if mapping.get("resolved") is not None else None,
            callbacks=callbacks,
        )


@dataclass(frozen=True)
class Where:
    """A record's file and line, for errors."""

    file: object = "<record>"
    line: int | None = None

    def error(self, field_name: str, value, what: str) -> RecordError:
        return RecordError(self.file, self.line, field_name, value, what)


class Skip(Exception):
    """A conversation that is not a contact offered to the center; ``reason`` is counted."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- small readers -------------------------------------------------------------------------

def parse_time(value, field_name: str, where: Where) -> pd.Timestamp:
    """A required ISO 8601 timestamp as a UTC pandas Timestamp (Genesys writes UTC with
    ``Z``; a naive value is taken as UTC too)."""
    stamp = parse_timestamp(value, where.file, where.line, field_name)
    if stamp is None:
        raise where.error(field_name, value, "is missing (an ISO 8601 timestamp is required)")
    return stamp


def _list(value, field_name: str, where: Where) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(field_name, value, "is not a list")
    return value


@dataclass(slots=True)
class Segment:
    participant: int  # index in participants
    purpose: str
    user_id: str | None
    media_type: str | None
    type: str
    start: pd.Timestamp
    end: pd.Timestamp | None
    queue_id: str | None
    queue_name: str | None  # not in the API's schema; some flattened exports add it
    disconnect_type: str | None
    wrap_up_code: str | None
    session_metrics: frozenset = frozenset()  # names of the metrics on this segment's session

    @property
    def seconds(self) -> float:
        return 0.0 if self.end is None else max((self.end - self.start).total_seconds(), 0.0)


def flatten_segments(conv: dict, where: Where) -> list[Segment]:
    """Every segment of every session, with its participant's purpose and user id, checked."""
    out = []
    for p, part in enumerate(_list(conv.get("participants"), "participants", where)):
        if not isinstance(part, dict):
            raise where.error(f"participants[{p}]", part, "is not an object")
        purpose = str(part.get("purpose") or "")
        for s, sess in enumerate(_list(part.get("sessions"), f"participants[{p}].sessions", where)):
            if not isinstance(sess, dict):
                raise where.error(f"participants[{p}].sessions[{s}]", sess, "is not an object")
            path = f"participants[{p}].sessions[{s}].segments"
            metrics = frozenset(m.get("name") for m in sess.get("metrics") or []
                                if isinstance(m, dict))
            for g, seg in enumerate(_list(sess.get("segments"), path, where)):
                if not isinstance(seg, dict):
                    raise where.error(f"{path}[{g}]", seg, "is not an object")
                start = parse_time(seg.get("segmentStart"), f"{path}[{g}].segmentStart", where)
                end = None
                if seg.get("segmentEnd") is not None:
                    end = parse_time(seg.get("segmentEnd"), f"{path}[{g}].segmentEnd", where)
                    if end < start:
                        raise where.error(f"{path}[{g}].segmentEnd", seg.get("segmentEnd"),
                                          "is before segmentStart")
                out.append(Segment(
                    participant=p, purpose=purpose, user_id=part.get("userId"),
                    media_type=sess.get("mediaType"), type=str(seg.get("segmentType") or ""),
                    start=start, end=end, queue_id=seg.get("queueId"),
                    queue_name=seg.get("queueName"),
                    disconnect_type=seg.get("disconnectType"),
                    wrap_up_code=seg.get("wrapUpCode"), session_metrics=metrics,
                ))
    return out


def _metric(sessions: list[dict], name: str) -> list[dict]:
    return [m for sess in sessions for m in (sess.get("metrics") or [])
            if isinstance(m, dict) and m.get("name") == name]


def _metric_seconds(sessions: list[dict], name: str, where: Where) -> float | None:
    """Sum of a duration metric (milliseconds) over sessions, in seconds; None when absent."""
    found = _metric(sessions, name)
    if not found:
        return None
    total = 0.0
    for m in found:
        value = m.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise where.error(f"metrics.{name}.value", value, "is not a duration in milliseconds >= 0")
        total += value / 1000.0
    return total


# --- the mapping -------------------------------------------------------------------------

def _customer(conv: dict) -> tuple[dict | None, dict | None]:
    """(customer participant, its first session with a customer channel)."""
    parts = [p for p in conv.get("participants") or [] if isinstance(p, dict)]
    for purpose in CUSTOMER_PURPOSES:  # "customer" first; "external" for outbound
        for part in parts:
            if part.get("purpose") == purpose:
                sessions = [s for s in part.get("sessions") or [] if isinstance(s, dict)]
                for sess in sessions:
                    if sess.get("mediaType") in CHANNELS:
                        return part, sess
                return part, (sessions[0] if sessions else None)
    return None, None


def _channel(session: dict | None) -> str | None:
    media = (session or {}).get("mediaType")
    if media == "message" and str(session.get("messageType") or "").lower() in SOCIAL_MESSAGE_TYPES:
        return "social"
    return CHANNELS.get(media)


def customer_address(session: dict | None, direction: str) -> str | None:
    """The customer's phone number or address as the record carries it (to be pseudonymised):
    inbound the caller (ani, addressFrom), outbound the called party (dnis, addressTo);
    addressOther as the last resort. ``tel:`` prefixes are removed, addresses lower-cased."""
    if not session:
        return None
    keys = (("ani", "addressFrom", "addressOther") if direction == "inbound"
            else ("dnis", "addressTo", "addressOther"))
    for key in keys:
        value = session.get(key)
        if isinstance(value, str) and value.strip():
            value = value.strip()
            for prefix in ("tel:", "sip:"):
                if value.lower().startswith(prefix):
                    value = value[len(prefix):]
            return value
    return None


def conversation_contact(conv: dict, mapping: GenesysMapping | None = None,
                         where: Where | None = None) -> dict:
    """One conversation -> one canonical contact (dict), or raise :class:`Skip`.

    ``customer_id`` holds the customer's raw address here; :func:`read` replaces it with the
    keyed pseudonym before anything is written. Timestamps are UTC-aware.
    """
    mapping = mapping or GenesysMapping()
    where = where or Where()
    cid = conv.get("conversationId")
    if not isinstance(cid, str) or not cid:
        raise where.error("conversationId", cid, "is missing (every conversation has an id)")
    start = parse_time(conv.get("conversationStart"), "conversationStart", where)
    if conv.get("conversationEnd") is None:
        raise Skip(SKIP_IN_PROGRESS)
    end = parse_time(conv.get("conversationEnd"), "conversationEnd", where)
    segments = flatten_segments(conv, where)
    parts = conv.get("participants") or []

    customer, customer_session = _customer(conv)
    if customer is None:
        raise Skip(SKIP_INTERNAL)
    media_types = {s.media_type for s in segments}
    is_callback = "callback" in media_types
    if is_callback and mapping.callbacks == "skip":
        raise Skip(SKIP_CALLBACK)
    channel = "voice" if is_callback else _channel(customer_session)
    if channel is None:
        raise Skip(SKIP_MEDIA)
    direction = conv.get("originatingDirection") or (customer_session or {}).get("direction")
    # A callback is a customer's request to be called: inbound, whoever dials.
    direction = "outbound" if direction == "outbound" and not is_callback else "inbound"

    agent_segs = sorted((s for s in segments if s.purpose in AGENT_PURPOSES), key=lambda s: s.start)
    acd_segs = sorted((s for s in segments if s.purpose == "acd"), key=lambda s: s.start)
    if is_callback:
        # The callback is the contact: its queue entry is the arrival (the voice call that
        # asked for it flowed out of its queue; see docs/importers.md).
        acd_segs = [s for s in acd_segs if s.media_type == "callback"] or acd_segs
        agent_segs = [s for s in agent_segs if s.start >= acd_segs[0].start] if acd_segs else agent_segs
    interacts = [s for s in agent_segs if s.type == "interact"]

    # Answer: the first agent interact segment; else the tAnswered metric's emit date.
    answered_at, agent_id = None, None
    if interacts:
        answered_at, agent_id = interacts[0].start, interacts[0].user_id
    else:
        acd_sessions = [sess for p in parts if isinstance(p, dict) and p.get("purpose") == "acd"
                        for sess in p.get("sessions") or [] if isinstance(sess, dict)]
        answered = _metric(acd_sessions, "tAnswered")
        if answered and answered[0].get("emitDate"):
            answered_at = parse_time(answered[0]["emitDate"], "metrics.tAnswered.emitDate", where)
            agent_id = next((s.user_id for s in agent_segs if s.user_id), None)

    queued = [s for s in acd_segs if s.type in ("interact", "alert")]
    if direction == "inbound":
        if not queued and not interacts:
            raise Skip(SKIP_SELF_SERVICE)
        arrived_at = queued[0].start if queued else (interacts[0].start)
    else:
        if not agent_segs:
            raise Skip(SKIP_NO_AGENT_OUTBOUND)
        arrived_at = start
    queue = _queue(queued, agent_segs, parts, mapping)
    ended_at = end
    if answered_at is not None or direction == "outbound":
        outcome = "handled"  # outbound: the agent placed the call, connected or not (talk 0)
    else:
        outcome, ended_at = "abandoned", _abandon_end(queued, acd_segs) or end
    talk, hold, acw = (_handle_times(agent_segs, parts, where) if outcome == "handled"
                       else (0.0, 0.0, 0.0))
    interacting_agents = {s.user_id or f"participant-{s.participant}" for s in interacts}
    transferred = outcome == "handled" and (
        len(interacting_agents) > 1
        or any(s.disconnect_type in TRANSFER_DISCONNECTS for s in agent_segs
               if s.type in ("interact", "hold")))
    issue_type, resolved = _disposition(agent_segs, mapping)

    return {
        "interaction_id": cid,
        "customer_id": customer_address(customer_session, direction),
        "channel": channel,
        "direction": direction,
        "queue": queue,
        "issue_type": issue_type,
        "agent_id": agent_id if outcome == "handled" else None,
        "arrived_at": arrived_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "outcome": outcome,
        "talk_s": talk,
        "hold_s": hold,
        "acw_s": acw,
        "transferred": bool(transferred),
        "resolved": resolved,
    }


def _queue(queued: list[Segment], agent_segs: list[Segment], parts: list,
           mapping: GenesysMapping) -> str | None:
    """The first queue's name: the mapping's, else a ``queueName`` on the segment, else the
    acd participant's name (Genesys names the acd participant after its queue), else its id.
    Never queued: the agents' queue, named the same way."""
    first = queued[0] if queued else next((s for s in agent_segs if s.queue_id), None)
    if first is None or not first.queue_id:
        return None
    name = mapping.queues.get(first.queue_id) or first.queue_name
    if not name and queued:
        name = parts[first.participant].get("participantName")
    return name or first.queue_id


def _abandon_end(queued: list[Segment], acd_segs: list[Segment]):
    """For a conversation no agent answered: when the customer left the last queue, or raise
    Skip when the system moved the call on instead. The customer left it: tAbandon, or a
    disconnect other than a transfer; a flow-out: tFlowOut, or a transfer without tAbandon
    (voicemail, another number)."""
    last = [s for s in acd_segs if s.participant == queued[-1].participant]
    metrics = set().union(*(s.session_metrics for s in last))
    if "tAbandon" not in metrics and ("tFlowOut" in metrics or last[-1].disconnect_type == "transfer"):
        raise Skip(SKIP_FLOW_OUT)
    return last[-1].end


def _handle_times(agent_segs: list[Segment], parts: list, where: Where) -> tuple[float, float, float]:
    """(talk, hold, ACW) seconds summed over the agents' interact, hold and wrapup segments;
    ACW from the agents' tAcw metric (milliseconds) when no wrapup segment was recorded."""
    talk = sum(s.seconds for s in agent_segs if s.type == "interact")
    hold = sum(s.seconds for s in agent_segs if s.type == "hold")
    acw = sum(s.seconds for s in agent_segs if s.type == "wrapup")
    if not any(s.type == "wrapup" for s in agent_segs):
        sessions = [sess for p in parts if isinstance(p, dict) and p.get("purpose") in AGENT_PURPOSES
                    for sess in p.get("sessions") or [] if isinstance(sess, dict)]
        acw = _metric_seconds(sessions, "tAcw", where) or 0.0
    return talk, hold, acw


def _disposition(agent_segs: list[Segment], mapping: GenesysMapping) -> tuple:
    """(issue type, resolved) from the last agent wrap-up code (the final disposition); the
    system's timeout code is none. resolved only when the mapping says."""
    codes = [s.wrap_up_code for s in agent_segs
             if s.wrap_up_code and s.wrap_up_code not in SYSTEM_WRAPUP_CODES]
    if not codes:
        return None, None
    issue_type = mapping.wrapup_codes.get(codes[-1], codes[-1])
    resolved = None
    if mapping.resolved is not None:
        resolved = mapping.resolved.get(codes[-1], mapping.resolved.get(issue_type))
    return issue_type, resolved


def completeness(conv: dict) -> tuple:
    """Rank of one delivery of a conversation, higher = more complete: ended first, then the
    latest segmentEnd, then the most segments. Genesys writes every timestamp in one fixed
    ISO format (``2026-03-02T09:00:00.000Z``), so the text compares like the time."""
    latest, count = "", 0
    for part in conv.get("participants") or []:
        for sess in (part.get("sessions") or []) if isinstance(part, dict) else []:
            for seg in (sess.get("segments") or []) if isinstance(sess, dict) else []:
                count += 1
                end = seg.get("segmentEnd") if isinstance(seg, dict) else None
                if isinstance(end, str) and end > latest:
                    latest = end
    return (conv.get("conversationEnd") is not None, latest, count)


OPTIONAL_COLUMNS = ("customer_id", "issue_type", "resolved")
COLUMN_ORDER = ("interaction_id", "customer_id", "channel", "direction", "queue", "issue_type",
                "agent_id", "arrived_at", "answered_at", "ended_at", "outcome", "talk_s",
                "hold_s", "acw_s", "transferred", "resolved")


def contacts_frame(contacts: list[dict], mapping: GenesysMapping) -> pd.DataFrame:
    """The interactions table: optional columns the records cannot fill are left out
    (customer_id and issue_type when no conversation carries one, resolved unless mapped;
    escalated never)."""
    frame = pd.DataFrame(contacts, columns=list(COLUMN_ORDER))
    drop = []
    for col in ("customer_id", "issue_type"):
        if frame[col].isna().all():
            drop.append(col)
    if mapping.resolved is None:
        drop.append("resolved")
    frame = frame.drop(columns=drop)
    for col in ("arrived_at", "answered_at", "ended_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("talk_s", "hold_s", "acw_s"):
        frame[col] = frame[col].astype("float64")
    frame["transferred"] = frame["transferred"].astype(bool)
    if "resolved" in frame:
        frame["resolved"] = frame["resolved"].astype("boolean")
    for col in ("interaction_id", "customer_id", "channel", "direction", "queue", "issue_type",
                "agent_id", "outcome"):
        if col in frame:
            frame[col] = frame[col].astype("string")
    return frame.sort_values(["arrived_at", "interaction_id"], kind="stable").reset_index(drop=True)


def iter_conversations(record, where: Where):
    """A record is one conversation or a page ``{"conversations": [...]}`` (query/job output)."""
    if isinstance(record, dict) and "conversations" in record and "conversationId" not in record:
        for conv in _list(record.get("conversations"), "conversations", where):
            if not isinstance(conv, dict):
                raise where.error("conversations[]", conv, "is not an object")
            yield conv
    elif isinstance(record, dict):
        yield record
    else:
        raise where.error("record", record, "is not a conversation object")


def read(source: Path, options: ImportOptions) -> ImportResult:
    """Read Genesys Cloud conversation details under ``source`` into canonical tables.

    Records stream through: each delivery is mapped as it is read and only the most complete
    delivery's result is kept per conversation (:func:`completeness`; a tie goes to the one
    read later), so memory holds contacts, not conversations.
    """
    mapping = GenesysMapping.from_options(options.mapping)
    summary = ImportSummary(SOURCE)
    kept: dict[str, tuple[tuple, object]] = {}  # id -> (rank, contact | Skip | RecordError)
    for file, line, record in iter_json_records(Path(source), skip_bad=options.skip_bad,
                                                summary=summary):
        where = Where(file, line)
        try:
            conversations = list(iter_conversations(record, where))
        except RecordError as exc:
            if not options.skip_bad:
                raise
            summary.skip(f"malformed record ({exc.field_name})")
            continue
        for conv in conversations:
            summary.records_read += 1
            cid = conv.get("conversationId")
            if not isinstance(cid, str) or not cid:
                error = where.error("conversationId", cid, "is missing (every conversation has an id)")
                if not options.skip_bad:
                    raise error
                summary.skip(f"malformed record ({error.field_name})")
                continue
            rank = completeness(conv)
            if cid in kept:
                summary.duplicates_dropped += 1
                if rank < kept[cid][0]:
                    continue
            try:
                result = conversation_contact(conv, mapping, where)
            except Skip as skip:
                result = skip
            except RecordError as exc:
                if not options.skip_bad:
                    raise
                result = exc
            kept[cid] = (rank, result)
    contacts, key = [], None
    for _, result in kept.values():
        if isinstance(result, Skip):
            summary.skip(result.reason)
        elif isinstance(result, RecordError):
            summary.skip(f"malformed record ({result.field_name})")
        else:
            if result["customer_id"] is not None:
                key = key or pseudonym_key(options.pseudonym_key)
                result["customer_id"] = pseudonym(result["customer_id"], key)
            contacts.append(result)
    frame = contacts_frame(contacts, mapping)
    summary.contacts_written = len(frame)
    if "resolved" not in frame:
        summary.notes.append("resolved left out (map wrap-up codes with `resolved:` in --mapping)")
    summary.notes.append("escalated left out (not in conversation details)")
    return ImportResult({"interactions": frame}, summary)
