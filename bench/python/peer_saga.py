"""The benchmark's peer: an order's saga written the ordinary way with Temporal's Python SDK.

`make bench` runs it on the same Temporal server as the Rust saga, in the same run, and compares
orders per second. The shape is what a team would write first: reserve stock, start production,
the barista's two commands as updates, and after each change of status a search-attribute upsert
and a projection activity; the kitchen wait limit is a `wait_condition` with a timeout. Every
activity is a no-op, so the figure is what Temporal and the SDK cost, nothing else.

    python peer_saga.py --address 127.0.0.1:7233 --count 300 --concurrency 32

prints one JSON line: {"workflows": N, "seconds": S, "perSecond": R}.
"""

import argparse
import asyncio
import json
import time
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

QUEUE = "bench-python-peer"
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
STEP = timedelta(seconds=10)


@activity.defn(name="peerReserveStock")
async def reserve_stock(order_id: str) -> None:
    pass


@activity.defn(name="peerStartProduction")
async def start_production(order_id: str) -> None:
    pass


@activity.defn(name="peerProjectOrder")
async def project_order(status: str) -> None:
    pass


@workflow.defn(name="PeerOrderWorkflow")
class PeerOrderWorkflow:
    def __init__(self) -> None:
        self.status = "Ordered"

    @workflow.run
    async def run(self, order_id: str) -> str:
        await workflow.execute_activity(project_order, self.status, start_to_close_timeout=STEP)
        await workflow.execute_activity(reserve_stock, order_id, start_to_close_timeout=STEP)
        await self.move("StockReserved")
        await workflow.execute_activity(start_production, order_id, start_to_close_timeout=STEP)
        await self.move("Queued")
        # The kitchen wait limit.
        await workflow.wait_condition(lambda: self.status != "Queued", timeout=timedelta(minutes=30))
        await workflow.wait_condition(lambda: self.status == "Completed" and workflow.all_handlers_finished())
        return self.status

    async def move(self, status: str) -> None:
        self.status = status
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status)])
        await workflow.execute_activity(project_order, status, start_to_close_timeout=STEP)

    @workflow.update(name="startBrewing")
    async def start_brewing(self) -> str:
        await workflow.wait_condition(lambda: self.status == "Queued")
        await self.move("Brewing")
        return self.status

    @workflow.update(name="completeProduction")
    async def complete_production(self) -> str:
        await self.move("Completed")
        return self.status


async def one_order(client: Client, run: str, i: int) -> None:
    handle = await client.start_workflow(
        PeerOrderWorkflow.run,
        f"{run}-{i}",
        id=f"peer-{run}-{i}",
        task_queue=QUEUE,
        search_attributes=TypedSearchAttributes([SearchAttributePair(ORDER_STATUS, "Ordered")]),
    )
    await handle.execute_update(PeerOrderWorkflow.start_brewing)
    await handle.execute_update(PeerOrderWorkflow.complete_production)
    await handle.result()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    client = await Client.connect(args.address)
    run = uuid.uuid4().hex[:12]
    permits = asyncio.Semaphore(args.concurrency)

    async def bounded(i: int) -> None:
        async with permits:
            await one_order(client, run, i)

    async with Worker(
        client,
        task_queue=QUEUE,
        workflows=[PeerOrderWorkflow],
        activities=[reserve_stock, start_production, project_order],
    ):
        started = time.monotonic()
        await asyncio.gather(*(bounded(i) for i in range(args.count)))
        seconds = time.monotonic() - started
    print(json.dumps({"workflows": args.count, "seconds": seconds, "perSecond": args.count / seconds}))


if __name__ == "__main__":
    asyncio.run(main())
