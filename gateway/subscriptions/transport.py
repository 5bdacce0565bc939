"""The WebSocket side of /graphql: Strawberry's graphql-transport-ws, with our rules.

- Frames are text (the protocol is JSON in text frames; the HTTP side encodes to bytes), and a
  client's message is held to the JSON limits of an HTTP body (its `query` to the token limit).
- Authentication: `connection_init`'s payload `{"authorization": "Bearer <jwt>"}` (the HTTP
  header's shape) or `{"token": "<jwt>"}`; without either, the handshake's `Authorization`
  header or `session` cookie. A token that does not check out is no token: `orderUpdated`
  then answers UNAUTHENTICATED, as an HTTP request would.
- Open connections per user are bounded at `connection_init` (SUBSCRIPTION_CONNECTIONS_PER_USER;
  per address at the handshake: gateway/rate_limits/connections.py): over it, the socket is
  closed with 4429.
- Only subscriptions go over a WebSocket, and subscriptions only over a WebSocket
  (`OperationTransport`): queries and mutations keep to HTTP, where the rate limits count them
  and cookies can be set.
- A `subscribe` may name its operation by a persisted query's hash in `payload.extensions`, and
  in allow-list mode only registered operations run (gateway/persisted_queries.py); a refusal is
  an `error` message for that operation.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import Any, Protocol

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.extensions import SchemaExtension
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.graphql import OperationType

from common.errors import InvalidInput, Unauthenticated
from common.jwt import bearer_token
from gateway.config import GatewaySettings
from gateway.context import Context
from gateway.limits import JsonLimits, JsonRefused, check_json
from gateway.persisted_queries import PersistedQueries, Refused, parses
from gateway.rate_limits.connections import OpenConnections, Slot

# A WebSocket close frame's reason is at most 123 bytes.
MAX_CLOSE_REASON = 120
TOO_MANY_CONNECTIONS = 4429


def token_of_params(params: Mapping[str, Any]) -> str | None:
    """The token of a `connection_init` payload, or None."""
    header = params.get("authorization") or params.get("Authorization")
    if isinstance(header, str) and (token := bearer_token(header)):
        return token
    token = params.get("token")
    return token.strip() if isinstance(token, str) and token.strip() else None


_SUBSCRIBE_PAYLOAD_TYPES: dict[str, type | tuple[type, ...]] = {
    "query": str,
    "operationName": str,
    "variables": dict,
    "extensions": dict,
}


def message_problem(message: object) -> str | None:
    """Why a frame is no graphql-transport-ws message (a close reason), or None. The protocol's
    own fields only: a `subscribe` needs a string `id` and an object `payload` whose query,
    operationName, variables and extensions are null or of their type; other message types are
    Strawberry's to judge (an unknown `type` is closed with 4400 there)."""
    if not isinstance(message, dict):
        return "Invalid message: not a JSON object"
    if message.get("type") != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(message.get("id"), str) or not isinstance(payload, dict):
        return "Invalid subscribe message: needs a string id and an object payload"
    for name, kind in _SUBSCRIBE_PAYLOAD_TYPES.items():
        value = payload.get(name)
        if value is not None and not isinstance(value, kind):
            return f"Invalid subscribe message: payload.{name} has the wrong type"
    return None


class SubscriptionHost(Protocol):
    """What a WebSocket connection needs of the GraphQL app that serves it (gateway/app.py's
    GraphQLApp, which imports this module through the schema)."""

    settings: GatewaySettings
    connections: OpenConnections
    json_limits: JsonLimits
    persisted: PersistedQueries


class TextWebSocket(ASGIWebSocketAdapter):
    def __init__(self, view: SubscriptionHost, request: Any, response: Any) -> None:
        super().__init__(view, request, response)  # type: ignore[arg-type]  # Strawberry: its view
        self.json_limits: JsonLimits = view.json_limits

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                try:
                    message = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    raise NonJsonMessageReceived from exc
                if problem := message_problem(message):
                    # Strawberry's handler trusts a message's shape: `[]` raised TypeError, a
                    # subscribe with a numeric query an error in a worker task. The protocol's
                    # answer to an invalid message is 4400 (issue 18).
                    await self.close(4400, problem)
                    return
                try:
                    self._check(message)
                except JsonRefused as exc:
                    await self.close(4400, str(exc)[:MAX_CLOSE_REASON])
                    return
                yield message
        except KeyError as exc:  # a binary frame
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    def _check(self, message: dict[str, object]) -> None:
        payload = message.get("payload")
        if isinstance(payload, dict):
            # A subscribe message's query text is bounded by the token limit, not the string one.
            check_json(payload, self.json_limits, long_strings_at=("query",))
            check_json({k: v for k, v in message.items() if k != "payload"}, self.json_limits)
        else:
            check_json(message, self.json_limits)

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class SubscriptionsHandler(BaseGraphQLTransportWSHandler[Context, None]):
    user_slot: Slot | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        first = not self.connection_init_received and not self.connection_timed_out
        payload = message.get("payload")
        if first and isinstance(payload, dict):
            if token := token_of_params(payload):
                self.context.sign_in_with(token)
        if first and (user := self._user()) is not None:
            view: SubscriptionHost = self.view  # type: ignore[assignment]
            connections: OpenConnections = view.connections
            self.user_slot = await connections.claim(
                "user", user, view.settings.subscription_connections_per_user
            )
            if self.user_slot is None:
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                reason = "Too many open connections for this user"
                await self.websocket.close(code=TOO_MANY_CONNECTIONS, reason=reason)
                return
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict):
            view: SubscriptionHost = self.view  # type: ignore[assignment]
            try:
                resolved = await view.persisted.resolve(
                    payload.get("query"), payload.get("extensions")
                )
            except Refused as exc:
                error = exc.graphql_error().formatted
                await self.send_message({"id": message["id"], "type": "error", "payload": [error]})
                return
            if resolved.query is not None:
                message = {**message, "payload": {**payload, "query": resolved.query}}
            if resolved.remember_as and parses(resolved.query, view.settings.graphql_max_tokens):
                await view.persisted.remember(resolved)
        await super().handle_subscribe(message)

    def _user(self) -> str | None:
        """Whose slot this connection takes: the token's user when it is ours and unexpired
        (revocation is checked where it matters, before each push)."""
        if not self.context.token:
            return None
        try:
            return self.context.accounts.verifier.decode(self.context.token).sub
        except Unauthenticated:
            return None

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            view: SubscriptionHost = self.view  # type: ignore[assignment]
            await view.connections.release(self.user_slot)


class OperationTransport(SchemaExtension):
    """Subscriptions over a WebSocket, queries and mutations over HTTP; the other way round is
    BAD_USER_INPUT, answered without executing anything."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        websocket = bool(getattr(context.context, "websocket", False))
        subscription = context.operation_type is OperationType.SUBSCRIPTION
        refusal = None
        if websocket and not subscription:
            refusal = (
                "Only subscriptions are served over a WebSocket; send queries and mutations "
                "by HTTP POST to /graphql"
            )
        elif subscription and not websocket:
            refusal = "Subscriptions are served over a WebSocket on /graphql (graphql-transport-ws)"
        if refusal is not None:
            # A result set here is answered instead of executing (an exception raised here
            # would escape ErrorCodes).
            error = GraphQLError(refusal, original_error=InvalidInput(refusal))
            context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
