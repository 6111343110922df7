"""For the test suites only, not the API: the core's one judge of the scenarios and host-protocol
vectors (``AssertionError`` saying what differs, and where), and a scenario's ``store_changes``."""

from ._native import _apply_store_changes as apply_store_changes, _judge_protocol_folder as judge_protocol_folder, _judge_scenario as judge_scenario  # noqa: E501

__all__ = ["apply_store_changes", "judge_protocol_folder", "judge_scenario"]
