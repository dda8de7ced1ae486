"""Amazon Connect contact records (CTR) -> canonical ``interactions`` (issue 10's mapping
contract; docs/importers.md "Amazon Connect").

Input: contact records as Amazon Connect streams them to Kinesis Firehose / S3 (JSON Lines,
JSON arrays or concatenated objects, gzipped or not, in a file or a folder tree). Field names
are Amazon Connect's; unknown fields are ignored.

The contract, by rule number (referred to in the code below):

1. at-least-once delivery: per ContactId keep the record with the latest LastUpdateTimestamp;
2. a customer contact is the chain of records sharing InitialContactId (else its ContactId);
3. Channel TASK, InitiationMethod DISCONNECT / MONITOR: not customer contacts, skipped;
4. direction from the chain's first record (OUTBOUND, EXTERNAL_OUTBOUND -> outbound);
5. inbound chains never queued and never connected to an agent (self-service): skipped;
6. queue and arrived_at from the first queued record (else the first record, queue null);
7. answered_at / agent_id from the first record connected to an agent; ended_at;
8. talk_s, hold_s, acw_s summed over the chain;
9. transferred: more than one agent, or a later TRANSFER / QUEUE_TRANSFER record;
10. customer_id: keyed pseudonym of CustomerEndpoint.Address;
11. issue_type, resolved from contact attributes (names configurable); no escalated column;
12. timestamps are UTC; the center's time zone decides periods (the loader converts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from .common import (
    ImportOptions,
    ImportResult,
    ImportSummary,
    RecordError,
    cap,
    iter_json_records,
    parse_seconds,
    parse_timestamp,
    pseudonym,
    pseudonym_key,
    read_mapping,
)

SOURCE = "amazon-connect"
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
CHANNELS = {"VOICE": "voice", "CHAT": "chat", "EMAIL": "email"}
NOT_CUSTOMER_CHANNELS = {"TASK"}
NOT_CUSTOMER_METHODS = {"DISCONNECT", "MONITOR"}
OUTBOUND_METHODS = {"OUTBOUND", "EXTERNAL_OUTBOUND"}
TRANSFER_METHODS = {"TRANSFER", "QUEUE_TRANSFER"}
DEFAULT_ATTRIBUTES = {"issue_type": "issue_type", "resolved": "resolved"}
MAPPING_KEYS = {"attributes"}

SKIP_TASK = "Channel TASK records (tasks are not customer contacts)"
SKIP_METHOD = "InitiationMethod {} records (not customer contacts)"
SKIP_CHANNEL = "Channel {} records (no canonical channel)"
SKIP_SELF_SERVICE = "self-service contacts (inbound, never queued, never reached an agent)"


@dataclass
class Leg:
    """One contact record, checked and reduced to the fields the mapping uses."""

    file: Path
    line: int
    order: int  # position in the input, breaks ties
    contact_id: str
    chain: str  # InitialContactId, else ContactId (rule 2)
    channel: str  # Amazon Connect's value, e.g. VOICE
    method: str
    initiated: dt.datetime
    disconnected: dt.datetime | None
    updated: dt.datetime | None
    queue: str | None
    enqueued: dt.datetime | None
    dequeued: dt.datetime | None
    agent: str | None
    connected: dt.datetime | None
    talk: float
    hold: float
    acw: float
    address: str | None
    issue_type: str | None
    resolved: bool | None


def attribute_names(mapping: dict | str | Path | None) -> dict[str, str]:
    """The contact-attribute names of issue_type and resolved (``--mapping``'s
    ``attributes:``), checked: unknown keys are errors naming them."""
    if isinstance(mapping, str | Path):  # the --mapping file's path
        mapping = read_mapping(mapping)
    mapping = mapping or {}
    unknown = sorted(set(mapping) - MAPPING_KEYS)
    if unknown:
        raise ConfigError(f"amazon-connect mapping: unknown key(s) {', '.join(map(str, unknown))}; "
                          "allowed: attributes (issue_type, resolved)")
    names = dict(DEFAULT_ATTRIBUTES)
    given = mapping.get("attributes") or {}
    if not isinstance(given, dict):
        raise ConfigError("amazon-connect mapping: attributes must be a mapping such as "
                          "{issue_type: reason, resolved: resolved_flag}")
    for key, value in given.items():
        if key not in DEFAULT_ATTRIBUTES:
            raise ConfigError(f"amazon-connect mapping: attributes.{key} is not known; "
                              "allowed: issue_type, resolved")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"amazon-connect mapping: attributes.{key} must be an attribute "
                              f"name, got {cap(value)!r}")
        names[key] = value
    return names


def _text(record: dict, key: str, file, line, *, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise RecordError(file, line, key, None, "is missing (every contact record has it)")
        return None
    if not isinstance(value, str):
        raise RecordError(file, line, key, value, "is not text")
    return value


def _object(record: dict, key: str, file, line) -> dict:
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(file, line, key, value, "is not an object")
    return value


def _resolved(value, file, line, name: str) -> bool | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise RecordError(file, line, f"Attributes.{name}", value, 'is not "true" or "false"')


def parse_leg(record: dict, file: Path, line: int, order: int, attrs: dict[str, str]) -> Leg:
    """Check one record and keep what the mapping needs; RecordError names the bad field."""
    contact_id = _text(record, "ContactId", file, line, required=True)
    initiated = parse_timestamp(_text(record, "InitiationTimestamp", file, line, required=True),
                                file, line, "InitiationTimestamp")
    queue = _object(record, "Queue", file, line)
    agent = _object(record, "Agent", file, line)
    endpoint = _object(record, "CustomerEndpoint", file, line)
    attributes = _object(record, "Attributes", file, line)

    def stamp(obj, key, prefix=""):
        return parse_timestamp(obj.get(key), file, line, prefix + key)

    def seconds(key):
        return parse_seconds(agent.get(key), file, line, "Agent." + key) or 0.0

    issue = attributes.get(attrs["issue_type"])
    return Leg(
        file=file, line=line, order=order, contact_id=contact_id,
        chain=_text(record, "InitialContactId", file, line) or contact_id,
        channel=_text(record, "Channel", file, line, required=True).upper(),
        method=_text(record, "InitiationMethod", file, line, required=True).upper(),
        initiated=initiated,
        disconnected=stamp(record, "DisconnectTimestamp"),
        updated=stamp(record, "LastUpdateTimestamp"),
        queue=None if queue.get("Name") is None else str(queue.get("Name")),
        enqueued=stamp(queue, "EnqueueTimestamp", "Queue."),
        dequeued=stamp(queue, "DequeueTimestamp", "Queue."),
        agent=None if agent.get("Username") is None else str(agent.get("Username")),
        connected=stamp(agent, "ConnectedToAgentTimestamp", "Agent."),
        talk=seconds("AgentInteractionDuration"),
        hold=seconds("CustomerHoldDuration"),
        acw=seconds("AfterContactWorkDuration"),
        address=endpoint.get("Address") or None,
        issue_type=None if issue is None or str(issue).strip() == "" else str(issue).strip(),
        resolved=_resolved(attributes.get(attrs["resolved"]), file, line, attrs["resolved"]),
    )


def read_legs(source: Path, options: ImportOptions, summary: ImportSummary,
              attrs: dict[str, str]) -> list[Leg]:
    """Every well-formed record under ``source`` (malformed ones raise, or are counted with
    ``skip_bad``), latest version per ContactId (rule 1)."""
    latest: dict[str, Leg] = {}
    order = 0
    for file, line, record in iter_json_records(source, skip_bad=options.skip_bad, summary=summary):
        summary.records_read += 1
        try:
            leg = parse_leg(record, file, line, order, attrs)
        except RecordError as exc:
            if not options.skip_bad:
                raise
            summary.skip(f"malformed records ({exc.field_name or 'record'})")
            continue
        order += 1
        kept = latest.get(leg.contact_id)
        if kept is None:
            latest[leg.contact_id] = leg
            continue
        summary.duplicates_dropped += 1
        # Rule 1: the latest update wins; a record without LastUpdateTimestamp ranks lowest
        # and, on a tie, the one read later (delivered later) wins.
        if _update_key(leg) >= _update_key(kept):
            latest[leg.contact_id] = leg
    return list(latest.values())


def _update_key(leg: Leg) -> tuple:
    return (leg.updated is not None, leg.updated or EARLIEST)


def customer_legs(legs: list[Leg], summary: ImportSummary) -> list[Leg]:
    """Rule 3 and the channel map: drop records that are not customer contacts."""
    kept = []
    for leg in legs:
        if leg.channel in NOT_CUSTOMER_CHANNELS:
            summary.skip(SKIP_TASK)
        elif leg.method in NOT_CUSTOMER_METHODS:
            summary.skip(SKIP_METHOD.format(leg.method))
        elif leg.channel not in CHANNELS:
            summary.skip(SKIP_CHANNEL.format(cap(leg.channel, 20)))
        else:
            kept.append(leg)
    return kept


def contact_row(chain: str, legs: list[Leg], key: bytes) -> dict | None:
    """One interactions row from a chain's legs, or None for self-service (rule 5)."""
    # Rule 6: ordered by InitiationTimestamp; the initial contact first on a tie, then input order.
    legs = sorted(legs, key=lambda g: (g.initiated, g.contact_id != chain, g.order))
    first, last = legs[0], legs[-1]
    direction = "outbound" if first.method in OUTBOUND_METHODS else "inbound"  # rule 4
    queued = next((g for g in legs if g.enqueued is not None), None)
    answered = next((g for g in legs if g.connected is not None), None)
    if direction == "inbound" and queued is None and answered is None:
        return None  # rule 5
    handled = answered is not None
    if handled:
        ended = last.disconnected
    else:  # rule 7: an abandon ends when it left the queue, when Amazon Connect says so
        ended = last.dequeued if last.dequeued is not None else last.disconnected
    agents = {g.agent or f"#{g.contact_id}" for g in legs if g.connected is not None}
    transferred = len(agents) > 1 or any(g.method in TRANSFER_METHODS for g in legs[1:])  # rule 9
    address = next((g.address for g in legs if g.address), None)
    issue = next((g.issue_type for g in reversed(legs) if g.issue_type is not None), None)
    resolved = next((g.resolved for g in reversed(legs) if g.resolved is not None), None)
    return {
        "interaction_id": chain,
        "customer_id": pseudonym(address, key),  # rule 10: the address stays here
        "channel": CHANNELS[first.channel],
        "direction": direction,
        "queue": queued.queue if queued else None,
        "issue_type": issue,
        "agent_id": answered.agent if handled else None,
        "arrived_at": queued.enqueued if queued else first.initiated,
        "answered_at": answered.connected if handled else None,
        "ended_at": ended,
        "outcome": "handled" if handled else "abandoned",
        "talk_s": sum(g.talk for g in legs),  # rule 8
        "hold_s": sum(g.hold for g in legs),
        "acw_s": sum(g.acw for g in legs),
        "transferred": transferred,
        "resolved": resolved,
    }


