"""Card numbers never enter Omni: one server interceptor refuses any request
whose string fields (nested and repeated too) hold something like a PAN.

Registered once in services.common.server, so every service re-checks what
it is sent, whatever the gateway let through. The error names the fields,
never the values.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.common.errors import FieldViolation, InvalidArgument
from services.common.grpc_errors import Handler, WrappingInterceptor, abort_with
from services.common.pan import looks_like_card_number

CARD_NUMBER_MESSAGE = "looks like a card number; send a token"


def card_number_fields(message: Message, prefix: str = "") -> list[str]:
    """Paths of every string field (nested, repeated, map values) that looks like a card number."""
    found: list[str] = []
    for descriptor, value in message.ListFields():
        path = f"{prefix}{descriptor.name}"
        repeated = descriptor.is_repeated
        if descriptor.type == FieldDescriptor.TYPE_STRING:
            values = list(value) if repeated else [value]
            for index, text in enumerate(values):
                if looks_like_card_number(text):
                    found.append(f"{path}[{index}]" if repeated else path)
        elif descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            entry = descriptor.message_type
            if repeated and entry is not None and entry.GetOptions().map_entry:
                for key, item in value.items():
                    if isinstance(item, str) and looks_like_card_number(item):
                        found.append(f"{path}[{key}]")
                    elif isinstance(item, Message):
                        found += card_number_fields(item, f"{path}[{key}].")
            elif repeated:
                for index, item in enumerate(value):
                    found += card_number_fields(item, f"{path}[{index}].")
            else:
                found += card_number_fields(value, f"{path}.")
    return found


def reject_card_numbers(message: Message) -> None:
    fields = card_number_fields(message)
    if fields:
        raise InvalidArgument(
            "card numbers are not accepted: " + ", ".join(fields),
            [FieldViolation(name, CARD_NUMBER_MESSAGE) for name in fields],
        )


class CardNumberInterceptor(WrappingInterceptor):
    """Refuses, with INVALID_ARGUMENT and BadRequest details, any request carrying a PAN."""

    def wrap_unary(self, method: str, behavior: Handler) -> Handler:
        async def checked(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, Message) and (error := _refusal(request)) is not None:
                await abort_with(context, error)
            return await behavior(request, context)

        return checked

    def wrap_stream(self, method: str, behavior: Any) -> Any:
        async def checked(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, Message) and (error := _refusal(request)) is not None:
                await abort_with(context, error)
            async for item in behavior(request, context):
                yield item

        return checked


def _refusal(request: Message) -> InvalidArgument | None:
    try:
        reject_card_numbers(request)
    except InvalidArgument as error:
        return error
    return None
