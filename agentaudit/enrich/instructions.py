"""What a user's prompt forbids (signal S6), as RE2 patterns shared by the instruction-conflict
behaviour and the model's features. Hand-written: no library names these instructions.
"""

FREEZE = (
    r"(?i)((code|action|change|deploy|deployment|release) freeze|freeze (all|everything|changes|"
    r"the code|deploys)|do ?n.?t (change|touch|modify) (anything|everything|any)|"
    r"no (more )?changes|hands off)"
)
NO_DELETE = r"(?i)(do ?n.?t|never|must not) (delete|remove|drop|wipe|destroy|truncate)"
NO_PROD = (
    r"(?i)((do ?n.?t|never|must not) (touch|change|modify|deploy to|run .{0,20} (on|against)) "
    r"(the )?(prod|production)|leave .{0,30}(prod|production) alone)"
)
# Writes a freeze forbids even when no category calls them destructive.
FREEZE_WRITES = (
    r"(?i)(db:push|drizzle-kit\s+(push|drop|migrate)|prisma\s+(db\s+push|migrate)|"
    r"\bmigrate\b|\bdeploy\b|terraform\s+apply|kubectl\s+(apply|delete|scale)|\bpsql\b.*\b(insert|update|delete|alter)\b)"
)
