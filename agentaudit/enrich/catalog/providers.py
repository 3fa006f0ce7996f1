"""Provider control planes: API hosts and CLI names, so a raw HTTP call or a CLI run can be
attributed to the provider whose resources it changes."""

from __future__ import annotations

from agentaudit.enrich.catalog import railway

# host suffix -> provider (control-plane and management APIs)
HOSTS: dict[str, str] = {
    "backboard.railway.app": "railway",
    "backboard.railway.com": "railway",
    "api.vercel.com": "vercel",
    "api.fly.io": "fly",
    "api.machines.dev": "fly",
    "api.heroku.com": "heroku",
    "api.supabase.com": "supabase",
    "supabase.co": "supabase",
    "api.netlify.com": "netlify",
    "api.render.com": "render",
    "api.cloudflare.com": "cloudflare",
    "api.github.com": "github",
    "gitlab.com": "gitlab",
    "api.digitalocean.com": "digitalocean",
    "amazonaws.com": "aws",
    "googleapis.com": "gcp",
    "management.azure.com": "azure",
    "console.neon.tech": "neon",
    "api.planetscale.com": "planetscale",
    "api.hetzner.cloud": "hetzner",
    "api.linode.com": "linode",
    "cloud.mongodb.com": "mongodb-atlas",
    "api.stripe.com": "stripe",
    "api.sendgrid.com": "sendgrid",
    "api.mailgun.net": "mailgun",
    "api.pagerduty.com": "pagerduty",
    "app.launchdarkly.com": "launchdarkly",
    "api.fastly.com": "fastly",
    "api.datadoghq.com": "datadog",
}
# CLI program -> provider
CLIS: dict[str, str] = {
    "railway": "railway", "vercel": "vercel", "fly": "fly", "flyctl": "fly", "heroku": "heroku",
    "supabase": "supabase", "netlify": "netlify", "render": "render", "wrangler": "cloudflare",
    "gh": "github", "glab": "gitlab", "doctl": "digitalocean", "aws": "aws", "gcloud": "gcp",
    "gsutil": "gcp", "bq": "gcp", "az": "azure", "azcopy": "azure", "neonctl": "neon",
    "pscale": "planetscale", "hcloud": "hetzner", "linode-cli": "linode", "atlas": "mongodb-atlas",
    "stripe": "stripe", "firebase": "gcp", "turso": "turso", "convex": "convex",
}  # fmt: skip
_MUTATION_CATALOGS = {"railway": railway.MUTATIONS}


def provider_of_host(host: str) -> str | None:
    host = (host or "").lower()
    for suffix, provider in HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return provider
    return None


def classify_mutation(provider: str | None, mutation: str) -> list[str]:
    catalog = _MUTATION_CATALOGS.get(provider or "")
    if catalog and mutation in catalog:
        return list(catalog[mutation])
    return []
