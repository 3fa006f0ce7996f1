"""Roo Code task folders: `<User>/globalStorage/rooveterinaryinc.roo-cline/tasks/<taskId>/`.

Roo Code is a fork of Cline and keeps the same files (`ui_messages.json`,
`api_conversation_history.json`, `task_metadata.json`), read the same way (`cline_tasks.py`);
its task ids are UUIDs. Whether every Roo version writes `task_metadata.json` is not verified:
without it the model and version are unknown.
"""

from __future__ import annotations

from agentaudit.collectors.agents.cline_tasks import ClineTask
from agentaudit.collectors.base import Location


class RooCodeTask(ClineTask):
    name = "roo-code.task"
    source = "roo-code.task"
    version = "1"
    description = "Roo Code task folders (globalStorage/rooveterinaryinc.roo-cline/tasks/*)"
    locations = (
        Location(
            "{xdg_config}/Code/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("linux",),
        ),
        Location(
            "{xdg_config}/Code - Insiders/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("linux",),
        ),
        Location(
            "{xdg_config}/Cursor/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("linux",),
        ),
        Location(
            "{xdg_config}/Windsurf/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("linux",),
        ),
        Location(
            "{xdg_config}/VSCodium/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("linux",),
        ),
        Location(
            "{mac_support}/Code/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("darwin",),
        ),
        Location(
            "{mac_support}/Code - Insiders/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("darwin",),
        ),
        Location(
            "{mac_support}/Cursor/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("darwin",),
        ),
        Location(
            "{mac_support}/Windsurf/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("darwin",),
        ),
        Location(
            "{mac_support}/VSCodium/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("darwin",),
        ),
        Location(
            "{appdata}/Code/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("win32",),
        ),
        Location(
            "{appdata}/Code - Insiders/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("win32",),
        ),
        Location(
            "{appdata}/Cursor/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("win32",),
        ),
        Location(
            "{appdata}/Windsurf/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("win32",),
        ),
        Location(
            "{appdata}/VSCodium/User",
            "globalStorage/rooveterinaryinc.roo-cline/tasks/*/ui_messages.json",
            platforms=("win32",),
        ),
    )
    agent = "roo-code"
    extension_dir = "rooveterinaryinc.roo-cline"
