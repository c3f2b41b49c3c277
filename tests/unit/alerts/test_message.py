from datetime import timedelta

from dealbridge.alerts.alert import Alert, console_link
from dealbridge.alerts.message import MAX_LISTED, compose, scrub, slack_escape
from tests.support.alert_receivers import FakeClock

NOW = FakeClock().now


def alert(number: int, **changes: str) -> Alert:
    values = {
        "key": f"k{number}",
        "title": f"Alert {number}",
        "detail": f"Detail {number}.",
        "link": f"https://c.example/runs/{number}",
    }
    values.update(changes)
    return Alert(kind="open_errors", at=NOW + timedelta(seconds=number), **values)  # type: ignore[arg-type]


def test_single_alert_message() -> None:
    message = compose([alert(1)])
    assert message.subject == "[dealbridge] Alert 1"
    assert "Detail 1." in message.text
    assert "https://c.example/runs/1" in message.text
    assert message.blocks[0]["type"] == "header"
    assert message.blocks[1]["text"]["text"] == "*<https://c.example/runs/1|Alert 1>*\nDetail 1."


def test_digest_lists_a_bounded_number() -> None:
    message = compose([alert(number) for number in range(MAX_LISTED + 5)])
    assert message.subject == f"[dealbridge] {MAX_LISTED + 5} alerts: Alert 0 and more"
    assert "… and 5 more alerts." in message.text
    assert len(message.blocks) == MAX_LISTED + 2  # header, sections, "more"
    assert len(message.alerts) == MAX_LISTED + 5


def test_secrets_are_scrubbed_everywhere() -> None:
    leaky = alert(1, title="token hunter2hunter2", detail="url https://hooks/secret-path")
    message = compose([leaky], secrets=["hunter2hunter2", "https://hooks/secret-path", ""])
    flat = repr(message.subject) + message.text + repr(message.blocks)
    assert "hunter2hunter2" not in flat
    assert "secret-path" not in flat
    assert "***" in message.subject


def test_slack_control_characters_are_escaped() -> None:
    message = compose([alert(1, title="<!channel> & <http://evil|click>")])
    section = message.blocks[1]["text"]["text"]
    assert "<!channel>" not in section
    assert "&lt;!channel&gt; &amp; &lt;http://evil|click&gt;" in section
    assert slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_scrub_ignores_empty_secrets() -> None:
    assert scrub("abc", ["", "b"]) == "a***c"


def test_console_link() -> None:
    assert console_link("https://c.example/", "/errors", **{"class": "a b"}) == (
        "https://c.example/errors?class=a+b"
    )
    assert console_link("https://c.example", "/connections") == "https://c.example/connections"
