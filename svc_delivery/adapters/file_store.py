"""The delivered files' bytes in GridFS's layout (`delivery_files.files` and `.chunks`, what
`gridfs.AsyncGridFSBucket(db, "delivery_files")` reads), written by this module in the unit of
work's transaction.

Why not through the bucket: pymongo's GridFS refuses any session in a transaction
("GridFS does not support multi-document transactions"), whatever the server. Uploading first
and committing the delivery after would leave orphan files (and a window where the delivery
names files not stored), and a second authority on what was delivered. Written here, the
files, the delivery that names them, its event and the seller's count commit or roll back
together. Reads are made here too, in the transaction's snapshot."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from common.mongo import UnitOfWork

BUCKET = "delivery_files"
# GridFS's default chunk size (255 KiB): a 5 MiB file is 21 chunks, each under 16 MB.
CHUNK_BYTES = 255 * 1024


async def ensure_file_indexes(db: AsyncDatabase) -> None:
    # The indexes GridFS's own drivers create and read by.
    await db[f"{BUCKET}.files"].create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
    await db[f"{BUCKET}.chunks"].create_index(
        [("files_id", ASCENDING), ("n", ASCENDING)], unique=True
    )


class GridFsFileStore:
    def __init__(self, db: AsyncDatabase, uow: UnitOfWork) -> None:
        self.files = db[f"{BUCKET}.files"]
        self.chunks = db[f"{BUCKET}.chunks"]
        self.uow = uow

    async def put(self, file_id: str, filename: str, content: bytes, order_id: str) -> None:
        session = self.uow.session
        chunks = [
            {"files_id": file_id, "n": n, "data": content[start : start + CHUNK_BYTES]}
            for n, start in enumerate(range(0, len(content), CHUNK_BYTES))
        ]
        await self.chunks.insert_many(chunks, ordered=True, session=session)
        await self.files.insert_one(
            {
                "_id": file_id,
                "length": len(content),
                "chunkSize": CHUNK_BYTES,
                "uploadDate": self.uow.clock.now(),
                "filename": filename,
                "metadata": {"order_id": order_id},
            },
            session=session,
        )

    async def get(self, file_id: str) -> bytes | None:
        session = self.uow.session
        described = await self.files.find_one({"_id": file_id}, session=session)
        if described is None:
            return None
        cursor = self.chunks.find({"files_id": file_id}, sort=[("n", ASCENDING)], session=session)
        content = b"".join([bytes(doc["data"]) async for doc in cursor])
        if len(content) != described["length"]:
            raise RuntimeError(f"delivery file {file_id} is missing chunks")
        return content
