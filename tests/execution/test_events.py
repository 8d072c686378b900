"""Events as the history stores them: each kind comes back as it went in."""

from __future__ import annotations

from baton.execution.events import (
    EVENT_TYPES,
    Event,
    ServerStatus,
    Stage,
    StageChanged,
    Verified,
    event_from_dict,
)


def test_a_canarys_verification_is_read_back_from_history() -> None:
    verified = Verified(server="web1", passed=False, detail="3 of 40 requests failed", at=5.0)
    assert event_from_dict(verified.to_dict()) == verified


def test_every_event_type_has_a_kind_the_history_reads_back() -> None:
    def below(cls: type[Event]) -> set[type[Event]]:
        return {c for sub in cls.__subclasses__() for c in {sub, *below(sub)}}

    concrete = {cls for cls in below(Event) if "kind" in vars(cls)}
    assert set(EVENT_TYPES.values()) == concrete
    assert len(EVENT_TYPES) == len(concrete)  # no two share a kind


def test_enum_fields_come_back_as_their_enums() -> None:
    stage = event_from_dict(StageChanged(server="web1", stage=Stage.STEP, at=1.0).to_dict())
    assert isinstance(stage, StageChanged) and stage.stage is Stage.STEP
    assert ServerStatus("not started") is ServerStatus.NOT_STARTED
