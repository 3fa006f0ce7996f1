"""What analysts and on-call read: incidents, timelines, renderings, the SQL prompt."""
