"""The server-side CPU of one gRPC call: the catalogue's SearchEvents (see __main__.py)."""
