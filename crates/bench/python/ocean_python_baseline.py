#!/usr/bin/env python3
"""Port Ocean's Python HTTP client as a baseline for issue 7 (see README.md here).

Runs the paging loop of Ocean's Jira integration (kind `issue`) or of its Octopus
integration (kind `deployment`, every space, no 100-deployment cap) through Ocean's own
client class, `port_ocean.helpers.async_client.OceanAsyncClient` with its default
`RetryTransport`, and writes one NDJSON line per item to stdout. The count of items goes
to stderr,
with the bytes of the response bodies read.

    python ocean_python_baseline.py jira    URL EMAIL TOKEN
    python ocean_python_baseline.py octopus URL API_KEY

What is reproduced (from the port-labs/ocean sources, paraphrased, no code copied):
- Jira: a private OceanAsyncClient, timeout 30 s, default httpx pool, Basic auth;
  POST {URL}/rest/api/3/search/jql with {jql, maxResults: 50, fields: ["*all"],
  nextPageToken} and the `retryable` request extension (so the transport retries the POST);
  `raise_for_status()`, `response.json()`; stops on an empty page, on `isLast`, or when
  `nextPageToken` is missing.
- Octopus: an OceanAsyncClient, timeout 60 s, `X-Octopus-ApiKey`; GET /api/spaces and
  GET /api/{spaceId}/deployments with skip/take 50, reading `Items` and `LastPageNumber`
  (stop when the page index >= LastPageNumber); each item gets Ocean's `__url`; the spaces'
  streams are merged concurrently with Ocean's `stream_async_iterators_tasks`, as its
  `main.py` does.
Not reproduced: Jira's JiraRateLimiter (a semaphore plus a lock per request), the Octopus
deployment cap (so the counts match `ocean sync ... --max-items 0`), and everything Ocean's
core does with the pages afterwards (JQ mapping, Port upserts).
"""
import asyncio
import json
import sys
from typing import Any, AsyncIterator

import httpx
from port_ocean.helpers.async_client import OceanAsyncClient
from port_ocean.helpers.retry import RetryTransport

PAGE_SIZE = 50


def _self_hosted_context() -> None:
    """Give port-ocean >= 0.5x the slice of an integration's context its client reads.

    Newer releases read `ocean.config` when an `OceanAsyncClient` is built (TLS settings,
    whether the SaaS-only outbound IP blocker applies) and while it retries (sync tier,
    streaming mode). Outside a running integration there is no context, so this installs
    one with the defaults of a self-hosted integration: default TLS settings, the IP
    blocker off (its default off SaaS), streaming off, a resync pod, and loguru at INFO (an integration's
    default `log_level`; loguru's own default, DEBUG, would log every response's size).
    Older releases read none of it.
    """
    from types import SimpleNamespace

    from loguru import logger
    from port_ocean.context.ocean import ocean

    logger.remove()
    logger.add(sys.stderr, level="INFO")

    if ocean.initialized:
        return
    try:
        from port_ocean.config.settings import SslSettings, StreamingSettings
    except ImportError:  # releases without these settings need no context
        return
    config = SimpleNamespace(
        ssl=SslSettings(),
        disable_ip_outbound_blocker=True,
        streaming=StreamingSettings(),
        # A pod that runs resyncs (the retry backoff's "sync tier").
        event_listener=SimpleNamespace(should_resync=True),
        integration=SimpleNamespace(incremental_sync_enabled=False),
    )
    ocean._app = SimpleNamespace(config=config)
BODY_BYTES = 0  # response body bytes read, reported on stderr (for MB/s)
DEFAULT_JQL = "(statusCategory != Done) OR (created >= -1w) OR (updated >= -1w)"


async def jira_issues(base: str, email: str, token: str) -> AsyncIterator[list[dict[str, Any]]]:
    client = OceanAsyncClient(RetryTransport, timeout=30, auth=httpx.BasicAuth(email, token))
    url = f"{base.rstrip('/')}/rest/api/3/search/jql"
    body: dict[str, Any] = {"jql": DEFAULT_JQL, "maxResults": PAGE_SIZE, "fields": ["*all"]}
    try:
        while True:
            response = await client.request(
                "POST", url, json=body, extensions={"retryable": True}
            )
            response.raise_for_status()
            global BODY_BYTES
            BODY_BYTES += len(response.content)
            page = response.json()
            issues = page.get("issues", [])
            if not issues:
                break
            yield issues
            token_ = page.get("nextPageToken")
            if page.get("isLast") or not token_:
                break
            body["nextPageToken"] = token_
    finally:
        await client.aclose()


async def octopus_deployments(base: str, api_key: str) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    from port_ocean.utils.async_iterators import stream_async_iterators_tasks

    server = base.rstrip("/")
    headers = {"X-Octopus-ApiKey": api_key}
    client = OceanAsyncClient(RetryTransport, timeout=60, headers=headers)

    async def paginate(path: str) -> AsyncIterator[list[dict[str, Any]]]:
        skip = 0
        page_index = 0
        while True:
            response = await client.request(
                "GET", f"{server}/api/{path}", headers=headers,
                params={"skip": skip, "take": PAGE_SIZE},
            )
            response.raise_for_status()
            global BODY_BYTES
            BODY_BYTES += len(response.content)
            page = response.json()
            yield page.get("Items", [])
            if page_index >= page.get("LastPageNumber", 0):
                break
            page_index += 1
            skip += PAGE_SIZE

    async def space_deployments(space_id: str) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
        async for items in paginate(f"{space_id}/deployments"):
            for item in items:
                item["__url"] = f"{server}/app#/{item.get('SpaceId')}/deployments/{item.get('Id')}"
            yield space_id, items

    try:
        async for spaces in paginate("spaces"):
            streams = [space_deployments(space["Id"]) for space in spaces]
            async for pair in stream_async_iterators_tasks(*streams):
                yield pair
    finally:
        await client.aclose()


async def main(argv: list[str]) -> int:
    _self_hosted_context()
    out = sys.stdout
    count = 0
    if len(argv) == 5 and argv[1] == "jira":
        async for issues in jira_issues(argv[2], argv[3], argv[4]):
            for item in issues:
                out.write(json.dumps({"kind": "issue", "item": item}))
                out.write("\n")
            count += len(issues)
    elif len(argv) == 4 and argv[1] == "octopus":
        async for space_id, items in octopus_deployments(argv[2], argv[3]):
            for item in items:
                out.write(json.dumps({"kind": "deployment", "space_id": space_id, "item": item}))
                out.write("\n")
            count += len(items)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    out.flush()
    print(f"items={count} body_bytes={BODY_BYTES}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
