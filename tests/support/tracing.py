"""Spans recorded in memory, for tests that look at traces.

OpenTelemetry takes one tracer provider per process, so the test session installs one the first
time a test asks (an SDK provider, as `ticketing serve` installs, exporting to memory) and keeps
it. It samples only while a test that asked for it runs: before and after, spans are dropped as
in a process with no OTLP endpoint, and ids are still made.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler, SamplingResult

from common import tracing


class SwitchedSampler(Sampler):
    """Samples everything while on, nothing while off."""

    def __init__(self) -> None:
        self.inner: Sampler = ALWAYS_OFF

    def should_sample(self, *args, **kwargs) -> SamplingResult:
        return self.inner.should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return f"Switched({self.inner.get_description()})"


class Recorder:
    def __init__(self) -> None:
        self.sampler = SwitchedSampler()
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(sampler=self.sampler)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        tracing.install(self.provider, trace_mongo=False)
        if trace.get_tracer_provider() is not self.provider:
            raise RuntimeError("another tracer provider was installed in this test process")

    @contextlib.contextmanager
    def recording(self, *, trace_mongo: bool = False) -> Iterator[InMemorySpanExporter]:
        """Spans are sampled and kept while inside; MongoDB commands too with `trace_mongo`
        (for clients made inside: pymongo adds listeners to new clients only)."""
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        self.exporter.clear()
        self.sampler.inner = ALWAYS_ON
        if trace_mongo:
            PymongoInstrumentor().instrument(tracer_provider=self.provider)
        try:
            yield self.exporter
        finally:
            self.sampler.inner = ALWAYS_OFF
            if trace_mongo:
                PymongoInstrumentor().uninstrument()
            self.exporter.clear()


@functools.cache
def recorder() -> Recorder:
    return Recorder()


def spans_of_trace(spans: Sequence[ReadableSpan], trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans if s.context.trace_id == trace_id]


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)
