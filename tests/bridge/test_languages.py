"""The bridge's own words in the person's language, and an operator's own words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from bridge.app.books import BOOKS
from bridge.app.settings import load_settings
from bridge.errors import ConfigError
from bridge.models import InboundMessage, Intent, PlatformUser, Reply, ReplyKind, Words
from bridge.ports.inbox import Receipt
from bridge.translations import SHIPPED
from tests.conftest import API_KEY, message, started
from tests.fakes.outbound import RecordingOutbound


def german(text: str, keys: tuple[str, ...] | None = None) -> InboundMessage:
    base = message(text, keys=keys)
    user = PlatformUser(base.user.fk_id, "Jonas", None, {"languageCode": "de"})
    return replace(base, user=user, platform="telegram")


async def test_a_german_speaker_gets_german_notices(db_path: Path) -> None:
    """Commands and a failure notice in German; the agent's answer stays as written, with a
    German "Quellen" heading."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    outbound = RecordingOutbound(platform="telegram")
    async with started(sim, db_path, outbound) as rt:
        start = replace(german("/start", keys=()), intent=Intent.START)
        assert await rt.service.receive(start) is Receipt.HANDLED
        await outbound.wait_for(1)
        assert await rt.service.receive(german("Was kostet das?")) is Receipt.ACCEPTED
        await outbound.wait_for(2)
        sim.fail("POST", "/messages/async$", 400)
        await rt.service.receive(german("noch eine"))
        await outbound.wait_for(3)
    greeting, answer, notice = outbound.replies
    assert greeting.text.startswith("Hallo Jonas! Ich bin Ada (demo agent). Schick mir einfach eine Nachricht.")
    assert answer.kind is ReplyKind.ANSWER
    assert "Was kostet das" in answer.text
    assert answer.language == "de"
    assert notice.text == texts.text("rejected", "de")
    assert notice.text.startswith("Entschuldigung")


@pytest.fixture
def operators_texts() -> Iterator[Callable[[dict[str, dict[str, str]]], None]]:
    yield texts.use_overrides
    texts.use_overrides({})  # the shipped texts again for the next test


async def test_an_english_override_reaches_english_speakers_in_stored_notices(
    db_path: Path, operators_texts: Callable[[dict[str, dict[str, str]]], None]
) -> None:
    """An operator's [en] text in MESSAGES_FILE is what an English speaker receives for a
    notice decided during the question's life (stored by key, written out at delivery),
    and an [de] one what a German speaker receives; a file note too."""
    operators_texts(
        {
            "en": {"failed": "Our assistant stumbled. Ask the help desk."},
            "de": {"failed": "Da ging etwas schief."},
        }
    )
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    outbound = RecordingOutbound(platform="telegram")
    async with started(sim, db_path, outbound) as rt:
        await rt.service.receive(message("please [fail]", platform="telegram"))
        await outbound.wait_for(1)
        await rt.service.receive(german("bitte [fail]"))
        await outbound.wait_for(2)
        stored = await rt.store.question(1)
    english, german_notice = outbound.replies
    assert english.text == "Our assistant stumbled. Ask the help desk."
    assert german_notice.text == "Da ging etwas schief."
    assert stored.reply is None  # delivered: erased; what was stored is checked below
    kept = Reply.from_json(texts.notice("failed").to_json())
    assert texts.localize(kept, "en").text == "Our assistant stumbled. Ask the help desk."


def test_languages_are_read_from_what_the_platforms_tell() -> None:
    assert texts.language_of({"languageCode": "pt-br"}) == "pt"
    assert texts.language_of({"locale": "fr-FR"}) == "fr"
    assert texts.language_of({"languageCode": "ja"}) == "en"  # not shipped: English
    assert texts.language_of({}) == "en"
    notice = Reply(texts.TIMEOUT, ReplyKind.NOTICE)
    assert texts.localize(notice, "es").text.startswith("Lo siento")
    assert texts.localize(Reply(texts.TIMEOUT), "es").text == texts.TIMEOUT  # an answer is never translated


def test_every_shipped_translation_keeps_the_placeholders() -> None:
    for language, table in SHIPPED.items():
        for key, text in table.items():
            assert key in texts.ENGLISH, (language, key)
            assert texts.placeholders(text) <= texts.placeholders(texts.ENGLISH[key]), (language, key)


