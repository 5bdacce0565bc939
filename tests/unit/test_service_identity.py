"""Services check who calls (common/service_identity.py): a real gRPC server with insights' own
servicer and access table, called with and without service tokens; nothing reaches a handler
that the caller may not call."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.clock import FrozenClock
from common.config import CommonSettings
from common.errors import Unauthenticated
from common.grpc_server import GrpcServer
from common.jwt import TokenIssuer, TokenVerifier, generate_key_pair
from common.processes import GRPC_SERVICES
from common.service_identity import (
    CLI,
    GATEWAY,
    METADATA_KEY,
    AttachServiceToken,
    ServiceTokens,
    ServiceTokenVerifier,
    access,
    check_table,
    generate_keys,
    key_settings,
    load_private_key,
    load_public_keys,
)
from common.settings import ConfigError
from svc_insights.entrypoints.access import ACCESS
from svc_insights.entrypoints.grpc_api import InsightsServicer
from svc_insights.service_layer.event_recommendations import RankedEvents
from svc_insights.service_layer.recommendations import Ranked
from tests.unit.fakes import FakeRevocations
from ticketing.insights.v1 import insights_pb2, insights_pb2_grpc


@dataclass
class Recorded:
    """What reached the handlers (the sentinel: a refused call leaves nothing here)."""

    calls: list[tuple[str, object]] = field(default_factory=list)
    events: RecordedEvents = field(default_factory=lambda: RecordedEvents())

    async def event_counts(self, ticket_id, order_id):
        self.calls.append(("counts", ticket_id))
        return {"TicketCreated": 1}

    async def recommend(self, user_id, anonymous_id, first):
        self.calls.append(("recommend", user_id))
        return Ranked(["t1"], "m1")

    async def similar(self, ticket_id, user_id, first):
        self.calls.append(("similar", user_id))
        return Ranked(["t2"], "m1")


@dataclass
class RecordedEvents:
    """The event recommender's calls that reached it."""

    calls: list[tuple[str, object]] = field(default_factory=list)

    async def recommend(self, user_id, anonymous_id, first):
        self.calls.append(("recommend events", user_id))
        return RankedEvents(["ev1"], "m1")

    async def similar(self, event_id, first):
        self.calls.append(("similar events", event_id))
        return RankedEvents(["ev2"], "m1")


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("service-keys")
    generate_keys(directory)
    return directory


def tokens(keys: Path, name: str, clock=None) -> ServiceTokens:
    return ServiceTokens(
        name, load_private_key((keys / "private" / f"{name}.pem").read_text()), clock
    )


@dataclass
class Insights:
    stub: insights_pb2_grpc.InsightsServiceStub
    recorded: Recorded
    clock: FrozenClock
    issuer: TokenIssuer
    channel: grpc.aio.Channel
    target: str


@pytest.fixture
async def insights(keys):
    clock = FrozenClock()
    private, public = generate_key_pair()
    recorded = Recorded()
    server = GrpcServer(
        TokenVerifier(public, FakeRevocations(), clock),
        grace_seconds=0,
        services=ServiceTokenVerifier("insights", load_public_keys(keys / "public"), clock),
    )
    servicer = InsightsServicer(
        recorded,  # type: ignore[arg-type]
        recorded,  # type: ignore[arg-type]
        reports=None,  # type: ignore[arg-type]
        event_recommendations=recorded.events,  # type: ignore[arg-type]
        event_reports=None,  # type: ignore[arg-type]
    )
    server.add(
        insights_pb2_grpc.add_InsightsServiceServicer_to_server,
        servicer,
        "ticketing.insights.v1.InsightsService",
        ACCESS,
    )
    port = await server.start("127.0.0.1", 0)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Insights(
            insights_pb2_grpc.InsightsServiceStub(channel),
            recorded,
            clock,
            TokenIssuer(private, 3600, clock),
            channel,
            f"127.0.0.1:{port}",
        )
    finally:
        await channel.close()
        await server.stop()


COUNTS = insights_pb2.GetEventCountsRequest(ticket_id="t1")


async def refused(call, request, metadata=()) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call(request, metadata=metadata)
    return failed.value.code()


async def test_counts_without_a_service_token_are_refused(insights):
    assert await refused(insights.stub.GetEventCounts, COUNTS) == grpc.StatusCode.UNAUTHENTICATED
    assert insights.recorded.calls == []


async def test_counts_with_the_operators_token_are_answered(insights, keys):
    reply = await insights.stub.GetEventCounts(
        COUNTS, metadata=(tokens(keys, CLI).metadata_for("insights"),)
    )
    assert reply.total == 1
    assert insights.recorded.calls == [("counts", "t1")]


async def test_a_known_caller_the_rpc_does_not_admit_is_permission_denied(insights, keys):
    metadata = (tokens(keys, GATEWAY).metadata_for("insights"),)
    code = await refused(insights.stub.GetEventCounts, COUNTS, metadata)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert insights.recorded.calls == []


