"""The REST pullers, by command name (`agentaudit pull <name>`)."""

from __future__ import annotations

from agentaudit.receivers.pull import (
    anthropic_compliance,
    azure_devops,
    cloudflare,
    cursor_audit,
    github,
    gitlab,
    heroku,
    supabase,
    terraform_cloud,
    vercel,
)
from agentaudit.receivers.pull.rest import Platform

PLATFORMS: dict[str, Platform] = {
    module.PLATFORM.name: module.PLATFORM
    for module in (
        anthropic_compliance,
        azure_devops,
        cloudflare,
        cursor_audit,
        github,
        gitlab,
        heroku,
        supabase,
        terraform_cloud,
        vercel,
    )
}