def test_an_operators_messages_file_replaces_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "messages.toml"
    path.write_text('[de]\ntimeout = "Dauert zu lange, {first_name}? Nein: bitte später."\n[en]\nsources = "Refs"\n')
    monkeypatch.setenv("RAIA_API_KEY", "k-123456")
    monkeypatch.setenv("MESSAGES_FILE", str(path))
    with pytest.raises(ConfigError, match=r"^MESSAGES_FILE is invalid: message 'timeout' in \[de\] uses unknown"):
        load_settings(_env_file=None)
    path.write_text('[de]\ntimeout = "Dauert zu lange. Bitte später."\n[en]\nsources = "Refs"\n')
    settings = load_settings(_env_file=None)
    merged = texts.merged(settings.messages())
    assert merged["de"]["timeout"] == "Dauert zu lange. Bitte später."
    assert merged["en"]["sources"] == "Refs"
    yaml_file = tmp_path / "messages.yaml"
    yaml_file.write_text("fr:\n  no_such_key: x\n")
    monkeypatch.setenv("MESSAGES_FILE", str(yaml_file))
    with pytest.raises(ConfigError, match=r"^MESSAGES_FILE is invalid: unknown message 'no_such_key' in \[fr\]"):
        load_settings(_env_file=None)
    path.write_text("[de\n")
    monkeypatch.setenv("MESSAGES_FILE", str(path))
    with pytest.raises(ConfigError, match=r"^MESSAGES_FILE is invalid: messages.toml is not valid TOML"):
        load_settings(_env_file=None)


def test_every_platforms_translations_keep_the_placeholders() -> None:
    """Each shipped platform's words translate only keys their English has, with its placeholders."""
    for book in BOOKS:
        for language, table in book.shipped.items():
            for key, text in table.items():
                assert key in book.english, (book.platform, language, key)
                assert texts.placeholders(text) <= texts.placeholders(book.english[key]), (language, key)


def test_a_platforms_keys_are_checked_in_the_messages_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys the adapters own are known whatever is configured (no platform here), their
    placeholders are checked, and a misspelt one is refused in one line."""
    path = tmp_path / "messages.toml"
    path.write_text('[de]\ntelegram_start = "Hallo {first_name}!"\ncommand_new = "Neu"\n[en]\nslack_reset = "Fresh."\n')
    monkeypatch.setenv("RAIA_API_KEY", "k-123456")
    monkeypatch.setenv("MESSAGES_FILE", str(path))
    merged = texts.merged(load_settings(_env_file=None).messages())
    assert (merged["de"]["telegram_start"], merged["de"]["command_new"]) == ("Hallo {first_name}!", "Neu")
    assert merged["en"]["slack_reset"] == "Fresh."
    path.write_text('[en]\nslack_help = "Ask {agent}."\n')
    with pytest.raises(ConfigError, match=r"^MESSAGES_FILE is invalid: message 'slack_help' in \[en\] uses unknown"):
        load_settings(_env_file=None)
    path.write_text('[de]\ntelegram_hlep = "Hilfe"\n')
    with pytest.raises(ConfigError, match=r"unknown message 'telegram_hlep' in \[de\] \(known: .*telegram_help") as err:
        load_settings(_env_file=None)
    assert "\n" not in str(err.value)


def test_a_new_platform_brings_its_words_without_touching_the_core() -> None:
    """A registered book answers its platform's commands in its words (translated, and with
    the agent's name); a platform without one gets the generic words."""

    def answer(saying: texts.Saying, language: str) -> str:
        key = "pigeon_reset" if saying.intent is Intent.RESET else "pigeon_help"
        return texts.text(key, language, **saying.values())

    english = {"pigeon_help": "Coo, {first_name}: {agent} reads your note.", "pigeon_reset": "Fresh scroll."}
    texts.register(texts.Book("pigeon", english, {"de": {"pigeon_reset": "Neue Rolle."}}, answer))
    help_ = replace(german("/help", keys=()), intent=Intent.HELP, platform="pigeon")
    assert texts.say(help_, agent="Ada") == "Coo, Jonas: Ada reads your note."
    assert texts.say(replace(help_, intent=Intent.RESET), language="de") == "Neue Rolle."
    assert texts.say(replace(help_, platform="carrier")).startswith("Send me a question and I will answer it")
    assert texts.merged({"de": {"pigeon_help": "Gurr, {first_name}."}})["de"]["pigeon_help"] == "Gurr, {first_name}."


