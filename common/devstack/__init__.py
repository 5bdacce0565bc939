"""`ticketing run`: the whole marketplace on one machine, in the foreground.

Claims its run directory (an exclusive lock) and checks every port it will listen on before
starting anything; then starts what is missing of the infrastructure (SecantusDB when MONGO_URL
is unset; a private RabbitMQ or Redis only if the configured one does not answer and the server
is installed; the Stripe stand-in when no Stripe is configured), every service and the gateway
as child processes, waits until each gRPC service's health check says SERVING and the gateway's
/readyz is 200, and then supervises until Ctrl-C or SIGTERM, when it stops the children in
reverse order. A child that exits is restarted with backoff; one that keeps exiting stops the stack,
with its last lines shown.

State lives under TICKETING_RUN_DIR (default `.run/`): the embedded database, the private
Redis's append-only file, the dev JWT key pair and the service keys (`service-keys/`, each
created once when no key is configured), and
`stack.json` with the stack's namespace, addresses, ports and children's pids, which the other
commands read (common/run_state.py).
"""

from common.devstack.run import main
from common.ports import free_port, port_is_free, wait_for_port

__all__ = ["free_port", "main", "port_is_free", "wait_for_port"]
