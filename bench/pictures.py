"""The pictures of the README and the docs (docs/images/): one answer of the demo agent as
the bridge renders it for Telegram (text and entities, the 👍/👎 keyboard) and for Slack
(mrkdwn blocks, the vote buttons), drawn in a page that looks like each app and captured
with headless Chromium; and the terminal demo, recorded by rich as SVG.

The messages are the bridge's own output: the pictures change when the rendering does.
Run: python -m bench.pictures [--out docs/images]  (needs Debian's chromium and fonts-noto-color-emoji)
"""

from __future__ import annotations

import argparse
import io
import re
import tempfile
from html import escape
from pathlib import Path
from typing import Any

from rich.console import Console

from adapters.console.render import render_rich
from adapters.raia.showcase import showcase_answer
from adapters.slack import render as slack
from adapters.slack.votes import vote_buttons
from adapters.telegram import render as telegram
from adapters.telegram.keyboards import vote_keyboard
from bridge.models import FileCitation, Reply, UrlCitation
from tests import browser

QUESTION = "How do refunds work?"
WIDTH = 560  # CSS pixels of each picture


def demo_reply(question: str = QUESTION) -> Reply:
    """The demo agent's answer as the core hands it to an adapter: raia's markers gone,
    sources de-duplicated, 👍/👎 on."""
    answer = showcase_answer(question)
    assert answer is not None
    text = re.sub(r"【[^】]*】", "", answer.text)
    urls = tuple(dict.fromkeys(UrlCitation(u["url"], u["title"]) for u in answer.urls))
    files = tuple(dict.fromkeys(FileCitation(f["fileId"], f["filename"]) for f in answer.files))
    return Reply(text, urls=urls, files=files, vote_key="demo")


# -- Telegram: text + entities (UTF-16 offsets) -> HTML ----------------------------------

_TG_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
}


def telegram_html(part: telegram.Part) -> str:
    """One Telegram message as HTML, entity by entity, as the app would show it."""
    index, utf16 = {}, 0
    for i, char in enumerate(part.text):
        index[utf16] = i
        utf16 += len(char.encode("utf-16-le")) // 2
    index[utf16] = len(part.text)
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for entity in part.entities:
        start, end = index[entity.offset], index[entity.offset + entity.length]
        kind = str(entity.type)
        if kind == "text_link":
            tags = (f'<a href="{escape(entity.url or "")}">', "</a>")
        elif kind == "url":
            tags = ('<a href="#">', "</a>")
        else:
            tags = _TG_TAGS.get(kind, ("", ""))
        opens.setdefault(start, []).append(tags[0])
        closes.setdefault(end, []).insert(0, tags[1])
    out = []
    for i, char in enumerate(part.text):
        out += closes.get(i, []) + opens.get(i, []) + [escape(char)]
    out += closes.get(len(part.text), [])
    return "".join(out)


# -- Slack: mrkdwn -> HTML -----------------------------------------------------------------

_SLACK_INLINE = (
    (re.compile(r"&lt;(https?://[^|&]+)\|([^&]+?)&gt;"), r'<a href="\1">\2</a>'),
    (re.compile(r"&lt;(https?://[^&]+?)&gt;"), r'<a href="\1">\1</a>'),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])"), r"<i>\1</i>"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)~(?![\w~])"), r"<s>\1</s>"),
)
_EMOJI = {":page_facing_up:": "📄"}


def slack_html(mrkdwn: str) -> str:
    """One mrkdwn section as Slack draws it (mrkdwn arrives with & < > escaped)."""
    html = escape(mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), quote=False)
    stash: list[str] = []

    def keep(piece: str) -> str:
        stash.append(piece)
        return f"\0{len(stash) - 1}\0"

    html = re.sub(r"```\n?(.*?)\n?```", lambda m: keep(f"<pre>{m.group(1)}</pre>"), html, flags=re.DOTALL)
    html = re.sub(r"`([^`\n]+)`", lambda m: keep(f"<code>{m.group(1)}</code>"), html)
    for pattern, replacement in _SLACK_INLINE:
        html = pattern.sub(replacement, html)
    for code, emoji in _EMOJI.items():
        html = html.replace(code, emoji)
    return re.sub(r"\0(\d+)\0", lambda m: stash[int(m.group(1))], html)