COLUMNS = ["interaction_id", "customer_id", "channel", "direction", "queue", "issue_type",
           "agent_id", "arrived_at", "answered_at", "ended_at", "outcome", "talk_s", "hold_s",
           "acw_s", "transferred", "resolved"]  # no escalated: not in a contact record (rule 11)
LEFT_OUT_WHEN_EMPTY = {
    "customer_id": "no record has CustomerEndpoint.Address",
    "issue_type": "no record has the contact attribute {issue_type}",
    "resolved": "no record has the contact attribute {resolved}",
}


def read(source: Path, options: ImportOptions) -> ImportResult:
    """Read Amazon Connect contact records under ``source`` into canonical tables."""
    summary = ImportSummary(SOURCE)
    attrs = attribute_names(options.mapping)
    legs = customer_legs(read_legs(Path(source), options, summary, attrs), summary)
    chains: dict[str, list[Leg]] = {}
    for leg in legs:
        chains.setdefault(leg.chain, []).append(leg)
    # The key is only fetched (and the key file only created) when there is an address.
    key = pseudonym_key(options.pseudonym_key) if any(g.address for g in legs) else b""
    rows = []
    for chain, chain_legs in chains.items():
        row = contact_row(chain, chain_legs, key)
        if row is None:
            summary.skip(SKIP_SELF_SERVICE)
        else:
            rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("arrived_at", "answered_at", "ended_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame = frame.sort_values(["arrived_at", "interaction_id"], kind="stable").reset_index(drop=True)
    # A column no record fills is left out, never written as nulls: an all-null issue_type
    # would make the repeat rate 0 instead of null (the KPIs that need it must be null).
    for column, why in LEFT_OUT_WHEN_EMPTY.items():
        if len(frame) and frame[column].isna().all():
            frame = frame.drop(columns=column)
            summary.notes.append(f"{column} left out: {why.format(**attrs)}")
    summary.notes.append("escalated left out: Amazon Connect contact records do not carry it")
    return ImportResult(tables={"interactions": frame}, summary=summary)
