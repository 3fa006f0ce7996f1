"""Roo Code task folders: `<User>/globalStorage/rooveterinaryinc.roo-cline/tasks/<taskId>/`.

Roo Code is a fork of Cline and keeps the same files (`ui_messages.json`,
`api_conversation_history.json`, `task_metadata.json`), read the same way (`cline_tasks.py`);
its task ids are UUIDs. Whether every Roo version writes `task_metadata.json` is not verified:
without it the model and version are unknown.
"""

from __future__ import annotations

from agentaudit.collectors.agents._shared import EDITORS, editor_locations
from agentaudit.collectors.agents.cline_tasks import ClineTask


class RooCodeTask(ClineTask):
    name = "roo-code.task"
    source = "roo-code.task"
    version = "1"
    description = "Roo Code task folders (globalStorage/rooveterinaryinc.roo-cline/tasks/*)"
    locations = editor_locations(
        "Roo Code tasks",
        EDITORS,
        ("globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",),
    )
    agent = "roo-code"
    extension_dir = "rooveterinaryinc.roo-cline"
