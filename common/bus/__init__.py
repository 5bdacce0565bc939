"""The RabbitMQ event bus (pika): topology and names (`topology`), publishing with pipelined
confirms (`publisher`), concurrent consuming with retries and dead letters (`consumer`), the
operator's dead-letter tools (`dead_letters`).

Publisher and consumers run on the service's asyncio loop through pika's AsyncioConnection
(`link`): the loop answers heartbeats while a connection idles or handlers run.
"""

from common.bus.consumer import (
    DEFAULT_PREFETCH,
    Delivery,
    EventConsumer,
    Handler,
    PoisonMessage,
    consumer_for,
)
from common.bus.dead_letters import (
    DeadLetterError,
    dead_letters,
    replay_dead_letters,
    wait_for_broker,
)
from common.bus.link import LinkClosed, Nacked
from common.bus.publisher import RabbitPublisher
from common.bus.topology import (
    ATTEMPTS_HEADER,
    DEFAULT_HEARTBEAT_SECONDS,
    ERROR_HEADER,
    FAILURES_HEADER,
    WAITING_SINCE_HEADER,
    connect,
    connection_parameters,
    dead_queue_name,
    declare_exchange,
    exchange_name,
    properties_for,
    queue_name,
    retry_queue_name,
)

__all__ = [
    "ATTEMPTS_HEADER",
    "DEFAULT_HEARTBEAT_SECONDS",
    "DEFAULT_PREFETCH",
    "ERROR_HEADER",
    "FAILURES_HEADER",
    "WAITING_SINCE_HEADER",
    "DeadLetterError",
    "Delivery",
    "EventConsumer",
    "Handler",
    "LinkClosed",
    "Nacked",
    "PoisonMessage",
    "RabbitPublisher",
    "connect",
    "connection_parameters",
    "consumer_for",
    "dead_letters",
    "dead_queue_name",
    "declare_exchange",
    "exchange_name",
    "properties_for",
    "queue_name",
    "replay_dead_letters",
    "retry_queue_name",
    "wait_for_broker",
]
