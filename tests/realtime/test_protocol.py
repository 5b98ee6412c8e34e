"""The wire protocol against a real server process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import Deployment
from tests.realtime.helpers import connected, http_get, on_ticket, open_ticket
from tests.utils import QUIET, Server, ws_client


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def test_join_answers_with_the_ticket_state(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d, "VPN drops every hour")
    async with connected(server, d, "client") as c:
        joined = await c.join(f"ticket:{tid}")
    assert joined["type"] == "joined" and joined["topic"] == f"ticket:{tid}"
    assert joined["seq"] == 1  # the opening message
    state = joined["state"]
    assert {"id", "subject", "status", "priority", "next_update_at", "assignees"} <= state.keys()
    assert state["subject"] == "VPN drops every hour" and state["status"] == "new"


async def test_chat_is_stored_replied_and_fanned_out(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        reply = await eng.request({"type": "chat", "topic": topic, "body": "On it — 🔧 \"quotes\" too"})
        assert reply == {"type": "reply", "ref": reply["ref"], "ok": True, "seq": 2}
        for who in (client, eng):
            ev = await who.expect(type="event", seq=2)
            assert ev["kind"] == "chat" and ev["topic"] == topic
            assert ev["data"]["body"] == "On it — 🔧 \"quotes\" too" and ev["data"]["visibility"] == "public"
            # A public answer from staff restarts the SLA clock, and the event says to when.
            assert ev["data"]["next_update_source"] == "sla" and ev["data"]["next_update_at"].endswith("Z")
            assert ev["actor"]["id"] == d.users["engineer"]["id"] and ev["actor"]["role"] == "staff"
            assert ev["at"].endswith("Z")
    r = await http_get(server, d, "client", f"/api/tickets/{tid}/events?since=1")
    assert [e["seq"] for e in r.json()["events"]] == [2]


async def test_viewers_count_people_not_tabs(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "client", "engineer") as (tab1, tab2, eng):
        p = await eng.expect(lambda f: f["type"] == "presence" and f["viewers"] == 2)
        assert {m["id"] for m in p["members"]} == {d.users["client"]["id"], d.users["engineer"]["id"]}
        await eng.request({"type": "ping"})
        await eng.send({"type": "activity", "topic": topic, "state": "working"})
        p = await tab1.expect(lambda f: f["type"] == "presence" and any(m["state"] == "working" for m in f["members"]))
        assert p["viewers"] == 2
        working = [m for m in p["members"] if m["state"] == "working"]
        assert working[0]["id"] == d.users["engineer"]["id"] and working[0]["tier"] == 2
        await eng.request({"type": "ping"})
        await eng.drain()  # presence frames of the joins (a snapshot may trail its successor): only what follows
        await tab2.close()  # one tab of two closes: Alice is still there
        assert not [f for f in await eng.drain() if f["type"] == "presence" and f["viewers"] != 2]
        await tab1.close()
        p = await eng.expect(lambda f: f["type"] == "presence" and f["viewers"] == 1, timeout=5)
        assert [m["id"] for m in p["members"]] == [d.users["engineer"]["id"]]


async def test_typing_reaches_the_others_and_internal_typing_only_staff(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer", "engineer2") as (client, eng, eng2):
        await client.send({"type": "typing", "topic": topic})
        t = await eng.expect(type="typing")
        assert t["user"] == {"id": d.users["client"]["id"], "name": "Alice Client"}
        await eng.send({"type": "typing", "topic": topic, "visibility": "internal"})
        t = await eng2.expect(lambda f: f["type"] == "typing" and f["user"]["id"] == d.users["engineer"]["id"])
        assert t["visibility"] == "internal"
        await eng.send({"type": "typing", "topic": topic})  # a public one after it, to prove the order
        await client.expect(lambda f: f["type"] == "typing" and "visibility" not in f)
        rest = await client.drain()
        assert not [f for f in client.inbox + rest if f["type"] == "typing"]
        assert not [f for f in await client.drain() if f.get("visibility") == "internal"]
        # the typist never hears their own typing
        assert not [f for f in await eng.drain() if f["type"] == "typing" and f["user"]["id"] == d.users["engineer"]["id"]]


async def test_status_and_next_update_at(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        r = await eng.request({"type": "status", "topic": topic, "status": "in_progress",
                               "next_update_at": "2030-01-02T15:30:00+01:00"})
        assert r["ok"] is True
        ev = await client.expect(type="event", kind="status")
        assert ev["data"] == {"status": "in_progress", "next_update_at": "2030-01-02T14:30:00Z",
                              "next_update_source": "staff"}
        refused = await client.request({"type": "status", "topic": topic, "status": "closed"})
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
        bad = await eng.request({"type": "status", "topic": topic, "status": "in_progress",
                                 "next_update_at": "2030-01-02T15:30:00"})
        assert bad["error"]["code"] == "bad_request" and "offset" in bad["error"]["message"]
        nope = await eng.request({"type": "status", "topic": topic, "status": "done"})
        assert nope["error"]["code"] == "bad_request"
    snap = (await http_get(server, d, "client", f"/api/tickets/{tid}")).json()
    assert snap["status"] == "in_progress" and snap["next_update_at"] == "2030-01-02T14:30:00Z"
    async with connected(server, d, "client") as again:
        joined = await again.join(topic)
        assert joined["state"]["status"] == "in_progress"


async def test_join_since_replays_without_gap_or_duplicate(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with connected(server, d, "engineer") as eng:
        await eng.join(topic)
        for i in range(6):
            await eng.request({"type": "chat", "topic": topic, "body": f"message {i}"})
        async with connected(server, d, "client") as late:
            joined = await late.join(topic, since=3)
            assert joined["seq"] == 7

            async def send_more() -> None:
                for i in range(6, 12):
                    await eng.request({"type": "chat", "topic": topic, "body": f"message {i}"})

            await send_more()
            seqs = []
            while len(seqs) < 10:
                seqs.append((await late.expect(type="event"))["seq"])
            assert seqs == list(range(4, 14))
            assert not [f for f in await late.drain() if f["type"] == "event"]


async def test_replay_while_events_arrive_has_no_gap(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with connected(server, d, "engineer") as eng:
        await eng.join(topic)
        written: list[int] = []

        async def writer() -> None:
            for i in range(40):
                written.append((await eng.request({"type": "chat", "topic": topic, "body": f"burst {i}"}))["seq"])

        task = asyncio.create_task(writer())
        while len(written) < 5:  # the client joins in the middle of the burst: some stored, more coming
            assert not task.done(), task.result()
            await asyncio.sleep(0.01)
        async with connected(server, d, "client2") as c:
            await c.join(topic, since=0)
            await task
            seqs = []
            while len(seqs) < 41:
                seqs.append((await c.expect(type="event"))["seq"])
        assert seqs == list(range(1, 42))


async def test_internal_notes_never_reach_clients(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer", "engineer2") as (client, eng, eng2):
        r = await eng.request({"type": "chat", "topic": topic, "body": "secret guidance", "visibility": "internal"})
        assert r["ok"] and r["seq"] == 2
        note = await eng2.expect(type="event", seq=2)
        assert note["data"]["visibility"] == "internal"
        await eng.request({"type": "chat", "topic": topic, "body": "public answer"})
        ev = await client.expect(type="event")
        assert ev["seq"] == 3  # the note was skipped, the later public message arrived
        assert "secret" not in orjson.dumps(client.inbox + await client.drain()).decode()
    # not on replay, not in joined.seq, not over HTTP
    async with connected(server, d, "client") as again:
        joined = await again.join(topic, since=0)
        assert joined["seq"] == 3
        frames = [await again.expect(type="event"), await again.expect(type="event")]
        assert [f["seq"] for f in frames] == [1, 3]
    async with connected(server, d, "engineer") as staff:
        joined = await staff.join(topic, since=1)
        assert (await staff.expect(type="event"))["seq"] == 2
    body = (await http_get(server, d, "client", f"/api/tickets/{tid}/events?since=0")).json()
    assert [e["seq"] for e in body["events"]] == [1, 3] and "secret" not in orjson.dumps(body).decode()
    staff_body = (await http_get(server, d, "engineer", f"/api/tickets/{tid}/events?since=0")).json()
    assert [e["seq"] for e in staff_body["events"]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_request"),
        ("[1, 2, 3]", "bad_request"),
        ('"a string"', "bad_request"),
        ('{"no_type": 1}', "bad_request"),
        ('{"type": 42}', "bad_request"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "join"}', "bad_request"),
        ('{"type": "join", "topic": "ticket:abc"}', "forbidden"),
        ('{"type": "join", "topic": "ticket:1", "since": -1}', "bad_request"),
        ('{"type": "join", "topic": "ticket:1", "since": "5"}', "bad_request"),
        ('{"type": "join", "topic": "moon:1"}', "forbidden"),
        ('{"type": "join", "topic": "ticket:999999"}', "forbidden"),
        ('{"type": "chat", "topic": "ticket:1"}', "bad_request"),
        ('{"type": "activity", "topic": "ticket:1", "state": "viewing"}', "forbidden"),
    ],
)
async def test_bad_frames_are_refused_and_the_connection_stays(
    server: Server, d: Deployment, frame: str, code: str
) -> None:
    async with connected(server, d, "client") as c:
        await c.send(frame)
        err = await c.expect(type="error")
        assert err["error"]["code"] == code and err["error"]["message"]
        assert (await c.request({"type": "ping"}))["type"] == "pong"


async def test_refusals_of_a_frame_with_ref_are_replies(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    other = await open_ticket(server, d, who="outsider")
    topic = f"ticket:{tid}"
    async with connected(server, d, "client") as c:
        await c.join(topic)
        cases = [
            ({"type": "chat", "topic": topic, "body": "x" * 10_001}, "too_large"),
            ({"type": "chat", "topic": topic, "body": "   "}, "bad_request"),
            ({"type": "chat", "topic": topic, "body": 5}, "bad_request"),
            ({"type": "chat", "topic": topic, "body": "psst", "visibility": "internal"}, "forbidden"),
            ({"type": "chat", "topic": topic, "body": "hi", "visibility": "shouting"}, "bad_request"),
            ({"type": "status", "topic": topic, "status": "closed"}, "forbidden"),
            ({"type": "activity", "topic": topic, "state": "working"}, "forbidden"),
            ({"type": "typing", "topic": topic, "visibility": "internal"}, "forbidden"),
            ({"type": "join", "topic": f"ticket:{other}"}, "forbidden"),
            ({"type": "chat", "topic": f"ticket:{other}", "body": "let me in"}, "forbidden"),
        ]
        for frame, code in cases:
            r = await c.request(frame)
            assert r["ok"] is False and r["error"]["code"] == code, (frame, r)
        # the other organisation's ticket and a missing one are refused alike
        missing = await c.request({"type": "join", "topic": "ticket:987654"})
        theirs = await c.request({"type": "join", "topic": f"ticket:{other}"})
        assert missing["error"] == theirs["error"]
    body = (await http_get(server, d, "client", f"/api/tickets/{tid}/events?since=0")).json()
    assert [e["seq"] for e in body["events"]] == [1]  # nothing refused was stored
    assert (await http_get(server, d, "client", f"/api/tickets/{other}")).status_code == 403
    assert (await http_get(server, d, "client", f"/api/tickets/{other}/events")).status_code == 403


async def test_oversize_frame_is_closed_with_1009(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    async with connected(server, d, "client") as c, connected(server, d, "engineer") as eng:
        await eng.join(f"ticket:{tid}")
        await c.send({"type": "chat", "topic": f"ticket:{tid}", "body": "x" * (70 * 1024)})
        with pytest.raises(ConnectionClosed) as closed:
            await c.expect(type="never", timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert (await eng.request({"type": "ping"}))["type"] == "pong"  # the others are untouched


async def test_many_bad_frames_close_with_policy(server: Server, d: Deployment) -> None:
    async with connected(server, d, "client") as c:
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(30):
                await c.send("{nope")
            await c.expect(type="never", timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_socket_needs_authentication(server: Server, d: Deployment) -> None:
    for token in (None, "not-a-token"):
        async with ws_client(server, token) as c:
            with pytest.raises(ConnectionClosed) as closed:
                await c.expect(type="never", timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_stale_reply_is_held_back_until_forced(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        await client.request({"type": "chat", "topic": topic, "body": "one more detail"})  # seq 2
        r = await eng.request({"type": "chat", "topic": topic, "body": "answer", "base_seq": 1})
        assert r["ok"] is False and r["error"]["code"] == "conflict"
        r = await eng.request({"type": "chat", "topic": topic, "body": "answer", "base_seq": 1, "force": True})
        assert r["ok"] is True and r["seq"] == 3
        r = await eng.request({"type": "chat", "topic": topic, "body": "and more", "base_seq": 3})
        assert r["ok"] is True


async def test_concurrent_writers_get_distinct_ordered_seqs(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "client2", "engineer") as (a, b, watcher):

        async def burst(c: object, who: str) -> list[int]:
            return [(await c.request({"type": "chat", "topic": topic, "body": f"{who} {i}"}))["seq"]  # type: ignore[attr-defined]
                    for i in range(15)]

        sa, sb = await asyncio.gather(burst(a, "a"), burst(b, "b"))
        assert sorted(sa + sb) == list(range(2, 32))
        seen = [(await watcher.expect(type="event"))["seq"] for _ in range(30)]
        assert seen == list(range(2, 32))


async def test_compression_is_not_negotiated(server: Server, d: Deployment) -> None:
    from tests.conftest import token_for

    token = await token_for(server, d, "client")
    async with connect(f"{server.ws_url}?token={token}", compression="deflate") as ws:
        assert ws.response is not None and "Sec-WebSocket-Extensions" not in ws.response.headers


async def test_logs_hold_no_tokens_or_message_bodies(server: Server, d: Deployment) -> None:
    from tests.conftest import token_for

    token = await token_for(server, d, "client")
    tid = await open_ticket(server, d)
    async with connected(server, d, "client") as c:
        await c.request({"type": "chat", "topic": f"ticket:{tid}", "body": "my-secret-body-8841"})
    log = server.log.read_text(errors="replace")
    assert "[accepted]" not in log  # no line per socket (it named the URL, token masked, thousands a second)
    assert token not in log and "my-secret-body-8841" not in log


def test_a_token_in_a_logged_url_is_masked() -> None:
    import logging

    from livesupport.logs import Redact

    for url, masked in (("/ws?token=abc123secret&x=1", "/ws?token=***&x=1"),
                        ("/ws?party=abc123secret&transfer=4", "/ws?party=***&transfer=4")):
        record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" 403',
                                   ("127.0.0.1:5000", url), None)
        assert Redact().filter(record) is True
        assert record.getMessage() == f'127.0.0.1:5000 - "WebSocket {masked}" 403'


async def test_events_over_http_come_in_pages(server: Server, d: Deployment) -> None:
    from tests.realtime.helpers import all_events, store_chat

    tid = await open_ticket(server, d)
    public, every = await store_chat(d, tid, 2300)  # a page holds 1,000: three pages for a client, and for staff
    assert len(public) > 2000
    first = (await http_get(server, d, "client", f"/api/tickets/{tid}/events?since=0")).json()
    assert first["more"] is True and len(first["events"]) == 1000
    assert [e["seq"] for e in first["events"]] == [1, *public][:1000]  # the opening message, then public ones
    second = (await http_get(server, d, "client", f"/api/tickets/{tid}/events?since={first['events'][-1]['seq']}"))
    assert second.json()["more"] is True and second.json()["events"][0]["seq"] == public[999]
    assert [e["seq"] for e in await all_events(server, d, "client", tid)] == [1, *public]
    assert [e["seq"] for e in await all_events(server, d, "engineer", tid)] == [1, *every]


async def test_a_long_replay_over_the_socket_comes_whole_and_in_order(server: Server, d: Deployment) -> None:
    from tests.realtime.helpers import store_chat

    tid = await open_ticket(server, d)
    public, every = await store_chat(d, tid, 1300)  # the server reads replay 500 events at a time
    for who, expected in (("client", public), ("engineer", every)):
        async with connected(server, d, who) as c:
            joined = await c.join(f"ticket:{tid}", since=1)
            assert joined["seq"] == expected[-1]  # the newest event this person may see
            seqs = [(await c.expect(type="event"))["seq"] for _ in expected]
            assert seqs == expected, who
            assert not [f for f in await c.drain(QUIET) if f["type"] == "event"]  # and nothing twice


async def test_joining_a_ticket_others_have_open_is_still_authorised(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with connected(server, d, "client") as client, connected(server, d, "outsider") as outsider:
        await client.join(topic)  # the topic is open on this process now
        r = await outsider.join(topic)
        assert r["type"] == "reply" and r["error"]["code"] == "forbidden"
        await client.request({"type": "chat", "topic": topic, "body": "for Acme only"})
        frames = await outsider.drain()
        assert not [f for f in frames if f["type"] in ("event", "presence")]
        assert (await client.presence(1))["viewers"] == 1


async def test_a_pipelined_burst_is_stored_published_and_answered_in_order(server: Server, d: Deployment) -> None:
    """Chat frames sent without waiting are stored burst after burst while earlier bursts go out; on the author's
    socket every reply still follows its own event, replies come in the order sent, and events in seq order. One
    frame refused in the middle stops nothing."""
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "engineer", "client") as (eng, client):
        refs = [f"p{i}" for i in range(40)]
        for i, ref in enumerate(refs):
            frame = {"type": "chat", "topic": topic, "body": f"pipelined {i}", "ref": ref}
            if i == 20:
                frame["reply_to"] = 99999  # no such message: this one alone is refused
            await eng.send(frame)
        last = await eng.expect(type="reply", ref=refs[-1], timeout=30)
        frames = [*eng.inbox, last]  # everything the author received, in order
        answers = [f for f in frames if f["type"] == "reply"]
        assert [a["ref"] for a in answers] == refs
        assert answers[20]["ok"] is False and answers[20]["error"]["code"] == "not_found"
        events = [f for f in frames if f["type"] == "event" and f["kind"] == "chat"]
        assert [e["data"]["body"] for e in events] == [f"pipelined {i}" for i in range(40) if i != 20]
        assert [e["seq"] for e in events] == list(range(2, 41))
        for i, ref in enumerate(refs):
            if i == 20:
                continue
            reply_at = frames.index(next(a for a in answers if a["ref"] == ref))
            event_at = frames.index(next(e for e in events if e["data"]["body"] == f"pipelined {i}"))
            assert event_at < reply_at, f"the reply to {ref} came before its event"
            assert frames[reply_at]["seq"] == frames[event_at]["seq"]
        seen = [(await client.expect(type="event", kind="chat"))["seq"] for _ in range(39)]
        assert seen == list(range(2, 41))


async def test_a_chat_follows_the_sla_fields_as_they_are_even_when_the_process_remembers_others(
        server: Server, d: Deployment) -> None:
    """The server takes a ticket's SLA fields as it last wrote them with a chat, and stores only if they still
    hold: a status change in between (not written by a chat) is read, not missed."""
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with on_ticket(server, d, topic, "client", "engineer") as (client, eng):
        await eng.request({"type": "chat", "topic": topic, "body": "looking"})  # remembered: new, clock running
        first = await client.expect(type="event", kind="chat", seq=2)
        assert first["data"]["next_update_at"] is not None
        r = await eng.request({"type": "status", "topic": topic, "status": "waiting_on_client"})  # pauses the clock
        assert r["ok"] is True
        await eng.request({"type": "chat", "topic": topic, "body": "over to you"})
        paused = await client.expect(type="event", kind="chat", seq=4)
        assert paused["data"]["next_update_at"] is None  # not the running clock of what it remembered
        await client.request({"type": "chat", "topic": topic, "body": "here you are"})  # restarts a paused clock
        restarted = await eng.expect(type="event", kind="chat", seq=5)
        assert restarted["data"]["next_update_source"] == "sla" and restarted["data"]["next_update_at"] is not None
        await client.request({"type": "chat", "topic": topic, "body": "and one more"})  # running: left alone
        again = await eng.expect(type="event", kind="chat", seq=6)
        assert "next_update_at" not in again["data"]
    snap = (await http_get(server, d, "client", f"/api/tickets/{tid}")).json()
    assert snap["next_update_at"] == restarted["data"]["next_update_at"]
