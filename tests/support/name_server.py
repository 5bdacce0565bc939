"""A DNS server of the test's own: one name, several addresses, as a Kubernetes headless Service
answers for its ready pods, without touching /etc/hosts. A gRPC target
`dns://127.0.0.1:<port>/tickets.test:50052` asks it (gRPC's c-ares resolver honours the
authority). The test changes the answer while it runs, as pods come and go."""

from __future__ import annotations

import socket
import threading

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class NameServer:
    """UDP on 127.0.0.1: A records for the names it holds (TTL 1 s), an empty answer for their
    other types (AAAA...), NXDOMAIN for any other name."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))  # held from here on: no other process can take it
        self.port: int = self.sock.getsockname()[1]
        self._records: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.queries = 0
        self._thread = threading.Thread(target=self._serve, name="name-server", daemon=True)

    def set(self, name: str, addresses: list[str]) -> None:
        with self._lock:
            self._records[name.rstrip(".").lower()] = list(addresses)

    def target(self, name: str, port: int) -> str:
        """The gRPC target that resolves `name` here."""
        return f"dns://127.0.0.1:{self.port}/{name}:{port}"

    def start(self) -> NameServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.sock.close()  # recvfrom fails, the thread ends
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self._answer(dns.message.from_wire(data))
            except dns.exception.DNSException:
                continue  # not a query we can read: no answer, as a server would drop it
            try:
                self.sock.sendto(reply.to_wire(), peer)
            except OSError:
                return

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        with self._lock:
            self.queries += 1
            for question in query.question:
                addresses = self._records.get(question.name.to_text().rstrip(".").lower())
                if addresses is None:
                    reply.set_rcode(dns.rcode.NXDOMAIN)
                elif question.rdtype == dns.rdatatype.A:
                    reply.answer.append(
                        dns.rrset.from_text_list(question.name, 1, "IN", "A", addresses)
                    )
        return reply
