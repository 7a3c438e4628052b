"""Type hints are checked at run time, strictly for builtins."""

import pydantic
import pytest
import weir as dg


def test_return_hint_mismatch_fails_with_asset_hint_and_type():
    @dg.asset
    def count() -> int:
        return "3"

    result = dg.materialize([count], raise_on_error=False)
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error.cls_name == "TypeCheckError"
    assert error.message == "Asset 'count' is annotated int but got a value of type str"


def test_generic_hints_are_checked_strictly():
    @dg.asset
    def ids() -> list[int]:
        return [1, "2"]

    with pytest.raises(dg.TypeCheckError, match=r"list\[int\] but got a value of type list"):
        dg.materialize([ids])


def test_bool_is_not_an_int_but_int_is_a_float():
    @dg.asset
    def flag() -> int:
        return True

    @dg.asset
    def ratio() -> float:
        return 1

    with pytest.raises(dg.TypeCheckError):
        dg.materialize([flag])
    assert dg.materialize([ratio]).asset_value("ratio") == 1


def test_input_hint_is_checked():
    @dg.asset
    def text():
        return "abc"

    @dg.asset
    def length(text: int) -> int:
        return text

    with pytest.raises(dg.TypeCheckError, match="Input 'text' of 'length' is annotated int"):
        dg.materialize([text, length])


class Order(pydantic.BaseModel):
    id: int
    amount: float


def test_pydantic_models_are_validated_and_schema_recorded():
    @dg.asset
    def order() -> Order:
        return Order(id=1, amount=2.5)

    result = dg.materialize([order])
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["json_schema"].value["properties"]["amount"]["type"] == "number"

    @dg.asset
    def bad_order() -> Order:
        return Order.model_construct(id="x", amount=1.0)

    with pytest.raises(dg.TypeCheckError, match="annotated Order"):
        dg.materialize([bad_order])


def test_no_hint_means_no_check():
    @dg.asset
    def anything():
        return object()

    assert dg.materialize([anything]).success