# -- the pages -----------------------------------------------------------------------------

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; font: 15px/1.45 "DejaVu Sans", "Liberation Sans", sans-serif; }}
pre, code {{ font-family: "DejaVu Sans Mono", monospace; font-size: 13px; }}
pre {{ white-space: pre-wrap; margin: 4px 0; }}
a {{ text-decoration: none; }}
{style}
</style></head><body>{body}</body></html>"""

_TELEGRAM_STYLE = """
body { background: #c7d9b7; padding: 14px; }
.bar { background: #fff; margin: -14px -14px 12px; padding: 10px 16px; font-weight: 600; }
.bar small { display: block; color: #8a9aa9; font-weight: 400; font-size: 13px; }
.msg { max-width: 82%; padding: 7px 11px; border-radius: 12px; margin: 6px 0; white-space: pre-wrap; }
.out { background: #e1fec6; margin-left: auto; }
.in { background: #fff; }
.in a { color: #168acd; }
.in code, .in pre { color: #c0392b; }
.keys { display: flex; gap: 4px; max-width: 82%; }
.keys span { flex: 1; text-align: center; background: rgba(0,0,0,.18); color: #fff; border-radius: 8px;
  padding: 6px; }
"""

_SLACK_STYLE = """
body { background: #fff; color: #1d1c1d; }
.bar { border-bottom: 1px solid #ddd; padding: 10px 18px; font-weight: 700; }
.row { display: flex; gap: 9px; padding: 8px 18px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; flex: none; color: #fff; font-weight: 700;
  display: flex; align-items: center; justify-content: center; }
.name { font-weight: 700; } .app { font-size: 10px; background: #e8e8e8; color: #616061; padding: 1px 4px;
  border-radius: 3px; margin-left: 4px; } .time { color: #616061; font-size: 12px; margin-left: 6px; }
.section { white-space: pre-wrap; margin: 2px 0 6px; }
a { color: #1264a3; }
code { color: #e01e5a; background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 0 2px; }
pre { background: #f8f8f8; border: 1px solid #ddd; border-radius: 4px; padding: 8px; }
.buttons span { display: inline-block; border: 1px solid #ccc; border-radius: 4px; padding: 2px 12px;
  margin-right: 6px; }
"""


def telegram_page(reply: Reply, question: str = QUESTION) -> str:
    messages = "".join(f'<div class="msg in">{telegram_html(part)}</div>' for part in telegram.render(reply))
    keys = "".join(f"<span>{escape(b['text'])}</span>" for row in vote_keyboard("demo")["inline_keyboard"] for b in row)
    body = (
        '<div class="bar">Northwind Help<small>bot</small></div>'
        f'<div class="msg out">{escape(question)}</div>{messages}<div class="keys">{keys}</div>'
    )
    return _PAGE.format(style=_TELEGRAM_STYLE, body=body)


def _slack_block(block: dict[str, Any]) -> str:
    if block["type"] == "actions":
        return '<div class="buttons">' + "".join(
            f"<span>{escape(e['text']['text'])}</span>" for e in block["elements"]
        ) + "</div>"  # fmt: skip
    if block["type"] == "markdown":  # Slack draws the Markdown itself: drawn here as its mrkdwn twin
        return f'<div class="section">{slack_html(slack.to_mrkdwn(block["text"]))}</div>'
    if block["type"] == "table":
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(cell['text'])}</td>" for cell in row) + "</tr>" for row in block["rows"]
        )
        return f'<table class="section">{rows}</table>'
    return f'<div class="section">{slack_html(block["text"]["text"])}</div>'


def slack_page(reply: Reply, question: str = QUESTION) -> str:
    blocks = [block for message in slack.render(reply) for block in message.blocks]
    assert blocks[-1] == vote_buttons("demo")
    answer = "".join(_slack_block(block) for block in blocks)
    body = (
        '<div class="bar"># help-desk</div>'
        '<div class="row"><div class="avatar" style="background:#2eb67d">A</div><div>'
        f'<span class="name">Ann Lee</span><span class="time">10:41</span><div>{escape(question)}</div></div></div>'
        '<div class="row"><div class="avatar" style="background:#4a154b">N</div><div>'
        '<span class="name">Northwind Help</span><span class="app">APP</span><span class="time">10:41</span>'
        f"{answer}</div></div>"
    )
    return _PAGE.format(style=_SLACK_STYLE, body=body)


def terminal_svg(reply: Reply, question: str = QUESTION) -> str:
    """The terminal demo's rendering of the same answer, as rich draws it."""
    console = Console(record=True, width=80, file=io.StringIO(), color_system="truecolor")
    console.print(f"you> {question}")
    console.print(render_rich(reply, prefix="agent> "))
    return console.export_svg(title="raia-bridge demo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    reply = demo_reply()
    with tempfile.TemporaryDirectory(prefix="pictures-") as work:
        for name, page, height in (("telegram", telegram_page(reply), 470), ("slack", slack_page(reply), 460)):
            html = Path(work) / f"{name}.html"
            html.write_text(page, encoding="utf-8")
            target = args.out / f"{name}.png"
            browser.screenshot(html.as_uri(), target, width=WIDTH, height=height)
            print(f"{target}: {target.stat().st_size // 1024} KiB")
    svg = args.out / "terminal.svg"
    svg.write_text(terminal_svg(reply), encoding="utf-8")
    print(f"{svg}: {svg.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