def test_a_platform_cannot_take_anothers_keys_or_translate_what_it_lacks() -> None:
    """Registering refuses a key the core or another platform has, and a translation without English."""
    with pytest.raises(ValueError, match=r"^crow: message 'timeout' is already the core's$"):
        texts.register(texts.Book("crow", {"timeout": "Caw."}))
    with pytest.raises(ValueError, match=r"^crow: message 'telegram_help' is already telegram's$"):
        texts.register(texts.Book("crow", {"telegram_help": "Caw."}))
    with pytest.raises(ValueError, match=r"^crow: \[de\] translates 'crow_bye', which has no English$"):
        texts.register(texts.Book("crow", {"crow_hi": "Caw."}, {"de": {"crow_bye": "Krah."}}))
    with pytest.raises(ValueError, match=r"^crow: \[de\] 'crow_hi' has a placeholder its English has not$"):
        texts.register(texts.Book("crow", {"crow_hi": "Caw."}, {"de": {"crow_hi": "Krah, {agent}."}}))
    assert "crow_hi" not in texts.merged({})["en"]


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("{first_name:d}", r"uses \{first_name:d\}: a placeholder takes no format or conversion, write \{first_name\}"),
        ("{agent!r}", r"uses \{agent!r\}: a placeholder takes no format"),
        ("{agent:>{first_name}}", r"uses \{agent:>\{first_name\}\}: a placeholder takes no format"),
        ("{agent.title}", r"uses \{agent.title\}: a placeholder is a name alone, such as \{agent\}"),
        ("{agent[0]}", r"uses \{agent\[0\]\}: a placeholder is a name alone"),
        ("{}", r"uses \{\}: a placeholder is a name alone"),
        ("{0}", r"uses \{0\}: a placeholder is a name alone"),
        ("{first_name", r"has an unbalanced \{ or \}"),
    ],
)
def test_a_placeholder_that_would_fail_when_sent_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, problem: str
) -> None:
    """Format specs, conversions, attribute or index access and positional fields in
    MESSAGES_FILE are refused at start-up in one line naming the message and language
    (they would otherwise fail, or show oddly, only when /start is answered)."""
    path = tmp_path / "messages.toml"
    path.write_text(f'[fr]\ntelegram_start = "Salut {written} !"\n')
    monkeypatch.setenv("RAIA_API_KEY", "k-123456")
    monkeypatch.setenv("MESSAGES_FILE", str(path))
    with pytest.raises(ConfigError, match=rf"^MESSAGES_FILE is invalid: message 'telegram_start' in \[fr\] {problem}"):
        load_settings(_env_file=None)


def test_a_platform_cannot_bring_a_placeholder_that_would_fail_when_sent() -> None:
    """Registering refuses a book whose English or translation has a positional or formatted placeholder."""
    with pytest.raises(ValueError, match=r"^crow: message 'crow_hi' uses \{\}: a placeholder is a name alone"):
        texts.register(texts.Book("crow", {"crow_hi": "Caw, {}."}))
    with pytest.raises(ValueError, match=r"^crow: \[de\] 'crow_hi' uses \{agent!s\}: a placeholder takes no"):
        texts.register(texts.Book("crow", {"crow_hi": "Caw, {agent}."}, {"de": {"crow_hi": "Krah, {agent!s}."}}))
    assert "crow_hi" not in texts.merged({})["en"]


def test_every_shipped_text_passes_the_checks_an_operators_file_gets() -> None:
    """The core's English and every shipped translation would be accepted in MESSAGES_FILE."""
    texts.merged({"en": texts.ENGLISH, **SHIPPED})
    for book in BOOKS:
        texts.merged({"en": dict(book.english), **{lang: dict(table) for lang, table in book.shipped.items()}})


def test_a_text_never_fails_when_it_is_sent(operators_texts: Callable[[dict[str, dict[str, str]]], None]) -> None:
    """A placeholder without a value (a notice stored before its text gained one) stays as
    written instead of failing the delivery; doubled braces show once, values or not."""
    assert texts.text("generic_start", "en", agent="Ada") == "Hi {first_name}! I'm Ada. {help}"
    stored = Reply("", ReplyKind.NOTICE, words=(Words("file_too_big", (("name", "a.pdf"),)),))
    assert texts.localize(stored, "en").text == "a.pdf is larger than {limit} MB, so I couldn't pass it on."
    operators_texts({"en": {"sources": "Refs {{1}}", "generic_start": "{{{agent}}} for {first_name}."}})
    assert texts.text("sources", "en") == "Refs {1}"
    assert texts.text("generic_start", "en", agent="Ada", first_name="Jo") == "{Ada} for Jo."
