"""The example that sends lifecycle events to SNS: its rule matches every lifecycle event
the function sends (the names in src/run/workflows/lifecycle.rs) and nothing from another source, and
only that rule may publish to the topic."""

from __future__ import annotations

import re
import unittest
from pathlib import Path

from cfn_eval import load

EXAMPLE = load("example/lifecycle-events.yaml")
ROOT = Path(__file__).resolve().parents[2]


def event_names() -> list[str]:
    source = (ROOT / "src/run/workflows/lifecycle.rs").read_text()
    block = re.search(r"pub const EVENT_NAMES: &\[&str\] = &\[(.*?)\];", source, re.S)
    assert block, "EVENT_NAMES not found in src/run/workflows/lifecycle.rs"
    return re.findall(r'"([a-z-]+)"', block.group(1))


def matches(pattern: dict, event: dict) -> bool:
    """The two operators the example uses: exact values and prefix."""
    for key, wanted in pattern.items():
        value = event.get(key)
        if not any(
            (isinstance(option, dict) and str(value).startswith(option["prefix"])) or option == value
            for option in wanted
        ):
            return False
    return True


class ExampleEventRule(unittest.TestCase):
    def test_the_rule_matches_every_lifecycle_event_and_nothing_else(self):
        pattern = EXAMPLE["Resources"]["LifecycleRule"]["Properties"]["EventPattern"]
        names = event_names()
        self.assertIn("clone-expired", names)
        for name in names:
            event = {"source": "aurora-clone-manager", "detail-type": f"lifecycle-event/{name}"}
            self.assertTrue(matches(pattern, event), name)
        self.assertFalse(matches(pattern, {"source": "aws.rds", "detail-type": "lifecycle-event/x"}))
        self.assertFalse(matches(pattern, {"source": "aurora-clone-manager", "detail-type": "other"}))

    def test_only_the_rule_may_publish_to_the_topic(self):
        policy = EXAMPLE["Resources"]["LifecycleTopicPolicy"]["Properties"]["PolicyDocument"]
        [statement] = policy["Statement"]
        self.assertEqual({"Service": "events.amazonaws.com"}, statement["Principal"])
        self.assertEqual("sns:Publish", statement["Action"])
        self.assertEqual(
            {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["LifecycleRule", "Arn"]}}},
            statement["Condition"],
        )

    def test_the_events_page_shows_a_sample_of_every_event(self):
        page = (ROOT / "docs/events.md").read_text()
        for name in event_names():
            self.assertIn(f'"detail-type": "lifecycle-event/{name}"', page, name)


if __name__ == "__main__":
    unittest.main()
