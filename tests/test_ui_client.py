"""The Gradio app through its API (gradio_client) against the launched app on 127.0.0.1.

The app runs in this process on a free port, over a private copy of the
session's index of the shipped corpus (its own NEGO_HOME and corpus folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from docx import Document as DocxDocument
from gradio_client import Client
from samples import deal_for
from ui_support import clone_shipped_index, deal_fields, free_port, running_app, text_of, update_value

from copilot.history import History
from copilot.index.indexer import index_status
from copilot.results import BriefResult

pytestmark = pytest.mark.slow

NEW_CASE = """---
id: case-ui-port-ebl
type: case
title_zh: 某港口电子提单试点（界面测试）
title_en: A port's electronic bill of lading pilot (UI test)
scenarios: [shipping_logistics]
regions: [sg]
sources:
  - title: Port press release
    url: https://example.org/case-ui-port-ebl
updated: 2026-11-24
---

## 中文

### 要点
港口、船公司和银行共用一个账本交换电子提单，银行能核验同一份提单没有被重复质押，单据流转更快。

## English

### Key points
The port, carriers and banks exchange electronic bills of lading on one shared ledger; banks can check that the
same bill was not pledged twice, and documents move faster.
"""


@pytest.fixture(scope="module")
def home(shipped_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return clone_shipped_index(shipped_index, tmp_path_factory.mktemp("ui-client"))


@pytest.fixture(scope="module")
def app(home: Any) -> Iterator[tuple[str, Any]]:
    settings, store = home
    with running_app(settings, store) as served:
        yield served


@pytest.fixture()
def client(app: tuple[str, Any]) -> Client:
    return Client(app[0], verbose=False, download_files=False)


def chat(
    client: Client, message: str, conversation: str | None = None, **deal: Any
) -> tuple[list[dict[str, Any]], str]:
    fields = {**deal_fields(), **deal}
    out = client.predict(message=message, conversation_id=conversation, api_name="/chat", **fields)
    return out[0], update_value(out[2])


def citation_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if (m.get("metadata") or {}).get("title")]


def test_chat_in_chinese_streams_a_cited_reply_and_stores_it(client: Client, app: tuple[str, Any]) -> None:
    job = client.submit(
        message="沃尔玛芒果溯源从几天缩短到几秒？", conversation_id=None, api_name="/chat", **deal_fields()
    )
    updates = list(job)
    final = job.result()
    messages, conversation = final[0], update_value(final[2])
    assert len(updates) >= 3  # the reply arrives in pieces, not at once
    partial_replies = [text_of(u[0][-1]) for u in updates if u[0] and u[0][-1]["role"] == "assistant"]
    assert any(0 < len(t) < len(text_of(messages[1])) for t in partial_replies)

    assert text_of(messages[0]) == "沃尔玛芒果溯源从几天缩短到几秒？"
    reply = text_of(messages[1])
    assert "2.2" in reply and "7" in reply and "(#cite-1)" in reply  # [1] links to citation 1
    assert "## 来源" not in reply  # the sources are the citation blocks below, shown once
    cited = citation_messages(messages)
    assert cited and cited[0]["metadata"]["title"].startswith("[1] 沃尔玛与IBM Food Trust")
    assert "案例" in cited[0]["metadata"]["title"]
    assert cited[0]["metadata"]["status"] == "done"  # collapsed: the quote opens on click
    assert "> " in text_of(cited[0]) and "https://" in text_of(cited[0])

    stored = app[1].history.get(conversation).messages
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "complete")]
    assert stored[1].citations[0].doc_id == "case-walmart-ibm-food-trust"


def test_chat_in_english_with_citations_and_a_follow_up(client: Client) -> None:
    messages, conversation = chat(client, "What did TradeLens fail at?", language="en")
    reply = text_of(messages[1])
    assert "TradeLens" in reply and "## Sources" not in reply
    assert any(
        "TradeLens" in m["metadata"]["title"] and "case" in m["metadata"]["title"] for m in citation_messages(messages)
    )
    follow_up, same = chat(client, "And what should I not claim about it?", conversation, language="en")
    assert same == conversation
    assert [text_of(m) for m in follow_up if m["role"] == "user"] == [
        "What did TradeLens fail at?",
        "And what should I not claim about it?",
    ]


def test_model_output_is_never_raw_html(client: Client) -> None:
    messages, _ = chat(client, "<img src=x onerror=alert(1)> 沃尔玛芒果溯源？")
    assert "<img" not in text_of(messages[0]) and "&lt;img" in text_of(messages[0])


def test_brief_with_charts_and_downloads(client: Client) -> None:
    deal = deal_for("traceability", "zh")
    out = client.predict(**deal_fields(deal), horizon_months=12, api_name="/brief")
    card, rep_notes, text, heatmap, gantt, md, docx, js, _notices = out[:9]
    assert card.startswith("## 一页纸准备卡") and deal.customer in card
    assert "仅供销售参考" not in card and "仅供销售参考" in rep_notes  # the rep's notes in their own box
    assert text.startswith("## 开场") and "## 风险清单" in text  # the appendices, collapsed under the card

    brief = BriefResult.model_validate_json(httpx.get(update_value(js)["url"]).text)
    assert brief.customer == deal.customer and brief.language == "zh"
    heat = json.loads(heatmap["plot"])
    points = [t for t in heat["data"] if t["type"] == "scatter"]
    assert len(points) == len(brief.risks.items)
    for trace, item in zip(sorted(points, key=lambda t: int(t["text"][0])), brief.risks.items, strict=True):
        assert abs(trace["x"][0] - item.likelihood) < 0.5 and abs(trace["y"][0] - item.impact) < 0.5
        assert item.risk[:10] in trace["name"]
    assert heat["layout"]["xaxis"]["title"]["text"] == "可能性"
    bars = [t for t in json.loads(gantt["plot"])["data"] if t["type"] == "bar"]
    assert [(b["base"][0] + 1, b["base"][0] + b["x"][0]) for b in bars] == [
        (p.start_month, p.end_month) for p in brief.plan.phases
    ]

    assert httpx.get(update_value(md)["url"]).text == brief.text
    path = Path(update_value(docx)["path"])
    document = DocxDocument(str(path)) if path.is_file() else DocxDocument(_download(update_value(docx)["url"]))
    assert any(deal.customer in p.text for p in document.paragraphs)


def _download(url: str) -> Any:
    import io

    return io.BytesIO(httpx.get(url).content)


def test_a_bad_deal_file_is_reported_with_its_field(client: Client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    bad = tmp_path / "deal.yaml"
    bad.write_text("customer: ACME\nscenario: not-a-scenario\n", encoding="utf-8")
    out = client.predict(path=handle_file(str(bad)), api_name="/load_deal_file")
    assert "deal.yaml: scenario:" in out[0]
    good = tmp_path / "good.yaml"
    good.write_text("customer: 鲜果供应链集团\nscenario: traceability\npains: [追溯要3天]\n", encoding="utf-8")
    out = client.predict(path=handle_file(str(good)), api_name="/load_deal_file")
    assert out[1] == "鲜果供应链集团" and out[3] == "traceability" and out[7] == "追溯要3天"


def test_knowledge_base_search_with_filters_shows_scored_hits(client: Client) -> None:
    table, _passages, doc_ids = client.predict(
        query="沃尔玛芒果溯源", doc_type="", scenario="", region="", language="", k=5, api_name="/search"
    )
    rows = table["data"]
    assert rows[0][5] == "case-walmart-ibm-food-trust"
    scores = [r[1] for r in rows]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert update_value(doc_ids) == "case-walmart-ibm-food-trust"
    table, _, _ = client.predict(
        query="数据跨境", doc_type="policy", scenario="", region="cn", language="en", k=5, api_name="/search"
    )
    assert table["data"] and all(r[4] == "policy" and r[7] == "en" for r in table["data"])
    document = client.predict(doc_id="case-walmart-ibm-food-trust", lang="en", api_name="/open_document")
    assert document.startswith("# Walmart") and "https://" in document


def test_adding_a_bad_document_shows_line_and_field_and_indexes_nothing(
    client: Client, app: tuple[str, Any], home: Any
) -> None:
    settings, store = home
    before = (index_status(settings, store).chunks, sorted(p.name for p in settings.corpus_path.rglob("*.md")))
    bad = NEW_CASE.replace("case-ui-port-ebl", "case-ui-bad").replace(
        "scenarios: [shipping_logistics]", "scenarios: [ships]"
    )
    bad = bad.split("## English")[0]
    result, _ = client.predict(upload=None, pasted=bad, fmt="markdown", ui_language="en", api_name="/add_document")
    assert "Nothing was indexed" in result
    assert "case-ui-bad.md:6: scenarios[0]:" in result and "case-ui-bad.md:13: body: missing '## English'" in result
    after = (index_status(settings, store).chunks, sorted(p.name for p in settings.corpus_path.rglob("*.md")))
    assert after == before


def test_adding_a_valid_document_indexes_it_and_search_finds_it(client: Client, home: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file

    settings, store = home
    documents = index_status(settings, store).documents
    upload = tmp_path / "case-ui-port-ebl.md"
    upload.write_text(NEW_CASE, encoding="utf-8")
    result, status = client.predict(
        upload=handle_file(str(upload)), pasted="", fmt="markdown", ui_language="en", api_name="/add_document"
    )
    assert "Added and indexed" in result and "cases/case-ui-port-ebl.md" in result
    assert f"{documents + 1} documents" in status
    assert (settings.corpus_path / "cases" / "case-ui-port-ebl.md").is_file()
    table, _, _ = client.predict(
        query="港口 电子提单 重复质押", doc_type="case", scenario="", region="", language="", k=3, api_name="/search"
    )
    assert table["data"][0][5] == "case-ui-port-ebl"
    messages, _ = chat(client, "电子提单重复质押怎么防？", scenario="shipping_logistics")
    assert any("界面测试" in m["metadata"]["title"] for m in citation_messages(messages))


def test_feedback_comment_and_export(client: Client, app: tuple[str, Any]) -> None:
    _messages, conversation = chat(client, "什么是哈希上链？")
    status, _ = client.predict(text="讲得清楚，但请补一个案例", api_name="/feedback_comment")
    assert status == "已保存反馈意见"  # in the interface language the page started in (zh)
    reply = app[1].history.get(conversation).messages[1]
    assert reply.feedback is not None and reply.feedback.comment == "讲得清楚，但请补一个案例"
    exported, _ = client.predict(conversation_id=conversation, api_name="/export_conversation")
    text = httpx.get(exported["url"]).text
    assert text.startswith("# 什么是哈希上链？") and "讲得清楚，但请补一个案例" in text


def test_rename_and_delete_conversations(client: Client, app: tuple[str, Any]) -> None:
    _, conversation = chat(client, "帮我列一下这个项目的主要风险")
    dropdown, _, _ = client.predict(conversation_id=conversation, title="风险讨论", api_name="/rename_conversation")
    assert next(c for c in dropdown["choices"] if c[1] == conversation)[0].startswith("风险讨论 · ")
    dropdown, chatbot, _notice = client.predict(conversation_id=conversation, api_name="/delete_conversation")
    assert conversation not in [c[1] for c in dropdown["choices"]] and chatbot == []
    assert all(c.id != conversation for c in app[1].history.list_conversations())


def test_twenty_concurrent_users_all_get_answers(app: tuple[str, Any]) -> None:
    questions = [
        "沃尔玛芒果溯源从几天缩短到几秒？",
        "What did TradeLens fail at?",
        "客户说：为什么不直接用一个共享数据库？",
        "What does GDPR mean for personal data on a chain?",
    ] * 5

    def one(question: str) -> str:
        client = Client(app[0], verbose=False, download_files=False)
        messages, _ = chat(client, question)
        return text_of(messages[1])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(one, questions))
    elapsed = time.perf_counter() - started
    assert all(replies), "every user got a reply"
    for n, question in enumerate(questions[:4]):  # concurrent turns answer exactly as one user alone would
        assert {replies[i] for i in range(n, 20, 4)} == {one(question)}
    print(f"20 concurrent chat turns in {elapsed:.1f} s")


def test_settings_never_echo_the_api_key_and_test_connection(
    client: Client, app: tuple[str, Any], openai_server: Any
) -> None:
    secret = "sk-test-UI-PLANTED-KEY-0123456789"
    from openai_server import Reply, Unauthorized

    openai_server.script(Reply("OK"))
    result, key_box = client.predict(
        provider="custom",
        base_url=openai_server.base_url,
        model="test-model",
        api_key=secret,
        language="en",
        api_name="/test_connection",
    )
    assert result.startswith("✅ Connected: test-model @ 127.0.0.1") and key_box == ""
    openai_server.script(Unauthorized())
    result, _ = client.predict(
        provider="custom",
        base_url=openai_server.base_url,
        model="test-model",
        api_key=secret,
        language="en",
        api_name="/test_connection",
    )
    assert result.startswith("❌ Connection failed") and "401" in result and secret not in result
    request_keys = [r.headers.get("authorization", "") for r in openai_server.chat_requests()]
    assert f"Bearer {secret}" in request_keys  # the key was used...

    ctx = app[1]
    try:
        result, key_box, badge = client.predict(
            provider="custom",
            base_url=openai_server.base_url,
            model="test-model",
            api_key=secret,
            language="zh",
            api_name="/apply_settings",
        )
        assert result.startswith("✅") and "test-model @ 127.0.0.1" in badge
        assert key_box["value"] == "" and "已设置（不显示）" in key_box["placeholder"]  # in the language applied
        assert ctx.settings.api_key.get_secret_value() == secret
        page = httpx.get(app[0]).text + httpx.get(app[0].rstrip("/") + "/config").text
        assert secret not in page  # ...but never shown back
    finally:
        ctx.apply_settings({"provider": "offline", "base_url": None, "model": None, "api_key": None, "language": "zh"})


def test_evals_tab_runs_a_suite_shows_cases_and_compares_runs(client: Client) -> None:
    _, _, _, evals_status = client.predict(lang="en", api_name="/conversations")
    assert "eval harness is installed" in evals_status
    first = client.predict(suite="retrieval", provider="offline", limit=6, api_name="/eval_run")
    summary, cases, report, *_ = first
    assert (
        summary.startswith("# Eval run ")
        and ": retrieval" in summary
        and "| metric | mean | pass rate | n |" in summary
    )
    assert len(cases["data"]) == 6 and {row[2] for row in cases["data"]} <= {"pass", "fail", "error"}
    assert "<html" in httpx.get(update_value(report)["url"]).text.lower()
    time.sleep(1.1)  # run ids are per second
    second = client.predict(suite="retrieval", provider="offline", limit=6, api_name="/eval_run")
    runs = [update_value(first[3]), update_value(second[3])]
    text = client.predict(run_a=runs[0], run_b=runs[1], api_name="/eval_compare")
    assert f"retrieval: {runs[0]} → {runs[1]}" in text and "regressed cases: 0" in text
    table = client.predict(api_name="/eval_retrieval")
    assert "gold queries" in table and "hybrid" in table


def test_evals_tab_says_what_is_missing_without_the_harness(
    app: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.evals_tab

    monkeypatch.setattr(ui.evals_tab, "harness_available", lambda: False)
    assert "not installed in this version" in ui.evals_tab.harness_md(app[1], "en")
    assert "未安装评测框架" in ui.evals_tab.harness_md(app[1], "zh") and ui.evals_tab.run_ids(app[1]) == []


def test_history_survives_an_app_restart(home: Any) -> None:
    settings, store = home
    with running_app(settings, store) as (url, _):
        _, conversation = chat(Client(url, verbose=False), "沃尔玛芒果溯源从几天缩短到几秒？")
    with running_app(settings, store) as (url, _):
        client = Client(url, verbose=False)
        choices, *_ = client.predict(api_name="/conversations")
        assert conversation in [c[1] for c in choices["choices"]]
        messages, *_ = client.predict(conversation_id=conversation, api_name="/resume")
        assert text_of(messages[0]) == "沃尔玛芒果溯源从几天缩短到几秒？" and "2.2" in text_of(messages[1])
        assert citation_messages(messages)
    assert History.open(settings).get(conversation).messages[1].status == "complete"


def test_nego_ui_indexes_an_empty_home_first_and_requires_login(tmp_path: Path) -> None:
    """`nego ui` on a fresh NEGO_HOME: indexes the corpus, then serves; with --auth the API refuses strangers."""
    corpus = tmp_path / "corpus" / "cases"
    corpus.mkdir(parents=True)
    (corpus / "case-ui-port-ebl.md").write_text(NEW_CASE, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGO_")}
    env.update(NEGO_HOME=str(tmp_path / "home"), NEGO_CORPUS_DIR=str(tmp_path / "corpus"), NEGO_AUTH="rep:s3cret-pass")
    nego = Path(sys.executable).with_name("nego")
    process = subprocess.Popen(
        [str(nego), "ui", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url, timeout=2).status_code in (200, 401, 302, 307):
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types on 401
            Client(url, verbose=False)
        assert httpx.get(url + "config").status_code == 401
        client = Client(url, verbose=False, auth=("rep", "s3cret-pass"))
        table, *_ = client.predict(
            query="电子提单", doc_type="", scenario="", region="", language="", k=3, api_name="/search"
        )
        assert table["data"][0][5] == "case-ui-port-ebl"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "the index is empty: indexing" in stderr
    assert "warning" not in stderr  # 127.0.0.1 with login: nothing to warn about


def test_a_reply_cut_off_mid_stream_is_stored_as_interrupted(
    app: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser goes away (or Stop is pressed) mid-reply: the text so far is kept and marked, never complete."""
    from ui import chat_turn
    from ui.chat import stream_reply

    monkeypatch.setattr(chat_turn, "REDRAW_INTERVAL_S", 0.0)  # redraw on every piece, so the reply can be cut mid-way
    ctx = app[1]
    turn = stream_reply(ctx, "帮我列一下这个项目的主要风险", None, deal_fields(deal_for("traceability", "zh")), "")
    first = next(turn)
    shown = [next(turn) for _ in range(3)]  # three pieces of the reply have arrived
    turn.close()  # what Gradio does when the client disconnects or the event is cancelled
    conversation = first[2]["value"]  # the conversation dropdown (an update), pointing at the new conversation
    partial = text_of(shown[-1][0][-1])
    stored = ctx.history.get(conversation).messages
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "interrupted")]
    assert stored[1].content and partial.startswith(stored[1].content[:10]) and not stored[1].citations
