"""The CustomersService servicer: validate at the edge, then one unit of work per call."""

from __future__ import annotations

import grpc

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.customers import domain, mapping, store
from services.customers.domain import PageCursor

MAX_ID_LENGTH = 36


def _customer_id(value: str, field: str = "customer_id") -> str:
    if not value:
        raise InvalidArgument.field(field, "is required")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument.field(field, f"is longer than {MAX_ID_LENGTH}")
    return value


class CustomersServicer(customers_pb2_grpc.CustomersServiceServicer):
    def __init__(self, database: Database) -> None:
        self._database = database

    async def CreateCustomer(
        self, request: customers_pb2.CreateCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.CreateCustomerResponse:
        identities = domain.identities_from(request.email, request.phone)
        name = request.name.strip()
        if len(name) > domain.MAX_TEXT_LENGTH:
            raise InvalidArgument.field("name", f"is longer than {domain.MAX_TEXT_LENGTH}")
        async with self._database.transaction() as session:
            customer, created = await store.create_or_match(session, identities, name)
        return customers_pb2.CreateCustomerResponse(
            customer=mapping.customer_to_proto(customer), created=created
        )

    async def GetCustomer(
        self, request: customers_pb2.GetCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.GetCustomerResponse:
        customer_id = _customer_id(request.customer_id)
        async with self._database.transaction() as session:
            customer = await store.get_customer(session, customer_id)
        return customers_pb2.GetCustomerResponse(customer=mapping.customer_to_proto(customer))

    async def RecordActivity(
        self, request: customers_pb2.RecordActivityRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.RecordActivityResponse:
        customer_id = _customer_id(request.customer_id)
        activity = mapping.activity_from_proto(request.activity)
        async with self._database.transaction() as session:
            await store.require_customer(session, customer_id)
            recorded = await store.record_activity(session, customer_id, activity)
        return customers_pb2.RecordActivityResponse(activity=mapping.activity_to_proto(recorded))

    async def ListActivities(
        self, request: customers_pb2.ListActivitiesRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.ListActivitiesResponse:
        customer_id = _customer_id(request.customer_id)
        limit = domain.page_size(request.limit)
        after = PageCursor.decode(request.page_token) if request.page_token else None
        async with self._database.transaction() as session:
            await store.require_customer(session, customer_id)
            activities, cursor = await store.list_activities(session, customer_id, limit, after)
        return customers_pb2.ListActivitiesResponse(
            activities=[mapping.activity_to_proto(activity) for activity in activities],
            next_page_token=cursor.encode() if cursor else "",
        )
