"""find_user_error: the GliderError behind a wrapper, never one that was deliberately hidden."""

from __future__ import annotations

from glider.errors import ConfigError, find_user_error


def _wrapped(explicit: bool) -> BaseException:
    try:
        try:
            raise ConfigError("llm.base_url must start with http://")
        except ConfigError as err:
            if explicit:
                raise RuntimeError("Error in call to target 'OpenAIWriter'") from err  # what Hydra does
            raise RuntimeError("while handling it, another error")  # implicit context
    except RuntimeError as outer:
        return outer


def test_finds_the_user_error_behind_wrappers() -> None:
    assert str(find_user_error(_wrapped(explicit=True))) == "llm.base_url must start with http://"
    assert isinstance(find_user_error(_wrapped(explicit=False)), ConfigError)


def test_ignores_a_hidden_context_and_plain_errors() -> None:
    try:
        try:
            raise ConfigError("hidden")
        except ConfigError:
            raise ValueError("a bug") from None
    except ValueError as err:
        assert find_user_error(err) is None
    assert find_user_error(KeyError("x")) is None
