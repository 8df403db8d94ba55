"""Settings come from NEWSFLOW_* variables, typed, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings, SettingsError


def test_defaults_need_no_environment() -> None:
    s = Settings.from_env({})
    assert (s.home, s.index_backend, s.redis_url) == (Path(".newsflow"), "sqlite", "")


def test_values_are_parsed_into_their_types() -> None:
    s = Settings.from_env(
        {
            "NEWSFLOW_HOME": "/data/nf",
            "NEWSFLOW_CONCURRENCY": "4",
            "NEWSFLOW_FETCH_TIMEOUT_S": "2.5",
            "NEWSFLOW_ALLOW_PRIVATE_URLS": "yes",
            "NEWSFLOW_ES_URLS": "http://a:9200, http://b:9200",
        }
    )
    assert s.home == Path("/data/nf")
    assert s.concurrency == 4
    assert s.fetch_timeout_s == 2.5
    assert s.allow_private_urls is True
    assert s.es_urls == ("http://a:9200", "http://b:9200")
    assert s.index_backend == "elasticsearch"  # a cluster URL switches the index to it


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NEWSFLOW_CONCURRENCY": "many"}, "NEWSFLOW_CONCURRENCY"),
        ({"NEWSFLOW_ALLOW_PRIVATE_URLS": "perhaps"}, "NEWSFLOW_ALLOW_PRIVATE_URLS"),
        ({"NEWSFLOW_INDEX_BACKEND": "solr"}, "NEWSFLOW_INDEX_BACKEND"),
        ({"NEWSFLOW_INDEX_BACKEND": "elasticsearch"}, "NEWSFLOW_ES_URLS"),
    ],
)
def test_a_bad_value_fails_at_start_up_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_secrets_stay_out_of_repr() -> None:
    s = Settings.from_env(
        {
            "NEWSFLOW_ES_PASSWORD": "hunter2",
            "NEWSFLOW_ES_API_KEY": "k3y",
            "NEWSFLOW_REDIS_URL": "rediss://:r3dis-pw@redis:6380/0?ssl_ca_certs=/ca.pem",
            "NEWSFLOW_ES_URLS": "https://elastic:es-pw@es1:9200,https://es2:9200",
            "NEWSFLOW_KIBANA_URL": "https://elastic:kb-pw@kibana:5601",
        }
    )
    shown = repr(s)
    for secret in ("hunter2", "k3y", "r3dis-pw", "es-pw", "kb-pw"):
        assert secret not in shown
    assert "redis_url='rediss://:***@redis:6380/0?ssl_ca_certs=/ca.pem'" in shown
    assert "es_urls=('https://elastic:***@es1:9200', 'https://es2:9200')" in shown
    assert {"hunter2", "k3y", "r3dis-pw", "es-pw", "kb-pw"} <= set(s.secrets())
