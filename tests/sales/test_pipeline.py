"""Pipelines as data: stages, their checks, and the table built on the kernel's machine."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from crmcore.kernel import codec
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.sales.pipeline import DEFAULT_PIPELINE, Pipeline
from crmcore.sales.pipeline_machine import MoveContext, PipelineMove
from crmcore.sales.pipeline_stages import (
    ForecastCategory,
    PipelineStage,
    StageKind,
    StageRequirement,
    probability,
)

from .opportunity_strategies import STRICT


def small(**flags: bool) -> Pipeline:
    return Pipeline(
        id="p",
        name="P",
        stages=[
            PipelineStage("a", "A", "0.1"),
            PipelineStage("b", "B", "0.5", "best_case"),
            PipelineStage("c", "C", "0.9", "commit"),
            PipelineStage.won("w", "W"),
            PipelineStage.lost("l", "L"),
        ],
        **flags,
    )


def test_stages_are_data_with_order_probability_and_category() -> None:
    p = DEFAULT_PIPELINE
    assert p.keys[0] == "appointment_scheduled" and p.order("contract_sent") == 4
    assert p.stage("contract_sent").probability == Decimal("0.9")
    assert p.stage("contract_sent").forecast_category is ForecastCategory.COMMIT
    assert [s.kind for s in p.stages[-2:]] == [StageKind.WON, StageKind.LOST]
    assert p.probability_units.tolist() == [
        200_000,
        400_000,
        600_000,
        800_000,
        900_000,
        1_000_000,
        0,
    ]
    assert p.kind_codes.tolist() == [0, 0, 0, 0, 0, 1, 2]
    assert p.open_ranks.tolist() == [0, 1, 2, 3, 4, 5, -1]
    assert p.next_open_stage("contract_sent") is None
    assert not p.probability_units.flags.writeable


@pytest.mark.parametrize(
    ("stages", "field"),
    [
        ([PipelineStage("a", "A", "0.1"), PipelineStage.won()], "pipeline.stages"),  # no lost
        (
            [
                PipelineStage("a", "A", "0.1"),
                PipelineStage("a", "A2", "0.2"),
                PipelineStage.won(),
                PipelineStage.lost(),
            ],
            "pipeline.stages",
        ),  # duplicate key
        (["a"], "pipeline.stages[0]"),
    ],
)
def test_a_pipeline_needs_open_won_and_lost_stages_with_unique_keys(
    stages: list[object], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        Pipeline(id="p", name="P", stages=stages)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PipelineStage("a", "A", "1.5"), "stage.probability"),
        (lambda: PipelineStage("a", "A", "0.1234567"), "stage.probability"),
        (lambda: PipelineStage("a", "A", 0.1, "weird"), "stage.forecast_category"),
        (lambda: PipelineStage("1a", "A", "0.1"), "stage.key"),
        (lambda: PipelineStage("a", "", "0.1"), "stage.name"),
        (lambda: PipelineStage("w", "W", "0.9", "closed", kind="won"), "stages[w]"),
        (lambda: PipelineStage("l", "L", "0", "pipeline", kind="lost"), "stages[l]"),
        (lambda: PipelineStage("a", "A", "0.5", "closed"), "stages[a]"),
        (lambda: PipelineStage("a", "A", "0.5", requires=["budget"]), "stage.requires"),
    ],
)
def test_bad_stages_name_the_field(make: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        make()  # type: ignore[operator]
    assert error.value.field == field


def test_probability_reads_floats_through_their_shortest_form() -> None:
    assert probability(0.3) == Decimal("0.3")
    assert probability(1) == Decimal(1)
    with pytest.raises(ValidationError):
        probability(True)


def test_unknown_stage_is_a_validation_error_naming_the_stages() -> None:
    with pytest.raises(ValidationError, match="is not a stage of pipeline 'sales'") as error:
        DEFAULT_PIPELINE.stage("demo")
    assert error.value.field == "stage"
    assert "demo" not in DEFAULT_PIPELINE and "closed_won" in DEFAULT_PIPELINE


def test_default_table_advances_skips_moves_back_closes_and_reopens() -> None:
    m = small().machine
    kinds = {(r.source.value, r.target.value): r.move for r in m.transitions}
    assert kinds[("a", "c")] is PipelineMove.ADVANCE
    assert kinds[("c", "a")] is PipelineMove.MOVE_BACK
    assert kinds[("b", "w")] is PipelineMove.WIN and kinds[("b", "l")] is PipelineMove.LOSE
    assert kinds[("w", "b")] is PipelineMove.REOPEN and ("w", "l") not in kinds
    assert len(m.transitions) == 3 * 2 + 3 * 2 + 2 * 3  # open moves, closes, reopens
    assert "stateDiagram-v2" in m.to_mermaid() and "reopen" in m.to_mermaid()


def test_flags_make_the_open_stages_sequential_and_closed_stages_final() -> None:
    m = small(allow_backward=False, allow_skip=False, allow_reopen=False).machine
    pairs = {(r.source.value, r.target.value) for r in m.transitions}
    assert ("a", "b") in pairs and ("a", "c") not in pairs and ("b", "a") not in pairs
    assert ("a", "w") in pairs  # winning early is always allowed
    assert not any(r.source.value in ("w", "l") for r in m.transitions)
    assert {s.value for s in m.final} == {"w", "l"}
    with pytest.raises(IllegalTransitionError) as error:
        m.row_between("a", "c", MoveContext.of())
    assert (error.value.from_state.value, error.value.to_state.value) == ("a", "c")


def test_entry_rules_name_what_is_missing() -> None:
    m = STRICT.machine
    with pytest.raises(IllegalTransitionError, match="needs an account"):
        m.row_between("qualified", "proposal", MoveContext.of())
    assert m.row_between("qualified", "proposal", MoveContext.of(has_account=True)).move is (
        PipelineMove.ADVANCE
    )
    with pytest.raises(IllegalTransitionError, match="needs a lost reason"):
        m.row_between("lead", "no_decision", MoveContext.of())
    lenient = Pipeline(id="x", name="X", stages=STRICT.stages, require_lost_reason=False)
    assert lenient.machine.row_between("lead", "lost", MoveContext.of()).move is PipelineMove.LOSE
    requires = PipelineStage("s", "S", "0.5", requires=list(StageRequirement))
    assert requires.requires == frozenset(StageRequirement)


def test_the_table_as_arrays_agrees_with_the_rows() -> None:
    m = DEFAULT_PIPELINE.machine
    codes = np.arange(len(DEFAULT_PIPELINE.stages))
    rows = m.row_table[codes[:, None], codes[None, :]]
    for row in m.transitions:
        i, j = m.state_code(row.source), m.state_code(row.target)
        assert m.transitions[rows[i, j]] == row
    assert (np.diag(rows) == -1).all()


def test_equal_pipelines_are_equal_and_hashable() -> None:
    assert small() == small() and hash(small()) == hash(small())
    assert small() != small(allow_skip=False)


def test_a_pipeline_is_stored_and_read_back_with_the_codec() -> None:
    for pipeline in (DEFAULT_PIPELINE, STRICT):
        back = codec.decode(Pipeline, codec.encode(pipeline, Pipeline))
        assert back == pipeline and back.machine.to_mermaid() == pipeline.machine.to_mermaid()


def test_the_machine_refuses_keys_and_contexts_it_does_not_know() -> None:
    machine = DEFAULT_PIPELINE.machine
    with pytest.raises(ValidationError, match="must be one of 'appointment_scheduled'") as error:
        machine.stage_of("nope")
    assert error.value.field == "key"
    with pytest.raises(ValidationError) as error:
        machine.row_between("qualified_to_buy", "closed_won", None)  # type: ignore[arg-type]
    assert error.value.field == "context"
