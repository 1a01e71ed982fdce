"""What every resource's bodies share: Money, list pages, and word fields
that take only some of a proto enum's words."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from omni.words import Word

# Every string a client sends is capped; fields with a tighter limit say so.
MAX_TEXT_LENGTH = 1000


class Body(BaseModel):
    """A request body: unknown fields are ignored (never applied) and every
    string is at most MAX_TEXT_LENGTH characters (lists carry their own caps)."""

    model_config = ConfigDict(extra="ignore", str_max_length=MAX_TEXT_LENGTH)


class Money(Body):
    amount_minor: StrictInt
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])


class OneOf:
    """`Annotated[TenderType, OneOf(TenderType.CARD, TenderType.GIFT_CARD)]`: a
    request field that takes only these of its kind's words (a tender is a card
    or a gift card, never cash), refused with the message a Literal of those
    words gives, and documented with only them."""

    def __init__(self, *allowed: Word) -> None:
        self.allowed = allowed
        quoted = [f"'{word.value}'" for word in allowed]
        self.expected = (
            quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        )

    def _check(self, value: object) -> Word:
        for word in self.allowed:
            if value == word.value:
                return word
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": self.expected}
        )

    def __get_pydantic_core_schema__(
        self, _source: type, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self._check)

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": [word.value for word in self.allowed]}