async def test_a_token_signed_by_an_unknown_key_is_refused(insights, tmp_path):
    generate_keys(tmp_path, [CLI])  # the right name, another key
    metadata = (tokens(tmp_path, CLI).metadata_for("insights"),)
    assert await refused(insights.stub.GetEventCounts, COUNTS, metadata) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert insights.recorded.calls == []


async def test_a_token_for_another_service_is_refused(insights, keys):
    metadata = (tokens(keys, CLI).metadata_for("tickets"),)
    assert await refused(insights.stub.GetEventCounts, COUNTS, metadata) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert insights.recorded.calls == []


async def test_an_expired_token_is_refused(insights, keys):
    metadata = (tokens(keys, CLI, insights.clock).metadata_for("insights"),)
    assert (await insights.stub.GetEventCounts(COUNTS, metadata=metadata)).total == 1
    insights.clock.advance(300 + 31)  # its life and the leeway for clock differences
    assert await refused(insights.stub.GetEventCounts, COUNTS, metadata) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert len(insights.recorded.calls) == 1


async def test_garbage_in_the_service_token_is_unauthenticated(insights):
    metadata = ((METADATA_KEY, "not-a-jwt"),)
    assert await refused(insights.stub.GetEventCounts, COUNTS, metadata) == (
        grpc.StatusCode.UNAUTHENTICATED
    )


async def test_a_users_recommendations_need_that_users_token(insights, keys):
    gateway = tokens(keys, GATEWAY).metadata_for("insights")
    alice, _ = insights.issuer.issue("alice", "alice@example.com")
    for_bob = insights_pb2.RecommendTicketsRequest(user_id="bob", first=10)
    # Bob's ranking with Alice's token: refused; without a user token: refused.
    as_alice = (gateway, ("authorization", f"Bearer {alice}"))
    assert await refused(insights.stub.RecommendTickets, for_bob, as_alice) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert await refused(insights.stub.RecommendTickets, for_bob, (gateway,)) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    similar = insights_pb2.SimilarTicketsRequest(ticket_id="t1", user_id="bob", first=10)
    assert await refused(insights.stub.SimilarTickets, similar, as_alice) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert insights.recorded.calls == []
    # Her own, and an anonymous visitor's (with the gateway's token only), are answered.
    for_alice = insights_pb2.RecommendTicketsRequest(user_id="alice", first=10)
    assert (await insights.stub.RecommendTickets(for_alice, metadata=as_alice)).ticket_ids == ["t1"]
    anonymous = insights_pb2.RecommendTicketsRequest(anonymous_id="a1", first=10)
    assert (await insights.stub.RecommendTickets(anonymous, metadata=(gateway,))).ticket_ids
    assert insights.recorded.calls == [("recommend", "alice"), ("recommend", None)]


async def test_a_users_event_recommendations_need_that_users_token(insights, keys):
    gateway = tokens(keys, GATEWAY).metadata_for("insights")
    alice, _ = insights.issuer.issue("alice", "alice@example.com")
    as_alice = (gateway, ("authorization", f"Bearer {alice}"))
    for_bob = insights_pb2.RecommendEventsRequest(user_id="bob", first=10)
    assert await refused(insights.stub.RecommendEvents, for_bob, as_alice) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert await refused(insights.stub.SimilarEvents, insights_pb2.SimilarEventsRequest()) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert insights.recorded.events.calls == []
    for_alice = insights_pb2.RecommendEventsRequest(user_id="alice", first=10)
    mine = await insights.stub.RecommendEvents(for_alice, metadata=as_alice)
    similar = insights_pb2.SimilarEventsRequest(event_id="ev1", first=10)
    like = await insights.stub.SimilarEvents(similar, metadata=(gateway,))
    assert (list(mine.event_ids), list(like.event_ids)) == (["ev1"], ["ev2"])
    assert insights.recorded.events.calls == [
        ("recommend events", "alice"),
        ("similar events", "ev1"),
    ]


async def test_an_anonymous_ranking_still_needs_the_gateways_token(insights):
    anonymous = insights_pb2.RecommendTicketsRequest(anonymous_id="a1", first=10)
    assert await refused(insights.stub.RecommendTickets, anonymous) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    assert insights.recorded.calls == []


async def test_a_report_needs_a_users_token_besides_the_gateways(insights, keys):
    gateway = tokens(keys, GATEWAY).metadata_for("insights")
    request = insights_pb2.GetMarketReportRequest()
    assert await refused(insights.stub.GetMarketReport, request, (gateway,)) == (
        grpc.StatusCode.UNAUTHENTICATED
    )


