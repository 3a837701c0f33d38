"""Alerts and the workbook: wired into the deployment, one rule per ops question, and every query names the
metrics and log events the app emits (README "Telemetry"), so a rename cannot leave a rule watching nothing."""

import json
import re
from pathlib import Path

import shared
from tests.infra.bicep import INFRA, all_resources, declaration, modules, path, properties, string_value, text

ALERTS = INFRA / "monitor" / "alerts.bicep"
WORKBOOK = INFRA / "monitor" / "workbook.json"

SHARED = Path(shared.__file__).parent


def emitted_metrics() -> set[str]:
    """The instrument names shared/telemetry.py creates."""
    source = (SHARED / "telemetry.py").read_text(encoding="utf-8")
    return set(re.findall(r'_meter\.create_\w+\(\s*"([^"]+)"', source))


def emitted_events() -> set[str]:
    """The structured log events the app writes: logs.event("<name>", ...) anywhere in shared/."""
    return {
        name
        for file in SHARED.rglob("*.py")
        for name in re.findall(r'\bevent\(\s*"([a-z_]+)"', file.read_text(encoding="utf-8"))
    }


def test_the_app_emits_the_names_ops_rely_on() -> None:
    assert {
        "harvester.jobs.transitions",
        "harvester.open_jobs",
        "harvester.oldest_open.age",
        "harvester.ttl_at_risk",
        "harvester.poison.length",
        "speech.requests",
    } <= emitted_metrics()
    assert {"job_state", "poll_tick", "poisoned", "job_warning", "harvested"} <= emitted_events()


def rules() -> dict[str, dict[str, str]]:
    """The alert rules by key, each as {field: source text}; queries as their literal KQL."""
    found = {}
    for rule in declaration(ALERTS, "variable_declaration", "rules").named_children:
        fields = properties(rule)
        found[string_value(fields["key"])] = {
            k: string_value(v) if v.type == "string" else text(v) for k, v in fields.items()
        }
    return found


def names_in(query: str) -> tuple[set[str], set[str]]:
    """(metric names, log event names) a query filters on."""
    metrics = set(re.findall(r'"((?:harvester|speech)\.[a-z0-9_.]+)"', query))
    tests = re.findall(r'customDimensions\.event\) (?:== "([a-z_]+)"|in \(([^)]*)\))', query)
    events = {name for one, many in tests for name in [one, *re.findall(r'"([a-z_]+)"', many)] if name}
    return metrics, events


def test_one_rule_per_ops_question() -> None:
    assert set(rules()) == {
        "poison-not-empty",
        "pending-too-long",
        "ttl-at-risk",
        "poll-silent",
        "speech-throttled",
        "speech-unauthorized",
    }


def test_each_rule_watches_the_right_signal() -> None:
    watched = {key: names_in(rule["query"]) for key, rule in rules().items()}
    assert watched["poison-not-empty"][0] == {"harvester.poison.length"}
    assert watched["pending-too-long"][0] == {"harvester.oldest_open.age"}
    assert watched["ttl-at-risk"][0] == {"harvester.ttl_at_risk"}
    assert watched["poll-silent"][1] == {"poll_tick"}
    assert watched["speech-throttled"][0] == {"speech.requests"}
    assert '"429"' in rules()["speech-throttled"]["query"]
    assert '"401"' in rules()["speech-unauthorized"]["query"]


def test_thresholds_follow_the_app_settings() -> None:
    assert rules()["pending-too-long"]["threshold"] == "pendingWarningMinutes"
    assert rules()["poll-silent"]["threshold"] == "3 * pollIntervalMinutes"
    wired = modules(INFRA / "main.bicep")["alerts"][1]
    assert text(path(wired, "params", "pendingWarningMinutes")) == "pendingWarningMinutes"
    assert text(path(wired, "params", "pollIntervalMinutes")) == "pollIntervalMinutes"


def test_every_query_measures_the_column_it_returns() -> None:
    for key, rule in rules().items():
        assert re.search(rf"\b{rule['measure']} = ", rule["query"]), key
        assert "timestamp" in rule["query"], key


def test_rules_query_the_app_insights_of_the_deployment() -> None:
    [rule] = [r for r in all_resources() if r.type == "Microsoft.Insights/scheduledQueryRules"]
    assert text(path(rule.body, "properties", "scopes")) == "[appInsightsId]"
    main = modules(INFRA / "main.bicep")
    for module in ("alerts", "workbook"):
        assert text(path(main[module][1], "params", "appInsightsId")) == "monitoring.outputs.appInsightsId"


def workbook_queries() -> dict[str, str]:
    items = json.loads(WORKBOOK.read_text(encoding="utf-8"))["items"]
    return {item["name"]: item["content"]["query"] for item in items if item["type"] == 3}


def test_the_workbook_shows_throughput_latency_backlog_and_failures() -> None:
    queries = workbook_queries()
    assert "harvester.jobs.transitions" in queries["throughput"]
    assert "percentile(" in queries["latency"]
    assert "harvester.open_jobs" in queries["backlog"]
    assert "by kind, state" in queries["backlog"]
    assert "reason" in queries["failures"]
    assert "poisoned" in queries["failures"]


def test_every_name_in_alerts_and_workbook_is_one_the_app_emits() -> None:
    queries = [rule["query"] for rule in rules().values()] + list(workbook_queries().values())
    for query in queries:
        metrics, events = names_in(query)
        assert metrics <= emitted_metrics(), metrics - emitted_metrics()
        assert events <= emitted_events(), events - emitted_events()


def test_the_workbook_is_bound_to_app_insights() -> None:
    [workbook] = [r for r in all_resources() if r.type == "Microsoft.Insights/workbooks"]
    assert text(path(workbook.body, "properties", "sourceId")) == "appInsightsId"
    assert "fallbackResourceIds: [appInsightsId]" in text(path(workbook.body, "properties", "serializedData"))


def test_every_dimension_queried_is_one_the_app_writes() -> None:
    """customDimensions.<name> in a query must be a metric attribute or a log field somewhere in shared/."""
    source = "\n".join(file.read_text(encoding="utf-8") for file in SHARED.rglob("*.py"))
    queries = [rule["query"] for rule in rules().values()] + list(workbook_queries().values())
    dimensions = {name for query in queries for name in re.findall(r"customDimensions\.(\w+)", query)}
    assert dimensions >= {"event", "state", "kind", "status_code"}
    unknown = [d for d in dimensions if not re.search(rf'"{d}"|\b{d}=', source)]
    assert unknown == []