async def test_health_and_reflection_stay_open(insights):
    # Without any token: kubelet probes and `grpcurl describe`.
    reply = await health_pb2_grpc.HealthStub(insights.channel).Check(
        health_pb2.HealthCheckRequest()
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_channel_with_the_interceptor_carries_the_token(insights, keys):
    async with grpc.aio.insecure_channel(
        insights.target, interceptors=[AttachServiceToken(tokens(keys, CLI))]
    ) as channel:
        reply = await insights_pb2_grpc.InsightsServiceStub(channel).GetEventCounts(COUNTS)
    assert reply.total == 1


def test_a_token_is_reused_until_a_minute_before_its_end(keys):
    clock = FrozenClock()
    own = tokens(keys, GATEWAY, clock)
    first = own.token_for("tickets")
    assert own.token_for("tickets") == first  # no signing per call
    assert own.token_for("orders") != first  # one per audience
    clock.advance(300 - 61)
    assert own.token_for("tickets") == first
    clock.advance(2)
    assert own.token_for("tickets") != first


def test_every_rpc_of_every_service_has_an_access_policy():
    for spec in GRPC_SERVICES:
        table = importlib.import_module(f"svc_{spec.name}.entrypoints.access").ACCESS
        importlib.import_module(f"ticketing.{spec.name}.v1.{spec.name}_pb2")  # its descriptor
        service = descriptor_pool.Default().FindServiceByName(spec.grpc_service)
        check_table(service, table)  # raises for an RPC without a policy
        assert all(rule.callers for rule in table.values()), spec.name


def test_a_service_without_a_policy_for_an_rpc_does_not_start():
    partial = {name: rule for name, rule in ACCESS.items() if name != "GetEventCounts"}
    server = GrpcServer(None)
    with pytest.raises(ValueError, match="GetEventCounts"):
        server.add(
            insights_pb2_grpc.add_InsightsServiceServicer_to_server,
            None,
            "ticketing.insights.v1.InsightsService",
            partial,
        )


def test_an_unknown_caller_name_is_a_mistake_in_the_table():
    with pytest.raises(ValueError, match="nobody"):
        access("nobody")


async def test_two_keys_of_one_caller_are_accepted_during_a_rollover(keys, tmp_path):
    """`gateway.next.pem` beside `gateway.pem`: tokens signed with either key pass, a third
    key's do not (docs/security.md, rotating a service key)."""
    generate_keys(tmp_path / "next", [GATEWAY])
    generate_keys(tmp_path / "other", [GATEWAY])
    public = tmp_path / "public"
    public.mkdir()
    (public / "gateway.pem").write_bytes((keys / "public" / "gateway.pem").read_bytes())
    (public / "gateway.next.pem").write_bytes(
        (tmp_path / "next" / "public" / "gateway.pem").read_bytes()
    )
    verifier = ServiceTokenVerifier("tickets", load_public_keys(public))
    assert verifier.verify(tokens(keys, GATEWAY).token_for("tickets")) == GATEWAY
    assert verifier.verify(tokens(tmp_path / "next", GATEWAY).token_for("tickets")) == GATEWAY
    with pytest.raises(Unauthenticated):
        verifier.verify(tokens(tmp_path / "other", GATEWAY).token_for("tickets"))


def test_a_key_file_of_no_known_caller_is_a_configuration_error(tmp_path):
    generate_keys(tmp_path, [GATEWAY])
    (tmp_path / "public" / "gateway.pem").rename(tmp_path / "public" / "mallory.pem")
    with pytest.raises(ValueError, match="mallory"):
        load_public_keys(tmp_path / "public")


def test_one_environment_gives_each_process_its_own_key(keys):
    settings = CommonSettings.from_env(key_settings(keys))
    for name in (GATEWAY, "orders"):
        own = (keys / "private" / f"{name}.pem").read_text()
        assert settings.service_private_key_of(name) == own
    with pytest.raises(ConfigError, match="SERVICE_PRIVATE_KEY or SERVICE_PRIVATE_KEY_FILE"):
        CommonSettings.from_env({}).service_private_key_of(GATEWAY)
    with pytest.raises(ConfigError, match="SERVICE_PUBLIC_KEYS_DIR is required"):
        CommonSettings.from_env({}).require_service_public_keys_dir()


def test_the_table_in_docs_security_is_the_access_tables():
    """docs/security.md lists who may call each RPC; the access tables are the authority, and
    the page must say what they say."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    section = text.split("## Services check who calls", 1)[1].split("\n## ", 1)[0]
    documented: dict[tuple[str, str], tuple[set[str], bool]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("service", "---"):
            continue
        service, rpcs, callers, user = cells
        named = re.sub(r"\([^)]*\)", "", callers)
        for rpc in rpcs.split(","):
            documented[(service, rpc.strip())] = (
                {c.strip() for c in named.split(",")},
                user.startswith("required"),
            )
    actual = {}
    for spec in GRPC_SERVICES:
        table = importlib.import_module(f"svc_{spec.name}.entrypoints.access").ACCESS
        for rpc, rule in table.items():
            actual[(spec.name, rpc)] = (set(rule.callers), rule.user)
    assert documented == actual
